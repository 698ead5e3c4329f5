// libFuzzer entry for SPF record parsing and macro expansion: the bytes are a TXT record from
// the network. Parsing must accept or reject without trapping, and every domain spec the
// parser accepted must expand for both address families.
// Built by Scripts/fuzz with -DFUZZING; a plain build reads inputs named on the command line.
#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import SPF

func parseRecord(_ bytes: [UInt8]) {
    let text = "v=spf1 " + String(decoding: bytes, as: UTF8.self)
    guard let record = SPFRecord.parse(text) else { return }
    var context = SPFMacroContext(sender: "a.b-c@example.test", domain: "example.test", ip: "192.0.2.1",
                                  helo: "helo.example", receiver: "mx.example")
    for ip in ["192.0.2.1", "2001:db8::1"] {
        context.ip = ip
        for (_, mechanism) in record.directives {
            switch mechanism {
            case .include(let spec), .exists(let spec), .a(let spec?, _, _), .mx(let spec?, _, _), .ptr(let spec?):
                fuzzCheck((try? SPFMacro.expand(spec, context: context, explanation: false)) != nil,
                          "accepted domain spec does not expand: \(fuzzShow(bytes))")
            default:
                break
            }
        }
        if let redirect = record.redirect {
            fuzzCheck((try? SPFMacro.expand(redirect, context: context, explanation: false)) != nil,
                      "accepted redirect does not expand: \(fuzzShow(bytes))")
        }
    }
}

#if FUZZING
@_cdecl("FuzzSPF_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, parseRecord)
}
#else
@main
struct FuzzSPFReplay {
    static func main() {
        exit(FuzzDriver.replay(Array(CommandLine.arguments.dropFirst()), parseRecord))
    }
}
#endif
