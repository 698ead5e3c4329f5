import Testing
@testable import POP3

private func encode(_ message: String, top: Int? = nil, split: Bool = false) -> String {
    var encoder = POP3MessageEncoder(topBodyLines: top)
    var out: [UInt8] = []
    if split {
        for byte in message.utf8 { encoder.encode([byte], into: &out) }
    } else {
        encoder.encode(Array(message.utf8), into: &out)
    }
    encoder.finish(into: &out)
    return String(decoding: out, as: UTF8.self)
}

@Suite struct POP3EncoderTests {
    @Test func lfBecomesCRLFAndDotsAreStuffed() {
        let message = "Subject: x\n\n.hidden\n..two\nend\n"
        let expected = "Subject: x\r\n\r\n..hidden\r\n...two\r\nend\r\n.\r\n"
        #expect(encode(message) == expected)
        #expect(encode(message, split: true) == expected)
    }

    @Test func missingFinalLineEndIsAdded() {
        #expect(encode("a\nb") == "a\r\nb\r\n.\r\n")
        #expect(POP3MessageEncoder.wireSize(of: Array("a\nb".utf8)) == 6)
    }

    @Test func sizeCountsCRLF() {
        // 20 bytes, 3 lines → 23 (spec/access.md §3.3).
        let message = "Subject: hell\n\nbody\n"
        #expect(message.utf8.count == 20)
        #expect(POP3MessageEncoder.wireSize(of: Array(message.utf8)) == 23)
        #expect(POP3MessageEncoder.wireSize(of: Array("From: ab\nTo: bb\nbody\n".utf8)) == 24)
        #expect(POP3MessageEncoder.wireSize(of: Array("x\r\ny\r\n".utf8)) == 6)
        #expect(POP3MessageEncoder.wireSize(of: [UInt8]()) == 0)
    }

    @Test func existingCRLFIsKept() {
        #expect(encode("a\r\nb\r\n") == "a\r\nb\r\n.\r\n")
    }

    @Test func topSendsHeadersAndLines() {
        let message = "A: 1\nB: 2\n\nl1\nl2\n.l3\nl4\n"
        #expect(encode(message, top: 0) == "A: 1\r\nB: 2\r\n\r\n.\r\n")
        #expect(encode(message, top: 3) == "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n..l3\r\n.\r\n")
        #expect(encode(message, top: 3, split: true) == "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n..l3\r\n.\r\n")
        #expect(encode(message, top: 100) == encode(message))
        #expect(encode("A: 1\r\n\r\nbody\r\n", top: 0) == "A: 1\r\n\r\n.\r\n")
    }

    @Test func fastPathMatchesTheByteLoop() {
        // RETR's line-at-a-time path against TOP with more lines than the message has (byte loop).
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [UInt8(ascii: "."), UInt8(ascii: "a"), 10, 13, UInt8(ascii: " ")]
        for _ in 0..<300 {
            let bytes = (0..<Int.random(in: 0..<200, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            var fast = POP3MessageEncoder()
            var slow = POP3MessageEncoder(topBodyLines: Int.max)
            var a: [UInt8] = []
            var b: [UInt8] = []
            let cut = bytes.isEmpty ? 0 : Int.random(in: 0...bytes.count, using: &generator)
            fast.encode(bytes[..<cut], into: &a)
            fast.encode(bytes[cut...], into: &a)
            fast.finish(into: &a)
            slow.encode(bytes, into: &b)
            slow.finish(into: &b)
            #expect(a == b, "\(bytes)")
        }
    }

    @Test func rawPathCountsExactlyAndMatchesTheByteLoop() {
        // What POP3MessageFile writes into the socket's buffer: the counted size, then the
        // bytes, chunk by chunk (CR at a chunk's end, a dot after a chunk's last line feed).
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [UInt8(ascii: "."), UInt8(ascii: "a"), 10, 13, UInt8(ascii: " ")]
        for _ in 0..<500 {
            let bytes = (0..<Int.random(in: 0..<300, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            var cuts = (0..<Int.random(in: 0...3, using: &generator)).map { _ in Int.random(in: 0...bytes.count, using: &generator) }
            cuts = [0] + cuts.sorted() + [bytes.count]
            var raw = POP3MessageEncoder()
            var a: [UInt8] = []
            for (from, to) in zip(cuts, cuts.dropFirst()) {
                bytes[from..<to].withUnsafeBufferPointer { chunk in
                    let count = raw.encodedCountIfWhole(chunk)!
                    let written = [UInt8](unsafeUninitializedCapacity: count + 1) { buffer, initialized in
                        initialized = raw.encodeWhole(chunk, to: buffer.baseAddress!)
                    }
                    #expect(written.count == count)
                    a += written
                }
            }
            raw.finish(into: &a)
            var slow = POP3MessageEncoder(topBodyLines: Int.max)
            var b: [UInt8] = []
            slow.encode(bytes, into: &b)
            slow.finish(into: &b)
            #expect(a == b, "\(bytes) \(cuts)")
        }
        #expect(POP3MessageEncoder(topBodyLines: 3).encodedCountIfWhole(UnsafeBufferPointer(start: nil, count: 0)) == nil)
    }
}
