import Testing
@testable import SMTP

struct CommandLineFramerTests {
    @Test func splitsOnLFKeepsCR() {
        var framer = CommandLineFramer(limit: 100)
        var input = Array("EHLO a\r\nNOOP\nQU".utf8)[...]
        #expect(framer.next(from: &input) == .line(Array("EHLO a\r".utf8)))
        #expect(framer.next(from: &input) == .line(Array("NOOP".utf8)))
        #expect(framer.next(from: &input) == nil)
        var more = Array("IT\r\n".utf8)[...]
        #expect(framer.next(from: &more) == .line(Array("QUIT\r".utf8)))
    }

    @Test func overlongLineReportedOnceAndDiscarded() {
        var framer = CommandLineFramer(limit: 10)
        var input = Array(String(repeating: "x", count: 30).utf8)[...]
        #expect(framer.next(from: &input) == .tooLong)
        var rest = Array((String(repeating: "y", count: 50) + "\r\nNOOP\r\n").utf8)[...]
        #expect(framer.next(from: &rest) == .line(Array("NOOP\r".utf8)))
        #expect(framer.bufferedCount == 0)
    }

    @Test func overlongInOneChunk() {
        var framer = CommandLineFramer(limit: 10)
        var input = Array("0123456789abc\r\nNOOP\r\n".utf8)[...]
        #expect(framer.next(from: &input) == .tooLong)
        #expect(framer.next(from: &input) == .line(Array("NOOP\r".utf8)))
    }
}
