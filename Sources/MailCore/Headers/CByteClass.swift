/// Byte classes exactly as the C library's `<ctype.h>` reports them in the "C" locale,
/// which is what Courier's tools run under (`setlocale(LC_ALL, "C")`). Bytes 0x80...0xFF
/// are never spaces or letters there.
public enum CByteClass {
    /// `isspace()` in the C locale: space, `\t`, `\n`, `\v`, `\f`, `\r`.
    @inline(__always)
    public static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    /// `isdigit()` in the C locale.
    @inline(__always)
    public static func isDigit(_ byte: UInt8) -> Bool {
        byte >= 0x30 && byte <= 0x39
    }

    /// `tolower()` in the C locale: ASCII letters only.
    @inlinable @inline(__always)
    public static func lowercase(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }

    /// Lowercases every ASCII letter of `bytes`.
    @inlinable
    public static func lowercased<S: Sequence>(_ bytes: S) -> [UInt8] where S.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount)
        for b in bytes { out.append(lowercase(b)) }
        return out
    }

    /// True when `a` and `b` are equal ignoring ASCII case.
    @inlinable
    public static func equalIgnoringCase<A: Collection, B: Collection>(_ a: A, _ b: B) -> Bool
    where A.Element == UInt8, B.Element == UInt8 {
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { lowercase($0) == lowercase($1) }
    }

    /// True when `prefix` is a prefix of `bytes`, ignoring ASCII case.
    @inlinable
    public static func hasPrefixIgnoringCase<A: Collection, B: Collection>(_ bytes: A, _ prefix: B) -> Bool
    where A.Element == UInt8, B.Element == UInt8 {
        guard prefix.count <= bytes.count else { return false }
        return zip(bytes, prefix).allSatisfy { lowercase($0) == lowercase($1) }
    }
}
