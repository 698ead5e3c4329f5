/// The one place that turns decoded message bytes into the stored form, shared by the DATA
/// decoder and the BDAT chunk decoder so both paths store a message the same way: a line end
/// is written as LF, and the message size (`sizelimit`) and line length (`SMTPLimits.dataLine`)
/// are counted here. Past the size limit nothing more is written, but counting goes on, so the
/// reply can say how big the message was.
struct StoredMessageWriter: Sendable {
    private(set) var size = 0
    private(set) var sizeExceeded = false
    private(set) var lineTooLong = false
    private var lineLength = 0
    /// The last byte stored was a line end (or nothing was stored yet).
    private(set) var atLineStart = true
    let sizeLimit: Int
    let lineLimit: Int

    /// `sizeLimit` 0 = unlimited.
    init(sizeLimit: Int, lineLimit: Int) {
        self.sizeLimit = sizeLimit
        self.lineLimit = lineLimit
    }

    var outcome: DataDecoder.Outcome {
        DataDecoder.Outcome(size: size, sizeExceeded: sizeExceeded, lineTooLong: lineTooLong)
    }

    /// One byte of line content.
    mutating func emit(_ byte: UInt8, _ output: inout [UInt8]) {
        lineLength += 1
        if lineLength > lineLimit { lineTooLong = true }
        atLineStart = false
        append(byte, &output)
    }

    /// A line end (CR LF or a bare LF on the wire), stored as LF.
    mutating func endLine(_ output: inout [UInt8]) {
        lineLength = 0
        atLineStart = true
        append(10, &output)
    }

    private mutating func append(_ byte: UInt8, _ output: inout [UInt8]) {
        size += 1
        if sizeLimit > 0 && size > sizeLimit {
            sizeExceeded = true
            return
        }
        output.append(byte)
    }
}
