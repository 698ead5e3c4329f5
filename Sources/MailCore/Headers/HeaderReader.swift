/// The header block of a message, split into logical headers.
public struct HeaderBlock: Sendable, Equatable {
    /// The logical headers, in message order.
    public var headers: [LogicalHeader]
    /// Offset of the first body byte (just after the blank separator line), or the input
    /// length when there is no separator.
    public var bodyOffset: Int
    /// True when an empty line ended the header block.
    public var hasSeparator: Bool

    /// All headers with the given name (no colon), ignoring case, in message order.
    public func headers(named name: String) -> [LogicalHeader] {
        let n = Array(name.utf8)
        return headers.filter { $0.isNamed(n) }
    }

    /// The first header with the given name (no colon), ignoring case.
    public func first(named name: String) -> LogicalHeader? {
        let n = Array(name.utf8)
        return headers.first { $0.isNamed(n) }
    }
}

/// A pure reader that splits the header block of a message into logical headers
/// (RFC 5322 §2.2 and §2.2.3), with Courier's line rules:
///
/// * lines end at LF; one CR right before the LF is part of the line ending (LF and CRLF input);
/// * the header block ends at the first empty line (a line holding only CR counts as empty)
///   or at the end of the input;
/// * a line whose first byte is C-locale whitespace (space, tab, CR, VT, FF) continues the
///   previous header; a continuation line before any header starts a header of its own.
public enum HeaderReader {
    /// Reads the header block at the start of `bytes`. With `skipLeadingBlankLines`, empty
    /// lines before the first header are skipped (as reformail does) instead of ending an
    /// empty header block.
    public static func read<C: Collection>(_ bytes: C, skipLeadingBlankLines: Bool = false) -> HeaderBlock
    where C.Element == UInt8, C.Index == Int {
        var headers: [LogicalHeader] = []
        var pos = bytes.startIndex
        var current: LogicalHeader?
        var sawHeader = false
        while pos < bytes.endIndex {
            let lineStart = pos
            var lineEnd = pos
            while lineEnd < bytes.endIndex, bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            let next = lineEnd < bytes.endIndex ? lineEnd + 1 : lineEnd
            var contentEnd = lineEnd
            if contentEnd > lineStart, bytes[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
            let content = Array(bytes[lineStart..<contentEnd])
            let raw = bytes[lineStart..<next]
            if content.isEmpty {
                if !sawHeader && skipLeadingBlankLines {
                    pos = next
                    continue
                }
                if let h = current { headers.append(h) }
                return HeaderBlock(headers: headers, bodyOffset: next - bytes.startIndex, hasSeparator: true)
            }
            sawHeader = true
            if CByteClass.isSpace(content[0]), current != nil {
                current!.lines.append(content)
                current!.raw.append(contentsOf: raw)
            } else {
                if let h = current { headers.append(h) }
                current = LogicalHeader(lines: [content], raw: Array(raw))
            }
            pos = next
        }
        if let h = current { headers.append(h) }
        return HeaderBlock(headers: headers, bodyOffset: bytes.count, hasSeparator: false)
    }

    /// Fuzz entry: reads a header block from arbitrary bytes and touches every derived value.
    public static func fuzz(_ bytes: [UInt8]) -> Int {
        let block = read(bytes, skipLeadingBlankLines: true)
        var total = block.bodyOffset
        for h in block.headers {
            total &+= h.value.count &+ h.key.count &+ (h.name?.count ?? 0) &+ h.raw.count
        }
        return total
    }
}
