/// One token of an RFC 822 address header, as Courier's `rfc822` library tokenizes it
/// (RFC 822 §3.3 lexical tokens, with Courier's error recovery).
public struct AddressToken: Sendable, Equatable {
    /// The token classes.
    public enum Kind: Sendable, Equatable {
        /// A run of non-space, non-special bytes, or an RFC 2047 encoded word `=?…?=`.
        case atom
        /// A quoted string; `text` is the content without the quotes, `\` pairs kept as written.
        case quotedString
        /// A comment; `text` includes the parentheses.
        case comment
        /// One of the specials `< > @ , ; : . [ ] % ! ? / =`.
        case special(UInt8)
    }

    public var kind: Kind
    /// The token's bytes (see ``Kind`` for what is included).
    public var text: [UInt8]
    /// Offset of `text` in the tokenized input (for a quoted string: just after the opening quote).
    public var offset: Int

    public init(kind: Kind, text: [UInt8], offset: Int) {
        self.kind = kind
        self.text = text
        self.offset = offset
    }

    /// Atoms, quoted strings and comments are "word-like": Courier prints a space between two
    /// consecutive word-like tokens and nothing between other tokens.
    public var isWordLike: Bool {
        switch kind {
        case .atom, .quotedString, .comment: return true
        case .special: return false
        }
    }

    /// True for the special token `byte`.
    public func isSpecial(_ byte: UInt8) -> Bool {
        if case .special(let c) = kind { return c == byte }
        return false
    }

    /// True for an atom or a quoted string (not a comment).
    var isAtomOrQuoted: Bool {
        switch kind {
        case .atom, .quotedString: return true
        default: return false
        }
    }

    /// Offset just past the token's text in the input.
    var endOffset: Int { offset + text.count }
}
