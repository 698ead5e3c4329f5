// libFuzzer entry for the SMTP protocol module: the bytes are a session's input. They go
// through the line framer, the command parser and the session state machine (recipients
// accepted, submissions opened and committed), DATA through the data decoder and BDAT chunks
// (CHUNKING on for half the inputs) through the chunk decoder, refused chunks discarded; each
// decoder must agree with itself when fed byte by byte.
// Built by Scripts/fuzz with -DFUZZING; a plain build reads one input from stdin instead.
#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import SMTP

func runSession(_ bytes: [UInt8]) {
    var configuration = SMTPSessionConfiguration(hostname: "fuzz.example", tlsAvailable: true)
    configuration.checksSender = (bytes.first ?? 0) & 1 == 1
    configuration.chunking = (bytes.first ?? 0) & 2 == 2
    var session = SMTPSession(configuration: configuration)
    var framer = CommandLineFramer(limit: 512)
    var decoder: DataDecoder?
    var chunks: ChunkDecoder?
    var discard = 0
    var input = bytes[...]
    var steps = 0
    while !input.isEmpty && steps < 10_000 {
        steps += 1
        if discard > 0 {
            let used = min(discard, input.count)
            input = input.dropFirst(used)
            discard -= used
            continue
        }
        if session.isReceivingChunk, var active = chunks {
            var out: [UInt8] = []
            input = input.dropFirst(active.decode(input, into: &out))
            chunks = active
            if active.isChunkComplete { endChunk(&session, &chunks, active) }
            continue
        }
        if var active = decoder {
            var out: [UInt8] = []
            let used = active.decode(input, into: &out)
            input = input.dropFirst(used)
            decoder = active
            if active.isFinished {
                decoder = nil
                if session.dataEnded(active.outcome) == .commitSubmission { _ = session.committed(id: "1") }
            }
            continue
        }
        guard let line = framer.next(from: &input) else { break }
        let action: SMTPSession.Action
        switch line {
        case .line(let bytes): action = session.receive(line: bytes[...])
        case .tooLong: action = session.receiveOverlongLine()
        }
        switch action {
        case .checkSender(let sender, let parameters):
            _ = session.senderChecked(sender, parameters, refusal: input.count % 2 == 0 ? nil : Replies.senderRejected("x@y.z"))
        case .checkRecipient(let mailbox, let parameters):
            _ = session.recipientChecked(mailbox, parameters, refusal: mailbox.localPart.count % 2 == 0 ? nil : Replies.relayingDenied)
        case .openSubmission:
            if input.count % 3 == 0 {
                if case .discardChunk(let size, _) = session.submissionFailed(Replies.submitFailed) { discard = size }
                continue
            }
            chunks = nil
            let next = session.submissionOpened()
            if session.isReceivingData { decoder = DataDecoder(sizeLimit: 4096, lineLimit: 100) }
            if case .receiveChunk(let size, let last) = next { beginChunk(&session, &chunks, size, last) }
        case .receiveChunk(let size, let last):
            beginChunk(&session, &chunks, size, last)
        case .discardChunk(let size, _):
            discard = size
        case .sendAndStartTLS:
            session.tlsStarted()
        case .authenticate:
            _ = session.authenticated(as: nil)
        case .sendAndClose:
            return
        default:
            break
        }
    }
    // The chunk decoder alone: the input as chunks of the sizes its bytes give, whole and
    // byte by byte.
    var wholeChunks = ChunkDecoder(sizeLimit: 4096, lineLimit: 100)
    var splitChunks = ChunkDecoder(sizeLimit: 4096, lineLimit: 100)
    var c: [UInt8] = []
    var d: [UInt8] = []
    var rest = bytes[...]
    while !wholeChunks.isFinished {
        let available = max(rest.count - 1, 0)
        let size = min(Int(rest.first ?? 0), available)
        let last = available <= size
        rest = rest.dropFirst()
        wholeChunks.begin(size: size, last: last, into: &c)
        splitChunks.begin(size: size, last: last, into: &d)
        let used = wholeChunks.decode(rest, into: &c)
        var usedSplit = 0
        for index in rest.prefix(size + 1).indices { usedSplit += splitChunks.decode(rest[index...index], into: &d) }
        if used != size || usedSplit != size { fatalError("ChunkDecoder did not read the chunk size") }
        rest = rest.dropFirst(used)
    }
    if c != d || wholeChunks.outcome != splitChunks.outcome { fatalError("ChunkDecoder depends on how input is split") }
    // The data decoder alone, whole and byte by byte.
    var whole = DataDecoder(sizeLimit: 0)
    var split = DataDecoder(sizeLimit: 0)
    var a: [UInt8] = []
    var b: [UInt8] = []
    let usedWhole = whole.decode(bytes[...], into: &a)
    var usedSplit = 0
    for index in bytes.indices where !split.isFinished {
        usedSplit += split.decode(bytes[index...index], into: &b)
    }
    if a != b || usedWhole != usedSplit { fatalError("DataDecoder depends on how input is split") }
}

/// A BDAT chunk starts: a `BDAT 0` ends at once.
func beginChunk(_ session: inout SMTPSession, _ chunks: inout ChunkDecoder?, _ size: Int, _ last: Bool) {
    var active = chunks ?? ChunkDecoder(sizeLimit: 4096, lineLimit: 100)
    var out: [UInt8] = []
    active.begin(size: size, last: last, into: &out)
    chunks = active
    if active.isChunkComplete { endChunk(&session, &chunks, active) }
}

/// A chunk was read whole: LAST ends the data (and commits), any other is answered.
func endChunk(_ session: inout SMTPSession, _ chunks: inout ChunkDecoder?, _ active: ChunkDecoder) {
    if active.isLast {
        chunks = nil
        if session.dataEnded(active.outcome) == .commitSubmission { _ = session.committed(id: "1") }
    } else if case .abortSubmission = session.chunkReceived(active.outcome) {
        chunks = nil
    }
}

#if FUZZING
@_cdecl("FuzzSMTP_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, runSession)
}
#else
@main
struct FuzzSMTPReplay {
    static func main() {
        exit(FuzzDriver.replay(Array(CommandLine.arguments.dropFirst()), runSession))
    }
}
#endif
