// libFuzzer entry for MailCore's address lists (`AddressTokenizer`, `AddressList.parse`, the
// printers). Scripts/fuzz Address N; a plain build replays the files given as arguments.
#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import MailCore

func fuzzAddress(_ bytes: [UInt8]) {
    _ = AddressList.fuzz(bytes)
    let source = Array(bytes.prefix { $0 != 0 })

    // Every token is the input slice at its offset; error offsets are inside the input.
    let tokenization = AddressTokenizer.tokenize(bytes)
    for t in tokenization.tokens {
        fuzzCheck(t.offset >= 0 && t.offset + t.text.count <= source.count,
                  "token at \(t.offset)+\(t.text.count) outside \(source.count) bytes")
        fuzzCheck(source[t.offset..<(t.offset + t.text.count)].elementsEqual(t.text),
                  "token text \(fuzzShow(t.text)) is not the input at \(t.offset)")
    }
    fuzzCheck(tokenization.errorOffsets.allSatisfy { (0...source.count).contains($0) }, "error offset outside the input")

    // Input stops at the first NUL.
    let list = AddressList.parse(bytes)
    fuzzCheck(list == AddressList.parse(source), "bytes after a NUL changed the result")

    // Every entry is made of input tokens; printing never leaves a line break in an address.
    for e in list.entries {
        fuzzCheck(!e.addressText.contains(UInt8(ascii: "\n")), "address text keeps a newline")
        _ = e.nameText
    }

    // Re-parsing and re-printing the printed form must not trap. It is not a fixed point in
    // general: Courier's rfc822_print drops the `, ` before an entry that starts with a comment
    // or special, and merges mixed display names into one quoted string, so the structure can
    // change over several rounds (seeds comment-then-words-name, group-after-comment-printing).
    var printed = list.printed
    for _ in 0..<3 { printed = AddressList.parse(printed).printed }

    let display = AddressDisplayPrinter.print(list) { $0 == [UInt8(ascii: ","), 0x20] ? [UInt8(ascii: ","), 0x0A, 0x20] : $0 }
    fuzzCheck(display.count <= 4 * bytes.count + 16, "display form grew from \(bytes.count) to \(display.count) bytes")
}

#if FUZZING
@_cdecl("FuzzAddress_main")
func fuzzAddressMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzAddress)
}
#else
@main
struct FuzzAddressReplay {
    static func main() {
        exit(FuzzDriver.replay(Array(CommandLine.arguments.dropFirst()), fuzzAddress))
    }
}
#endif
