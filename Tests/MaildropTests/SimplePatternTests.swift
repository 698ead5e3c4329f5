import Testing
@testable import Maildrop

/// SimplePattern against Swift `Regex` (configured as maildrop compiles patterns): same verdict,
/// same MATCH, same MATCH1… for every pattern of the subset and every text.
@Suite struct SimplePatternTests {
    static let patterns = [
        "^X-Spam-Flag: *YES", "^Precedence: *(bulk|junk|list)", "^List-Id:", #"^From:.*@spam\.example"#,
        #"^Subject:.*\[announce\]"#, "^Subject:.*(viagra|lottery|winner)", #"^To:.*boss@example\.org"#,
        #"^Content-Type: *multipart\/report"#, "^From: *MAILER-DAEMON", "unsubscribe", "free", "^X-Priority: *1",
        "^Subject: *(.*)", "^Subject: (Re: )?(.*)$", "a|b|ab", "(a|ab)(c|bcd)(d*)", "x+y?z", "[a-c0-9_]+@[a-z.]+",
        "[^0-9 ]+", "[-a]", "^$", "^", "o$", "(()|a)+", #"\.\*\?"#, "(a(b(c)))", "^(Re|Fwd): *(.*)", "k", "S",
        "[A-Z]+", "[^:]*:", "(x)|y", "colou?r", "a.c", "(a|b", "a{2}", "a*?", "[[:alpha:]]", #"\d+"#, "(?:a)",
        "[a&&b]", "a**", "*a", "[z-a]", "^(a|b)$", #"\<"#,
    ]
    static let texts = [
        "X-Spam-Flag: YES", "x-spam-flag:yes", "Precedence: Junk", "precedence: listing", "List-Id: <l.example>",
        "From: a@spam.example", "From: a@spamXexample", "Subject: [ANNOUNCE] v2", "Subject: you are a Winner",
        "To: BOSS@example.org", "Content-Type: multipart/report; x", "From: mailer-daemon@x", "Please Unsubscribe",
        "FREE free Free", "X-Priority: 1 (High)", "Subject: Re: hello world", "Subject: ", "abcd", "ab", "aabcdd",
        "xyz xz xxyyz", "mail me: joe_1@example.org now", "12 abc: def", "-", "", "color colour COLOUR", "a.*?b",
        "abc", "Re: Fwd: x", "fwd:   y", "K", "sS", "\u{212A}elvin", "tab\there", "caf\u{E9}", "line\r", "aa", "a{2}",
    ]

    static func regex(_ source: String, caseless: Bool) -> Regex<AnyRegexOutput>? {
        guard let re = try? Regex(source) else { return nil }
        return re.ignoresCase(caseless).matchingSemantics(.unicodeScalar)
    }

