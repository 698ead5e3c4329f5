/// A Maildir++ quota definition (maildirquota(7), tools.md §6.5): `<n>S` bytes and/or `<n>C`
/// messages, comma separated (`5000000S,1000C`). Zero means "no limit" in that dimension.
public struct QuotaSpec: Hashable, Sendable, CustomStringConvertible {
    public var bytes: Int64
    public var messages: Int64

    public init(bytes: Int64 = 0, messages: Int64 = 0) {
        self.bytes = bytes
        self.messages = messages
    }

    /// Parses a quota string as Courier does: every run of digits followed by `S` sets the byte
    /// limit and by `C` the message limit; other characters are skipped. Never fails: text with
    /// neither gives the unlimited quota (which `isUnlimited` reports).
    public init(parsing text: some Collection<UInt8>) {
        var bytes: Int64 = 0
        var messages: Int64 = 0
        var i = text.startIndex
        while i != text.endIndex {
            let c = text[i]
            guard c >= 0x30 && c <= 0x39 else {
                i = text.index(after: i)
                continue
            }
            var value: Int64 = 0
            while i != text.endIndex, text[i] >= 0x30, text[i] <= 0x39 {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(text[i] - 0x30))
                value = (o1 || o2) ? Int64.max : a
                i = text.index(after: i)
            }
            if i != text.endIndex {
                if text[i] == UInt8(ascii: "S") { bytes = value }
                if text[i] == UInt8(ascii: "C") { messages = value }
            }
        }
        self.bytes = bytes
        self.messages = messages
    }

    public init(_ text: String) { self.init(parsing: Array(text.utf8)) }

    /// No limit in either dimension.
    public var isUnlimited: Bool { bytes <= 0 && messages <= 0 }

    /// The quota line Courier writes when it rebuilds `maildirsize`: `<n>S`, `<n>C`, or both
    /// joined by a comma, limits of zero left out.
    public var description: String {
        var parts: [String] = []
        if bytes > 0 { parts.append("\(bytes)S") }
        if messages > 0 { parts.append("\(messages)C") }
        return parts.joined(separator: ",")
    }

    /// True if `usage` exceeds a limit (equal is still within quota).
    public func isExceeded(by usage: QuotaUsage) -> Bool {
        (bytes > 0 && usage.bytes > bytes) || (messages > 0 && usage.messages > messages)
    }

    /// How full, in percent, as Courier computes it for quota warnings: per dimension
    /// `size * 100 / quota` in integers (both divided by 1024 first when the quota is above
    /// 20,000,000), the larger of the two; 100 when over quota.
    public func percentUsed(by usage: QuotaUsage) -> Int {
        if isExceeded(by: usage) { return 100 }
        func one(_ size: Int64, _ quota: Int64) -> Int64 {
            if quota <= 0 { return 0 }
            let x: Int64 = quota > 20_000_000 ? 1024 : 1
            let q = quota / x
            if q == 0 { return 0 }
            let (m, overflow) = (size / x).multipliedReportingOverflow(by: 100)
            return overflow ? 100 : m / q
        }
        return Int(max(one(usage.bytes, bytes), one(usage.messages, messages)))
    }
}

/// Bytes and messages: a usage total or a `maildirsize` delta.
public struct QuotaUsage: Hashable, Sendable {
    public var bytes: Int64
    public var messages: Int64

    public init(bytes: Int64, messages: Int64) {
        self.bytes = bytes
        self.messages = messages
    }

    public static let zero = QuotaUsage(bytes: 0, messages: 0)

    public static func + (a: QuotaUsage, b: QuotaUsage) -> QuotaUsage {
        QuotaUsage(bytes: a.bytes &+ b.bytes, messages: a.messages &+ b.messages)
    }

    public static prefix func - (a: QuotaUsage) -> QuotaUsage {
        QuotaUsage(bytes: -a.bytes, messages: -a.messages)
    }
}
