// libFuzzer entry for the DNS codec: the bytes are a reply from a name server. The decoder must
// reject or accept them without trapping; what it accepts must re-encode (names uncompressed)
// to a message that decodes to the same thing, and the answer reader must classify it.
// Built by Scripts/fuzz with -DFUZZING; a plain build reads inputs named on the command line.
#if canImport(Glibc)
import Glibc
#endif
import DNS
import FuzzSupport

func decodeReply(_ bytes: [UInt8]) {
    guard let message = try? DNSDecoder.decode(bytes) else { return }
    for question in message.questions {
        fuzzCheck(question.name.labels.reduce(1) { $0 + $1.count + 1 } <= 255, "name longer than 255 bytes")
        _ = try? DNSAnswerReader.step(for: message, name: question.name, type: question.type)
    }
    let encoded = DNSEncoder.encode(message)
    // Record data of unknown types keeps its bytes; TXT strings and names re-encode exactly.
    if let again = try? DNSDecoder.decode(encoded) {
        fuzzCheck(again.questions == message.questions, "questions changed on re-encoding: \(fuzzShow(bytes))")
        fuzzCheck(again.answers.count == message.answers.count, "answer count changed on re-encoding")
    } else {
        fuzzCheck(false, "re-encoded message does not decode: \(fuzzShow(bytes))")
    }
    for record in message.answers { _ = DNSAddressText.address(of: record) }
}

#if FUZZING
@_cdecl("FuzzDNS_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, decodeReply)
}
#else
@main
struct FuzzDNSReplay {
    static func main() {
        exit(FuzzDriver.replay(Array(CommandLine.arguments.dropFirst()), decodeReply))
    }
}
#endif
