import Testing
@testable import SMTP

/// A session with CHUNKING on, past EHLO, MAIL and one accepted RCPT (unless `recipients` is 0).
private func chunkingSession(recipients: Int = 1, chunking: Bool = true) -> SMTPSession {
    var configuration = SMTPSessionConfiguration(hostname: "mx.example.test")
    configuration.chunking = chunking
    var session = SMTPSession(configuration: configuration)
    _ = session.receive(line: Array("EHLO client.example".utf8)[...])
    _ = session.receive(line: Array("MAIL FROM:<a@b.example>".utf8)[...])
    for _ in 0..<recipients {
        if case .checkRecipient(let box, let parameters) = session.receive(line: Array("RCPT TO:<demo@example.test>".utf8)[...]) {
            _ = session.recipientChecked(box, parameters, refusal: nil)
        }
    }
    return session
}

private extension SMTPSession {
    mutating func line(_ text: String) -> Action { receive(line: Array(text.utf8)[...]) }
}

private let clean = DataDecoder.Outcome(size: 10, sizeExceeded: false, lineTooLong: false)

struct BDATSessionTests {
    @Test func ehloOffersChunkingOnlyWhenConfigured() {
        #expect(chunkingSession().ehloExtensions.last == "CHUNKING")
        #expect(!chunkingSession(chunking: false).ehloExtensions.contains("CHUNKING"))
    }

    @Test func chunksThenLastCommitLikeData() {
        var session = chunkingSession()
        guard case .openSubmission(let transaction) = session.line("BDAT 10") else { Issue.record("no open"); return }
        #expect(transaction.recipients.count == 1)
        #expect(session.submissionOpened() == .receiveChunk(size: 10, last: false))
        #expect(session.isReceivingChunk)
        #expect(session.chunkReceived(clean) == .send(Replies.chunkReceived(10)))
        #expect(session.isBetweenChunks)
        #expect(session.line("NOOP") == .send(Replies.ok))
        #expect(session.line("BDAT 7 LAST") == .receiveChunk(size: 7, last: true))
        #expect(session.dataEnded(clean) == .commitSubmission)
        #expect(session.committed(id: "Q1") == .send(Replies.accepted("Q1")))
        #expect(session.currentTransaction == nil)
        // The next transaction starts from MAIL again.
        #expect(session.line("BDAT 3 LAST") == .discardChunk(size: 3, then: Replies.badSequence))
    }

    /// A BDAT whose size cannot be read leaves the chunk's end unknown: the connection ends
    /// instead of reading the chunk's octets as commands.
    @Test(arguments: ["BDAT", "BDAT x", "BDAT 1234567890123456789", "BDAT 5 LASTX", "BDAT 5 LAST more", "BDAT -1"])
    func malformedBDATCloses(_ line: String) {
        var session = chunkingSession()
        #expect(session.line(line) == .sendAndClose(SMTPCommandError.chunkSyntax.reply))
        var plain = chunkingSession(chunking: false)
        #expect(plain.line(line) == .send(SMTPCommandError.chunkSyntax.reply))
    }

    @Test func bdatZeroLast() {
        var session = chunkingSession()
        #expect(session.line("BDAT 0 LAST") != .send(Replies.badSequence))
        #expect(session.submissionOpened() == .receiveChunk(size: 0, last: true))
        #expect(session.dataEnded(DataDecoder.Outcome(size: 0, sizeExceeded: false, lineTooLong: false)) == .commitSubmission)
    }

    /// RFC 3030 §3: a BDAT out of sequence gets 503, and its chunk is still read and dropped.
    @Test(arguments: ["", "EHLO c", "EHLO c\nMAIL FROM:<a@b.example>"])
    func outOfSequenceChunkIsDiscarded(_ before: String) {
        var configuration = SMTPSessionConfiguration(hostname: "mx.example.test")
        configuration.chunking = true
        var session = SMTPSession(configuration: configuration)
        for line in before.split(separator: "\n") { _ = session.line(String(line)) }
        #expect(session.line("BDAT 12 LAST") == .discardChunk(size: 12, then: Replies.badSequence))
        #expect(session.line("NOOP") == .send(Replies.ok))
    }

    @Test func refusedBeforeAuthOrTLSStillDiscards() {
        var configuration = SMTPSessionConfiguration(hostname: "mx.example.test", authMechanisms: ["PLAIN"], authRequired: true)
        configuration.chunking = true
        var session = SMTPSession(configuration: configuration)
        _ = session.line("EHLO c")
        #expect(session.line("BDAT 4") == .discardChunk(size: 4, then: Replies.authRequiredFirst))
    }

