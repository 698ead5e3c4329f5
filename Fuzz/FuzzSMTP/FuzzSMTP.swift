// libFuzzer entry for the SMTP protocol module: the bytes are a session's input. They go
// through the line framer, the command parser and the session state machine (recipients
// accepted, submissions opened and committed), and DATA through the data decoder; each
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
    var session = SMTPSession(configuration: configuration)
    var framer = CommandLineFramer(limit: 512)
    var decoder: DataDecoder?
    var input = bytes[...]
    var steps = 0
    while !input.isEmpty && steps < 10_000 {
        steps += 1
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
            _ = session.submissionOpened()
            decoder = DataDecoder(sizeLimit: 4096, lineLimit: 100)
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
