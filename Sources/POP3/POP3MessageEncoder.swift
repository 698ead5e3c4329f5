#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

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
        guard let count = encodedCountIfWhole(chunk), count > 0 else { return }
        let encoded = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = encodeWhole(chunk, to: buffer.baseAddress!)
        }
        output.append(contentsOf: encoded)
    }

    /// How many bytes `encodeWhole(_:to:)` writes for `chunk`, without writing them; nil for TOP
    /// (whose line count decides where it stops), which takes `encode(_:into:)`.
    public func encodedCountIfWhole(_ chunk: UnsafeBufferPointer<UInt8>) -> Int? {
        guard bodyLinesLeft == nil else { return nil }
        var lineStart = atLineStart, cr = previousCR
        return Self.whole(chunk, atLineStart: &lineStart, previousCR: &cr, to: nil)
    }

    /// RETR's wire form of `chunk` written to `destination`, which has room for
    /// `encodedCountIfWhole(chunk)` bytes; returns the bytes written. Line ends are found with
    /// `memchr` and each line copied whole, so the cost is the copy, not a test per byte.
    public mutating func encodeWhole(_ chunk: UnsafeBufferPointer<UInt8>, to destination: UnsafeMutablePointer<UInt8>) -> Int {
        precondition(bodyLinesLeft == nil, "TOP encodes through encode(_:into:)")
        guard !chunk.isEmpty else { return 0 }
        sawAnything = true
        return Self.whole(chunk, atLineStart: &atLineStart, previousCR: &previousCR, to: destination)
    }

    /// The line scan behind both: counts, and writes when `destination` is given.
    private static func whole(_ chunk: UnsafeBufferPointer<UInt8>, atLineStart: inout Bool, previousCR: inout Bool,
                              to destination: UnsafeMutablePointer<UInt8>?) -> Int {
        guard let base = chunk.baseAddress, !chunk.isEmpty else { return 0 }
        let end = chunk.count
        var out = 0
        var start = 0
        while start < end {
            if atLineStart {
                if base[start] == UInt8(ascii: ".") {
                    destination?[out] = UInt8(ascii: ".")
                    out += 1
                }
                atLineStart = false
            }
            let newline = memchr(base + start, 10, end - start)
                .map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base } ?? end
            let length = newline - start
            if let destination, length > 0 { (destination + out).update(from: base + start, count: length) }
            out += length
            if newline == end {
                previousCR = base[end - 1] == 13
                return out
            }
            let crBefore = newline > start ? base[newline - 1] == 13 : previousCR
            if !crBefore {
                destination?[out] = 13
                out += 1
            }
            destination?[out] = 10
            out += 1
            atLineStart = true
            previousCR = false
            start = newline + 1
        }
        return out
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
