/// sequence-set (RFC 3501 §9): ranges of message sequence numbers or UIDs; `*` is the largest
/// number in use, stored as `UInt32.max` until resolved. `$` (RFC 5182 SEARCHRES) is the last
/// saved search result.
public struct SequenceSet: Hashable, Sendable {
    public var ranges: [ClosedRange<UInt32>]
    /// `$`: the saved search result (RFC 5182 §2.1).
    public var isSavedResult: Bool

    public static let star = UInt32.max

    public init(_ ranges: [ClosedRange<UInt32>], isSavedResult: Bool = false) {
        self.ranges = ranges
        self.isSavedResult = isSavedResult
    }

    public static func single(_ n: UInt32) -> SequenceSet { SequenceSet([n...n]) }
    public static let all = SequenceSet([1...star])

    /// The ranges with `*` replaced by `largest` (RFC 3501 §9: "*" is the largest number in use;
    /// with an empty mailbox nothing matches). Each range is ordered low to high.
    public func resolved(largest: UInt32) -> [ClosedRange<UInt32>] {
        ranges.compactMap { range in
            guard largest > 0 || (range.lowerBound != Self.star && range.upperBound != Self.star) else { return nil }
            let a = range.lowerBound == Self.star ? largest : range.lowerBound
            let b = range.upperBound == Self.star ? largest : range.upperBound
            return min(a, b)...max(a, b)
        }
    }

    /// ``resolved(largest:)`` sorted with overlapping and adjacent ranges merged.
    public func merged(largest: UInt32) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        for range in resolved(largest: largest).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = out.last, UInt64(range.lowerBound) <= UInt64(last.upperBound) + 1 {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                out.append(range)
            }
        }
        return out
    }

    public func contains(_ n: UInt32, largest: UInt32) -> Bool {
        resolved(largest: largest).contains { $0.contains(n) }
    }

    /// Compact textual form, `1:3,7` (for COPYUID/APPENDUID and ESEARCH ALL).
    public static func format<S: Sequence>(_ numbers: S) -> [UInt8] where S.Element == UInt32 {
        var out: [UInt8] = []
        var start: UInt32?
        var last: UInt32 = 0
        func flush() {
            guard let s = start else { return }
            if !out.isEmpty { out.append(UInt8(ascii: ",")) }
            out += Array(String(s).utf8)
            if last != s { out.append(UInt8(ascii: ":")); out += Array(String(last).utf8) }
        }
        for n in numbers {
            if let _ = start, n == last &+ 1 && n != 0 { last = n; continue }
            flush()
            start = n
            last = n
        }
        flush()
        return out
    }
}

extension Parser {
    /// seq-number = nz-number / "*"
    mutating func sequenceNumber() throws(IMAPSyntaxError) -> UInt32 {
        if skip(UInt8(ascii: "*")) { return SequenceSet.star }
        return try nzNumber()
    }

    /// sequence-set = (seq-number / seq-range) ["," sequence-set]; "$" (RFC 5182)
    mutating func sequenceSet() throws(IMAPSyntaxError) -> SequenceSet {
        if skip(UInt8(ascii: "$")) { return SequenceSet([], isSavedResult: true) }
        var ranges: [ClosedRange<UInt32>] = []
        repeat {
            let a = try sequenceNumber()
            var b = a
            if skip(UInt8(ascii: ":")) { b = try sequenceNumber() }
            ranges.append(min(a, b)...max(a, b))
            guard ranges.count <= 100_000 else { throw IMAPSyntaxError("sequence set too long") }
        } while skip(UInt8(ascii: ","))
        return SequenceSet(ranges)
    }
}

extension Parser {
    /// A QRESYNC known-uids / known-sequence-set / known-uid-set (RFC 7162 §3.2.5): a
    /// sequence-set of real numbers, without `*` or `$` (the client names what it has seen).
    mutating func knownSet() throws(IMAPSyntaxError) -> SequenceSet {
        let set = try sequenceSet()
        if set.isSavedResult || set.ranges.contains(where: { $0.upperBound == SequenceSet.star }) {
            throw IMAPSyntaxError("QRESYNC sets name numbers, not * or $")
        }
        return set
    }
}
