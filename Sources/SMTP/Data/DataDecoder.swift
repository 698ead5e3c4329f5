/// Decodes the DATA stream (RFC 5321 §4.1.1.4, §4.5.2) into the message as stored: lines end
/// in LF, dot-stuffing removed. Streaming and byte-at-a-time in a small state machine, so
/// memory is O(1) beyond the output chunk and a sequence split across reads decodes the same.
///
/// Smuggling-safe (SMTP smuggling, CVE-2023-51764/51765/51766): **only** CR LF "." CR LF ends
/// the data, where the first CR LF may be the one that ended the DATA command. `LF.LF`,
/// `CR.CR`, `LF.CRLF`, `CRLF.LF` never end it. A bare LF is taken as a line end and stored as LF;
/// a bare CR is ordinary data (spec/mta.md §2.8). A leading dot is removed from every line
/// (RFC 5321 §4.5.2), whatever ended the line before it.
public struct DataDecoder: Sendable {
    /// Where in a line the decoder is.
    private enum State: Sendable {
        /// At the start of a line; `afterCRLF` when the previous line ended in CR LF.
        case lineStart(afterCRLF: Bool)
        /// A leading dot was read (and dropped).
        case afterDot(afterCRLF: Bool)
        /// CR LF "." CR read: an LF now ends the data.
        case afterDotCR
        case inLine
        /// A CR inside a line: LF makes it a line end, anything else makes it data.
        case inLineCR
        case finished
    }

    /// What ended the decoding, and what went wrong on the way.
    public struct Outcome: Sendable, Equatable {
        /// Bytes of the decoded message (what was, or would have been, stored).
        public var size: Int
        /// The size limit was passed; output stopped there.
        public var sizeExceeded: Bool
        /// A line was longer than the line limit.
        public var lineTooLong: Bool
    }

    private var state: State = .lineStart(afterCRLF: true)
    private var writer: StoredMessageWriter
    public var sizeLimit: Int { writer.sizeLimit }
    public var lineLimit: Int { writer.lineLimit }

    /// `sizeLimit` 0 = unlimited.
    public init(sizeLimit: Int = SMTPLimits().messageSize, lineLimit: Int = SMTPLimits().dataLine) {
        writer = StoredMessageWriter(sizeLimit: sizeLimit, lineLimit: lineLimit)
    }

    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    public var outcome: Outcome { writer.outcome }

    /// Decodes from `input`, appending message bytes to `output`. Returns how many input
    /// bytes were used: all of them, or fewer when the end of data was found (the rest are
    /// the next commands, RFC 2920 pipelining).
    public mutating func decode(_ input: ArraySlice<UInt8>, into output: inout [UInt8]) -> Int {
        var index = input.startIndex
        while index < input.endIndex {
            let byte = input[index]
            switch state {
            case .finished:
                return index - input.startIndex
            case .lineStart(let afterCRLF):
                if byte == UInt8(ascii: ".") {
                    state = .afterDot(afterCRLF: afterCRLF)
                    index += 1
                } else {
                    state = .inLine
                }
            case .afterDot(let afterCRLF):
                if byte == 13 && afterCRLF {
                    state = .afterDotCR
                    index += 1
                } else {
                    state = .inLine
                }
            case .afterDotCR:
                if byte == 10 {
                    state = .finished
                    index += 1
                    return index - input.startIndex
                }
                // CR LF "." CR x: the CR was data.
                emit(13, &output)
                state = .inLine
            case .inLine:
                if byte == 13 {
                    state = .inLineCR
                } else if byte == 10 {
                    endLine(&output)
                    state = .lineStart(afterCRLF: false)
                } else {
                    emit(byte, &output)
                }
                index += 1
            case .inLineCR:
                if byte == 10 {
                    endLine(&output)
                    state = .lineStart(afterCRLF: true)
                    index += 1
                } else {
                    // A bare CR is kept as data (spec/mta.md §2.8).
                    emit(13, &output)
                    state = .inLine
                }
            }
        }
        return index - input.startIndex
    }

    private mutating func emit(_ byte: UInt8, _ output: inout [UInt8]) {
        writer.emit(byte, &output)
    }

    private mutating func endLine(_ output: inout [UInt8]) {
        writer.endLine(&output)
    }
}
