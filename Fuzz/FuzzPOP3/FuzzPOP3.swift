// libFuzzer entry for the POP3 protocol module: the bytes are a session's input, split into
// lines and fed to the command parser and the session state machine (logins succeed for
// users with an even name length, so TRANSACTION is reached); the message encoder must give
// the same output whether fed whole or byte by byte; the size list parser must round-trip.
// Built by Scripts/fuzz with -DFUZZING; a plain build replays the files named on its command line.
#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import POP3

func runSession(_ bytes: [UInt8]) {
    var session = POP3Session(configuration: POP3SessionConfiguration(
        hostName: "fuzz.example", stlsAvailable: true, advertisedMechanisms: ["PLAIN", "CRAM-MD5"],
        apopTimestamp: "<1.2@fuzz.example>"))
    let messages = (1...3).map { POP3Message(path: "cur/\($0):2,", size: Int64($0 * 10), uidl: "UID\($0)-1") }
    var steps = 0
    for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) where steps < 10_000 {
        steps += 1
        var queue = line.count > POP3Command.maxLineBytes ? session.receiveOverlongLine() : session.receive(line: line)
        while !queue.isEmpty {
            let action = queue.removeFirst()
            switch action {
            case .authenticate(.scramCredentials):
                queue += session.provideScram(nil)
            case .authenticate(let request):
                var user = ""
                switch request {
                case .password(let name, _, _), .cram(_, let name, _, _), .verified(let name), .apop(let name, _, _): user = name
                case .scramCredentials: break
                }
                queue += user.utf8.count % 2 == 0 ? session.loggedIn(user: user, messages: messages)
                                                  : session.loginFailed()
            case .sendAndStartTLS:
                session.tlsStarted()
            case .transmit(let index, _, _, _, _):
                fuzzCheck(messages.indices.contains(index), "transmit of a message that does not exist")
                session.transmitted(index: index, newPath: nil)
            case .quit(_, let deletions):
                fuzzCheck(deletions.count <= messages.count, "more deletions than messages")
                return
            case .sendAndClose:
                return
            case .send, .recordFailedLogin:
                break
            }
        }
    }
    // The encoder alone, whole and byte by byte, plain and TOP.
    for top in [nil, 0, 2] as [Int?] {
        var whole = POP3MessageEncoder(topBodyLines: top)
        var split = POP3MessageEncoder(topBodyLines: top)
        var a: [UInt8] = []
        var b: [UInt8] = []
        whole.encode(bytes, into: &a)
        whole.finish(into: &a)
        for byte in bytes { split.encode([byte], into: &b) }
        split.finish(into: &b)
        fuzzCheck(a == b, "encoder depends on how input is split: \(fuzzShow(a)) vs \(fuzzShow(b))")
        fuzzCheck(a.count >= 3 && a.suffix(3) == [UInt8(ascii: "."), 13, 10], "encoder output does not end in .CRLF")
        if top == nil {
            // No lone LF on the wire, and the counted size matches what is sent before dot-stuffing.
            for index in a.indices where a[index] == 10 {
                fuzzCheck(index > 0 && a[index - 1] == 13, "bare LF on the wire")
            }
        }
    }
    if let list = POP3SizeList.parse(bytes) {
        fuzzCheck(POP3SizeList.parse(list.serialized()).map { $0.entries.count } ?? -1 >= 0, "size list does not re-parse")
    }
}

#if FUZZING
@_cdecl("FuzzPOP3_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, runSession)
}
#else
@main
struct FuzzPOP3Replay {
    static func main() {
        exit(FuzzDriver.replay(Array(CommandLine.arguments.dropFirst()), runSession))
    }
}
#endif
