/// `MIMEParser` fed in pieces of any size, for messages too large to hold: the result is the
/// same `MIMEMessage` as `MIMEParser.parse` of the whole input (the pieces are regrouped into
/// Courier's 8 KiB reads), and only the unfinished line is kept between pieces (at most a
/// read plus the partial-line limit), never the input.
public struct MIMEStreamParser: Sendable {
    private var state = ParserState()
    /// Input not yet consumed, starting at offset `bufferStart` of the whole input.
    private var buffer: [UInt8] = []
    private var bufferStart = 0
    /// Offset of the first byte not yet handed to the line processor.
    private var pending = 0
    /// Offset where the next 8 KiB read begins.
    private var nextChunk = 0
    /// Bytes fed so far.
    public private(set) var byteCount = 0

    public init() {}

    /// Parses more of the message.
    public mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>) {
        buffer.append(contentsOf: bytes)
        byteCount += bytes.count
        while nextChunk + MIMEParser.chunkSize <= byteCount {
            runChunk(upTo: nextChunk + MIMEParser.chunkSize)
        }
        // Drop what the parser is done with (kept whole while small, to avoid moving bytes often).
        let done = pending - bufferStart
        if done >= 64 << 10 || (done > 0 && done == buffer.count) {
            buffer.removeFirst(done)
            bufferStart = pending
        }
    }

    /// Where the top-level body begins (the offset after the blank line that ends the
    /// message's header), once the input so far has shown it; nil until then.
    public var topLevelHeaderEnd: Int? {
        state.work[0].inHeader ? nil : state.entities[0].startBody
    }

    /// Parses more of the message.
    public mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { feed($0) }
    }

    /// Ends the input: the structure of everything fed.
    public mutating func finish() -> MIMEMessage {
        if nextChunk < byteCount { runChunk(upTo: byteCount) }
        if pending < byteCount {
            let start = bufferStart
            let from = pending - start
            buffer.withUnsafeBufferPointer { buf in _ = state.partial(buf, from, buf.count) }
        }
        buffer = []
        return state.finish(byteCount: byteCount)
    }

    private mutating func runChunk(upTo end: Int) {
        let start = bufferStart
        var local = pending - start
        let chunkStart = nextChunk - start
        buffer.withUnsafeBufferPointer { buf in
            state.runChunk(buf, chunkStart, end - start, pending: &local)
        }
        pending = local + start
        nextChunk = end
    }
}
