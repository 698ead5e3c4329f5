/// Renames chosen header fields of a message while it streams, by putting a prefix in front
/// of their names: Courier's submit turns an incoming `Return-Path:` into `Old-Return-Path:`
/// (the delivery agent writes the real one), `Received-SPF:` into `Old-Received-SPF:` when it
/// checks SPF itself, and `Authentication-Results:` into `Old-Authentication-Results:` under
/// `ALLOW_EXCLUSIVE` (spec/mta.md §2.13), so that a sender cannot forge them.
///
/// Input is the message with `\n` line ends, in chunks of any size; only the header section is
/// looked at, and at most one field name's worth of bytes is held back between chunks. The body
/// passes through untouched.
public struct HeaderFieldRenamer: Sendable {
    /// Lower-case field names to rename, without the colon.
    private let names: [[UInt8]]
    private let prefix: [UInt8]
    /// Bytes from the start of the current header line while its name is still being read.
    private var pending: [UInt8] = []
    private var inHeader = true
    private var atLineStart = true
    private let longest: Int

    /// Renames each field in `names` (case-insensitive) to `prefix` + its original spelling.
    public init(renaming names: [String], prefix: String = "Old-") {
        self.names = names.map { Array($0.lowercased().utf8) }
        self.prefix = Array(prefix.utf8)
        self.longest = self.names.map(\.count).max() ?? 0
        if names.isEmpty { inHeader = false }
    }

    /// The bytes to write for `bytes`, the next part of the message.
    public mutating func feed(_ bytes: [UInt8]) -> [UInt8] {
        guard inHeader else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + prefix.count)
        var index = 0
        while index < bytes.count {
            guard inHeader else {
                out.append(contentsOf: bytes[index...])
                break
            }
            let byte = bytes[index]
            index += 1
            if atLineStart {
                if pending.isEmpty && byte == UInt8(ascii: "\n") {
                    // the blank line: the body follows
                    inHeader = false
                    out.append(byte)
                    continue
                }
                pending.append(byte)
                if byte == UInt8(ascii: ":") {
                    if matches(pending.dropLast()) { out.append(contentsOf: prefix) }
                    release(into: &out, lineEnded: false)
                } else if byte == UInt8(ascii: "\n") {
                    release(into: &out, lineEnded: true)
                } else if pending.count > longest + 1 || (pending.count == 1 && (byte == 0x20 || byte == 0x09)) {
                    // too long to be one of ours, or a folded continuation line
                    release(into: &out, lineEnded: false)
                }
            } else {
                out.append(byte)
                if byte == UInt8(ascii: "\n") { atLineStart = true }
            }
        }
        return out
    }

    /// Whatever is still held back, once the message has ended.
    public mutating func finish() -> [UInt8] {
        defer { pending = []; inHeader = false }
        return pending
    }

    private mutating func release(into out: inout [UInt8], lineEnded: Bool) {
        out.append(contentsOf: pending)
        pending.removeAll(keepingCapacity: true)
        atLineStart = lineEnded
    }

    private func matches(_ name: ArraySlice<UInt8>) -> Bool {
        // RFC 5322 §4.5.3 (obsolete syntax) allows blanks between a field name and its colon.
        var end = name.endIndex
        while end > name.startIndex && (name[end - 1] == 0x20 || name[end - 1] == 0x09) { end -= 1 }
        let trimmed = name[name.startIndex..<end]
        return names.contains { candidate in
            candidate.count == trimmed.count && zip(candidate, trimmed).allSatisfy { c, b in
                c == ((b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) ? b + 32 : b)
            }
        }
    }
}