    @Test func withoutChunkingBdatIsAnUnknownCommand() {
        var session = chunkingSession(chunking: false)
        #expect(session.line("BDAT 4 LAST") == .send(Replies.commandError))
    }

    @Test func dataAfterBdatIsABadSequence() {
        var session = chunkingSession()
        _ = session.line("BDAT 4")
        _ = session.submissionOpened()
        _ = session.chunkReceived(clean)
        #expect(session.line("DATA") == .send(Replies.badSequence))
        #expect(session.isBetweenChunks)
        #expect(session.line("MAIL FROM:<x@y.example>") == .send(Replies.commandError))
    }

    @Test func rsetAndEhloDropTheChunks() {
        var session = chunkingSession()
        _ = session.line("BDAT 4")
        _ = session.submissionOpened()
        _ = session.chunkReceived(clean)
        #expect(session.line("RSET") == .abortSubmission(Replies.ok))
        #expect(session.currentTransaction == nil)
        var again = chunkingSession()
        _ = again.line("BDAT 4")
        _ = again.submissionOpened()
        _ = again.chunkReceived(clean)
        guard case .abortSubmission(let reply) = again.line("EHLO c") else { Issue.record("EHLO kept the chunks"); return }
        #expect(reply.code == 250)
        #expect(again.currentTransaction == nil)
    }

    /// RFC 3030 §2: after a failed chunk the transaction is over; pipelined BDATs get 503 and
    /// their chunks are read and dropped, so no part of the message is committed.
    @Test func sizeLimitAcrossChunksEndsTheTransaction() {
        var session = chunkingSession()
        _ = session.line("BDAT 4")
        _ = session.submissionOpened()
        let over = DataDecoder.Outcome(size: 11_000_000, sizeExceeded: true, lineTooLong: false)
        #expect(session.chunkReceived(over) == .abortSubmission(Replies.chunkTooBig(11_000_000, limit: 10_485_760)))
        #expect(Replies.chunkTooBig(1, limit: 1).code == 552)
        #expect(session.line("BDAT 5 LAST") == .discardChunk(size: 5, then: Replies.badSequence))
    }

    @Test func sizeLimitOnTheLastChunk() {
        var session = chunkingSession()
        _ = session.line("BDAT 4 LAST")
        _ = session.submissionOpened()
        let over = DataDecoder.Outcome(size: 11_000_000, sizeExceeded: true, lineTooLong: false)
        guard case .abortSubmission(let reply) = session.dataEnded(over) else { Issue.record("kept"); return }
        #expect(reply.code == 552)
    }

    @Test func queueFailureStillDiscardsTheChunk() {
        var session = chunkingSession()
        _ = session.line("BDAT 9 LAST")
        #expect(session.submissionFailed(Replies.submitFailed) == .discardChunk(size: 9, then: Replies.submitFailed))
        #expect(session.currentTransaction == nil)
    }

    /// A line that is no command right after a chunk: the announced size lied. The session
    /// ends rather than read message text as commands.
    @Test func garbageRightAfterAChunkCloses() {
        var session = chunkingSession()
        _ = session.line("BDAT 5")
        _ = session.submissionOpened()
        _ = session.chunkReceived(clean)
        #expect(session.line("rest of the message text") == .sendAndClose(Replies.chunkOutOfSync))
        #expect(session.line("MAIL FROM:<x@y.example>") == .sendAndClose(Replies.commandError))
        // Not after a discarded chunk either.
        var other = chunkingSession(recipients: 0)
        _ = other.line("BDAT 5")
        #expect(other.line("") == .sendAndClose(Replies.chunkOutOfSync))
        // Elsewhere an unknown command is only refused.
        var plain = chunkingSession()
        #expect(plain.line("FOO") == .send(Replies.commandError))
        #expect(plain.line("NOOP") == .send(Replies.ok))
    }

    @Test func enhancedCodesOnlyAfterEhlo() {
        #expect(Replies.chunkReceived(42).encoded(enhanced: true) == Array("250 2.0.0 42 octets received.\r\n".utf8))
        #expect(Replies.chunkReceived(42).encoded(enhanced: false) == Array("250 42 octets received.\r\n".utf8))
    }
}
