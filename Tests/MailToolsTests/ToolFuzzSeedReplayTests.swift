#if canImport(Glibc)
import Glibc
#endif
import Testing
import MailTools

/// The committed seeds of the MailTools fuzz targets (Fuzz/seeds/MakemimeArgs and
/// Fuzz/seeds/Reformail) replayed through the same entry points, as FuzzSeedReplayTests does
/// for MailCore's.
enum ToolFuzzSeeds {
    static let root: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    static func files(_ thing: String) -> [String] {
        let directory = root + "/Fuzz/seeds/" + thing
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted().map { thing + "/" + $0 }
    }

    static func bytes(_ seed: String) -> [UInt8]? {
        let fd = open(root + "/Fuzz/seeds/" + seed, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return n == 0 ? out : nil }
            out += chunk[0..<n]
        }
    }
}

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
        #expect(!ToolFuzzSeeds.files("MakemimeArgs").isEmpty)
        #expect(!ToolFuzzSeeds.files("Reformail").isEmpty)
    }

    @Test(arguments: ToolFuzzSeeds.files("MakemimeArgs"))
    func makemimeArguments(_ seed: String) throws {
        let bytes = try #require(ToolFuzzSeeds.bytes(seed))
        var arguments = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Array($0) }
        if bytes.last == UInt8(ascii: "\n") { arguments.removeLast() }
        if Makemime.parsesArguments(arguments) {
            #expect(!Makemime.parsesArguments(arguments + [[UInt8(ascii: "x")]]))
            #expect(!Makemime.parsesArguments(Array(arguments.dropLast())))
        }
    }

    @Test(arguments: ToolFuzzSeeds.files("Reformail"))
    func reformail(_ seed: String) throws {
        let bytes = try #require(ToolFuzzSeeds.bytes(seed))
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
