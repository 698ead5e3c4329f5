// libFuzzer entry for MailCore's RFC 2047 words: `RFC2047Decoder` (pieces, decode, display)
// and `RFC2047Encoder.encode`, whose output must decode back to the text (RFC 2047 §2, §6.2).
// Scripts/fuzz RFC2047 N; a plain build replays the files given as arguments.
#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import MailCore

func fuzzRFC2047(_ bytes: [UInt8]) {
    let pieces = RFC2047Decoder.pieces(bytes)
    let total = pieces.reduce(0) { $0 + $1.content.count }
    fuzzCheck(total <= bytes.count, "decoded pieces longer than the input")
    _ = RFC2047Decoder.decode(bytes, targetCharset: "UTF-8")
    _ = RFC2047Decoder.decode(bytes, targetCharset: "ISO-8859-1")
    RFC2047Decoder.display(bytes, targetCharset: "UTF-8") { _ in }

    // Valid UTF-8 text without NUL encodes to ASCII that decodes back to the text.
    let text = Array(bytes.prefix { $0 != 0 })
    guard String(validating: text, as: UTF8.self) != nil else { return }
    for allowed in [RFC2047Encoder.QAllowed.any, .comment, .word] {
        guard let encoded = RFC2047Encoder.encode(text, charset: "UTF-8", allowed: allowed) else {
            fuzzCheck(false, "UTF-8 text refused by the encoder")
            return
        }
        fuzzCheck(encoded.allSatisfy { $0 < 0x80 }, "encoded text is not ASCII: \(fuzzShow(encoded))")
        let decoded = RFC2047Decoder.decode(encoded, targetCharset: "UTF-8")
        fuzzCheck(decoded == text, "\(allowed): \(fuzzShow(text)) -> \(fuzzShow(encoded)) -> \(fuzzShow(decoded))")
    }
}

#if FUZZING
@_cdecl("FuzzRFC2047_main")
func fuzzRFC2047Main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzRFC2047)
}
#else
@main
struct FuzzRFC2047Replay {
    static func main() {
        exit(FuzzDriver.replay(Array(CommandLine.arguments.dropFirst()), fuzzRFC2047))
    }
}
#endif
