import Testing
@testable import MailConfig

/// One parse case: file text and the assignments expected.
struct VariableCase: CustomTestStringConvertible, Sendable {
    let text: String
    let expected: [(String, String, Int)]
    var testDescription: String { text.debugDescription }
}

private func values(_ text: String, environment: [String: String] = [:]) throws -> [(String, String, Int)] {
    try VariableFileParser.parse(text, file: "esmtpd", environment: environment).assignments.map { ($0.name, $0.value, $0.line) }
}

private func sameAssignments(_ a: [(String, String, Int)], _ b: [(String, String, Int)]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 && $0.2 == $1.2 }
}

@Test(arguments: [
    VariableCase(text: "PORT=25\n", expected: [("PORT", "25", 1)]),
    VariableCase(text: "PORT=25", expected: [("PORT", "25", 1)]),
    VariableCase(text: "\n\n# comment\nPORT=25 # trailing comment\n", expected: [("PORT", "25", 4)]),
    VariableCase(text: "  ADDRESS=0\n", expected: [("ADDRESS", "0", 1)]),
    VariableCase(text: "EMPTY=\nNEXT=1\n", expected: [("EMPTY", "", 1), ("NEXT", "1", 2)]),
    VariableCase(text: "A=\"\"\n", expected: [("A", "", 1)]),
    VariableCase(text: "ESMTPAUTH=\"PLAIN LOGIN\"\n", expected: [("ESMTPAUTH", "PLAIN LOGIN", 1)]),
    VariableCase(text: "X='a $b \"c\" \\d'\n", expected: [("X", "a $b \"c\" \\d", 1)]),
    VariableCase(text: "X=\"a \\\"q\\\" \\\\ \\$HOME \\n\"\n", expected: [("X", "a \"q\" \\ $HOME \\n", 1)]),
    VariableCase(text: "X=a\\ b\n", expected: [("X", "a b", 1)]),
    VariableCase(text: "X=one\"two\"'three'\n", expected: [("X", "onetwothree", 1)]),
    VariableCase(text: "X=\"line1\\\nline2\"\nY=2\n", expected: [("X", "line1line2", 1), ("Y", "2", 3)]),
    VariableCase(text: "X=abc\\\ndef\nY=2\n", expected: [("X", "abcdef", 1), ("Y", "2", 3)]),
    VariableCase(text: "X=\"two\nlines\"\nY=3\n", expected: [("X", "two\nlines", 1), ("Y", "3", 3)]),
    VariableCase(text: "A=1 B=2\n", expected: [("A", "1", 1), ("B", "2", 1)]),
    VariableCase(text: "A=1; B=2\n", expected: [("A", "1", 1), ("B", "2", 1)]),
    VariableCase(text: "export A=1\nexport A\n", expected: [("A", "1", 1)]),
    VariableCase(text: "A=x\nB=\"$A y\"\nC=${A}z\nD=$A.$UNSET.\n", expected: [("A", "x", 1), ("B", "x y", 2), ("C", "xz", 3), ("D", "x..", 4)]),
    VariableCase(text: "PRICE=5$\nQ=\"$ 1\"\n", expected: [("PRICE", "5$", 1), ("Q", "$ 1", 2)]),
    VariableCase(text: "PORT=25\r\nADDRESS=0\r\n", expected: [("PORT", "25", 1), ("ADDRESS", "0", 2)]),
    VariableCase(text: "GLOB=*.pem\n", expected: [("GLOB", "*.pem", 1)]),
    VariableCase(text: "##NAME: PORT:1\n#\n# The port.\n\nPORT=2525\n", expected: [("PORT", "2525", 5)]),
])
func parsesAssignments(_ testCase: VariableCase) throws {
    #expect(sameAssignments(try values(testCase.text), testCase.expected))
}

@Test func expandsFromEarlierFiles() throws {
    let parsed = try values("IMAP_CAPABILITY_TLS=\"$IMAP_CAPABILITY AUTH=PLAIN\"\n", environment: ["IMAP_CAPABILITY": "IMAP4rev1 IDLE"])
    #expect(sameAssignments(parsed, [("IMAP_CAPABILITY_TLS", "IMAP4rev1 IDLE AUTH=PLAIN", 1)]))
}

@Test func recordsMarkers() throws {
    let parsed = try VariableFileParser.parse("##VERSION: x\n##NAME: PORT:1\nPORT=1\n##NAME: ADDRESS:0\n", file: "f")
    #expect(parsed.markers == [SectionMarker(name: "PORT", version: 1, line: 2), SectionMarker(name: "ADDRESS", version: 0, line: 4)])
}

/// One bad file: the line the error must name and words the reason must contain.
struct BadVariableCase: CustomTestStringConvertible, Sendable {
    let text: String
    let line: Int
    let reason: String
    var testDescription: String { text.debugDescription }
}

@Test(arguments: [
    BadVariableCase(text: "PORT=25\nthis is not a setting\n", line: 2, reason: "expected '=' after this"),
    BadVariableCase(text: "PORT = 25\n", line: 1, reason: "no blanks are allowed around '='"),
    BadVariableCase(text: "A=1\nB=\"open\nC=3\n", line: 2, reason: "unterminated double quote"),
    BadVariableCase(text: "\n\nX='open\n", line: 3, reason: "unterminated single quote"),
    BadVariableCase(text: "X=a b\n", line: 1, reason: "unexpected text after the value of X"),
    BadVariableCase(text: "\nX=`date`\n", line: 2, reason: "command substitution"),
    BadVariableCase(text: "X=$(date)\n", line: 1, reason: "command substitution"),
    BadVariableCase(text: "X=${Y:-z}\n", line: 1, reason: "only ${NAME}"),
    BadVariableCase(text: "X=a|b\n", line: 1, reason: "must be quoted"),
    BadVariableCase(text: "X=$1\n", line: 1, reason: "not supported"),
    BadVariableCase(text: "1X=2\n", line: 1, reason: "expected a setting NAME=value, found '1'"),
    BadVariableCase(text: "A=1 \\\n  junk\n", line: 2, reason: "unexpected text"),
    BadVariableCase(text: "=5\n", line: 1, reason: "expected a setting"),
])
func reportsBadLines(_ testCase: BadVariableCase) {
    do {
        _ = try VariableFileParser.parse(testCase.text, file: "/site/etc/esmtpd")
        Issue.record("no error for \(testCase.text.debugDescription)")
    } catch {
        #expect(error.file == "/site/etc/esmtpd")
        #expect(error.line == testCase.line)
        #expect(error.reason.contains(testCase.reason), "\(error.reason)")
        #expect(error.description.hasPrefix("/site/etc/esmtpd:\(testCase.line): "))
    }
}

@Test func neverCrashesOnArbitraryBytes() {
    var generator = SystemRandomNumberGenerator()
    let alphabet: [UInt8] = Array("AB_=\"'\\$`{}()#\n\r \t;|x1".utf8) + [0, 0xFF, 0xC3]
    for _ in 0..<2_000 {
        let length = Int.random(in: 0..<60, using: &generator)
        let bytes = (0..<length).map { _ in alphabet.randomElement(using: &generator) ?? 0 }
        _ = try? VariableFileParser.parse(bytes, file: "fuzz")
    }
}

@Test func refusesHugeFiles() {
    let bytes = [UInt8](repeating: UInt8(ascii: "#"), count: ConfigLimits.maxFileBytes + 1)
    #expect(throws: ConfigError.self) { try VariableFileParser.parse(bytes, file: "big") }
}
