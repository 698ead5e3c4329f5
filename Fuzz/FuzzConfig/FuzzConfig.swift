// libFuzzer entry for MailConfig's parsers: every config-file parser gets the same bytes.
// Built by Scripts/fuzz with -DFUZZING; a plain build reads one input from stdin instead,
// to replay a crash file.
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
// SwiftPM links an executable target with `main` aliased to `<Target>_main`, so libFuzzer's own
// main is not used; this one hands control to libFuzzer's driver instead.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    parseEverything(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@_cdecl("FuzzConfig_main")
func fuzzConfigMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzConfig)
}
#else
@main
struct FuzzConfigReplay {
    static func main() {
        var bytes: [UInt8] = []
        while let line = readLine(strippingNewline: false) { bytes += Array(line.utf8) }
        parseEverything(bytes)
    }
}
#endif
