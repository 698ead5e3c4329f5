import MaildirCore
import Testing
@testable import Maildir

@Suite struct SummaryTests {
    static let multipart = """
        Date: Thu, 26 Nov 2026 10:00:00 +0000
        From: Alice <alice@example.test>
        To: bob@example.test, carol@example.test
        Subject: =?utf-8?q?caf=C3=A9?=
        Message-ID: <m1@example.test>
        In-Reply-To: <m0@example.test>
        References: <a@x> <m0@example.test>
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="b1"

        preamble
        --b1
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: quoted-printable

        hello
        world
        --b1
        Content-Type: message/rfc822
        Content-Disposition: attachment; filename="fwd.eml"
        Content-Location: http://example.test/fwd

        From: dave@example.test
        Subject: inner

        inner body
        --b1--

        """

    @Test func envelopeAndStructure() throws {
        let s = MessageSummary.parse(Array(Self.multipart.utf8))
        #expect(s.envelope.subject == Array("=?utf-8?q?caf=C3=A9?=".utf8))
        #expect(s.envelope.from == Array("Alice <alice@example.test>".utf8))
        #expect(s.envelope.to == Array("bob@example.test, carol@example.test".utf8))
        #expect(s.envelope.messageID == Array("<m1@example.test>".utf8))
        #expect(s.envelope.inReplyTo == Array("<m0@example.test>".utf8))
        #expect(s.envelope.cc == nil)
        #expect(s.references == Array("<a@x> <m0@example.test>".utf8))
        #expect(s.structure.type == "multipart" && s.structure.subtype == "mixed")
        #expect(s.structure.children.count == 2)
        let text = s.structure.children[0]
        #expect(text.type == "text" && text.subtype == "plain")
        #expect(text.parameters == [MIMEParameter(name: Array("charset".utf8), value: Array("utf-8".utf8))])
        #expect(text.encoding == Array("quoted-printable".utf8))
        #expect(text.size == "hello\r\nworld".utf8.count)
        #expect(text.lines == 2)
        let fwd = s.structure.children[1]
        #expect(fwd.type == "message" && fwd.subtype == "rfc822")
        #expect(fwd.disposition == Array("attachment".utf8))
        #expect(fwd.dispositionParameters.first?.value == Array("fwd.eml".utf8))
        #expect(fwd.location == Array("http://example.test/fwd".utf8))
        #expect(fwd.envelope?.subject == Array("inner".utf8))
        #expect(fwd.envelope?.from == Array("dave@example.test".utf8))
        #expect(fwd.children.first?.type == "text")
    }

    @Test func plainNonMIMEMessage() {
        let s = MessageSummary.parse(Array("Subject: x\n\nline1\nline2\n".utf8))
        #expect(s.structure.type == "text" && s.structure.subtype == "plain")
        #expect(s.structure.size == "line1\r\nline2\r\n".utf8.count)
        #expect(s.structure.lines == 2)
        #expect(s.structure.children.isEmpty)
    }

    @Test func hostileNestingAndGarbageDoNotCrash() {
        var deep = ""
        for i in 0..<400 { deep += "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\(i)\"\n\n--b\(i)\n" }
        _ = MessageSummary.parse(Array(deep.utf8))
        _ = MessageSummary.parse([])
        _ = MessageSummary.parse([0xFF, 0x00, 0x0A, 0x0A, 0x0D])
        var nested = ""
        for _ in 0..<300 { nested += "MIME-Version: 1.0\nContent-Type: message/rfc822\n\n" }
        let s = MessageSummary.parse(Array(nested.utf8))
        var depth = 0
        var node = s.structure
        while let child = node.children.first { node = child; depth += 1 }
        #expect(depth <= MessageSummary.maximumDepth)
    }

    @Test func mailboxSummaryReadsTheMessageOnce() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        try deliver(Self.multipart, to: root)
        let box = try await MailStore(root: root).open(.inbox)
        let s = try await box.summary(uid: 1)
        #expect(s.structure.children.count == 2)
        #expect(try await box.summary(uid: 1) == s)
        await #expect(throws: MailStoreError.noSuchMessage(2)) { _ = try await box.summary(uid: 2) }
    }

    /// A message over `streamedSummaryThreshold` is summarized from its file in pieces, to
    /// the same summary as the whole parse.
    @Test func largeMessageSummaryIsStreamedAndTheSame() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        let large = "From: Alice <alice@example.test>\nSubject: large\nMIME-Version: 1.0\n"
            + "Content-Type: multipart/mixed; boundary=b1\n\n--b1\nContent-Type: text/plain\n\n"
            + String(repeating: "large body line\r\n", count: 100_000)
            + "--b1\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
            + String(repeating: "QUJD\n", count: 1000) + "--b1--\n"
        #expect(large.utf8.count > Mailbox.streamedSummaryThreshold)
        try deliver(large, to: root)
        let box = try await MailStore(root: root).open(.inbox)
        #expect(try await box.summary(uid: 1) == MessageSummary.parse(Array(large.utf8)))
    }
}

@Suite struct SummaryCacheTests {
    @Test func codingRoundTripsAndRejectsDamage() {
        let s = MessageSummary.parse(Array(SummaryTests.multipart.utf8))
        let encoded = SummaryCoding.encode(s)
        #expect(SummaryCoding.decode(encoded[...]) == s)
        for cut in [0, 1, encoded.count / 2, encoded.count - 1] {
            #expect(SummaryCoding.decode(encoded[..<cut]) == nil)
        }
        #expect(SummaryCoding.decode((encoded + [0])[...]) == nil)
        var flipped = encoded
        flipped[0] = 7
        #expect(SummaryCoding.decode(flipped[...]) == nil)
    }

    @Test func aLaterSessionReadsTheCache() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        try deliver(SummaryTests.multipart, to: root)
        try deliver("Subject: second\n\nx\n", to: root)
        let store = MailStore(root: root)
        let first = try await store.open(.inbox)
        let original = try await first.summary(uid: 1)
        _ = try await first.summary(uid: 2)
        #expect(SystemCall.exists(root + "/courierswiftsummaries"))
        // Proof the next session uses the cache: the file's bytes are swapped under the same name.
        let name = try #require(await first.snapshot.message(uid: 1)?.fileName)
        writeFile(root + "/cur/" + name, "Subject: swapped\n\n")
        let second = try await store.open(.inbox)
        #expect(try await second.summary(uid: 1) == original)
        #expect(try await second.summary(uid: 2).envelope.subject == Array("second".utf8))
    }

    @Test func damagedCacheIsDroppedAndRebuilt() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        try deliver("Subject: one\n\nx\n", to: root)
        let store = MailStore(root: root)
        _ = try await (try store.open(.inbox)).summary(uid: 1)
        let good = try #require(try SystemCall.readFile(root + "/courierswiftsummaries"))
        for damaged in [Array(good.dropLast(3)), [0x43, 0x53, 0x53, 0x31, 0xFF, 0xFF, 0xFF, 0x7F, 1], Array("garbage".utf8)] {
            writeFile(root + "/courierswiftsummaries", String(decoding: damaged, as: UTF8.self))
            let box = try await store.open(.inbox)
            #expect(try await box.summary(uid: 1).envelope.subject == Array("one".utf8))
        }
    }
}
