/// The content of a `maildirsize` file (access.md §1.9, maildirquota(7)):
///
///     1000S,10C                    <- the quota definition
///                0            0    <- "<bytes> <count>" lines, each number right-aligned in 12
///              522            1       columns; the sum of all lines is the current usage
///
/// Parsing is pure; `MaildirQuota` does the file work.
public struct MaildirSizeFile: Hashable, Sendable {
    /// Courier reads at most this many bytes; a file that fills the buffer is rebuilt.
    public static let readLimit = 5120
    /// A file with one data line younger than this is trusted even when it says "over quota".
    public static let trustSeconds: Int64 = 15 * 60

    public var quota: QuotaSpec
    /// The sum of the data lines.
    public var usage: QuotaUsage
    /// How many lines follow the quota line.
    public var dataLines: Int
    /// The file was `readLimit` bytes or more: the totals are unknown.
    public var overflowed: Bool

    public init(quota: QuotaSpec, usage: QuotaUsage, dataLines: Int, overflowed: Bool) {
        self.quota = quota
        self.usage = usage
        self.dataLines = dataLines
        self.overflowed = overflowed
    }

    /// Courier's rule: rebuild when the file overflowed or a total came out negative.
    public var needsRecalculation: Bool { overflowed || usage.bytes < 0 || usage.messages < 0 }

    /// Parses `bytes`, the first at most `readLimit` bytes of the file (the fuzz entry point).
    /// Data lines are two whitespace-separated, optionally negative integers; a line that does not
    /// parse adds nothing but still counts as a line, as in Courier.
    public static func parse(_ bytes: [UInt8]) -> MaildirSizeFile {
        let overflowed = bytes.count >= readLimit
        let text = overflowed ? Array(bytes.prefix(readLimit - 1)) : bytes
        let lines = text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let quotaLine = lines.first ?? []
        let quota = QuotaSpec(parsing: quotaLine)
        if overflowed {
            return MaildirSizeFile(quota: quota, usage: .zero, dataLines: 0, overflowed: true)
        }
        var usage = QuotaUsage.zero
        var count = 0
        // A final newline leaves an empty last piece that is not a line.
        let dataLines = lines.dropFirst()
        for (index, line) in dataLines.enumerated() {
            if index == dataLines.count - 1 && line.isEmpty { break }
            count += 1
            if let delta = parseDelta(line) { usage = usage + delta }
        }
        return MaildirSizeFile(quota: quota, usage: usage, dataLines: count, overflowed: false)
    }

    /// One `<bytes> <count>` line; nil unless both numbers are there.
    public static func parseDelta(_ line: ArraySlice<UInt8>) -> QuotaUsage? {
        var i = line.startIndex
        func skipSpace() {
            while i < line.endIndex, line[i] == 0x20 || (line[i] >= 0x09 && line[i] <= 0x0D) { i += 1 }
        }
        skipSpace()
        guard let (b, used1) = NumberText.parseSigned(line[i...]) else { return nil }
        i += used1
        skipSpace()
        guard let (c, _) = NumberText.parseSigned(line[i...]) else { return nil }
        return QuotaUsage(bytes: b, messages: c)
    }

    /// A data line as Courier writes it: both numbers right-aligned in 12 columns, one space
    /// between, newline (26 bytes for numbers of up to 12 digits).
    public static func deltaLine(_ delta: QuotaUsage) -> String {
        NumberText.rightAligned(delta.bytes, width: 12) + " " + NumberText.rightAligned(delta.messages, width: 12) + "\n"
    }

    /// A freshly rebuilt file: the quota line and one line with the totals.
    public static func rebuilt(quota: QuotaSpec, usage: QuotaUsage) -> String {
        quota.description + "\n" + deltaLine(usage)
    }
}
