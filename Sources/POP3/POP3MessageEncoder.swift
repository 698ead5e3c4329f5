/// Turns a stored message into POP3's wire form, chunk by chunk (RFC 1939 §3): bare LF
/// becomes CRLF, a line starting with `.` gets another `.`, a missing final line end is
/// added, and `.` CRLF ends the response. For TOP, the headers, the blank line and the first
/// `bodyLines` body lines are sent. Pure and incremental: the server feeds file chunks.
public struct POP3MessageEncoder: Sendable {
    private var atLineStart = true
    private var previousCR = false
    private var inHeaders = true
    /// Body lines still to send (nil: all).
    private var bodyLinesLeft: Int?
    /// True once TOP has sent all it will: the caller may stop reading the file.
    public private(set) var isComplete = false
    private var sawAnything = false

    public init(topBodyLines: Int? = nil) {
        bodyLinesLeft = topBodyLines
    }

    /// Encodes `chunk`, appending the wire bytes to `output`.
    public mutating func encode(_ chunk: some Collection<UInt8>, into output: inout [UInt8]) {
        if bodyLinesLeft == nil,
           chunk.withContiguousStorageIfAvailable({ encodeWhole($0, into: &output) }) != nil {
            return
        }
        output.reserveCapacity(output.count + chunk.count + chunk.count / 32 + 8)
        for byte in chunk {
            if isComplete { return }
            sawAnything = true
            if atLineStart {
                if !inHeaders, let left = bodyLinesLeft, left <= 0 {
                    isComplete = true
                    return
                }
                if byte == UInt8(ascii: ".") { output.append(UInt8(ascii: ".")) }
            }
            if byte == UInt8(ascii: "\n") {
                if !previousCR { output.append(13) }
                output.append(10)
                endLine()
                previousCR = false
                continue
            }
            if byte != 13 { lineIsEmpty = false }
            atLineStart = false
            previousCR = byte == 13
            output.append(byte)
        }
    }

    /// RETR's fast path: whole lines at a time (the header/body split does not matter when
    /// every line is sent).
    private mutating func encodeWhole(_ chunk: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        guard !chunk.isEmpty else { return }
        sawAnything = true
        output.reserveCapacity(output.count + chunk.count + chunk.count / 16 + 8)
        var start = 0
        let end = chunk.count
        while start < end {
            if atLineStart {
                if chunk[start] == UInt8(ascii: ".") { output.append(UInt8(ascii: ".")) }
                atLineStart = false
            }
            var newline = start
            while newline < end && chunk[newline] != 10 { newline += 1 }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[start..<newline]))
            if newline == end {
                previousCR = chunk[end - 1] == 13
                return
            }
            let crBefore = newline > start ? chunk[newline - 1] == 13 : previousCR
            if !crBefore { output.append(13) }
            output.append(10)
            atLineStart = true
            previousCR = false
            start = newline + 1
        }
    }

    /// No byte but CR on the current line so far (the header/body separator).
    private var lineIsEmpty = true

    private mutating func endLine() {
        let wasEmpty = lineIsEmpty
        atLineStart = true
        lineIsEmpty = true
        if inHeaders {
            if wasEmpty { inHeaders = false }
        } else if let left = bodyLinesLeft {
            bodyLinesLeft = left - 1
        }
    }

    /// Ends the response: the missing line end, if any, then `.` CRLF.
    public mutating func finish(into output: inout [UInt8]) {
        if sawAnything && !atLineStart && !isComplete {
            if !previousCR { output.append(13) }
            output.append(10)
        }
        output.append(contentsOf: [UInt8(ascii: "."), 13, 10])
    }

    /// Courier's POP3 size of a message: its bytes with each bare LF counted as CRLF, plus 2
    /// when the last line has no line end.
    public static func wireSize(of bytes: some Collection<UInt8>) -> Int64 {
        var counter = SizeCounter()
        counter.add(bytes)
        return counter.total
    }

    /// `wireSize` for a message read in chunks.
    public struct SizeCounter: Sendable {
        private var count: Int64 = 0
        private var previousCR = false
        private var last: UInt8?

        public init() {}

        public mutating func add(_ bytes: some Collection<UInt8>) {
            for byte in bytes {
                count += 1
                if byte == 10 && !previousCR { count += 1 }
                previousCR = byte == 13
                last = byte
            }
        }

        public var total: Int64 {
            guard let last else { return 0 }
            return last == 10 ? count : count + 2
        }
    }
}
