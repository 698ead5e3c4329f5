import Testing
@testable import MailCore

/// The MIME structure parser: sections, positions, line counts, headers, limits.
struct MIMEParserTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    static func ids(_ m: MIMEMessage) -> [String] {
        m.sections().map { $0.id.map(String.init).joined(separator: ".") }
    }

    static let nested = bytes("""
    From: a@b
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="outer"

    preamble
    --outer
    Content-Type: text/plain; charset=iso-8859-1

    one
    --outer
    Content-Type: message/rfc822

    Subject: inner
    MIME-Version: 1.0
    Content-Type: multipart/alternative; boundary=inner

    --inner

    alt1
    --inner
    Content-Type: text/html

    <p>
    --inner--
    --outer--
    epilogue

    """)

    @Test func sectionNumbering() {
        let m = MIMEParser.parse(Self.nested)
        #expect(Self.ids(m) == ["1", "1.1", "1.2", "1.2.1", "1.2.1.1", "1.2.1.2"])
        #expect(m.find("1.2.1.2") != nil)
        #expect(m.find("01.2") == m.find("1.2"))
        #expect(m.find("1.") == 0)
        #expect(m.find("1.3") == nil)
        #expect(m.find("x") == nil)
    }

    /// `find` walks down the tree by number; it names the same entity the section walk
    /// numbers, and rejects what Courier's `rfc2045_find` rejects.
    @Test func findFollowsSectionWalk() {
        let m = MIMEParser.parse(Self.nested)
        for (index, id) in m.sections() {
            let name = id.map(String.init).joined(separator: ".")
            #expect(m.find(name) == index)
            #expect(m.find(name + ".") == index)
        }
        for bad in ["", ".", "0", "2", "1.0", "1..1", "1.2.1.3", "1.1.1", "1.x", " 1", "1.2.1.2.1"] {
            #expect(m.find(bad) == nil, "\(bad)")
        }
        #expect(m.find("4294967297") == 0) // unsigned wrap-around, as in C
        var many = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=z\n\n"
        for _ in 0..<400 { many += "--z\n\n.\n" }
        let big = MIMEParser.parse(Self.bytes(many))
        let sections = big.sections()
        #expect(sections.count > 250)
        for (index, id) in sections {
            #expect(big.find(id.map(String.init).joined(separator: ".")) == index)
        }
    }

    @Test func contentTypeAndInheritance() {
        let m = MIMEParser.parse(Self.nested)
        let root = m.entities[0]
        #expect(root.contentType == Self.bytes("multipart/mixed"))
        #expect(root.boundary == Self.bytes("outer"))
        let text = m.find("1.1")!
        #expect(m.entities[text].contentTypeParameters["charset"] == Self.bytes("iso-8859-1"))
        let html = m.find("1.2.1.2")!
        #expect(m.entities[html].contentType == Self.bytes("text/html"))
        let alt1 = m.find("1.2.1.1")!
        #expect(m.entities[alt1].contentType == Self.bytes("text/plain"))
    }

    @Test func positionsOfAPartExcludeTheLineBreakBeforeTheDelimiter() {
        let src = Self.bytes("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nbody\n--b--\n")
        let m = MIMEParser.parse(src)
        let part = m.find("1.1")!
        let pos = m.position(of: part)
        #expect(pos.start == 65)
        #expect(pos.startBody == 66)
        #expect(pos.end == 70)
        #expect(Array(src[pos.startBody..<pos.end]) == Self.bytes("body"))
        #expect(pos.lineCount == 1)
        #expect(pos.bodyLineCount == 0)
        let top = m.position(of: 0)
        #expect(top.end == src.count)
        #expect(top.lineCount == 7)
    }

    @Test func withoutMimeVersionContentTypeIsIgnored() {
        let m = MIMEParser.parse(Self.bytes("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n"))
        #expect(Self.ids(m) == ["1"])
        #expect(m.entities[0].contentType == nil)
    }

    @Test func missingClosingDelimiterRunsToTheEnd() {
        let src = Self.bytes("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b\n\nlast")
        let m = MIMEParser.parse(src)
        #expect(Self.ids(m) == ["1", "1.1", "1.2"])
        let pos = m.position(of: m.find("1.2")!)
        #expect(Array(src[pos.startBody..<pos.end]) == Self.bytes("last"))
    }

    @Test func crlfLineEndings() {
        let src = Self.bytes("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nline\r\n--b--\r\n")
        let m = MIMEParser.parse(src)
        let pos = m.position(of: m.find("1.1")!)
        #expect(Array(src[pos.startBody..<pos.end]) == Self.bytes("line"))
    }

    @Test func digestPartsDefaultToMessageRFC822() {
        let m = MIMEParser.parse(Self.bytes("MIME-Version: 1.0\nContent-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: x\n\nbody\n--d--\n"))
        #expect(Self.ids(m) == ["1", "1.1", "1.1.1"])
        #expect(m.entities[m.find("1.1")!].contentType == Self.bytes("message/rfc822"))
    }

    @Test func prefixBoundaryIsFlaggedAndParsedAsTheOuterOne() {
        let m = MIMEParser.parse(Self.bytes("""
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary=abcd

        --abcd
        Content-Type: multipart/alternative; boundary=abc

        --abc

        a
        --abcd--

        """))
        #expect(m.errors.contains(.ambiguousBoundary))
        #expect(Self.ids(m) == ["1", "1.1", "1.1.1"])
    }

    @Test func moreThan300EntitiesStopsParsing() {
        var s = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=p\n\n"
        for _ in 0..<320 { s += "--p\n\nx\n" }
        let m = MIMEParser.parse(Self.bytes(s))
        #expect(m.errors.contains(.tooComplex))
        #expect(m.entities.count == 302)
    }

    @Test func deepNestingIsBoundedByTheEntityLimit() {
        var s = "MIME-Version: 1.0\n"
        for i in 0..<2000 { s += "Content-Type: multipart/mixed; boundary=\"q\(i)x\"\n\n--q\(i)x\n" }
        let m = MIMEParser.parse(Self.bytes(s))
        #expect(m.entities.count <= 302)
        #expect(m.sections().count > 100)
    }

    @Test func rfc2231ContinuationsAndCharset() {
        let m = MIMEParser.parse(Self.bytes("MIME-Version: 1.0\nContent-Type: text/plain; name*0*=utf-8''caf%C3%A9; name*1=\".txt\"\n\nx\n"))
        let v = RFC2231.decode(m.entities[0].contentTypeParameters, name: "name")
        #expect(v.charset == Self.bytes("utf-8"))
        #expect(v.text == Self.bytes("café.txt"))
        #expect(RFC2231.decodeForDisplay(m.entities[0].contentTypeParameters, name: "name", targetCharset: "UTF-8") == Self.bytes("café.txt"))
    }

    @Test func parameterNamesAreLowercasedAndCharsetValueToo() {
        let m = MIMEParser.parse(Self.bytes("MIME-Version: 1.0\nContent-Type: Text/HTML (c); CharSet=\"UTF-8\"; Name=\"A B\"\n\nx\n"))
        let e = m.entities[0]
        #expect(e.contentType == Self.bytes("text/html"))
        #expect(e.contentTypeParameters["charset"] == Self.bytes("utf-8"))
        #expect(e.contentTypeParameters["name"] == Self.bytes("A B"))
    }

    @Test func headerReaderKeepsFoldingAndCase() {
        let src = Self.bytes("Subject: a\n  b\r\nX-Y:z \n\nbody\n")
        let m = MIMEParser.parse(src)
        let fields = src.withUnsafeBufferPointer { MIMEHeaderReader.fields(m, $0, 0) }
        #expect(fields == [
            .init(name: Self.bytes("Subject"), value: Self.bytes("a\n  b")),
            .init(name: Self.bytes("X-Y"), value: Self.bytes("z")),
        ])
    }

    @Test(arguments: [
        "", "\0\0\0", "\r\r\r", "\n\n\n", "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"\n\n--\n",
        "MIME-Version: 1.0\nContent-Type: message/rfc822\n\n", "=?utf-8?B?====?=", "(((((", "\"unterminated",
    ])
    func hostileInputsParse(_ text: String) {
        let m = MIMEParser.parse(Self.bytes(text))
        #expect(!m.sections().isEmpty)
        for i in m.entities.indices {
            let r = m.bodyRange(of: i)
            #expect(r.lowerBound >= 0 && r.upperBound <= text.utf8.count)
        }
    }

    @Test func longLineIsSplitAtChunkBoundaryWithoutLosingBytes() {
        let line = String(repeating: "A", count: 20_000)
        let src = Self.bytes("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\n\(line)\n--b--\n")
        let m = MIMEParser.parse(src)
        let pos = m.position(of: m.find("1.1")!)
        #expect(pos.end - pos.startBody == 20_000)
    }
}

/// Random inputs built from MIME fragments never trap the parser or anything derived from it.
struct MIMEFuzzTests {
    @Test func randomFragments() {
        var rng = SystemRandomNumberGenerator()
        let fragments: [String] = [
            "MIME-Version: 1.0\n", "Content-Type: multipart/mixed; boundary=x\n", "\n--x\n", "--x--\n",
            "Content-Transfer-Encoding: base64\n", "Content-Transfer-Encoding: quoted-printable\n",
            "=?utf-8?q?", "?=", "From: ", "Content-Type: message/rfc822\n", "\r\n", "\n", "=", "=4",
            "name*0*=utf-8''%", "; filename*1=\"", "(", ")", "\"", "\\", "\0", "\u{80}", "é",
        ]
        for _ in 0..<300 {
            var data: [UInt8] = []
            for _ in 0..<Int.random(in: 1...120, using: &rng) {
                if Bool.random(using: &rng) {
                    data += Array(fragments.randomElement(using: &rng)!.utf8)
                } else {
                    data.append(UInt8.random(in: 0...255, using: &rng))
                }
            }
            #expect(MIMEFuzz.run(data) >= 0)
        }
    }
}
