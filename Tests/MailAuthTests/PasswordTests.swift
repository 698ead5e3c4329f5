import Testing
@testable import MailAuthCore

/// The table of spec/access.md §4.4 "Accepted hash formats": every example verifies `secret`.
@Test(arguments: [
    "abNANd1rDfiNc",
    "{MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==",
    "{MD5RAW}5ebe2294ecd0e0f08eab7690d2a6ee69",
    "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=",
    "{SSHA}+RFhsab2AfzZ0VfEdyknXtUT06RhYmNk",
    "{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=",
    "$1$iABm/ZwW$44RUCVaft7h/PEz/YqOAZ.",
    "{CRYPT}$1$iABm/ZwW$44RUCVaft7h/PEz/YqOAZ.",
    "{sha}5en6G6MezRroT3XKqkdPOmY/BfQ=",
])
func specHashesVerify(stored: String) {
    #expect(PasswordVerifier.verify("secret", against: stored))
    #expect(!PasswordVerifier.verify("Secret", against: stored))
    #expect(!PasswordVerifier.verify("secret ", against: stored))
    #expect(!PasswordVerifier.verify("", against: stored))
}

@Test func clearTextAndGarbageNeverMatch() {
    for stored in ["secret", "", "{MD5}", "{MD5}!!!", "{SSHA}YWJj", "{UNKNOWN}secret", "$", "{CRYPT}secret", "*", "!!"] {
        #expect(!PasswordVerifier.verify("secret", against: stored), "\(stored)")
    }
    #expect(!PasswordVerifier.verify("", against: ""))
}

@Test(arguments: PasswordMaker.Method.allCases.filter { !$0.rawValue.hasPrefix("hmac") })
func madeHashesVerify(method: PasswordMaker.Method) throws {
    let stored = try PasswordMaker.make("pä55 word", method: method)
    #expect(PasswordVerifier.verify("pä55 word", against: stored))
    // DES looks at the first 8 bytes only: change one of those.
    #expect(!PasswordVerifier.verify("pä56 word", against: stored))
    if method == .des {
        #expect(stored.utf8.count == 13)
    } else if method.rawValue.hasPrefix("$") {
        #expect(stored.hasPrefix(method.rawValue))
    } else {
        #expect(stored.hasPrefix(method.rawValue))
    }
}

@Test func sha512FormAndSaltedSHA() throws {
    let stored = try PasswordMaker.make("secret", method: .ldapSHA512)
    #expect(stored == "{SHA512}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2cmW192CF5bDufKRpayrW/isg==")
    // Two SSHA hashes of one password differ (random salt) and both verify.
    let a = try PasswordMaker.make("secret", method: .ldapSSHA1)
    let b = try PasswordMaker.make("secret", method: .ldapSSHA1)
    #expect(a != b)
    #expect(PasswordVerifier.verify("secret", against: a) && PasswordVerifier.verify("secret", against: b))
}

@Test func overlongAndNulPasswords() {
    let long = [UInt8](repeating: UInt8(ascii: "a"), count: AuthLimits.maxPasswordBytes + 1)
    #expect(throws: PasswordMaker.Failure.tooLong) { try PasswordMaker.make(long, method: .sha512crypt) }
    #expect(throws: PasswordMaker.Failure.containsNul) { try PasswordMaker.make([0x61, 0, 0x62], method: .sha512crypt) }
    #expect(!PasswordVerifier.verify(long, against: "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="))
    #expect(!PasswordVerifier.verify([0x61, 0], against: "$1$iABm/ZwW$44RUCVaft7h/PEz/YqOAZ."))
}

