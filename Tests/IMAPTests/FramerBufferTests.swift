import Testing
@testable import IMAP

/// The framer's buffer after a long command (issue 6: memory per idle connection).
@Suite struct FramerBufferTests {
    @Test func aLongCommandsBufferIsNotKeptForTheNextCommand() {
        var framer = CommandFramer()
        let set = (1...8000).map(String.init).joined(separator: ",")
        var input = Array("a UID FETCH \(set) (FLAGS)\r\n".utf8)[...]
        guard case .command(let bytes) = framer.next(from: &input) else {
            Issue.record("no command")
            return
        }
        #expect(bytes.count > 30_000)
        #expect(framer.bufferCapacity <= CommandFramer.keptCapacity)
        // Short commands still reuse their buffer and come out whole.
        var more = Array("b NOOP\r\nc NOOP\r\n".utf8)[...]
        #expect(framer.next(from: &more) == .command(Array("b NOOP".utf8)))
        #expect(framer.next(from: &more) == .command(Array("c NOOP".utf8)))
        #expect(framer.bufferCapacity <= CommandFramer.keptCapacity)
    }
}
