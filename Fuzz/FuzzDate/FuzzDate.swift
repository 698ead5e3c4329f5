// libFuzzer entry for MailCore's dates (`RFC5322Date(parsing:)` and `formattedBytes`, RFC 5322
// §3.3 and §4.3). Scripts/fuzz Date N; a plain build replays the files given as arguments.
#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import MailCore

func fuzzDate(_ bytes: [UInt8]) {
    if let date = RFC5322Date(parsing: bytes) {
        checkRoundTrip(date, input: bytes)
    }

    // Any instant in years 1...9998 and any offset up to ±23:59 formats to something that
    // parses back to the same value.
    guard bytes.count >= 10 else { return }
    var raw: UInt64 = 0
    for b in bytes[0..<8] { raw = raw << 8 | UInt64(b) }
    let first = CivilDateTime.daysFromCivil(year: 1, month: 1, day: 2) * 86_400
    let last = CivilDateTime.daysFromCivil(year: 9998, month: 12, day: 30) * 86_400
    let epoch = first + Int64(raw % UInt64(last - first))
    let offset = Int(Int16(bitPattern: UInt16(bytes[8]) << 8 | UInt16(bytes[9]))) % (24 * 60)
    checkRoundTrip(RFC5322Date(epochSeconds: epoch, offsetMinutes: offset), input: bytes)
}

func checkRoundTrip(_ date: RFC5322Date, input: [UInt8]) {
    let c = date.components
    fuzzCheck((1...12).contains(c.month) && (1...31).contains(c.day) && (0...23).contains(c.hour)
              && (0...59).contains(c.minute) && (0...59).contains(c.second) && (0...6).contains(c.weekday),
              "components out of range: \(c) from \(fuzzShow(input))")
    let text = date.formattedBytes
    let back = RFC5322Date(parsing: text)
    fuzzCheck(back == date, "\(fuzzShow(input)) -> \(date) -> \(fuzzShow(text)) -> \(String(describing: back))")
    fuzzCheck(back.map { $0.formattedBytes == text } ?? false, "formatting is not stable for \(fuzzShow(text))")
}

#if FUZZING
@_cdecl("FuzzDate_main")
func fuzzDateMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzDate)
}
#else
@main
struct FuzzDateReplay {
    static func main() {
        exit(FuzzDriver.replay(Array(CommandLine.arguments.dropFirst()), fuzzDate))
    }
}
#endif
