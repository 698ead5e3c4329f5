import Testing
@testable import MailCore

/// `MIMEStreamParser` gives the structure `MIMEParser.parse` gives for the whole input, however
/// the input is cut into pieces (long lines, CRLF split between pieces, nested multiparts).
struct MIMEStreamParserTests {
    static func describe(_ m: MIMEMessage) -> [String] {
        m.entities.map { e in
            "\(e.parent ?? -1) \(e.children) \(e.isPreamble) \(e.startPos) \(e.startBody) \(e.endPos) \(e.endBody) "
                + "\(e.lineCount) \(e.bodyLineCount) \(e.contentType ?? []) \(e.transferEncoding ?? []) \(e.boundary ?? []) "
                + "\(e.has8bitChars) \(e.hasLongLine) \(e.errors.rawValue) \(e.contentTypeParameters.items.map(\.value))"
        } + ["\(m.byteCount)"]
    }

    static func streamed(_ bytes: [UInt8], pieces: [Int]) -> MIMEMessage {
        var parser = MIMEStreamParser()
        var at = 0
        var k = 0
        while at < bytes.count {
            let n = min(max(1, pieces[k % pieces.count]), bytes.count - at)
            parser.feed(Array(bytes[at..<(at + n)]))
            at += n
            k += 1
        }
        return parser.finish()
    }

    static func sample(seed: UInt64, crlf: Bool) -> [UInt8] {
        var rng = seed
        func next(_ n: Int) -> Int {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Int((rng >> 33) % UInt64(n))
        }
        let eol = crlf ? "\r\n" : "\n"
        var s = "From: a@b\(eol)MIME-Version: 1.0\(eol)Content-Type: multipart/mixed; boundary=\"outer\"\(eol)\(eol)pre\(eol)"
        for part in 0..<(1 + next(4)) {
            s += "--outer\(eol)"
            if part % 2 == 0 {
                s += "Content-Type: text/plain; charset=utf-8\(eol)Content-Transfer-Encoding: quoted-printable\(eol)\(eol)"
            } else {
                s += "Content-Type: application/octet-stream\(eol)Content-Transfer-Encoding: base64\(eol)\(eol)"
            }
            for _ in 0..<next(300) {
                // Lines of every length, some far longer than a read (8 KiB) or the partial limit.
                let length = next(10) == 0 ? next(20000) : next(120)
                s += String(repeating: "x=C3=A9 ", count: length / 8) + "\u{E9}" + eol
            }
        }
        s += "--outer--\(eol)epilogue\(eol)"
        return Array(s.utf8)
    }

    @Test func sameStructureAsTheWholeParse() {
        for seed in 1...12 as ClosedRange<UInt64> {
            for crlf in [false, true] {
                let bytes = Self.sample(seed: seed, crlf: crlf)
                let whole = Self.describe(MIMEParser.parse(bytes))
                for pieces in [[1], [7, 8192, 3], [8192], [65536], [1000, 1], [300_000], [4095, 4097, 1]] {
                    #expect(Self.describe(Self.streamed(bytes, pieces: pieces)) == whole, "seed \(seed) pieces \(pieces)")
                }
            }
        }
    }

    @Test func nestedAndUnterminated() {
        let inputs = [MIMEParserTests.nested, Array("no header end".utf8), [],
                      Array(("Subject: x\n\n" + String(repeating: "y", count: 30000)).utf8)]
        for bytes in inputs {
            let whole = Self.describe(MIMEParser.parse(bytes))
            for pieces in [[1], [5000], [8192, 1]] {
                #expect(Self.describe(Self.streamed(bytes, pieces: pieces)) == whole)
            }
        }
    }

    /// `topLevelHeaderEnd`, once known from a prefix, is where the whole parse puts the
    /// top-level body (a long header read in small pieces; a header with a line longer than
    /// the partial-line limit; LF and CRLF blank lines).
    @Test func topLevelHeaderEndMatchesTheWholeParse() {
        let inputs = [
            Array(("Subject: a\nX-Long: " + String(repeating: "y", count: 3000) + "\n\nbody\n"
                   + String(repeating: "z", count: 20000)).utf8),
            Array(("From: a@b\r\n" + String(repeating: "X-Pad: 0123456789\r\n", count: 900) + "\r\nbody\r\n"
                   + String(repeating: "w", count: 20000)).utf8),
        ]
        for bytes in inputs {
            let whole = MIMEParser.parse(bytes).position(of: 0).startBody
            var parser = MIMEStreamParser()
            var seen: Int?
            var at = 0
            while at < bytes.count {
                let n = min(777, bytes.count - at)
                parser.feed(Array(bytes[at..<(at + n)]))
                at += n
                if seen == nil { seen = parser.topLevelHeaderEnd }
            }
            #expect(seen == whole)
        }
    }
}
