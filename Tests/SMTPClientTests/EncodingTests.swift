import Testing
import MailCore
@testable import SMTPClient

@Suite struct EncodingTests {
    @Test func dotStuffingAndLineEnds() {
        let body = Array("Subject: x\n\n.hidden\nbare\rcr\r\n..two\nno end".utf8)
        let wire = String(decoding: DataEncoder.encode(body), as: UTF8.self)
        #expect(wire == "Subject: x\r\n\r\n..hidden\r\nbare\r\ncr\r\n...two\r\nno end\r\n.\r\n")
        #expect(DataEncoder.encode([]) == Array(".\r\n".utf8))
        #expect(DataEncoder.encode(Array(".\n".utf8)) == Array("..\r\n.\r\n".utf8))
    }

    @Test func mailAndRcptParameters() {
        var caps = ServerCapabilities()
        let tx = ClientTransaction(sender: "a@b.example", recipients: [
            .init(address: "c@d.example", notify: ["SUCCESS", "FAILURE"], originalRecipient: "rfc822;c+x@d.example"),
        ], body: Array(repeating: 65, count: 750), eightBit: true, dsnReturn: .headers, envelopeID: "id=1")
        #expect(ClientCommands.mailFrom(tx, capabilities: caps, downgraded: true) == "MAIL FROM:<a@b.example>")
        #expect(ClientCommands.rcptTo(tx.recipients[0], capabilities: caps) == "RCPT TO:<c@d.example>")
        caps.dsn = true
        caps.eightBitMIME = true
        caps.size = 0
        #expect(ClientCommands.mailFrom(tx, capabilities: caps, downgraded: false)
                == "MAIL FROM:<a@b.example> BODY=8BITMIME RET=HDRS ENVID=id+3D1 SIZE=1026")
        #expect(ClientCommands.rcptTo(tx.recipients[0], capabilities: caps)
                == "RCPT TO:<c@d.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c+2Bx@d.example")
        #expect(ClientCommands.sizeEstimate(bodyCount: 750, downgraded: true) == 1026 / 70 * 100)
    }

    @Test func downgradePlainMessage() {
        let message = Array("Subject: caf\n\ncaf\u{e9} cr\u{e8}me\n".utf8)
        let out = String(decoding: EightBitDowngrade.convert(message), as: UTF8.self)
        #expect(out == "Subject: caf\nMime-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
                + "Content-Transfer-Encoding: quoted-printable\n\ncaf=C3=A9 cr=C3=A8me\n")
        #expect(out.utf8.allSatisfy { $0 < 0x80 })
    }

    @Test func downgradeMultipartKeepsStructure() {
        let message = """
        Mime-Version: 1.0\r
        Content-Type: multipart/mixed; boundary="b"\r
        Content-Transfer-Encoding: 8bit\r
        \r
        preamble\r
        --b\r
        Content-Type: text/plain; charset=utf-8\r
        Content-Transfer-Encoding: 8bit\r
        \r
        na\u{ef}ve\r
        --b\r
        Content-Type: text/plain\r
        \r
        ascii only\r
        --b--\r

        """
        let out = EightBitDowngrade.convert(Array(message.utf8))
        #expect(out.allSatisfy { $0 < 0x80 })
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.contains("Content-Transfer-Encoding: 7bit\r\n\r\npreamble\r\n--b\r\n"))
        #expect(text.contains("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nna=C3=AFve\r\n--b\r\n"))
        #expect(text.contains("ascii only\r\n--b--"))
        #expect(!text.contains("8bit"))
        // What a reader decodes is the original text.
        let parsed = MIMEParser.parse(out)
        #expect(parsed.entities.count >= 3)
    }

    @Test func sevenBitMessageUnchanged() {
        let message = Array("Subject: x\n\nplain\n".utf8)
        #expect(EightBitDowngrade.convert(message) == message)
    }
}