    @Test(arguments: [true, false])
    func agreesWithRegex(caseless: Bool) {
        var fastPatterns = 0
        for source in Self.patterns {
            guard let simple = SimplePattern(source, caseless: caseless) else { continue }
            fastPatterns += 1
            let re = Self.regex(source, caseless: caseless)
            #expect(re != nil, "accepted a pattern Regex rejects: \(source)")
            guard let re else { continue }
            for text in Self.texts {
                let bytes = Array(text.utf8)
                let expected = (try? re.firstMatch(in: text)) ?? nil
                switch simple.firstMatch(bytes) {
                case .unsupported:
                    #expect(!bytes.allSatisfy(SimplePattern.supported), "\(source) gave up on \(text)")
                case .noMatch:
                    #expect(expected == nil, "\(source) missed \(text)")
                case .match(let m):
                    guard let expected else {
                        Issue.record("\(source) matched \(text), Regex does not")
                        continue
                    }
                    let out = expected.output
                    #expect(String(decoding: bytes[m.whole], as: UTF8.self) == String(out[0].substring ?? ""),
                            "\(source) on \(text)")
                    #expect(m.groups.count == out.count - 1, "\(source) group count")
                    for (n, g) in m.groups.enumerated() where n + 1 < out.count {
                        #expect(g.map { String(decoding: bytes[$0], as: UTF8.self) } == out[n + 1].substring.map(String.init),
                                "\(source) on \(text): group \(n + 1)")
                    }
                }
            }
        }
        #expect(fastPatterns >= 30)
    }

    /// Patterns and texts built from a small alphabet by a fixed-seed generator, so that
    /// backtracking, alternation order and group captures meet many overlaps.
    @Test func agreesWithRegexOnGeneratedCases() {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(n))
        }
        let atoms = ["a", "b", "A", ":", " ", ".", "[ab]", "[^:]", "[a-b]", #"\."#]
        let quantifiers = ["", "", "*", "+", "?"]
        func sequence(_ depth: Int) -> String {
            var out = ""
            for _ in 0..<(1 + next(4)) {
                if depth < 2 && next(5) == 0 {
                    out += "(" + (0..<(1 + next(3))).map { _ in sequence(depth + 1) }.joined(separator: "|") + ")"
                } else {
                    out += atoms[next(atoms.count)] + quantifiers[next(quantifiers.count)]
                }
            }
            return out
        }
        let letters: [Character] = ["a", "b", "A", "B", ":", " ", "."]
        var checked = 0
        for _ in 0..<400 {
            var source = sequence(0)
            if next(3) == 0 { source = "^" + source }
            if next(4) == 0 { source += "$" }
            let caseless = next(2) == 0
            guard let simple = SimplePattern(source, caseless: caseless), let re = Self.regex(source, caseless: caseless) else {
                Issue.record("not accepted: \(source)")
                continue
            }
            for _ in 0..<8 {
                let text = String((0..<next(9)).map { _ in letters[next(letters.count)] })
                let bytes = Array(text.utf8)
                let expected = (try? re.firstMatch(in: text)) ?? nil
                switch simple.firstMatch(bytes) {
                case .unsupported:
                    Issue.record("\(source) gave up on \(text)")
                case .noMatch:
                    #expect(expected == nil, "\(source) missed \(text)")
                case .match(let m):
                    guard let expected else {
                        Issue.record("\(source) matched \(text), Regex does not")
                        continue
                    }
                    let out = expected.output
                    var ours = [String(decoding: bytes[m.whole], as: UTF8.self) as String?]
                    ours += m.groups.map { g in g.map { String(decoding: bytes[$0], as: UTF8.self) } }
                    let theirs = (0..<out.count).map { out[$0].substring.map(String.init) }
                    #expect(ours == theirs, "\(source) on '\(text)' caseless \(caseless)")
                }
                checked += 1
            }
        }
        #expect(checked > 3000)
    }

    @Test func leavesOtherSyntaxToRegex() {
        for source in ["a{2}", "a*?", "a++", "[[:alpha:]]", #"\d+"#, "(?:a)", "(?i)a", "[a&&b]", "[a--b]", "(a)*", "a^b",
                       "(a|b", "a)", "*a", "[z-a]", "[a-Z]", "^a|b", "a|b$", "caf\u{E9}", #"\bx"#, #"\1"#, "[^a]"] {
            #expect(SimplePattern(source, caseless: true) == nil, "\(source)")
        }
        #expect(SimplePattern("[^a]", caseless: false) != nil)
        // POSIX bracket syntax (a FuzzSimplePattern finding: Regex rejects `[::]`).
        for source in ["[::]", "[:a:]", "[.a.]", "[=a=]", "[:]", "[--]", "[a--]", "[--a]"] {
            #expect(SimplePattern(source, caseless: true) == nil, "\(source)")
        }
        #expect(SimplePattern("[^:]", caseless: true) != nil)
        #expect(SimplePattern("[a:]", caseless: true) != nil)
        #expect(SimplePattern("[^0-9]", caseless: true) != nil)
    }

    @Test func givesUpOnPathologicalBacktracking() {
        let simple = SimplePattern(".*.*.*.*.*x", caseless: true)
        #expect(simple != nil)
        let text = Array(repeating: UInt8(ascii: "a"), count: 200)
        if case .unsupported = simple?.firstMatch(text) {} else { Issue.record("expected the step budget to end the search") }
    }

    @Test func setsMatchVariablesLikeRegex() throws {
        let interpreter = MaildropInterpreter(
            message: Array("Subject: Re: Lunch Plans\n\nbody\n".utf8), fileName: "t", environment: [:], embedded: true)
        let program = try MaildropParser.parse(Array("if (/^Subject: *(Re: *)?(.*)$/)\n{\n  A=\"$MATCH1|$MATCH2|$MATCH\"\n}\n".utf8))
        do throws(MaildropInterruption) { try interpreter.run(program) } catch { Issue.record("\(error)") }
        #expect(interpreter.get("A") == "Re: |Lunch Plans|Subject: Re: Lunch Plans")
    }
}
