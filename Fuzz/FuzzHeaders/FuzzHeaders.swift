// libFuzzer entry for MailCore's header reader (`HeaderReader`, RFC 5322 §2.2).
// Scripts/fuzz Headers N; a plain build replays the files given as arguments.
#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import MailCore

func fuzzHeaders(_ bytes: [UInt8]) {
    _ = HeaderReader.fuzz(bytes)
    let block = HeaderReader.read(bytes)
    fuzzCheck((0...bytes.count).contains(block.bodyOffset), "body offset \(block.bodyOffset) outside 0...\(bytes.count)")

    // The headers' raw bytes, then the separator line, are exactly the bytes before the body.
    var joined: [UInt8] = []
    for h in block.headers {
        fuzzCheck(!h.lines.isEmpty && !h.raw.isEmpty, "empty header")
        fuzzCheck(h.lines.allSatisfy { !$0.contains(UInt8(ascii: "\n")) }, "line holds a newline")
        fuzzCheck(h.lines.dropFirst().allSatisfy { isCSpace($0.first) }, "continuation without leading space")
        fuzzCheck(!h.lines[0].isEmpty, "header starts with an empty line")
        let newlines = h.raw.count { $0 == UInt8(ascii: "\n") }
        fuzzCheck(newlines == h.lines.count || (newlines == h.lines.count - 1 && h.raw.last != UInt8(ascii: "\n")),
                  "\(h.lines.count) lines but \(newlines) newlines in \(fuzzShow(h.raw))")
        fuzzCheck(!h.folded.isEmpty && !h.unfolded.contains(UInt8(ascii: "\n")), "unfolded keeps a newline")
        fuzzCheck(h.value.count <= h.unfolded.count, "value longer than the header")
        if let name = h.name {
            fuzzCheck(h.lines[0].starts(with: name), "name is not a prefix of the first line")
            fuzzCheck(h.isNamed(name), "header is not named its own name \(fuzzShow(name))")
        }
        joined += h.raw
    }
    fuzzCheck(bytes.starts(with: joined), "raw headers are not the input's prefix")
    let rest = bytes[joined.count..<block.bodyOffset]
    if block.hasSeparator {
        // An empty line, or a lone CR at the very end of the input.
        fuzzCheck(rest.elementsEqual([0x0A]) || rest.elementsEqual([0x0D, 0x0A])
                  || (rest.elementsEqual([0x0D]) && block.bodyOffset == bytes.count), "separator is \(fuzzShow(rest))")
    } else {
        fuzzCheck(rest.isEmpty && block.bodyOffset == bytes.count, "no separator but \(rest.count) bytes left")
    }

    // Offsets are relative to the slice: reading a slice gives the same block.
    var padded: [UInt8] = [0x41, 0x0A]
    padded += bytes
    let sliced = HeaderReader.read(padded[2...])
    fuzzCheck(sliced == block, "slice read differs from array read")

    // Skipping blank lines only removes empty lines in front.
    let skipping = HeaderReader.read(bytes, skipLeadingBlankLines: true)
    fuzzCheck((0...bytes.count).contains(skipping.bodyOffset), "skipping: body offset outside the input")
    fuzzCheck(skipping.headers.count >= block.headers.count, "skipping blank lines lost headers")
    if bytes.first != 0x0A, !bytes.starts(with: [0x0D, 0x0A]), bytes != [0x0D] {
        fuzzCheck(skipping == block, "skipping changed a block without leading blank lines")
    }
}

func isCSpace(_ b: UInt8?) -> Bool {
    guard let b else { return false }
    return b == 0x20 || (b >= 0x09 && b <= 0x0D)
}

#if FUZZING
@_cdecl("FuzzHeaders_main")
func fuzzHeadersMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzHeaders)
}
#else
@main
struct FuzzHeadersReplay {
    static func main() {
        exit(FuzzDriver.replay(Array(CommandLine.arguments.dropFirst()), fuzzHeaders))
    }
}
#endif
