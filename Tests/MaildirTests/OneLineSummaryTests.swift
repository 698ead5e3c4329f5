import Testing
@testable import Maildir

/// A message that is a single line without its line feed: its field shows in the envelope,
/// as Courier-IMAP and Dovecot read it.
struct OneLineSummaryTests {
    @Test func oneLineMessageIsAHeaderField() {
        let s = MessageSummary.parse(Array("Subject: header only no newline".utf8))
        #expect(s.envelope.subject == Array("header only no newline".utf8))
        #expect(s.structure.size == MessageSummary.parseAsStored(Array("Subject: header only no newline".utf8)).structure.size)
        #expect(MessageSummary.parse(Array("Subject: x\n".utf8)).envelope.subject == Array("x".utf8))
        #expect(MessageSummary.parse([]).envelope.subject == nil)
        #expect(MessageSummary.parse(Array("\rSubject: no".utf8)).envelope.subject == nil)
    }
}
