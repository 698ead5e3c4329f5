// libFuzzer entry for the SMTP client: the bytes are what a server sends. They go through the
// reply parser (whole and in two pieces: same replies) into a session running pipelined or
// lock-step transactions of three recipients (up to three, RSET before each later one, as on a
// reused session; every second one VERP, split per recipient without XVERP=Courier); a
// transaction that finishes, or is cut short, must report one result per recipient. The same bytes are also a message body for the DATA encoder (CRLF
// only, dot-stuffed, terminated) and the 8BITMIME downgrade (never traps; 7-bit input stays
// 7-bit).
// Built by Scripts/fuzz with -DFUZZING; a plain build replays the files named on its command line.
#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import SMTPClient

func runClient(_ bytes: [UInt8]) {
    var whole = ClientReplyParser()
    let all = try? whole.feed(bytes)
    var split = ClientReplyParser()
    let cut = bytes.count / 2
    if let first = try? split.feed(bytes[..<cut]), let second = try? split.feed(bytes[cut...]) {
        fuzzCheck(all == first + second, "replies depend on how the bytes were split")
    }
    let tx = ClientTransaction(sender: "a@b.example", recipients: [
        .init(address: "x@y.example", notify: ["FAILURE"]), .init(address: "z@y.example"), .init(address: "w@y.example"),
    ], body: bytes, eightBit: true)
    // Every other transaction VERP: split per recipient unless the server says XVERP=Courier.
    var verpTx = tx
    verpTx.verp = true
    for credentials in [nil, (user: "u", password: "p")] as [(user: String, password: String)?] {
        var session = ClientSession(settings: ClientSettings(heloName: "me.example", credentials: credentials))
        // Up to three transactions on the session, each later one after an RSET check
        // (a session kept open for the next message).
        var begun = 0
        var checking = false
        for reply in all ?? [] {
            for event in session.receive(reply) {
                switch event {
                case .ready where begun == 0 || checking:
                    checking = false
                    begun += 1
                    _ = session.begin(begun % 2 == 0 ? verpTx : tx)
                case .ready where begun < 3:
                    checking = true
                    _ = session.reset()
                case let .finished(results):
                    fuzzCheck(results.count == tx.recipients.count, "one result per recipient")
                case .startTLS:
                    _ = session.tlsEstablished()
                default:
                    break
                }
            }
        }
        let lost = session.connectionLost("gone")
        fuzzCheck(lost.isEmpty || lost.count == tx.recipients.count, "lost connection: one result per recipient")
    }
    let wire = DataEncoder.encode(bytes)
    fuzzCheck(wire.count >= 3 && Array(wire.suffix(3)) == [46, 13, 10], "DATA not terminated")
    for index in wire.indices where wire[index] == 10 {
        fuzzCheck(index > 0 && wire[index - 1] == 13, "bare LF on the wire")
    }
    let downgraded = EightBitDowngrade.convert(bytes)
    if bytes.allSatisfy({ $0 < 0x80 }) {
        fuzzCheck(downgraded.allSatisfy { $0 < 0x80 }, "7-bit input became 8-bit")
    }
}

#if FUZZING
@_cdecl("FuzzSMTPClient_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, runClient)
}
#else
@main
struct FuzzSMTPClientReplay {
    static func main() {
        exit(FuzzDriver.replay(Array(CommandLine.arguments.dropFirst()), runClient))
    }
}
#endif
