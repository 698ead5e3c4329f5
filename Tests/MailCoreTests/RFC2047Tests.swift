import Testing
@testable import MailCore

/// RFC 2047 decoding (Courier's display rules) and encoding.
struct RFC2047Tests {
    static func decode(_ s: String, _ cs: String = "UTF-8") -> String {
        String(decoding: RFC2047Decoder.decode(Array(s.utf8), targetCharset: cs), as: UTF8.self)
    }

    @Test(arguments: [
        ("=?iso-8859-1?Q?H=F3la!?=", "Hóla!"),
        ("=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab"),
        ("=?UTF-8?Q?a?=  x  =?UTF-8?Q?b?=", "a  x  b"),
        ("=?UTF-8?Q?a_b?=", "a b"),
        ("=?utf-8*en?Q?caf=C3=A9?=", "café"),
        ("=?bogus?Q?x?=", "[unknown character set: bogus -> UTF-8]"),
        ("=?utf-8?X?abc?=", "=?utf-8?X?abc?="),
        ("=?an encoded?=", "=?an encoded?="),
        ("=?ISO-2022-JP?B?GyRCJEYkOSRIGyhC?=", "てすと"),
        ("=?KOI8-R?Q?=F0=D2=C9=D7=C5=D4?=", "Привет"),
        ("=?windows-1252?Q?=93q=94?=", "“q”"),
        ("=?UTF-8?B?w6nDqQ==?=", "éé"),
    ])
    func decodes(_ input: String, _ expected: String) {
        #expect(Self.decode(input) == expected)
    }

    @Test func emptyWordGivesAnEmptyPiece() {
        var pieces: [[UInt8]] = []
        RFC2047Decoder.display(Array("=?utf-8?Q??=".utf8), targetCharset: "UTF-8") { pieces.append($0) }
        #expect(pieces == [[]])
    }

    @Test(arguments: [
        ("Hóla! café", "=?utf-8?B?SMOzbGEhIGNhZsOp?="),
        ("plain ascii", "plain ascii"),
        ("\"quotes\"", "=?utf-8?B?InF1b3RlcyI=?="),
        ("a é b", "a =?utf-8?B?w6k=?= b"),
    ])
    func encodes(_ input: String, _ expected: String) {
        let out = RFC2047Encoder.encode(Array(input.utf8), charset: "utf-8", allowed: .any)
        #expect(out.map { String(decoding: $0, as: UTF8.self) } == expected)
    }

    @Test func longTextIsSplitIntoSeveralWords() {
        let input = String(repeating: "é", count: 60)
        let out = String(decoding: RFC2047Encoder.encode(Array(input.utf8), charset: "utf-8", allowed: .any) ?? [], as: UTF8.self)
        #expect(out.split(separator: " ").count == 2)
        #expect(Self.decode(out) == input)
    }
}
