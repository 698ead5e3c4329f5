import Testing
@testable import MailQueue

@Suite struct SendmailTests {
    let context = SendmailMessage.Context(me: "mx.example.test", defaultDomain: "example.test", userName: "joe",
                                          fullName: nil, uid: 1000, now: 0, uniquePart: "0.1")

    @Test func parsesCouriersOptions() throws {
        let options = try SendmailOptions.parse(["-f", "a@b", "-Fjoe", "-N", "success,delay", "-R", "hdrs", "-V", "env1",
                                                 "-oi", "-t", "-verp", "--", "x@y", "z"])
        #expect(options.sender == "a@b")
        #expect(options.fullName == "joe")
        #expect(options.notify == [.success, .delay])
        #expect(options.dsnReturn == .headers)
        #expect(options.envelopeID == "env1")
        #expect(options.verp)
        #expect(options.recipients == ["x@y", "z"])
        #expect(try SendmailOptions.parse(["-fa@b", "-bs"]).smtpSession)
        #expect(throws: SendmailOptions.ParseError.missingValue("-f")) { try SendmailOptions.parse(["-f"]) }
        #expect(throws: SendmailOptions.ParseError.badValue("-R", "all")) { try SendmailOptions.parse(["-R", "all"]) }
    }

    @Test func recipientsFromHeadersAndBccRemoved() throws {
        let input = Array("To: A <a@x.test>, b\r\nBcc: hidden@x.test,\r\n  also@x.test\r\nFrom: me@x.test\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <1@x>\r\n\r\nbody\r\n.\r\nmore\r\n".utf8)
        let message = SendmailMessage.prepare(input, options: SendmailOptions(), context: context)
        #expect(message.recipients == ["a@x.test", "b@example.test", "hidden@x.test", "also@x.test"])
        #expect(String(decoding: message.bytes, as: UTF8.self) ==
            "Received: from joe by mx.example.test with local (Courier for Swift); uid 1000; Thu, 1 Jan 1970 00:00:00 +0000\n"
            + "To: A <a@x.test>, b\nFrom: me@x.test\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <1@x>\n\nbody\n.\nmore\n")
    }

    @Test func commandLineRecipientsWinAndMissingHeadersAreAdded() throws {
        var options = SendmailOptions()
        options.recipients = ["demo@example.test"]
        options.fullName = "Joe \"J\" User"
        let message = SendmailMessage.prepare(Array("To: other@x\n\nhi\n".utf8), options: options, context: context)
        #expect(message.recipients == ["demo@example.test"])
        #expect(String(decoding: message.bytes, as: UTF8.self) ==
            "Received: from joe by mx.example.test with local (Courier for Swift); uid 1000; Thu, 1 Jan 1970 00:00:00 +0000\n"
            + "To: other@x\nFrom: \"Joe 'J' User\" <joe@mx.example.test>\nDate: Thu, 1 Jan 1970 00:00:00 +0000\n"
            + "Message-ID: <courier.0.1@mx.example.test>\n\nhi\n")
    }

    @Test func incomingReturnPathIsKeptUnderAnotherName() {
        var options = SendmailOptions()
        options.recipients = ["demo@example.test"]
        let input = Array("return-path: <forged@x>\nFrom: a@x\nDate: d\nMessage-ID: <m@x>\n\nReturn-Path: body\n".utf8)
        let text = String(decoding: SendmailMessage.prepare(input, options: options, context: context).bytes, as: UTF8.self)
        #expect(text.hasSuffix("\nOld-return-path: <forged@x>\nFrom: a@x\nDate: d\nMessage-ID: <m@x>\n\nReturn-Path: body\n"))
    }

    @Test func bodyWithoutHeadersAndRandomInput() {
        _ = SendmailMessage.prepare([], options: SendmailOptions(), context: context)
        for _ in 0..<100 {
            let bytes = (0..<Int.random(in: 0..<300)).map { _ in ([0x0A, 0x0D, 0x3A, 0x20, 0x41, 0x40, 0x2C] as [UInt8]).randomElement()! }
            _ = SendmailMessage.prepare(bytes, options: SendmailOptions(), context: context)
        }
    }
}
