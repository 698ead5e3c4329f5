import MailTools
#if canImport(Glibc)
import Glibc
#endif

/// The lean `mailbot` executable: a thin entry over MailTools.Mailbot, passing argv as raw bytes.
@main
struct MailbotMain {
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
        exit(Mailbot.run(rawArguments: arguments))
    }
}
