import Testing
@testable import SMTPClient

@Suite struct ClientReplyParserTests {
    @Test func multiLineReplyInPieces() throws {
        var parser = ClientReplyParser()
        #expect(try parser.feed(Array("250-mx.example.com hello\r\n250-PIPE".utf8)).isEmpty)
        #expect(parser.isMidReply)
        let replies = try parser.feed(Array("LINING\r\n250 SIZE 1000\r\n220 next\n".utf8))
        #expect(replies.count == 2)
        #expect(replies[0].code == 250)
        #expect(replies[0].lines.map { String(decoding: $0, as: UTF8.self) } == ["mx.example.com hello", "PIPELINING", "SIZE 1000"])
        #expect(replies[1] == ClientReply(220, "next"))
        #expect(!parser.isMidReply)
    }

    @Test func bareCodeAndDiagnosticText() throws {
        var parser = ClientReplyParser()
        let replies = try parser.feed(Array("354\r\n550-5.1.1 no\r\n550 such user\r\n".utf8))
        #expect(replies[0].code == 354)
        #expect(replies[1].text == "550 5.1.1 no 550 such user")
    }

    /// A server's longest reply (200 lines of 4 KiB) goes into a log line per recipient and
    /// into reports: its text is cut to `maxTextBytes`, at a character.
    @Test func replyTextIsBounded() throws {
        var parser = ClientReplyParser()
        let line = "550-" + String(repeating: "\u{E9}", count: 2_000) + "\r\n"
        let input = String(repeating: line, count: ClientReplyParser.maxLines - 1) + "550 end\r\n"
        let replies = try parser.feed(Array(input.utf8))
        #expect(replies.count == 1 && replies[0].lines.count == ClientReplyParser.maxLines)
        let text = replies[0].text
        #expect(text.utf8.count <= ClientReply.maxTextBytes && text.utf8.count > ClientReply.maxTextBytes - 4)
        #expect(text.hasPrefix("550 \u{E9}\u{E9}") && text.hasSuffix("\u{E9}"))
        #expect(ClientReply(code: 250, lines: [Array("a".utf8), Array("b".utf8)]).text == "250 a 250 b")
    }

    @Test func malformedRepliesAreErrors() {
        var parser = ClientReplyParser()
        #expect(throws: ClientReplyParser.ParseError.malformed) { try parser.feed(Array("hello\r\n".utf8)) }
        var mixed = ClientReplyParser()
        #expect(throws: ClientReplyParser.ParseError.malformed) { try mixed.feed(Array("250-a\r\n251 b\r\n".utf8)) }
        var badSeparator = ClientReplyParser()
        #expect(throws: ClientReplyParser.ParseError.malformed) { try badSeparator.feed(Array("250x\r\n".utf8)) }
    }

    @Test func boundedLinesAndReplies() throws {
        var parser = ClientReplyParser()
        let long = Array("250 ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 100_000) + [13, 10]
        let replies = try parser.feed(long)
        #expect(replies.count == 1)
        #expect(replies[0].lines[0].count == ClientReplyParser.maxLineLength - 4)
        var many = ClientReplyParser()
        let lines = Array(repeating: Array("250-x\r\n".utf8), count: ClientReplyParser.maxLines + 1).flatMap { $0 }
        #expect(throws: ClientReplyParser.ParseError.tooManyLines) { try many.feed(lines) }
    }

    @Test func capabilities() {
        let lines = ["mx hello", "SIZE 35882577", "8BITMIME", "pipelining", "DSN", "STARTTLS",
                     "AUTH LOGIN PLAIN", "AUTH=CRAM-MD5 LOGIN", "SMTPUTF8", "ENHANCEDSTATUSCODES"].map { Array($0.utf8) }
        let caps = ServerCapabilities(ehloLines: lines)
        #expect(caps.size == 35882577)
        #expect(caps.eightBitMIME && caps.pipelining && caps.dsn && caps.startTLS && caps.smtpUTF8)
        #expect(caps.authMechanisms == ["LOGIN", "PLAIN", "CRAM-MD5"])
        #expect(ServerCapabilities(ehloLines: [Array("x".utf8), Array("SIZE".utf8)]).size == 0)
        #expect(ServerCapabilities(ehloLines: [Array("x".utf8)]).size == nil)
    }
}