/// Courier's `userdbpw -hmac-*` output for "secret" (recorded from Debian's userdbpw 0.71).
@Test func courierHMACStates() throws {
    #expect(try PasswordMaker.make("secret", method: .hmacMD5) == "cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56")
    #expect(try PasswordMaker.make("secret", method: .hmacSHA1) == "091e0f4c6cb5277ee2beb639a60d0831b5c8adcdaee172433df3e96ba4f00fb1b6a490c3929d2034")
    #expect(try PasswordMaker.make("secret", method: .hmacSHA256)
            == "5a84072aab37d22275b139adf7a92564c7f674be98e77d991f6f689d29e0524572804f31b042016804d3dea2f4e991a21b1c8906be161594b202fb74afc8ceb3")
    #expect(try PasswordMaker.make("abc", method: .hmacMD5) == "465076e1c95ac134fc2ba88ad617b6660958f388d60423504ee7c46ce44be8b4")
}

/// RFC 2195 §2 example, checked from the clear password and from the stored HMAC state.
@Test func cramMD5RFC2195() throws {
    let challenge = Array("<1896.697170952@postoffice.reston.mci.net>".utf8)
    let password = Array("tanstaaftanstaaf".utf8)
    let expected = CramAlgorithm.md5.hmac(challenge: challenge, password: password)
    #expect(AuthEncoding.hex(expected) == "b913a602c7eda7a495b4e6e7334d3890")
    let state = try PasswordMaker.make(password, method: .hmacMD5)
    let fromState = try #require(CramAlgorithm.md5.hmac(challenge: challenge, storedState: state))
    #expect(CramAlgorithm.matches(response: "b913a602c7eda7a495b4e6e7334d3890", expected: fromState))
    #expect(!CramAlgorithm.matches(response: "b913a602c7eda7a495b4e6e7334d3891", expected: fromState))
    #expect(!CramAlgorithm.matches(response: "zz", expected: fromState))
    #expect(CramAlgorithm.md5.hmac(challenge: challenge, storedState: "abcd") == nil)
}

@Test(arguments: CramAlgorithm.allCases)
func cramFromStateEqualsFromPassword(algorithm: CramAlgorithm) throws {
    let method: PasswordMaker.Method = switch algorithm {
    case .md5: .hmacMD5
    case .sha1: .hmacSHA1
    case .sha256: .hmacSHA256
    }
    let challenge = Array("<0123456789ABCDEF0123456789ABCDEF@mail.example.test>".utf8)
    let state = try PasswordMaker.make("a longer password, more than sixty-four bytes long, to hash the key first", method: method)
    #expect(algorithm.hmac(challenge: challenge, storedState: state)
            == algorithm.hmac(challenge: challenge, password: Array("a longer password, more than sixty-four bytes long, to hash the key first".utf8)))
}

@Test func accountOptions() {
    let options = AccountOptions(parsing: "disableimap=1, group=staff,group=admins,disableinsecurepop3")
    #expect(options.disables(service: "imap", encrypted: true))
    #expect(options.disables(service: "imaps", encrypted: true))
    #expect(!options.disables(service: "pop3", encrypted: true))
    #expect(options.disables(service: "pop3", encrypted: false))
    #expect(options.values("group") == ["staff", "admins"])
    let merged = AccountOptions(parsing: "disableshared=0").merged(withDefaults: AccountOptions(parsing: "disableshared=1,disablewebmail=1"))
    #expect(merged.text == "disableshared=0,disablewebmail=1")
    #expect(!merged.disablesSharedFolders)
}

/// Which refusal the servers word: `disable<service>` always, `disableinsecure<service>` only without TLS.
@Test func accountOptionsSayWhyAServiceIsRefused() {
    let options = AccountOptions(parsing: "disableimap=1,disableinsecurepop3=1")
    #expect(options.refusal(service: "imap", encrypted: true) == .disabled)
    #expect(options.refusal(service: "imaps", encrypted: false) == .disabled)
    #expect(options.refusal(service: "pop3", encrypted: false) == .insecure)
    #expect(options.refusal(service: "pop3", encrypted: true) == nil)
    #expect(AccountOptions(parsing: "disableimap=0").refusal(service: "imap", encrypted: false) == nil)
}
