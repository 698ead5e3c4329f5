// libFuzzer entry for maildrop's SimplePattern matcher, differential against Swift `Regex` on
// the subset SimplePattern accepts (Maildrop.SimplePatternProbe). Input: one flag byte (bit 0:
// case-sensitive, as the `D` option), the pattern up to the first newline, then the text.
// Patterns and texts are cut to 48 and 96 bytes so that Regex's own backtracking stays quick.
// Scripts/fuzz SimplePattern N; a plain build replays the files given as arguments.
#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import Maildrop

func fuzzSimplePattern(_ bytes: [UInt8]) {
    guard let flags = bytes.first else { return }
    let rest = bytes.dropFirst()
    let newline = rest.firstIndex(of: 0x0A) ?? rest.endIndex
    let pattern = String(decoding: rest[rest.startIndex..<newline].prefix(48), as: UTF8.self)
    let text = String(decoding: rest[min(newline + 1, rest.endIndex)...].prefix(96), as: UTF8.self)
    let verdict = SimplePatternProbe.compare(pattern: pattern, text: text, caseless: flags & 1 == 0)
    if case .disagree(let why) = verdict {
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
