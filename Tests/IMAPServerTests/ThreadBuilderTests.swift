import Testing
@testable import IMAPServer

func message(_ n: UInt32, date: Int64, subject: String = "s", id: String? = nil, references: [String] = [],
             inReplyTo: String? = nil) -> ThreadMessage {
    let base = MailboxSession.baseSubjectAndReply(Array(subject.utf8))
    return ThreadMessage(number: n, order: Int(n), date: date, subject: base.base, isReply: base.isReply,
                         messageID: id.map { Array($0.utf8) }, references: references.map { Array($0.utf8) },
                         inReplyTo: inReplyTo.map { Array($0.utf8) })
}

func render(_ roots: [ThreadNode]) -> String {
    roots.map { "(" + $0.rendered() + ")" }.joined()
}

@Suite struct ThreadBuilderTests {
    @Test func orderedSubjectGroupsBySubjectAndDate() {
        let roots = ThreadBuilder.orderedSubject([
            message(1, date: 10, subject: "a"), message(2, date: 5, subject: "Re: b"),
            message(3, date: 20, subject: "re: a"), message(4, date: 30, subject: "b"), message(5, date: 40, subject: "a"),
        ])
        #expect(render(roots) == "(2 4)(1 (3)(5))")
    }

    @Test func referencesChainsAndMissingParents() {
        let roots = ThreadBuilder.references([
            message(1, date: 1, subject: "root", id: "<a@x>"),
            message(2, date: 2, subject: "Re: root", id: "<b@x>", references: ["<a@x>"]),
            message(3, date: 3, subject: "Re: root", id: "<c@x>", references: ["<a@x>", "<b@x>"]),
            message(4, date: 4, subject: "Re: root", id: "<d@x>", inReplyTo: "<a@x>"),
            // Replies to a message we do not have: a dummy parent with two children stays at the root.
            message(5, date: 5, subject: "other", id: "<e@x>", references: ["<gone@x>"]),
            message(6, date: 6, subject: "Re: other", id: "<f@x>", references: ["<gone@x>"]),
            // A loop in References must not hang or lose the message.
            message(7, date: 7, subject: "loop", id: "<g@x>", references: ["<g@x>"]),
        ])
        #expect(render(roots) == "(1 (2 3)(4))((5)(6))(7)")
    }

    @Test func sameSubjectMergesUnderADummy() {
        let roots = ThreadBuilder.references([
            message(1, date: 1, subject: "topic", id: "<a@x>"),
            message(2, date: 2, subject: "topic", id: "<b@x>"),
            message(3, date: 3, subject: "Re: topic", id: "<c@x>"),
        ])
        #expect(render(roots) == "((1)(2)(3))")
    }

    @Test func deepChainsAreCut() {
        var messages = [message(1, date: 1, subject: "deep", id: "<m1@x>")]
        for n in 2...3000 {
            messages.append(message(UInt32(n), date: Int64(n), subject: "Re: deep", id: "<m\(n)@x>", references: ["<m\(n - 1)@x>"]))
        }
        let roots = ThreadBuilder.references(messages)
        let text = render(roots)
        // Chains stop at ThreadBuilder.maxDepth; the pieces regroup under the first message by
        // subject (RFC 5256 §4 (5)), and every message is still there once.
        #expect(text.hasPrefix("(1 (2 3 4 "))
        let numbers = text.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        #expect(numbers.sorted() == Array(1...3000))
    }
}
