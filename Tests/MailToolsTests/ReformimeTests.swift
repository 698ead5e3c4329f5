#if canImport(Glibc)
import Glibc
#endif
import Testing
import MailCore
import ToolSupport
@testable import MailTools

/// reformime's options and modes, run in-process with output captured in a temporary file.
struct ReformimeTests {
    static func args(_ a: [String]) -> [[UInt8]] { (["reformime"] + a).map { Array($0.utf8) } }

    /// Runs `body` with a context over `input` and returns what it wrote.
    static func capture(_ arguments: [String], _ input: String,
                        _ body: (ReformimeContext, MIMEMessage) throws -> Void) rethrows -> String {
        var template = Array("/tmp/reformime-test-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        defer { close(fd); template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) } }
        let options = try! ReformimeOptions(args(arguments), defaultCharset: "UTF-8")
        let out = FDOutput(fd: fd)
        let ctx = ReformimeContext(options: options, out: out)
        let bytes = Array(input.utf8)
        try bytes.withUnsafeBufferPointer { buf in
            ctx.bytes = buf
            try body(ctx, MIMEParser.parse(buf))
        }
        out.flush()
        lseek(fd, 0, SEEK_SET)
        return String(decoding: ByteInput.readAll(fd: fd) ?? [], as: UTF8.self)
    }

    static let message = """
    From: a@example.org
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="b"

    --b
    Content-Type: text/plain; charset=iso-8859-1
    Content-Transfer-Encoding: quoted-printable

    caf=E9
    --b
    Content-Type: application/octet-stream; name="data.bin"
    Content-Transfer-Encoding: base64
    Content-Disposition: attachment; filename="data.bin"
    Content-Description: =?utf-8?Q?caf=C3=A9?=

    SGVsbG8=
    --b--

    """

    @Test func optionsTakeAttachedOrSeparateValues() throws {
        let o = try ReformimeOptions(Self.args(["-s1.2", "-c", "iso-8859-1", "-X", "/bin/cat", "-x"]), defaultCharset: "UTF-8")
        #expect(o.sections == "1.2")
        #expect(o.charset == "iso-8859-1")
        #expect(o.extraction == .toProgram)
        #expect(o.rest == [Array("/bin/cat".utf8), Array("-x".utf8)])
        let r = try ReformimeOptions(Self.args(["-r7", "-s", "1,,1.2"]), defaultCharset: "UTF-8")
        #expect(r.rewrite == .sevenBit)
        #expect(r.sectionList == ["1", "1.2"])
    }

    @Test func badOptionsAreRejected() {
        #expect(throws: ReformimeOptions.ParseError.self) { try ReformimeOptions(Self.args(["-z"]), defaultCharset: "UTF-8") }
        #expect(throws: ReformimeOptions.ParseError.self) { try ReformimeOptions(Self.args(["-c", "bogus"]), defaultCharset: "UTF-8") }
    }

    @Test func structureListing() {
        let out = Self.capture([], Self.message) { ReformimeInfo.printStructure($0, $1) }
        #expect(out == "1\n1.1\n1.2\n")
    }

    @Test func infoForOneSection() throws {
        let out = try Self.capture(["-i", "-s", "1.2"], Self.message) { try ReformimeInfo.printInfo($0, $1) }
        #expect(out == """
        section: 1.2
        content-type: application/octet-stream
        content-name: data.bin
        content-transfer-encoding: base64
        charset: UTF-8
        content-disposition: attachment
        content-disposition-filename: data.bin
        content-description: café
        starting-pos: 188
        starting-pos-body: 375
        ending-pos: 383
        line-count: 5
        body-line-count: 0

        """)
    }

    @Test func decodeSections() throws {
        let out = try Self.capture(["-e", "-s", "1.1,1.2"], Self.message) { try ReformimeExtract.decodeSections($0, $1) }
        #expect(Array(out.utf8.prefix(4)) == [0x63, 0x61, 0x66, 0xE9] || out.hasPrefix("caf"))
        #expect(out.hasSuffix("Hello"))
    }

    @Test func missingSectionFails() {
        #expect(throws: ReformimeContext.Failure.self) {
            _ = try Self.capture(["-e", "-s", "1.9"], Self.message) { try ReformimeExtract.decodeSections($0, $1) }
        }
    }

    @Test func rewriteAddsMissingHeaders() throws {
        let out = try Self.capture(["-r"], "Subject: x\n\nplain body\n") {
            try ReformimeRewrite.run($0, $1, mode: .standard)
        }
        #expect(out == "Subject: x\nMime-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 7bit\n\nplain body\n")
    }

    @Test func rewrite8bitDecodesQuotedPrintable() throws {
        let out = try Self.capture(["-r8"], "Mime-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\ncaf=C3=A9\n") {
            try ReformimeRewrite.run($0, $1, mode: .eightBit)
        }
        #expect(out.hasSuffix("X-Mime-Autoconverted: from quoted-printable to 8bit by reformime (maildrop 2.9.3)\n\ncafé\n"))
    }

    @Test func dsnRecipients() {
        let dsn = """
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary=r

        --r

        human
        --r
        Content-Type: message/delivery-status

        Reporting-MTA: dns; x

        Final-Recipient: rfc822; a@b
        Original-Recipient: rfc822;orig@b
        Action: FAILED

        --r--

        """
        let final = Self.capture(["-d"], dsn) { _ = ReformimeDSN.run($0, $1, preferOriginal: false) }
        #expect(final == "failed a@b\n")
        let orig = Self.capture(["-D"], dsn) { _ = ReformimeDSN.run($0, $1, preferOriginal: true) }
        #expect(orig == "failed orig@b\n")
    }

    @Test func decodeHeader() {
        let out = Self.capture(["-h", "=?iso-8859-1?Q?H=F3la!?= =?utf-8?Q??="], "") { ctx, _ in
            _ = ReformimeHeaderCoding.decodeUnstructured(ctx)
        }
        #expect(out == "Hóla!\n\n")
    }

    @Test func encodeHeader() {
        let out = Self.capture(["-o", "Hóla! café"], "") { ctx, _ in _ = ReformimeHeaderCoding.encodeUnstructured(ctx) }
        #expect(out == "=?UTF-8?B?SMOzbGEhIGNhZsOp?=\n") // charset name as given (-c default here: UTF-8)
    }

    @Test func defaultFileNameIsSanitised() throws {
        let msg = "MIME-Version: 1.0\nContent-Type: text/plain; name=\"../my file (1).txt\"\n\nx\n"
        let bytes = Array(msg.utf8)
        let m = MIMEParser.parse(bytes)
        let ctx = ReformimeContext(options: try! ReformimeOptions(Self.args([]), defaultCharset: "UTF-8"), out: FDOutput(fd: -1))
        let name = ReformimeFileNames(ctx: ctx, message: m, index: 0)
        let suggested = try name.suitableName(prefix: Array("p-".utf8), renaming: false)
        #expect(suggested == Array("p-.._my_file__1_.txt".utf8))
    }
}

/// `-r7`, `-u` address headers, `-H` and `-O` (expected bytes recorded from Debian's 2.9.3).
extension ReformimeTests {
    @Test func rewrite7bitEncodesQuotedPrintable() throws {
        let out = try Self.capture(["-r7"], "From: a@b\nSubject: x\n\nCafé line with trailing space \nnext\n") {
            try ReformimeRewrite.run($0, $1, mode: .sevenBit)
        }
        #expect(out.hasSuffix("by reformime (maildrop 2.9.3)\n\nCaf=C3=A9 line with trailing space=20\nnext\n"))
    }

    @Test(arguments: [
        ("=?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <juergen@example.de>", "Jürgen Müller <juergen@example.de>\n"),
        ("\"Quoted, Name\" <q@example.com>, plain@example.org", "\"Quoted, Name\" <q@example.com>, \nplain@example.org\n"),
        ("undisclosed-recipients:;", "undisclosed-recipients: \n;\n"),
        ("Team: a@example.org, b@example.org;", "Team: \na@example.org, \nb@example.org;\n"),
        ("joe@example.com (Joe Brown)", "Joe Brown <joe@example.com>\n"),
        ("J. Smith <j@x.org>", "\"J. Smith\" <j@x.org>\n"),
        ("=?utf-8?q?a?= b =?utf-8?q?c?= =?utf-8?q?d?= <a@b>", "a b cd <a@b>\n"),
        ("\"=?utf-8?q?a?=\" =?utf-8?q?b?= <x@y>", "\"a\\\" b\" <x@y>\n"),
        ("=?bogus?q?a?= <a@b>", "\"[unknown character set: bogus -> utf-8]\" <a@b>\n"),
        ("x@xn--bcher-kva.de", "x@xn--bcher-kva.de\n"),
        ("foo bar", "foo, \nbar\n"),
        ("\"unterminated", "\"unterminated\"\n"),
        ("", "\n"),
    ])
    func decodeAddressHeader(input: String, expected: String) {
        let out = Self.capture(["-c", "utf-8", "-H", input], "") { ctx, _ in
            #expect(ReformimeHeaderCoding.decodeAddresses(ctx) == 0)
        }
        #expect(out == expected)
    }

    @Test(arguments: [
        ("Jürgen Müller <juergen@example.de>", "=?utf-8?B?SsO8cmdlbiBNw7xsbGVy?= <juergen@example.de>\n"),
        ("\"Renée\" <renee@example.org>, plain@example.org", "=?utf-8?B?UmVuw6ll?= <renee@example.org>,\n  plain@example.org\n"),
        ("Team: a@x.org, \"B b\" <b@x.org>;", "Team:\n  a@x.org,\n  B b <b@x.org>;\n"),
        ("undisclosed-recipients:;", "undisclosed-recipients:\n  ;\n"),
        ("J. Smith <j@x.org>", "\"J. Smith\" <j@x.org>\n"),
        ("\"A \\\"q\\\" b\" <a@b>", "\"A \\\"q\\\" b\" <a@b>\n"),
        ("joe@x.com (Joe Brown)", "Joe Brown <joe@x.com>\n"),
        ("\"weird local\"@x.org", "<\"weird local\"@x.org>\n"),
        ("", "\n"),
    ])
    func encodeAddressHeader(input: String, expected: String) {
        let out = Self.capture(["-c", "utf-8", "-O", input], "") { ctx, _ in
            #expect(ReformimeHeaderCoding.encodeAddresses(ctx) == 0)
        }
        #expect(out == expected)
    }

    @Test func encodeAddressHeaderConvertsAddressesToUTF8() {
        let out = Self.capture(["-c", "iso-8859-1", "-O", "x"], "") { ctx, _ in
            #expect(ReformimeAddressCoding.encodedList([0x4D, 0xFC, 0x6C, 0x6C, 0x65, 0x72], charset: ctx.charset)
                == Array("Müller".utf8))
        }
        #expect(out == "")
    }

    @Test func utf8ModeShowsAddressHeadersDecoded() {
        let msg = "From: \"Original Author\" <author@example.com>\nTo: =?iso-8859-1?q?Keld_J=F8rn_Simonsen?= <keld@example.dk>,\n\t\"Third, Person\" <third@example.org>\nCc: a@b, (Joe\nSubject: s\n\nbody\n"
        let out = Self.capture(["-u"], msg) { ctx, m in ReformimeUTF8.run(ctx, m) }
        #expect(out == "From: Original Author <author@example.com>\nTo: Keld Jørn Simonsen <keld@example.dk>, \"Third, Person\" <third@example.org>\nCc: a@b, \"(Joe\"\nSubject: s\nbody\n")
    }
}
