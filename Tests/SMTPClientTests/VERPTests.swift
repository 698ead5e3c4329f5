import MailCore
import Testing
@testable import SMTPClient

@Suite struct VERPTests {
    @Test func encodesLikeCourier() {
        // spec/mta.md §2.10's example.
        #expect(VERPAddress.sender("itny-out@domain.com", for: "node42!ann@old.example.com")
                == "itny-out-node42+21ann=old.example.com@domain.com")
        #expect(VERPAddress.sender("list@lists.example", for: "bob@there.example") == "list-bob=there.example@lists.example")
        // Special characters, the last `@` only becomes `=`, `=` before an `@` stays.
        #expect(String(decoding: VERPAddress.encode("a-b+c%d:e@f[g]@h.example"), as: UTF8.self)
                == "a+2Db+2Bc+25d+3Ae+40f+5Bg+5D=h.example")
        #expect(String(decoding: VERPAddress.encode("x=y@z.example"), as: UTF8.self) == "x=y=z.example")
        #expect(String(decoding: VERPAddress.encode("host!x=y"), as: UTF8.self) == "host+21x+3Dy")
        #expect(String(decoding: VERPAddress.encode("u@[192.0.2.1]"), as: UTF8.self) == "u=+5B192.0.2.1+5D")
        // Split at the sender's last `@`; null and `@`-less senders unchanged.
        #expect(VERPAddress.sender("a@b@c.example", for: "r@d.example") == "a@b-r=d.example@c.example")
        #expect(VERPAddress.sender("", for: "r@d.example") == "")
        #expect(VERPAddress.sender("local", for: "r@d.example") == "local")
    }

    @Test func xverpCapability() {
        let lines = ["mx", "XVERP=Courier", "PIPELINING"].map { Array($0.utf8) }
        #expect(ServerCapabilities(ehloLines: lines).courierVERP)
        #expect(ServerCapabilities(ehloLines: ["mx", "XVERP=Other,courier"].map { Array($0.utf8) }).courierVERP)
        #expect(!ServerCapabilities(ehloLines: ["mx", "XVERP=Other"].map { Array($0.utf8) }).courierVERP)
        #expect(!ServerCapabilities(ehloLines: ["mx", "VERP"].map { Array($0.utf8) }).courierVERP)
    }

    static let verpMessage = ClientTransaction(sender: "list@lists.example", recipients: [
        .init(address: "a@one.example"), .init(address: "b@two.example"), .init(address: "c@one.example"),
    ], body: Array("Subject: v\n\nbody\n".utf8), verp: true)

    @Test func oneTransactionPerRecipientWithoutXVERP() {
        var s = Script()
        s.reply(220, "mx")
        s.reply(250, "mx", "8BITMIME")
        s.begin(Self.verpMessage)
        #expect(s.lastSent == "MAIL FROM:<list-a=one.example@lists.example> BODY=7BIT\r\n")
        s.reply(250, "ok")
        #expect(s.lastSent == "RCPT TO:<a@one.example>\r\n")
        s.reply(250, "ok")
        s.reply(354, "go")
        s.reply(250, "queued 1")
        #expect(s.results == nil)
        #expect(s.lastSent == "MAIL FROM:<list-b=two.example@lists.example> BODY=7BIT\r\n")
        s.reply(250, "ok")
        s.reply(550, "5.1.1 no b")
        // Nobody accepted: RSET, then the third part.
        #expect(s.lastSent == "RSET\r\n")
        #expect(s.results == nil)
        s.reply(250, "reset")
        #expect(s.lastSent == "MAIL FROM:<list-c=one.example@lists.example> BODY=7BIT\r\n")
        s.reply(250, "ok")
        s.reply(250, "ok")
        s.reply(354, "go")
        s.reply(451, "4.3.0 later")
        let results = s.results ?? []
        #expect(results.map(\.status) == [.delivered, .failed, .deferred])
        #expect(results[0].reply.text == "250 queued 1")
        #expect(results[1].command == "RCPT TO:<b@two.example>")
        #expect(s.events.last == .ready)
        #expect(s.sent.filter { $0.hasPrefix("MAIL FROM") }.count == 3)
    }

    @Test func pipelinedPartsAndLostConnection() {
        var s = Script()
        s.reply(220, "mx")
        s.reply(250, "mx", "PIPELINING")
        s.begin(Self.verpMessage)
        #expect(s.lastSent == "MAIL FROM:<list-a=one.example@lists.example>\r\nRCPT TO:<a@one.example>\r\nDATA\r\n")
        s.reply(250, "ok")
        s.reply(250, "ok")
        s.reply(354, "go")
        s.reply(250, "queued 1")
        #expect(s.lastSent.hasPrefix("MAIL FROM:<list-b=two.example@lists.example>\r\n"))
        s.reply(250, "ok")
        let results = s.session.connectionLost("Connection closed by remote host.")
        #expect(results.map(\.status) == [.delivered, .deferred, .deferred])
        #expect(results[2].reply.text.contains("Connection closed"))
    }

    @Test func oneTransactionWithVERPKeywordToCourier() {
        var s = Script()
        s.reply(220, "mx")
        s.reply(250, "mx", "XVERP=Courier", "8BITMIME", "DSN")
        s.begin(Self.verpMessage)
        #expect(s.lastSent == "MAIL FROM:<list@lists.example> BODY=7BIT VERP\r\n")
        s.reply(250, "ok")
        s.reply(250, "ok")
        s.reply(250, "ok")
        s.reply(250, "ok")
        s.reply(354, "go")
        s.reply(250, "queued")
        #expect(s.results?.map(\.status) == [.delivered, .delivered, .delivered])
        #expect(s.sent.filter { $0.hasPrefix("MAIL FROM") }.count == 1)
    }

    @Test func nullSenderIsNotSplit() {
        var s = Script()
        s.reply(220, "mx")
        s.reply(250, "mx", "PIPELINING")
        var tx = Self.verpMessage
        tx.sender = ""
        s.begin(tx)
        #expect(s.lastSent.hasPrefix("MAIL FROM:<>\r\nRCPT TO:<a@one.example>\r\nRCPT TO:<b@two.example>\r\n"))
    }
}
