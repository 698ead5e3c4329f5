/// One entry of a parsed address list, as Courier's `rfc822a` represents it.
///
/// * An entry with an empty `address` is syntactic fluff: a group name (its tokens end with
///   `:`) or a group end (the single token `;`).
/// * Otherwise `address` holds the address tokens and `name` the display name: the phrase before
///   `<…>` (new style), or the last comment of an old-style address (`joe@x (Joe)`).
public struct ParsedAddress: Sendable, Equatable {
    /// Display-name tokens; empty when there is none.
    public var name: [AddressToken]
    /// Address tokens; empty for group syntax.
    public var address: [AddressToken]

    public init(name: [AddressToken], address: [AddressToken]) {
        self.name = name
        self.address = address
    }

    /// True when this entry is an address (not a group name or group end).
    public var hasAddress: Bool { !address.isEmpty }

    /// True for an old-style address whose name is a trailing comment (`user@host (Name)`).
    public var isOldStyle: Bool {
        if let first = name.first, case .comment = first.kind { return true }
        return false
    }

    /// The address alone, printed with Courier's spacing and with line breaks removed
    /// (`rfc822_gettok`): `joe @ example . com` gives `joe@example.com`.
    public var addressText: [UInt8] {
        AddressPrinter.print(tokens: address).filter { $0 != UInt8(ascii: "\n") }
    }

    /// The display name for showing (`rfc822_prname`): quoted strings without their quotes and
    /// backslashes, comments without parentheses, no RFC 2047 decoding.
    public var nameText: [UInt8] { AddressPrinter.displayName(name) }
}

/// A parsed address list (`To:`, `From:`, `Return-Path:` values...).
public struct AddressList: Sendable, Equatable {
    /// The entries in input order.
    public var entries: [ParsedAddress]
    /// Tokenizer error positions (recovered, never fatal).
    public var errorOffsets: [Int]

    public init(entries: [ParsedAddress], errorOffsets: [Int] = []) {
        self.entries = entries
        self.errorOffsets = errorOffsets
    }

    /// Only the entries that are addresses.
    public var addresses: [ParsedAddress] { entries.filter(\.hasAddress) }

    /// Parses an address header value: tokenizes and parses it. This is the public entry point
    /// for fuzzing; it accepts any bytes and never fails.
    public static func parse<C: Collection>(_ value: C) -> AddressList where C.Element == UInt8 {
        let t = AddressTokenizer.tokenize(value)
        var source: [UInt8] = []
        for b in value {
            if b == 0 { break }
            source.append(b)
        }
        return AddressList(entries: AddressListParser.parse(t.tokens, source: source), errorOffsets: t.errorOffsets)
    }

    /// Parses a header value given as a string.
    public static func parse(_ value: String) -> AddressList { parse(Array(value.utf8)) }

    /// The list printed back the way Courier prints it (`rfc822_getaddrs`).
    public var printed: [UInt8] { AddressPrinter.print(self) }

    /// Fuzz entry: parses arbitrary bytes and prints every derived form.
    public static func fuzz(_ bytes: [UInt8]) -> Int {
        let list = parse(bytes)
        var total = list.printed.count
        for e in list.entries { total &+= e.addressText.count &+ e.nameText.count }
        return total
    }
}
