import Testing
@testable import MailAuthCore

private func hex(_ bytes: [UInt8]) -> String { AuthEncoding.hex(bytes) }

/// FIPS 180 / RFC 1321 test vectors, including inputs that straddle block boundaries.
@Test(arguments: [
    ("", "d41d8cd98f00b204e9800998ecf8427e", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("abc", "900150983cd24fb0d6963f7d28e17f72", "a9993e364706816aba3e25717850c26c9cd0d89d",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "8215ef0796a20bcaaae116d3876c664a",
     "84983e441c3bd26ebaae4aa1f95129e5e54670f1", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
])
func digestVectors(input: String, md5: String, sha1: String, sha256: String) {
    #expect(hex(MD5.hash(input)) == md5)
    #expect(hex(SHA1.hash(input)) == sha1)
    #expect(hex(SHA256.hash(input)) == sha256)
}

@Test func sha512Vectors() {
    #expect(hex(SHA512.hash("abc")) == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
    #expect(hex(SHA512.hash("")) == "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")
}

@Test func millionAsInPieces() {
    var md5 = MD5()
    var sha1 = SHA1()
    let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 999)
    for _ in 0..<1001 {
        md5.update(chunk)
        sha1.update(chunk)
    }
    md5.update([UInt8(ascii: "a")])
    sha1.update([UInt8(ascii: "a")])
    #expect(hex(md5.finalize()) == "7707d6ae4e027c70eea2a935c2296f21")
    #expect(hex(sha1.finalize()) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
}

/// RFC 2202 (HMAC-MD5, HMAC-SHA1) and RFC 4231 (HMAC-SHA256) test case 2, plus a key longer
/// than a block (RFC 2202 case 6).
@Test func hmacVectors() {
    let key = Array("Jefe".utf8)
    let data = Array("what do ya want for nothing?".utf8)
    #expect(hex(HMAC<MD5>.authenticate(data, key: key)) == "750c783e6ab0b503eaa86e310a5db738")
    #expect(hex(HMAC<SHA1>.authenticate(data, key: key)) == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
    #expect(hex(HMAC<SHA256>.authenticate(data, key: key)) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    let longKey = [UInt8](repeating: 0xaa, count: 80)
    let text = Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
    #expect(hex(HMAC<MD5>.authenticate(text, key: longKey)) == "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd")
    #expect(hex(HMAC<SHA1>.authenticate(text, key: longKey)) == "aa4ae5e15272d00e95705637ce8a3b55ed402112")
}

/// RFC 6070 PBKDF2-HMAC-SHA1 vectors.
@Test func pbkdf2Vectors() {
    #expect(hex(PBKDF2<SHA1>.deriveBlock(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 1))
            == "0c60c80f961f0e71f3a9b524af6012062fe037a6")
    #expect(hex(PBKDF2<SHA1>.deriveBlock(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 4096))
            == "4b007901b765489abead49d926f721d065a429c1")
}

@Test func base64AndHex() {
    #expect(AuthEncoding.base64(Array("abcd".utf8)) == "YWJjZA==")
    #expect(AuthEncoding.decodeBase64("YWJjZA==") == Array("abcd".utf8))
    #expect(AuthEncoding.decodeBase64("YWJjZA") == Array("abcd".utf8))
    #expect(AuthEncoding.decodeBase64("YW=JjZA") == nil)
    #expect(AuthEncoding.decodeBase64("Y") == nil)
    #expect(AuthEncoding.decodeBase64("YWJj!A==") == nil)
    #expect(AuthEncoding.decodeHex("00ffAB") == [0, 255, 171])
    #expect(AuthEncoding.decodeHex("0") == nil)
    #expect(AuthEncoding.decodeHex("zz") == nil)
}

@Test func constantTimeEquality() {
    #expect(ConstantTime.equal([1, 2, 3], [1, 2, 3]))
    #expect(!ConstantTime.equal([1, 2, 3], [1, 2, 4]))
    #expect(!ConstantTime.equal([1, 2, 3], [1, 2]))
    #expect(!ConstantTime.equal([UInt8](), [0]))
    #expect(ConstantTime.equal([UInt8](), []))
}
