import Testing
@testable import SMTP

struct HeaderInspectorTests {
    private func verdict(_ text: String, limit: Int = 100_000, chunk: Int = 7) -> SMTPReply? {
        var inspector = HeaderInspector(byteLimit: limit)
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            inspector.feed(Array(bytes[index..<min(index + chunk, bytes.count)]))
            index += chunk
        }
        return inspector.verdict()
    }

    @Test func ordinaryMessagePasses() {
        #expect(verdict("Received: from a\n  by b\nSubject: x\n\nbody\nReceived: not a header\n") == nil)
    }

    @Test func hundredReceivedPassButNotMore() {
        let hundred = String(repeating: "Received: from x by y\n", count: 100)
        #expect(verdict(hundred + "Subject: s\n\nbody\n") == nil)
        #expect(verdict("RECEIVED: z\n" + hundred + "\nbody\n") == Replies.routingLoop)
        // Received lines in the body do not count.
        #expect(verdict("Subject: s\n\n" + hundred + hundred) == nil)
    }

    @Test func sizeAndFieldLimits() {
        let big = "X-Big: " + String(repeating: "a", count: 2000) + "\n\nbody\n"
        #expect(verdict(big, limit: 1000) == Replies.headerTooBig)
        #expect(verdict(big, limit: 5000) == nil)
        #expect(HeaderInspector(byteLimit: 10).byteLimit == 1000)
        #expect(verdict(String(repeating: "X: y\n", count: 499) + "\nb\n") == nil)
        #expect(verdict(String(repeating: "X: y\n", count: 500) + "\nb\n") == Replies.headerTooBig)
        // Folded lines are one field.
        #expect(verdict("X: y\n" + String(repeating: " more\n", count: 600) + "\nb\n") == nil)
    }

    @Test func headersOnlyMessage() {
        #expect(verdict(String(repeating: "Received: x\n", count: 101)) == Replies.routingLoop)
    }

    @Test func reportsWhereTheHeaderSectionEnds() {
        var inspector = HeaderInspector()
        #expect(inspector.feed(Array("From: a@b.test\nSub".utf8)) == nil)
        #expect(inspector.feed(Array("ject: x\n\nbody\n\n".utf8)) == 8)
        #expect(inspector.endedWithBlankLine && inspector.withinLimit)
        #expect(inspector.headerSection == Array("From: a@b.test\nSubject: x\n".utf8))
        // Later chunks are body: nothing more to report.
        #expect(inspector.feed(Array("\n\n".utf8)) == nil)
        var bare = HeaderInspector()
        #expect(bare.feed(Array("\nbody\n".utf8)) == 0)
        var big = HeaderInspector(byteLimit: 1000)
        #expect(big.feed(Array(("X: " + String(repeating: "a", count: 2000) + "\n\n").utf8)) == nil)
        #expect(!big.withinLimit && !big.endedWithBlankLine)
    }
}
