import Testing
@testable import MailCore

@Suite struct HeaderReaderTests {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func splitsLogicalHeadersAndFindsBody() {
        let message = Array("From: a@b\nSubject: one\n two\n\tthree\nX-Empty:\n\nbody\n".utf8)
        let block = HeaderReader.read(message)
        #expect(block.headers.count == 3)
        #expect(block.hasSeparator)
        #expect(text(Array(message[block.bodyOffset...])) == "body\n")
        let subject = block.headers[1]
        #expect(subject.lines.map(text) == ["Subject: one", " two", "\tthree"])
        #expect(text(subject.raw) == "Subject: one\n two\n\tthree\n")
        #expect(text(subject.folded) == "Subject: one\n two\n\tthree")
        #expect(text(subject.unfolded) == "Subject: one two three")
        #expect(text(subject.value) == "one two three")
        #expect(text(block.headers[2].value) == "")
    }

    @Test func crlfInput() {
        let message = Array("To: x@y\r\n  z@w\r\nSubject: s\r\n\r\nbody\r\n".utf8)
        let block = HeaderReader.read(message)
        #expect(block.headers.map { text($0.unfolded) } == ["To: x@y z@w", "Subject: s"])
        #expect(text(block.headers[0].raw) == "To: x@y\r\n  z@w\r\n")
        #expect(block.bodyOffset == message.count - 6)
        #expect(block.hasSeparator)
    }

    @Test func headersOnlyWithoutSeparatorOrFinalNewline() {
        let message = Array("A: 1\nB: 2".utf8)
        let block = HeaderReader.read(message)
        #expect(block.headers.map { text($0.folded) } == ["A: 1", "B: 2"])
        #expect(!block.hasSeparator)
        #expect(block.bodyOffset == message.count)
    }

    @Test func leadingBlankLines() {
        let message = Array("\n\r\nA: 1\n\nbody".utf8)
        #expect(HeaderReader.read(message).headers.isEmpty)
        #expect(HeaderReader.read(message).bodyOffset == 1)
        let skipped = HeaderReader.read(message, skipLeadingBlankLines: true)
        #expect(skipped.headers.map { text($0.folded) } == ["A: 1"])
        #expect(text(Array(message[skipped.bodyOffset...])) == "body")
    }

    @Test func continuationBeforeAnyHeaderStartsAHeader() {
        let block = HeaderReader.read(Array(" odd\nA: 1\n\n".utf8))
        #expect(block.headers.map { text($0.folded) } == [" odd", "A: 1"])
    }

    @Test func caseInsensitiveNames() {
        let block = HeaderReader.read(Array("SUBJECT : x\nsubject: y\nSubjects: z\n\n".utf8))
        #expect(block.headers(named: "Subject").count == 2)
        #expect(block.first(named: "subject").map { text($0.value) } == "x")
        #expect(block.headers[0].name.map(text) == "SUBJECT")
        #expect(text(block.headers[0].key) == "subject :")
        #expect(block.first(named: "Missing") == nil)
    }

    @Test(arguments: [
        ("Subject: x", "subject:"),
        ("X-Test:value", "x-test:"),
        ("no colon here", "no colon here"),
        ("Two: a: b", "two:"),
        ("", ""),
    ])
    func keys(_ line: String, _ key: String) {
        #expect(text(HeaderName.key(of: Array(line.utf8))) == key)
    }

    @Test func optionPrefixMatching() {
        #expect(HeaderName.key(Array("subject:".utf8), isPrefixOfOption: Array("Subject: new value".utf8)))
        #expect(!HeaderName.key(Array("subject:".utf8), isPrefixOfOption: Array("Subject".utf8)))
        #expect(HeaderName.key(Array("sub".utf8), isPrefixOfOption: Array("Subject:".utf8)))
    }

    @Test(arguments: [
        ("a\n b", "a b"),
        ("a\n\t \n  b\n", "a b"),
        ("a\n", "a"),
        ("a\r\n b", "a\r b"),
        ("", ""),
    ])
    func courierUnfolding(_ folded: String, _ joined: String) {
        #expect(text(HeaderUnfolding.catenate(Array(folded.utf8))) == joined)
    }

    @Test func cLocaleClasses() {
        #expect([0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D].allSatisfy { CByteClass.isSpace(UInt8($0)) })
        #expect(!CByteClass.isSpace(0xA0))
        #expect(!CByteClass.isSpace(0x85))
        #expect(CByteClass.lowercase(UInt8(ascii: "Q")) == UInt8(ascii: "q"))
        #expect(CByteClass.lowercase(0xC4) == 0xC4)
    }

    @Test func hugeHeaderLineIsLinear() {
        var message = Array("X-Big: ".utf8) + [UInt8](repeating: UInt8(ascii: "y"), count: 1_000_000)
        for _ in 0..<10_000 { message += Array("\n z".utf8) }
        message += Array("\n\nbody".utf8)
        let block = HeaderReader.read(message)
        #expect(block.headers.count == 1)
        #expect(block.headers[0].lines.count == 10_001)
        #expect(block.headers[0].value.count == 1_000_000 + 20_000)
    }

    @Test func fuzzEntryAcceptsAnyBytes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let length = Int.random(in: 0..<200, using: &generator)
            let bytes = (0..<length).map { _ in
                [0x0A, 0x0D, 0x20, 0x09, 0x3A, 0x00, UInt8(ascii: "a"), 0xFF].randomElement(using: &generator)!
            }
            _ = HeaderReader.fuzz(bytes)
        }
    }
}
