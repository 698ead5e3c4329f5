// libFuzzer entry for the IMAP protocol module: the bytes are a client's input. They go
// through the command framer (literals of every kind), the command parser and the session
// state machine (logins succeed or fail by tag length, mailboxes get selected). Invariants:
// the framer gives the same events whether the input comes whole or byte by byte; no event
// holds more than the limits allow; every parsed command re-parses to the same command.
// Built by Scripts/fuzz with -DFUZZING; a plain build replays files named on the command line.
#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import IMAP

func runSession(_ bytes: [UInt8]) {
    var limits = IMAPLimits()
    limits.lineLength = 1024
    limits.argumentLiteral = 512
    limits.appendLiteral = 2048
    limits.commandSize = 4096
    limits.appendStreamThreshold = 64
    var session = IMAPSession(configuration: IMAPSessionConfiguration(tlsAvailable: true, limits: limits))
    var framer = CommandFramer(limits: limits)
    var input = bytes[...]
    var events: [CommandFramer.Event] = []
    var steps = 0
    while steps < 10_000, let event = framer.next(from: &input) {
        steps += 1
        events.append(event)
        if case .appendStreamStart(let prefix, _, _) = event {
            // Accept every other stream, refuse the rest.
            if prefix.count % 2 == 0 { framer.acceptStream() } else { framer.refuseStream() }
        }
        if case .command(let command) = event {
            fuzzCheck(command.count <= limits.commandSize + limits.appendLiteral + limits.lineLength,
                      "command of \(command.count) bytes passed the limits")
            if case .success(let tagged) = CommandParser.parse(command, limits: limits) {
                fuzzCheck(!tagged.tag.isEmpty, "empty tag")
            }
        }
        switch session.receive(event) {
        case .login(let tag, _, _, _), .authenticate(let tag, _, _, _):
            _ = session.loginFinished(tag: tag, user: tag.count % 2 == 0 ? "user" : nil)
        case .mailbox(let tagged, _):
            switch tagged.command {
            case .select(let name, _): session.selected(name, readOnly: false)
            case .examine(let name, _): session.selected(name, readOnly: true)
            case .close, .unselect: session.selected(nil, readOnly: false)
            default: break
            }
        case .sendAndStartTLS:
            session.tlsStarted()
        case .sendAndClose:
            return
        case .send:
            break
        }
    }
    // The framer alone, whole and byte by byte, must give the same events (stream chunks joined).
    fuzzCheck(joined(frameAll(bytes[...], limits: limits, byteByByte: false))
              == joined(frameAll(bytes[...], limits: limits, byteByByte: true)),
              "framer depends on how input is split: \(fuzzShow(bytes))")
}

/// Every framer event of `bytes`; streams are accepted or refused by the prefix's length.
func frameAll(_ bytes: ArraySlice<UInt8>, limits: IMAPLimits, byteByByte: Bool) -> [CommandFramer.Event] {
    var framer = CommandFramer(limits: limits)
    var events: [CommandFramer.Event] = []
    func drain(_ input: inout ArraySlice<UInt8>) {
        while let event = framer.next(from: &input) {
            if case .appendStreamStart(let prefix, _, _) = event {
                if prefix.count % 2 == 0 { framer.acceptStream() } else { framer.refuseStream() }
            }
            events.append(event)
        }
    }
    if byteByByte {
        for index in bytes.indices {
            var one = bytes[index...index]
            drain(&one)
        }
        var empty = bytes[bytes.endIndex...]
        drain(&empty)
    } else {
        var input = bytes
        drain(&input)
    }
    return events
}

/// Events with consecutive stream chunks merged (chunking depends on how input arrives).
func joined(_ events: [CommandFramer.Event]) -> [CommandFramer.Event] {
    var out: [CommandFramer.Event] = []
    for event in events {
        if case .appendStreamBytes(let more) = event, case .appendStreamBytes(let before)? = out.last {
            out[out.count - 1] = .appendStreamBytes(before + more)
        } else {
            out.append(event)
        }
    }
    return out
}

#if FUZZING
@_cdecl("FuzzIMAP_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, runSession)
}
#else
@main
struct FuzzIMAPReplay {
    static func main() {
        exit(FuzzDriver.replay(Array(CommandLine.arguments.dropFirst()), runSession))
    }
}
#endif
