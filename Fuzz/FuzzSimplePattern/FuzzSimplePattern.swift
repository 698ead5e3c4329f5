// libFuzzer entry for maildrop's SimplePattern matcher, differential against Swift `Regex` on
// the subset SimplePattern accepts (Maildrop.SimplePatternProbe). Input: one flag byte (bit 0:
// case-sensitive, as the `D` option), the pattern up to the first newline, then the text
// (SimplePatternProbe.decodeFuzzInput). The seeds are replayed by MaildropTests.
// Scripts/fuzz SimplePattern N; a plain build replays the files given as arguments.
#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import Maildrop

func fuzzSimplePattern(_ bytes: [UInt8]) {
    guard let (pattern, text, caseless) = SimplePatternProbe.decodeFuzzInput(bytes) else { return }
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
