import MailTools
#if canImport(Glibc)
import Glibc
#endif

/// The lean `makemime` executable: a thin entry over MailTools.Makemime. It passes the
/// raw argv bytes, so that arguments that are not UTF-8 reach the output unchanged.
@main
struct MakemimeMain {
    static func main() {
        var arguments: [[UInt8]] = []
        let argv = CommandLine.unsafeArgv
        for index in 0..<Int(CommandLine.argc) {
            guard let pointer = argv[index] else { continue }
            let length = strlen(pointer)
            arguments.append(pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
                Array(UnsafeBufferPointer(start: $0, count: length))
            })
        }
        exit(Makemime.run(rawArguments: arguments))
    }
}
