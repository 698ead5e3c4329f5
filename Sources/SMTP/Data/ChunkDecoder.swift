/// Decodes the message data of RFC 3030 BDAT chunks into the message as stored. A chunk is
/// exactly the number of octets its BDAT command announced: no dot-stuffing, no end-of-data
/// marker, nothing inside a chunk is ever looked at as a command (RFC 3030 §2), so bytes such
/// as `CR LF . CR LF MAIL FROM:` are message data.
///
/// Line ends follow the one rule of the DATA path (`DataDecoder`, spec/mta.md §2.8) through the
/// shared `StoredMessageWriter`: CR LF and a bare LF are stored as LF, a bare CR is data. A CR
/// at the end of one chunk and the LF at the start of the next are one line end. The stored
/// message ends with a line end: after the LAST chunk a missing one is added (a CR left at the
/// very end is data, as in DATA). Streaming and O(1) in memory beyond the output buffer.
public struct ChunkDecoder: Sendable {
    private var writer: StoredMessageWriter
    /// The previous byte was a CR whose meaning depends on the next one.
    private var pendingCR = false
    /// Octets of the current chunk still to read.
    public private(set) var remaining = 0
    /// The current chunk is the LAST one.
    public private(set) var isLast = false
    /// The LAST chunk was read whole: the message is complete.
    public private(set) var isFinished = false
    /// Octets read in all chunks so far (wire octets, before line-end normalisation).
    public private(set) var octetsReceived = 0

    /// `sizeLimit` 0 = unlimited; it counts stored bytes, as for DATA.
    public init(sizeLimit: Int = SMTPLimits().messageSize, lineLimit: Int = SMTPLimits().dataLine) {
        writer = StoredMessageWriter(sizeLimit: sizeLimit, lineLimit: lineLimit)
    }

    /// What was stored so far, and whether a limit was passed.
    public var outcome: DataDecoder.Outcome { writer.outcome }

    /// All octets of the current chunk were read.
    public var isChunkComplete: Bool { remaining == 0 }

    /// A BDAT command announced a chunk of `size` octets. A chunk of size 0 that is LAST
    /// completes the message at once (`BDAT 0 LAST`).
    public mutating func begin(size: Int, last: Bool, into output: inout [UInt8]) {
        remaining = max(size, 0)
        isLast = last
        if remaining == 0 && last { finish(&output) }
    }

    /// Decodes up to `remaining` octets of `input`, appending message bytes to `output`.
    /// Returns how many input octets were used; the rest follow the chunk (the next command).
    public mutating func decode(_ input: ArraySlice<UInt8>, into output: inout [UInt8]) -> Int {
        guard !isFinished else { return 0 }
        let take = min(remaining, input.count)
        for byte in input.prefix(take) {
            if pendingCR {
                pendingCR = false
                if byte == 10 {
                    writer.endLine(&output)
                    continue
                }
                // A bare CR is kept as data (spec/mta.md §2.8).
                writer.emit(13, &output)
            }
            switch byte {
            case 13: pendingCR = true
            case 10: writer.endLine(&output)
            default: writer.emit(byte, &output)
            }
        }
        remaining -= take
        octetsReceived += take
        if remaining == 0 && isLast { finish(&output) }
        return take
    }

    private mutating func finish(_ output: inout [UInt8]) {
        guard !isFinished else { return }
        if pendingCR {
            pendingCR = false
            writer.emit(13, &output)
        }
        if !writer.atLineStart { writer.endLine(&output) }
        isFinished = true
    }
}
