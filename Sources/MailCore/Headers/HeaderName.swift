/// Header-name helpers with Courier's matching rules (RFC 5322 §2.2: a header field is a name,
/// a colon and a body; names are case-insensitive).
///
/// Courier's tools compare a header by its *key*: the text of the first line up to and including
/// the first `:`, lowercased (or the whole first line when it has no colon). An option such as
/// `reformail -x Subject:` matches a message header whose key is a prefix of the option text.
///
/// The generic helpers are `@inlinable`: the tools call them from other modules, where an
/// unspecialised call looks up Collection's associated types at run time (demangling them, about
/// 45,000 instructions per collection type on first use: 180,000 of reformail's 650,000).
public enum HeaderName {
    /// The lowercased text of `line` up to and including the first `:`; without a colon, the
    /// lowercased text up to the first `\n` (or the end).
    @inlinable
    public static func key<C: Collection>(of line: C) -> [UInt8] where C.Element == UInt8 {
        var key: [UInt8] = []
        for b in line {
            if b == UInt8(ascii: "\n") { break }
            key.append(CByteClass.lowercase(b))
            if b == UInt8(ascii: ":") { break }
        }
        return key
    }

    /// The header name without the colon and without trailing whitespace (`Subject` for
    /// `Subject : x`), in its original spelling; nil when the line has no colon.
    @inlinable
    public static func name<C: BidirectionalCollection>(of line: C) -> C.SubSequence? where C.Element == UInt8 {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        var end = colon
        while end > line.startIndex {
            let before = line.index(before: end)
            guard line[before] == 0x20 || line[before] == 0x09 else { break }
            end = before
        }
        return line[line.startIndex..<end]
    }

    /// True when the header `line` has the name `name` (no colon), ignoring case.
    @inlinable
    public static func line<C: BidirectionalCollection, N: Collection>(_ line: C, isNamed name: N) -> Bool
    where C.Element == UInt8, N.Element == UInt8 {
        guard let found = self.name(of: line) else { return false }
        return CByteClass.equalIgnoringCase(found, name)
    }

    /// True when the key of a message header (see ``key(of:)``) is a prefix of the lowercased
    /// option text: Courier's rule for `-x`, `-a`, `-I`, ... (`-x Subject` without a colon matches
    /// nothing, `-a 'Subject: x'` matches `Subject:`).
    @inlinable
    public static func key<K: Collection, O: Collection>(_ key: K, isPrefixOfOption option: O) -> Bool
    where K.Element == UInt8, O.Element == UInt8 {
        CByteClass.hasPrefixIgnoringCase(option, key)
    }
}
