// Domain names as sequences of labels (RFC 1035 §2.3.4, §3.1).

/// A domain name: its labels, without the root. Comparison ignores ASCII case (RFC 4343).
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// RFC 1035 §2.3.4: a label is at most 63 bytes, a name at most 255 bytes on the wire.
    public static let maximumLabelLength = 63
    public static let maximumWireLength = 255

    public let labels: [[UInt8]]

    /// The root name (`.`), as a null MX names it (RFC 7505).
    public static let root = DNSName(uncheckedLabels: [])

    init(uncheckedLabels labels: [[UInt8]]) { self.labels = labels }

    /// Labels checked against the RFC 1035 limits; nil when one is empty or too long.
    public init?(labels: [[UInt8]]) {
        var length = 1
        for label in labels {
            guard !label.isEmpty, label.count <= Self.maximumLabelLength else { return nil }
            length += label.count + 1
        }
        guard length <= Self.maximumWireLength else { return nil }
        self.labels = labels
    }

    /// A dotted name (`mail.example.com`, a trailing dot allowed); nil when malformed.
    public init?(_ text: String) {
        var bytes = Array(text.utf8)
        if bytes == [UInt8(ascii: ".")] { self.init(uncheckedLabels: []); return }
        if bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        guard !bytes.isEmpty else { return nil }
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map { Array($0) }
        self.init(labels: parts)
    }

    public var isRoot: Bool { labels.isEmpty }

    /// The dotted form without a trailing dot (`.` for the root). Bytes outside printable
    /// ASCII, dots and backslashes inside a label are written as `\DDD` (RFC 1035 §5.1).
    public var description: String {
        if labels.isEmpty { return "." }
        var out: [UInt8] = []
        for (index, label) in labels.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ".")) }
            for byte in label {
                if byte > 0x20, byte < 0x7F, byte != UInt8(ascii: "."), byte != UInt8(ascii: "\\") {
                    out.append(byte)
                } else {
                    out.append(UInt8(ascii: "\\"))
                    out.append(UInt8(ascii: "0") + byte / 100)
                    out.append(UInt8(ascii: "0") + byte / 10 % 10)
                    out.append(UInt8(ascii: "0") + byte % 10)
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The labels lower-cased (ASCII), the key for comparisons and the cache.
    public var canonical: [[UInt8]] {
        labels.map { label in label.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 } }
    }

    public static func == (lhs: DNSName, rhs: DNSName) -> Bool { lhs.canonical == rhs.canonical }
    public func hash(into hasher: inout Hasher) { hasher.combine(canonical) }

    /// Appends the uncompressed wire form (length-prefixed labels, then a zero byte).
    public func encode(into out: inout [UInt8]) {
        for label in labels {
            out.append(UInt8(label.count))
            out.append(contentsOf: label)
        }
        out.append(0)
    }
}
