/// RFC 3030 CHUNKING: the BDAT command and its chunks, as a part of `SMTPSession`.
///
/// A transaction's first BDAT opens the queue submission (as DATA does); every chunk is read
/// by the handler through a `ChunkDecoder` and answered `250 <n> octets received`; the LAST
/// chunk ends the data exactly as the end-of-data line does (`dataEnded`), so the message gets
/// the same checks and the same durability (250 only after the queue committed it).
///
/// RFC 3030 §2, §3: a BDAT that is refused still has its chunk read and thrown away
/// (`Action.discardChunk`), so the octets are never taken as commands. After a failed chunk
/// (size limit) the transaction is gone: BDATs the client had already pipelined get 503 and
/// their chunks are discarded too.
extension SMTPSession {
    /// True while the handler must pass the current chunk's octets to a `ChunkDecoder`.
    public var isReceivingChunk: Bool {
        if case .chunk = phase { return true }
        return false
    }

    /// Between the chunks of one message (a BDAT without LAST was answered).
    public var isBetweenChunks: Bool { phase == .chunks }

    mutating func bdat(size: Int, last: Bool) -> Action {
        switch phase {
        case .mail:
            // RFC 3030 §3: BDAT before a valid MAIL and RCPT is a bad sequence.
            guard let transaction, !transaction.recipients.isEmpty else { return .send(Replies.badSequence) }
            phase = .openingChunk(size: size, last: last)
            return .openSubmission(transaction)
        case .chunks:
            phase = .chunk(size: size, last: last)
            return .receiveChunk(size: size, last: last)
        default:
            return .send(Replies.badSequence)
        }
    }

    /// A chunk that is not LAST was read whole: answer it, or end the transaction when it
    /// took the message over a limit (the chunk was still read to its end, so the stream is
    /// in step).
    public mutating func chunkReceived(_ outcome: DataDecoder.Outcome) -> Action {
        guard case .chunk(let size, last: false) = phase else { return .send(Replies.commandError) }
        if outcome.sizeExceeded {
            reset()
            return .abortSubmission(Replies.chunkTooBig(outcome.size, limit: configuration.limits.messageSize))
        }
        if outcome.lineTooLong {
            reset()
            return .abortSubmission(Replies.dataLineTooLong)
        }
        phase = .chunks
        return .send(Replies.chunkReceived(size))
    }
}
