// libFuzzer entry for reformail's byte-level path (`Reformail.run(arguments:input:output:)`):
// the first input byte picks one of a few option sets, the rest is the message. No -s or -D
// (they start programs and write cache files). Input and output go through two unlinked
// scratch files. Scripts/fuzz Reformail N; a plain build replays the files given as arguments.
#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import MailTools

/// An option set and whether reformail's output is a fixed point of that same run.
struct ReformailCase {
    var arguments: [String]
    var idempotent = false
}

let reformailCases: [ReformailCase] = [
    ReformailCase(arguments: [], idempotent: true),
    ReformailCase(arguments: ["-c"], idempotent: true),
    ReformailCase(arguments: ["-f1"]),
    ReformailCase(arguments: ["-f0"]),
    ReformailCase(arguments: ["-d"]),
    ReformailCase(arguments: ["-x", "Subject:", "-X", "From:", "-x", "received"]),
    ReformailCase(arguments: ["-a", "X-Added: yes", "-A", "X-Always: 1", "-i", "Subject: new", "-I", "To: me"]),
    ReformailCase(arguments: ["-u", "Received:", "-U", "To:", "-R", "From:", "X-Old-From:"]),
    ReformailCase(arguments: ["-c", "-f1", "-I", "Subject:", "-a", "Message-ID: <fixed@fuzz>"]),
    ReformailCase(arguments: ["-d", "-f0", "-c", "-x", "Received:"]),
]

/// Two unlinked scratch files, reused for every input.
struct ScratchFiles {
    let input: Int32
    let output: Int32

    init() {
        func make() -> Int32 {
            var template = Array("/tmp/fuzz-reformail-XXXXXX".utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            fuzzCheck(fd >= 0, "cannot make a scratch file")
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            return fd
        }
        input = make()
        output = make()
    }

    /// Runs reformail on `message`; returns its status and output.
    func run(_ arguments: [String], on message: [UInt8]) -> (Int32, [UInt8]) {
        _ = ftruncate(input, 0)
        _ = message.withUnsafeBytes { pwrite(input, $0.baseAddress, $0.count, 0) }
        _ = lseek(input, 0, SEEK_SET)
        _ = ftruncate(output, 0)
        _ = lseek(output, 0, SEEK_SET)
        let status = Reformail.run(arguments: (["reformail"] + arguments).map { Array($0.utf8) },
                                   input: input, output: output)
        let size = Int(lseek(output, 0, SEEK_END))
        var out = [UInt8](repeating: 0, count: max(size, 0))
        let got = out.withUnsafeMutableBytes { pread(output, $0.baseAddress, $0.count, 0) }
        fuzzCheck(got == size, "cannot read the output back")
        return (status, out)
    }
}

let scratch = ScratchFiles()

func fuzzReformail(_ bytes: [UInt8]) {
    guard let selector = bytes.first else { return }
    let c = reformailCases[Int(selector) % reformailCases.count]
    let message = Array(bytes.dropFirst())
    let (status, output) = scratch.run(c.arguments, on: message)
    fuzzCheck(status == 0, "exit status \(status) for \(c.arguments)")
    // Added headers and `>` quoting or CR per line at most double the message.
    fuzzCheck(output.count <= 3 * message.count + 200, "output grew from \(message.count) to \(output.count) bytes")
    // A NUL cuts its line short and drops the line break (as Courier's C strings do), and a
    // line of CRs loses one CR per run (`\r\r` -> `\r\n\n` -> ``), so with those a second run
    // can differ; Debian's reformail behaves the same.
    if c.idempotent, !message.contains(0), !message.contains(0x0D) {
        let (again, second) = scratch.run(c.arguments, on: output)
        fuzzCheck(again == 0 && second == output,
                  "\(c.arguments) not idempotent: \(fuzzShow(message)) -> \(fuzzShow(output)) -> \(fuzzShow(second))")
    }
}

#if FUZZING
@_cdecl("FuzzReformail_main")
func fuzzReformailMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzReformail)
}
#else
@main
struct FuzzReformailReplay {
    static func main() {
        exit(FuzzDriver.replay(Array(CommandLine.arguments.dropFirst()), fuzzReformail))
    }
}
#endif
