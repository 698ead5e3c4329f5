import MailTools
#if canImport(Glibc)
import Glibc
#endif

/// The lean `reformime` executable: a thin entry over MailTools.Reformime. It passes the
/// raw argv bytes, so that header text and file names that are not UTF-8 stay unchanged.
@main
struct ReformimeMain {
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
        exit(Reformime.run(rawArguments: arguments))
    }
}
