import Testing
@testable import Maildrop

@Suite struct MaildropParserTests {
    func parse(_ text: String, embedded: Bool = false) throws(MaildropSyntaxError) -> [MaildropStatement] {
        try MaildropParser.parse(Array(text.utf8), embedded: embedded)
    }

    func syntaxError(_ text: String, embedded: Bool = false) -> MaildropSyntaxError? {
        do {
            _ = try parse(text, embedded: embedded)
            return nil
        } catch {
            return error
        }
    }

    @Test func tokensOfWordsPatternsAndDivision() throws {
        let tokens = try MaildropLexer.tokenize(Array("X = 1/10 + 7 / 2\nif (/^From: a\\/b/:hD,1,2)".utf8)).map(\.token)
        #expect(tokens.contains(.word("1/10")))
        #expect(tokens.contains(.op("/")))
        #expect(tokens.contains(.pattern("^From: a\\/b", options: "hD,1,2")))
    }

    @Test func pathAfterToIsAWord() throws {
        let tokens = try MaildropLexer.tokenize(Array("to /var/mail/joe".utf8)).map(\.token)
        #expect(tokens == [.word("to"), .word("/var/mail/joe"), .end])
    }

    @Test func quotedStringsKeepUnknownEscapes() throws {
        let tokens = try MaildropLexer.tokenize(Array(#"X = "a\"b\n" 'c\'d'"#.utf8)).map(\.token)
        #expect(tokens.contains(.doubleQuoted("a\"b\\n")))
        #expect(tokens.contains(.singleQuoted("c'd")))
    }

    @Test func continuationInsideAString() throws {
        let tokens = try MaildropLexer.tokenize(Array("X = \"multi \\\n     line\"\n".utf8)).map(\.token)
        #expect(tokens.contains(.doubleQuoted("multi line")))
    }

    @Test func braceOnTheIfLineIsAnError() {
        let e = syntaxError("\n\nif (/^From:/) {\n  echo x\n}\n")
        #expect(e?.message == "Syntax error after )")
        #expect(e?.line == 3)
    }

    @Test func elseAfterBraceIsAnError() {
        let e = syntaxError("if (/x/)\n{\n  echo yes\n} else {\n  echo no\n}\n")
        #expect(e?.message == "Syntax error after }")
        #expect(e?.line == 4)
    }

    @Test func unterminatedQuote() {
        let e = syntaxError("echo ok\nX = \"open\n")
        #expect(e?.preface == "maildrop: Missing ', \", or `.")
        #expect(e?.line == 2)
    }

    @Test func embeddedModeRejectsDeliveries() {
        let e = syntaxError("echo hi\nto \"./Maildir\"\n", embedded: true)
        #expect(e?.preface == "maildrop: 'to' disabled in embedded mode.")
        #expect(e?.line == 2)
        #expect(syntaxError("X = `date`", embedded: true) != nil)
        #expect(syntaxError("echo hi\nexit\n", embedded: true) == nil)
    }

    @Test func elsifChainsAndWhile() throws {
        let s = try parse("if (/a/)\n  echo 1\nelsif (/b/)\n  echo 2\nelse\n  echo 3\nwhile ($N < 3)\n{\n N = $N + 1\n}\n")
        #expect(s.count == 2)
        guard case .ifElse(_, _, let otherwise) = s[0].kind, case .ifElse(_, _, let last) = otherwise.first?.kind else {
            Issue.record("not an if/elsif chain")
            return
        }
        #expect(last.count == 1)
        guard case .whileLoop = s[1].kind else { Issue.record("not a while"); return }
    }

    @Test func comparisonsDoNotChain() {
        #expect(syntaxError("X = 1 < 2 < 3") != nil)
    }

    @Test func precedenceOfMultiplication() throws {
        let s = try parse("X = 2 + 3 * 4")
        #expect(s.first?.kind == .expression(.assign("X", .binary("+", .text([.substituted("2")]),
            .binary("*", .text([.substituted("3")]), .text([.substituted("4")]))))))
    }

    @Test func hostileInputIsAnErrorNotACrash() {
        let deep = String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000)
        #expect(syntaxError("X = " + deep) != nil)
        let blocks = String(repeating: "exception {\n", count: 5_000)
        #expect(syntaxError(blocks) != nil)
        let nots = "X = " + String(repeating: "!", count: 100_000) + "1"
        #expect(syntaxError(nots) != nil)
        #expect(syntaxError(String(repeating: "\"", count: 3)) != nil)
        #expect(syntaxError("/unterminated pattern") != nil)
        #expect(syntaxError("if") != nil)
        #expect(syntaxError("}") != nil)
        #expect(syntaxError("foreach (x) =~ 3") != nil)
        let binary: [UInt8] = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 73 &+ 11) }
        _ = try? MaildropParser.parse(binary)
    }
}
