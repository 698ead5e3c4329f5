/// Splits the command stream into lines. A line ends at LF (CR LF, or a bare LF as many
/// clients send); the CR is removed by the parser. A line longer than
/// `SMTPLimits.commandLine` is reported once as `.tooLong`, and its tail is discarded up to
/// the next line end (Courier truncates at 5120 bytes, spec/mta.md §2.3). Memory is bounded
/// by the limit.
public struct CommandLineFramer: Sendable {
    public enum Line: Sendable, Equatable {
        case line([UInt8])
        case tooLong
    }

    private var pending: [UInt8] = []
    private var discarding = false
    public let limit: Int

    public init(limit: Int = SMTPLimits().commandLine) {
        self.limit = max(limit, 3)
    }

    /// Bytes held back waiting for their line end.
    public var bufferedCount: Int { pending.count }

    /// Takes the next complete line from `input`, consuming what it used. Returns nil when
    /// `input` ran out first (the bytes read so far are kept).
    public mutating func next(from input: inout ArraySlice<UInt8>) -> Line? {
        while !input.isEmpty {
            if let newline = input.firstIndex(of: 10) {
                let chunk = input[input.startIndex..<newline]
                input = input[(newline + 1)...]
                if discarding {
                    discarding = false
                    continue
                }
                if pending.count + chunk.count + 1 > limit {
                    pending.removeAll(keepingCapacity: true)
                    return .tooLong
                }
                pending.append(contentsOf: chunk)
                let line = pending
                pending.removeAll(keepingCapacity: true)
                return .line(line)
            }
            if !discarding {
                pending.append(contentsOf: input)
                if pending.count >= limit {
                    pending.removeAll(keepingCapacity: true)
                    discarding = true
                    input = input[input.endIndex...]
                    return .tooLong
                }
            }
            input = input[input.endIndex...]
        }
        return nil
    }

    /// Forgets buffered bytes (after STARTTLS: RFC 3207 §4 — nothing sent before the
    /// handshake may be used afterwards).
    public mutating func reset() {
        pending.removeAll()
        discarding = false
    }
}
