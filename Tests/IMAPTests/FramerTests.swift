import Testing
@testable import IMAP

func frame(_ chunks: [String], limits: IMAPLimits = IMAPLimits(), acceptStreams: Bool = true) -> [CommandFramer.Event] {
    var framer = CommandFramer(limits: limits)
    var events: [CommandFramer.Event] = []
    for chunk in chunks {
        var input = Array(chunk.utf8)[...]
        while let event = framer.next(from: &input) {
            if case .appendStreamStart = event {
                if acceptStreams { framer.acceptStream() } else { framer.refuseStream() }
            }
            events.append(event)
        }
    }
    return events
}

@Suite struct FramerTests {
    @Test func linesAndLiterals() {
        #expect(frame(["a NOOP\r\nb NOOP\r\n"]) == [.command(Array("a NOOP".utf8)), .command(Array("b NOOP".utf8))])
        #expect(frame(["a LOGIN {4}\r\n", "user pw\r\n"]) ==
                [.continuationNeeded, .command(Array("a LOGIN {4}\r\nuser pw".utf8))])
        // LITERAL+ (RFC 7888): no continuation.
        #expect(frame(["a LOGIN {4+}\r\nuser pw\r\n"]) == [.command(Array("a LOGIN {4+}\r\nuser pw".utf8))])
        // A literal that holds CRLF and `{1}` does not end the command.
        #expect(frame(["a APPEND x {7+}\r\n{1}\r\n\r\n\r\n"]) == [.command(Array("a APPEND x {7+}\r\n{1}\r\n\r\n".utf8))])
        // A literal ending in CR right before the line's LF: the CR stays in the literal.
        #expect(frame(["a LOGIN {2+}\r\nx\r\n"]) == [.command(Array("a LOGIN {2+}\r\nx\r".utf8))])
    }

    @Test func splitAnywhereGivesTheSameCommands() {
        let stream = "a1 LOGIN {4+}\r\nuser {2}\r\npw\r\na2 APPEND INBOX (\\Seen) {10+}\r\nline\r\nend!\r\na3 NOOP\r\n"
        let whole = frame([stream])
        for cut in 1..<stream.utf8.count {
            let bytes = Array(stream.utf8)
            let a = String(decoding: bytes[..<cut], as: UTF8.self)
            let b = String(decoding: bytes[cut...], as: UTF8.self)
            #expect(frame([a, b]) == whole, "cut at \(cut)")
        }
    }

    @Test func limits() {
        var limits = IMAPLimits()
        limits.lineLength = 20
        limits.argumentLiteral = 10
        #expect(frame(["t1 " + String(repeating: "x", count: 40) + "\r\nt2 NOOP\r\n"], limits: limits) ==
                [.tooLong(tag: Array("t1".utf8)), .command(Array("t2 NOOP".utf8))])
        #expect(frame(["t3 LOGIN {11}\r\n"], limits: limits) == [.literalRefused(tag: Array("t3".utf8), size: 11)])
        #expect(frame(["t4 LOGIN {11+}\r\n"], limits: limits) == [.fatal("literal of 11 bytes is too large")])
        // APPEND literals have their own limit.
        limits.lineLength = 30
        #expect(frame(["t5 APPEND INBOX {11+}\r\n01234567890\r\n"], limits: limits) ==
                [.command(Array("t5 APPEND INBOX {11+}\r\n01234567890".utf8))])
    }

    @Test func largeAppendMessagesStream() {
        var limits = IMAPLimits()
        limits.appendStreamThreshold = 4
        let events = frame(["a APPEND INBOX (\\Seen) {10}\r\n", "0123", "456789", " {2}\r\nxy\r\nb NOOP\r\n"], limits: limits)
        #expect(events == [
            .appendStreamStart(prefix: Array("a APPEND INBOX (\\Seen) ".utf8), size: 10, synchronizing: true),
            .appendStreamBytes(Array("0123".utf8)), .appendStreamBytes(Array("456789".utf8)), .appendStreamEnd,
            .continuationNeeded,
            .command(Array("a APPEND INBOX (\\Seen) {0}\r\n {2}\r\nxy".utf8)),
            .command(Array("b NOOP".utf8)),
        ])
        // The framer waits for the server's decision before it reads on.
        var framer = CommandFramer(limits: limits)
        var input = Array("a APPEND INBOX ~{5+}\r\nhello\r\n".utf8)[...]
        #expect(framer.next(from: &input) == .appendStreamStart(prefix: Array("a APPEND INBOX ".utf8), size: 5, synchronizing: false))
        #expect(framer.next(from: &input) == nil)
        #expect(input.count == 7)
    }

    @Test func refusedStreamsAreSkipped() {
        var limits = IMAPLimits()
        limits.appendStreamThreshold = 4
        // Synchronising: the client never sends the literal; the next line is a new command.
        #expect(frame(["a APPEND INBOX {10}\r\nb NOOP\r\n"], limits: limits, acceptStreams: false) ==
                [.appendStreamStart(prefix: Array("a APPEND INBOX ".utf8), size: 10, synchronizing: true), .command(Array("b NOOP".utf8))])
        // Non-synchronising: its bytes and the rest of the line are dropped.
        #expect(frame(["a APPEND INBOX {10+}\r\n0123456789 (\\Seen)\r\nb NOOP\r\n"], limits: limits, acceptStreams: false) ==
                [.appendStreamStart(prefix: Array("a APPEND INBOX ".utf8), size: 10, synchronizing: false), .command(Array("b NOOP".utf8))])
    }
}
