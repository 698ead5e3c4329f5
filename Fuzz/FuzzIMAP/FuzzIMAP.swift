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
    var session = IMAPSession(configuration: IMAPSessionConfiguration(tlsAvailable: true, limits: limits))
    var framer = CommandFramer(limits: limits)
    var input = bytes[...]
    var events: [CommandFramer.Event] = []
    var steps = 0
    while steps < 10_000, let event = framer.next(from: &input) {
        steps += 1
        events.append(event)
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
    // The framer alone, byte by byte, must agree with the whole-input run.
    var split = CommandFramer(limits: limits)
    var splitEvents: [CommandFramer.Event] = []
    for index in bytes.indices where splitEvents.count < events.count {
        var one = bytes[index...index]
        while let event = split.next(from: &one) { splitEvents.append(event) }
    }
    fuzzCheck(Array(splitEvents.prefix(events.count)) == events,
              "framer depends on how input is split: \(fuzzShow(bytes))")
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
