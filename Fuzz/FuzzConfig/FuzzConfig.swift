// libFuzzer entry for MailConfig's parsers: every config-file parser gets the same bytes.
// Built by Scripts/fuzz with -DFUZZING; a plain build replays the files given as arguments.
#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import MailConfig

func parseEverything(_ bytes: [UInt8]) {
    _ = try? VariableFileParser.parse(bytes, file: "fuzz", environment: ["A": "x"])
    _ = try? ListFileParser.parse(bytes, file: "fuzz")
    _ = try? ListFileParser.parse(bytes, file: "fuzz", comments: .wholeLine)
    _ = ListFileParser.firstLine(bytes)
    _ = try? AliasFileParser.parse(bytes, file: "fuzz")
    _ = try? AccessFileParser.parse(bytes, file: "fuzz")
    _ = try? DomainListParser.parse(bytes, file: "fuzz", hosted: true)
    _ = try? UserdbParser.parse(bytes, file: "fuzz")
    _ = IntervalParser.seconds(String(decoding: bytes, as: UTF8.self))
}

#if FUZZING
@_cdecl("FuzzConfig_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, parseEverything)
}
#else
@main
struct FuzzConfigReplay {
    static func main() {
        exit(FuzzDriver.replay(Array(CommandLine.arguments.dropFirst()), parseEverything))
    }
}
#endif
