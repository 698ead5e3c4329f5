// libFuzzer entry for MailCore's MIME stack: `MIMEParser.parse`, the section walk and
// positions, `MIMEStreamParser` against the whole parse, `MIMEFuzz.run`, and the base64 and quoted-printable decoders (RFC 2045 §6.7, §6.8).
// Scripts/fuzz MIME N; a plain build replays the files given as arguments.
#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import MailCore

func fuzzMIME(_ bytes: [UInt8]) {
    _ = MIMEFuzz.run(bytes)
    let message = MIMEParser.parse(bytes)
    fuzzCheck(message.byteCount == bytes.count, "byte count \(message.byteCount) for \(bytes.count) bytes")
    // The limit is checked before each line, so the part that crosses it is kept:
    // the root plus at most maxEntities + 1 parts (Courier's RFC2045_ERR2COMPLEX rule).
    fuzzCheck(!message.entities.isEmpty && message.entities.count <= MIMEParser.maxEntities + 2,
              "\(message.entities.count) entities")
    let n = message.entities.count
    for (index, e) in message.entities.enumerated() {
        fuzzCheck(e.startPos >= 0 && e.startPos <= e.startBody && e.startBody <= e.endPos && e.endPos <= bytes.count,
                  "entity \(index): start \(e.startPos) body \(e.startBody) end \(e.endPos) of \(bytes.count)")
        fuzzCheck(e.endBody >= e.startBody && e.endBody <= e.endPos, "entity \(index): body end \(e.endBody) outside")
        for child in e.children {
            fuzzCheck(child > index && child < n && message.entities[child].parent == index, "entity \(index): bad child \(child)")
            let c = message.entities[child]
            fuzzCheck(c.startPos >= e.startBody && c.endPos <= e.endPos, "child \(child) outside its parent \(index)")
        }
        if let p = e.parent { fuzzCheck(p < index && message.entities[p].children.contains(index), "entity \(index): bad parent") }
    }
    let sections = message.sections()
    var seen = Set<Int>()
    for (index, id) in sections {
        fuzzCheck(index >= 0 && index < n && seen.insert(index).inserted, "section walk repeats or leaves the tree")
        let pos = message.position(of: index)
        fuzzCheck(0 <= pos.start && pos.start <= pos.startBody && pos.startBody <= pos.end && pos.end <= bytes.count,
                  "section \(id): position \(pos) outside \(bytes.count) bytes")
        let range = message.bodyRange(of: index)
        fuzzCheck(range.lowerBound >= 0 && range.upperBound <= bytes.count, "section \(id): body range outside")
        let name = id.map(String.init).joined(separator: ".")
        fuzzCheck(message.find(name) == index, "find(\(name)) is not section \(index)")
    }

    // MIMEStreamParser fed in pieces (their sizes taken from the input) gives the whole parse's structure.
    var streamer = MIMEStreamParser()
    var at = 0
    var k = 0
    while at < bytes.count {
        let size = min(bytes.count - at, 1 + Int(bytes[k % bytes.count]) * (k % 3 == 0 ? 97 : 1))
        streamer.feed(Array(bytes[at..<(at + size)]))
        at += size
        k += 1
    }
    let streamed = streamer.finish()
    fuzzCheck(streamed.byteCount == message.byteCount && streamed.entities.count == n,
              "streamed parse: \(streamed.entities.count) entities, whole: \(n)")
    for (index, (a, b)) in zip(streamed.entities, message.entities).enumerated() {
        fuzzCheck(a.startPos == b.startPos && a.startBody == b.startBody && a.endPos == b.endPos && a.endBody == b.endBody
                  && a.lineCount == b.lineCount && a.bodyLineCount == b.bodyLineCount && a.children == b.children
                  && a.contentType == b.contentType && a.boundary == b.boundary && a.transferEncoding == b.transferEncoding
                  && a.errors == b.errors && a.has8bitChars == b.has8bitChars && a.hasLongLine == b.hasLongLine,
                  "streamed parse differs at entity \(index)")
    }

    // Decoders: feeding the input in two pieces gives what one piece gives.
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    var b64 = Base64Decoder()
    var b64Out: [UInt8] = []
    b64.decode(bytes[..<cut], into: &b64Out)
    b64.decode(bytes[cut...], into: &b64Out)
    b64.finish(into: &b64Out)
    fuzzCheck(b64Out == Base64Decoder.decode(bytes), "base64 decoding depends on the split at \(cut)")
    fuzzCheck(b64Out.count <= bytes.count, "base64 decoding grew the input")
    let qp = QuotedPrintableDecoder.decode(bytes)
    fuzzCheck(qp.count <= bytes.count, "quoted-printable decoding grew the input")

    // Encoders then decoders give the bytes back (RFC 2045 §6.7, §6.8).
    fuzzCheck(Base64Decoder.decode(Base64Encoder.encode(bytes)) == bytes, "base64 round trip")
    // Courier's encoder drops a space still held back at the end of the input (makemime
    // does too), so the round trip gives the bytes without that one final space.
    let qpExpected = bytes.last == 0x20 ? Array(bytes.dropLast()) : bytes
    fuzzCheck(QuotedPrintableDecoder.decode(QuotedPrintableEncoder.encode(bytes)) == qpExpected,
              "quoted-printable round trip: \(fuzzShow(QuotedPrintableEncoder.encode(bytes)))")
}

#if FUZZING
@_cdecl("FuzzMIME_main")
func fuzzMIMEMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzMIME)
}
#else
@main
struct FuzzMIMEReplay {
    static func main() {
        exit(FuzzDriver.replay(Array(CommandLine.arguments.dropFirst()), fuzzMIME))
    }
}
#endif
