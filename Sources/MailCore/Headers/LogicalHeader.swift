/// One logical header: a header line and its continuation lines (RFC 5322 §2.2.3 folding).
///
/// `lines` hold the physical lines without their line terminators (a CR before the LF is
/// removed); `raw` is the exact input bytes of the header, terminators included.
public struct LogicalHeader: Sendable, Equatable {
    /// The physical lines, first line first, without `\n` and without the `\r` before it.
    public var lines: [[UInt8]]
    /// The input bytes this header came from, line terminators included.
    public var raw: [UInt8]

    public init(lines: [[UInt8]], raw: [UInt8]) {
        self.lines = lines
        self.raw = raw
    }

    /// The lines joined with `\n` (no final newline): the form Courier's tools work on.
    public var folded: [UInt8] {
        var out: [UInt8] = []
        for (i, line) in lines.enumerated() {
            if i > 0 { out.append(UInt8(ascii: "\n")) }
            out.append(contentsOf: line)
        }
        return out
    }

    /// The header on one line, Courier style (`reformail -c`): each line break and the
    /// whitespace after it become one space.
    public var unfolded: [UInt8] { HeaderUnfolding.catenate(folded) }

    /// The name as spelled, without colon and trailing blanks; nil if the first line has no colon.
    public var name: [UInt8]? {
        guard let first = lines.first, let n = HeaderName.name(of: first) else { return nil }
        return Array(n)
    }

    /// Lowercased first line up to and including the first colon (see ``HeaderName/key(of:)``).
    public var key: [UInt8] { HeaderName.key(of: lines.first ?? []) }

    /// The unfolded value: text after the first colon, leading whitespace removed.
    public var value: [UInt8] {
        let text = unfolded
        guard let colon = text.firstIndex(of: UInt8(ascii: ":")) else { return [] }
        var start = colon + 1
        while start < text.count, CByteClass.isSpace(text[start]) { start += 1 }
        return Array(text[start...])
    }

    /// True when the header is named `name` (given without a colon), ignoring case.
    public func isNamed<N: Collection>(_ name: N) -> Bool where N.Element == UInt8 {
        guard let first = lines.first else { return false }
        return HeaderName.line(first, isNamed: name)
    }

    /// True when the header is named `name` (given without a colon), ignoring case.
    public func isNamed(_ name: String) -> Bool { isNamed(Array(name.utf8)) }
}

/// Courier's unfolding rule.
public enum HeaderUnfolding {
    /// Joins a `\n`-separated folded header: every `\n` together with the whitespace that
    /// follows it becomes a single space, or nothing at the very end.
    public static func catenate<C: Collection>(_ folded: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(folded.count)
        var i = folded.startIndex
        while i != folded.endIndex {
            let b = folded[i]
            if b != UInt8(ascii: "\n") {
                out.append(b)
                i = folded.index(after: i)
                continue
            }
            repeat { i = folded.index(after: i) } while i != folded.endIndex && CByteClass.isSpace(folded[i])
            if i != folded.endIndex { out.append(0x20) }
        }
        return out
    }
}
