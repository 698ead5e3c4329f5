#if canImport(Glibc)
import Glibc
#endif
import Testing
import MailTools

/// The option sets of Fuzz/FuzzReformail, picked by the seed's first byte.
let fuzzReformailOptionSets: [[String]] = [
    [], ["-c"], ["-f1"], ["-f0"], ["-d"],
    ["-x", "Subject:", "-X", "From:", "-x", "received"],
    ["-a", "X-Added: yes", "-A", "X-Always: 1", "-i", "Subject: new", "-I", "To: me"],
    ["-u", "Received:", "-U", "To:", "-R", "From:", "X-Old-From:"],
    ["-c", "-f1", "-I", "Subject:", "-a", "Message-ID: <fixed@fuzz>"],
    ["-d", "-f0", "-c", "-x", "Received:"],
]

@Suite struct ToolFuzzSeedReplayTests {
    @Test func seedsArePresent() {
        #expect(!FuzzSeeds.files("MakemimeArgs").isEmpty)
        #expect(!FuzzSeeds.files("Reformail").isEmpty)
    }

    @Test(arguments: FuzzSeeds.files("MakemimeArgs"))
    func makemimeArguments(_ seed: String) throws {
        let bytes = try #require(FuzzSeeds.bytes(seed))
        var arguments = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Array($0) }
        if bytes.last == UInt8(ascii: "\n") { arguments.removeLast() }
        if Makemime.parsesArguments(arguments) {
            #expect(!Makemime.parsesArguments(arguments + [[UInt8(ascii: "x")]]))
            #expect(!Makemime.parsesArguments(Array(arguments.dropLast())))
        }
    }

    @Test(arguments: FuzzSeeds.files("Reformail"))
    func reformail(_ seed: String) throws {
        let bytes = try #require(FuzzSeeds.bytes(seed))
        guard let selector = bytes.first else { return }
        let optionSet = Int(selector) % fuzzReformailOptionSets.count
        let arguments = fuzzReformailOptionSets[optionSet]
        let message = Array(bytes.dropFirst())
        let (output, status) = runReformail(arguments, message)
        #expect(status == 0)
        #expect(output.count <= 3 * message.count + 200)
        if optionSet <= 1, !message.contains(0), !message.contains(0x0D) {
            let (again, secondStatus) = runReformail(arguments, output)
            #expect(secondStatus == 0 && again == output)
        }
    }
}

/// Found by FuzzReformail: lines of lone CRs make `reformail -c` not idempotent; Debian's
/// reformail 2.9.3 gives the same bytes, so the fuzz invariant skips inputs with CR or NUL.
@Suite struct ReformailFuzzFindingTests {
    @Test func crLinesMatchDebian() {
        let first = runReformail(["-c"], Array("\r\r".utf8))
        #expect(first.output == Array("\r\n\n".utf8) && first.status == 0)
        #expect(runReformail(["-c"], first.output).output.isEmpty)
    }
}
