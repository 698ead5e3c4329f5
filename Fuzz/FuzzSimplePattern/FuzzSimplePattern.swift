// libFuzzer entry for maildrop's SimplePattern matcher, differential against Swift `Regex` on
// the subset SimplePattern accepts (Maildrop.SimplePatternProbe). Input: one flag byte (bit 0:
// case-sensitive, as the `D` option; bit 7: generated mode), then either the pattern up to the
// first newline and the text (SimplePatternProbe.decodeFuzzInput), or choices from which
// SimplePatternGenerator grows a pattern and a matching-prone text. The seeds are replayed by MaildropTests.
// Scripts/fuzz SimplePattern N; a plain build replays the files given as arguments.
#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import Maildrop

func fuzzSimplePattern(_ bytes: [UInt8]) {
    // Flag bit 7: the bytes are choices for SimplePatternGenerator (a pattern grown from the
    // subset's grammar and a text likely to match it); else pattern and text are the bytes.
    guard let (pattern, text, caseless) = SimplePatternProbe.decodeEitherMode(bytes) else { return }
    if case .disagree(let why) = SimplePatternProbe.compare(pattern: pattern, text: text, caseless: caseless) {
        fuzzCheck(false, "/\(fuzzShow(Array(pattern.utf8)))/ on '\(fuzzShow(Array(text.utf8)))': \(why)")
    }
}

#if FUZZING
@_cdecl("FuzzSimplePattern_main")
func fuzzSimplePatternMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzSimplePattern)
}
#else
@main
struct FuzzSimplePatternReplay {
    static func main() {
        exit(FuzzDriver.replay(Array(CommandLine.arguments.dropFirst()), fuzzSimplePattern))
    }
}
#endif
