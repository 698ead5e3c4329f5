import Testing
@testable import MailAuthCore

/// RFC 4013 §3 examples, in order.
@Test func rfc4013Examples() throws {
    #expect(try SASLprep.prepare("I\u{00AD}X") == "IX")          // soft hyphen mapped to nothing
    #expect(try SASLprep.prepare("user") == "user")
    #expect(try SASLprep.prepare("USER") == "USER")                // case preserved
    #expect(try SASLprep.prepare("\u{00AA}") == "a")               // NFKC
    #expect(try SASLprep.prepare("\u{2168}") == "IX")              // NFKC
    #expect(throws: SASLprep.Failure.prohibited(0x07)) { try SASLprep.prepare("\u{0007}") }
    #expect(throws: SASLprep.Failure.bidi) { try SASLprep.prepare("\u{0627}\u{0031}") }
}

@Test func mappingNormalizationAndProhibition() throws {
    #expect(try SASLprep.prepare("a\u{00A0}b\u{3000}c") == "a b c")          // C.1.2 → SPACE
    #expect(try SASLprep.prepare("\u{200B}pass\u{FEFF}word") == "password")  // B.1
    #expect(try SASLprep.prepare("\u{FB01}x") == "fix")                      // compatibility ligature
    #expect(try SASLprep.prepare("e\u{0301}") == "\u{00E9}")                 // canonical composition
    #expect(Array(try SASLprep.prepare("\u{212B}").unicodeScalars.map(\.value)) == [0xC5]) // ANGSTROM SIGN → Å
    #expect(try SASLprep.prepare("\u{FF55}\u{FF53}\u{FF45}\u{FF52}") == "user")        // fullwidth
    #expect(try SASLprep.prepare("\u{1E9B}\u{0323}") == "\u{1E69}")          // ẛ̣ → ṩ (NFKC, UAX #15 example)
    #expect(try SASLprep.prepare("") == "")
    for bad: UInt32 in [0x00, 0x1F, 0x7F, 0x80, 0x9F, 0x06DD, 0xE000, 0xFDD0, 0xFFFF, 0x1FFFE, 0xFFFD, 0x2FF0, 0x200E, 0x206A, 0xE0001, 0xF0000] {
        guard let scalar = Unicode.Scalar(bad) else { continue }
        #expect(throws: SASLprep.Failure.self, "U+\(String(bad, radix: 16))") { try SASLprep.prepare("a" + String(Character(scalar))) }
    }
    // Right-to-left text: all RandAL, starting and ending with one, is fine.
    #expect(try SASLprep.prepare("\u{05D0}\u{05D1}") == "\u{05D0}\u{05D1}")
    #expect(try SASLprep.prepare("\u{0627}1\u{0628}") == "\u{0627}1\u{0628}")
    #expect(throws: SASLprep.Failure.bidi) { try SASLprep.prepare("\u{05D0}a\u{05D1}") }
    #expect(throws: SASLprep.Failure.bidi) { try SASLprep.prepare("1\u{05D0}") }
    // Unassigned in Unicode 3.2: allowed in query strings, refused in stored strings.
    #expect(try SASLprep.prepare("a\u{0221}") == "a\u{0221}")
    #expect(throws: SASLprep.Failure.unassigned(0x221)) { try SASLprep.prepare("a\u{0221}", storedString: true) }
    #expect(SASLprep.prepare(bytes: [0xFF]) == nil)
}

@Test func scramAndPlainUsePreparedStrings() {
    // RFC 5802: the verifier of a password equals that of its SASLprep form.
    let salt = Array("salt".utf8)
    let plain = ScramCredentials(password: Array("IX".utf8), salt: salt, iterations: 64, algorithm: .sha256)
    let roman = ScramCredentials(password: Array("I\u{00AD}X".utf8), salt: salt, iterations: 64, algorithm: .sha256)
    let numeral = ScramCredentials(password: Array("\u{2168}".utf8), salt: salt, iterations: 64, algorithm: .sha256)
    #expect(plain == roman && roman == numeral)

    var scram = SASLServer(mechanism: .scramSHA256, hostName: "h")
    _ = scram.start()
    guard case .needScramCredentials(_, let user) = scram.receive(AuthEncoding.base64(Array("n,,n=\u{FF55}ser\u{00AD},r=abc".utf8))) else {
        Issue.record("client-first refused")
        return
    }
    #expect(user == "user")
    var bad = SASLServer(mechanism: .scramSHA256, hostName: "h")
    _ = bad.start()
    guard case .failure = bad.receive(AuthEncoding.base64(Array("n,,n=\u{0627}x,r=abc".utf8))) else {
        Issue.record("bidi user accepted")
        return
    }

    var server = SASLServer(mechanism: .plain, hostName: "h")
    guard case .verifyPassword(nil, let plainUser, let password) = server.start(initialResponse: AuthEncoding.base64(Array("\0\u{2168}\0p\u{00AD}w".utf8))) else {
        Issue.record("PLAIN refused")
        return
    }
    #expect(plainUser == "IX")
    #expect(password == Array("p\u{00AD}w".utf8))   // passwords are checked as sent
}
