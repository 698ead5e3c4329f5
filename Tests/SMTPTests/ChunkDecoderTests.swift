import Testing
@testable import SMTP

/// Reads `chunks` (the last one LAST) through one decoder, whole and byte by byte; both must
/// agree. Returns the stored message and the octets each chunk used from `chunk + trailer`.
private func decodeChunks(_ chunks: [String], trailer: String = "", sizeLimit: Int = 0) -> (stored: String, outcome: DataDecoder.Outcome) {
    var whole = ChunkDecoder(sizeLimit: sizeLimit)
    var split = ChunkDecoder(sizeLimit: sizeLimit)
    var a: [UInt8] = []
    var b: [UInt8] = []
    for (index, text) in chunks.enumerated() {
        let bytes = Array(text.utf8)
        let last = index == chunks.count - 1
        whole.begin(size: bytes.count, last: last, into: &a)
        split.begin(size: bytes.count, last: last, into: &b)
        // What follows the chunk on the wire is never taken.
        let input = bytes + Array(trailer.utf8)
        #expect(whole.decode(input[...], into: &a) == bytes.count)
        var used = 0
        for position in input.indices { used += split.decode(input[position...position], into: &b) }
        #expect(used == bytes.count)
        #expect(whole.isChunkComplete && split.isChunkComplete)
    }
    #expect(whole.isFinished && split.isFinished)
    #expect(a == b)
    #expect(whole.outcome == split.outcome)
    return (String(decoding: a, as: UTF8.self), whole.outcome)
}

struct ChunkDecoderTests {
    @Test func exactlyTheAnnouncedOctetsAreRead() {
        var decoder = ChunkDecoder()
        var out: [UInt8] = []
        decoder.begin(size: 5, last: false, into: &out)
        #expect(decoder.decode(Array("abc".utf8)[...], into: &out) == 3)
        #expect(decoder.remaining == 2)
        #expect(decoder.decode(Array("de\r\nQUIT\r\n".utf8)[...], into: &out) == 2)
        #expect(decoder.isChunkComplete && !decoder.isFinished)
        #expect(decoder.decode(Array("QUIT\r\n".utf8)[...], into: &out) == 0)
        #expect(out == Array("abcde".utf8))
        #expect(decoder.octetsReceived == 5)
    }

    /// SMTP smuggling: end-of-data look-alikes and command text inside a chunk are data; no dot
    /// is removed (RFC 3030 §2: no dot-stuffing in BDAT).
    @Test(arguments: [
        ("a\r\n.\r\nMAIL FROM:<x@y.z>\r\n", "a\n.\nMAIL FROM:<x@y.z>\n"),
        ("a\n.\nRCPT TO:<x@y.z>\r\n", "a\n.\nRCPT TO:<x@y.z>\n"),
        ("..leading dots\r\n.\r\n", "..leading dots\n.\n"),
        ("BDAT 3 LAST\r\nxyz\r\n", "BDAT 3 LAST\nxyz\n"),
    ])
    func smugglingLookalikesAreData(_ input: String, _ stored: String) {
        #expect(decodeChunks([input], trailer: "QUIT\r\n").stored == stored)
    }

    /// The one line-end rule of both paths: CR LF and bare LF end a line (stored LF), a bare
    /// CR is data; a CR LF split over two chunks is one line end.
    @Test(arguments: [
        (["a\r\nb\r\n"], "a\nb\n"),
        (["a\nb\n"], "a\nb\n"),
        (["a\rb\r\n"], "a\rb\n"),
        (["a\r", "\nb\r\n"], "a\nb\n"),
        (["a\r", "b\r\n"], "a\rb\n"),
        (["a\r\n", "", "b\r\n"], "a\nb\n"),
        (["no final line end"], "no final line end\n"),
        (["ends in CR\r"], "ends in CR\r\n"),
        ([""], ""),
        (["\r\n"], "\n"),
    ])
    func lineEnds(_ chunks: [String], _ stored: String) {
        #expect(decodeChunks(chunks).stored == stored)
    }

    /// For data without dot-stuffing, the chunk path stores exactly what the DATA path stores.
    @Test(arguments: ["a\r\nb\nc\rd\r\n", "x\r\r\ny\n\n\r\n", "Subject: s\r\n\r\nbody\r\n", "\r\n\r\n"])
    func sameStoredFormAsData(_ text: String) {
        var data = DataDecoder(sizeLimit: 0)
        var viaData: [UInt8] = []
        _ = data.decode(Array((text + ".\r\n").utf8)[...], into: &viaData)
        #expect(data.isFinished)
        #expect(decodeChunks([text]).stored == String(decoding: viaData, as: UTF8.self))
    }

    @Test func sizeLimitCountsAcrossChunksAndKeepsReading() {
        let (stored, outcome) = decodeChunks(["12345\r\n", "67890\r\n", "abc\r\n"], sizeLimit: 10)
        #expect(outcome.sizeExceeded)
        #expect(outcome.size == 16)
        #expect(stored == "12345\n6789")
    }

    @Test func lineLimit() {
        var decoder = ChunkDecoder(sizeLimit: 0, lineLimit: 4)
        var out: [UInt8] = []
        decoder.begin(size: 8, last: true, into: &out)
        _ = decoder.decode(Array("abc\nabcd".utf8)[...], into: &out)
        #expect(!decoder.outcome.lineTooLong)
        var long = ChunkDecoder(sizeLimit: 0, lineLimit: 4)
        long.begin(size: 6, last: true, into: &out)
        _ = long.decode(Array("abcde\n".utf8)[...], into: &out)
        #expect(long.outcome.lineTooLong)
    }

    @Test func zeroLastFinishesAtOnce() {
        var decoder = ChunkDecoder()
        var out: [UInt8] = []
        decoder.begin(size: 3, last: false, into: &out)
        _ = decoder.decode(Array("ab\r".utf8)[...], into: &out)
        decoder.begin(size: 0, last: true, into: &out)
        #expect(decoder.isFinished)
        #expect(out == Array("ab\r\n".utf8))
    }
}
