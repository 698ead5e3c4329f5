// libFuzzer entry for maildrop's lexer and parser (`MaildropParser.parse`), in normal and
// embedded mode. Nothing runs: a filter file is only read. Scripts/fuzz Maildrop N; a plain
// build replays the files given as arguments.
#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import Maildrop

func fuzzMaildrop(_ bytes: [UInt8]) {
    for embedded in [false, true] {
        do {
            _ = try MaildropParser.parse(bytes, embedded: embedded)
        } catch {
            // A syntax error names a line of the input.
            let lines = bytes.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
            fuzzCheck(error.line >= 1 && error.line <= lines, "error line \(error.line) outside 1...\(lines)")
        }
    }
}

#if FUZZING
@_cdecl("FuzzMaildrop_main")
func fuzzMaildropMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzMaildrop)
}
#else
@main
struct FuzzMaildropReplay {
    static func main() {
        exit(FuzzDriver.replay(Array(CommandLine.arguments.dropFirst()), fuzzMaildrop))
    }
}
#endif
