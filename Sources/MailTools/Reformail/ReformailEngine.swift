import MailCore

/// The message pipeline of reformail, three stages deep as in Courier's program:
///
/// 1. the *from filter* (``FromFilterStage``, `FromFilter.swift`) reads lines, skips leading
///    blank lines, assembles logical headers and adds or removes mbox `From ` quoting;
/// 2. the *header editor* (`HeaderEdits.swift`) renames, drops, deduplicates and appends
///    headers;
/// 3. ``readLine()`` joins folded headers (`-c`) and writes CRLF (`-d1`).
///
/// Every stage hands on "lines": byte strings ending in `\n` (a logical header may hold
/// several `\n`), or cut short without one where the input had a NUL byte.
final class ReformailEngine {
    let reader: InputReader
    var catenate: Bool
    let crlf: Bool

    // MARK: from-filter state
    var stage: FromFilterStage
    /// The stage `-f0` wraps (Courier's `rem_from_filter_header_ptr`).
    var wrappedStage: FromFilterStage = .header
    /// The line read ahead while assembling a logical header.
    var currentLine: [UInt8] = []
    /// `-f1`: the header block read ahead, and the position of the next header in it.
    var fromHeaderBlock: [UInt8] = []
    var fromHeaderPosition = 0
    /// Makes the date for a `-f1` `From ` line.
    let fromLineDate: () -> [UInt8]

    // MARK: header-editor state
    var appendStage = AppendStage.editing
    var addIfAbsent: [[UInt8]]
    var addAlways: [[UInt8]]
    var insert: [[UInt8]]
    var replace: [[UInt8]]
    let keepFirst: [[UInt8]]
    let keepLast: [[UInt8]]
    let rename: [[UInt8]]
    /// First occurrences already passed for `-u`.
    var keptFirst: [[UInt8]] = []
    /// Last occurrences seen so far for `-U` (moved to the end of the header block).
    var keptLast: [[UInt8]] = []

    /// True once the blank line that ends the header block was returned.
    private(set) var inBody = false

    init(reader: InputReader, options: ReformailOptions, fromLineDate: @escaping () -> [UInt8]) {
        self.reader = reader
        self.catenate = options.catenate
        self.crlf = options.crlf
        switch options.fromQuoting {
        case .unchanged: stage = .start
        case .remove: stage = .removeStart
        case .add: stage = .addStart
        }
        self.fromLineDate = fromLineDate
        addIfAbsent = options.addIfAbsent
        addAlways = options.addAlways
        insert = options.insert
        replace = options.replace
        keepFirst = options.keepFirst
        keepLast = options.keepLast
        rename = options.rename
    }

    /// The next output line (Courier's `ReadLine`), nil at the end of the message.
    func readLine() -> [UInt8]? {
        guard let line = nextEditedLine() else { return nil }
        if line.first == 0x0A { inBody = true }
        if catenate && !inBody {
            var out = HeaderUnfolding.catenate(line)
            if crlf { out.append(0x0D) }
            out.append(0x0A)
            return out
        }
        if crlf {
            var out = line
            _ = out.popLast()
            out.append(0x0D)
            out.append(0x0A)
            return out
        }
        return line
    }

    /// When the rest of the message is plain body lines, the `From ` quoting they get;
    /// nil while headers (read or added) are still pending.
    var bodyQuoting: BodyQuoting? {
        guard appendStage == .done else { return nil }
        switch stage {
        case .bodyLines: return .unchanged
        case .addBody: return .add
        case .removeBody: return .remove
        default: return nil
        }
    }

    /// The key Courier compares headers by: the lowercased text up to and including the
    /// first `:`, or up to the first `\n`.
    static func key(of line: [UInt8]) -> [UInt8] { HeaderName.key(of: line) }

    /// Index of the first entry of `list` that the header key `key` is a prefix of,
    /// ignoring case (Courier's `has_hdr`).
    static func firstMatch(_ list: [[UInt8]], key: [UInt8]) -> Int? {
        list.firstIndex { HeaderName.key(key, isPrefixOfOption: $0) }
    }

    /// True when `line` starts with `From `.
    static func isFromLine<C: Collection>(_ line: C) -> Bool where C.Element == UInt8 {
        line.starts(with: fromPrefix)
    }

    static let fromPrefix: [UInt8] = Array("From ".utf8)
}
