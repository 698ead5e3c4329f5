#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A command-line tool that runs in-process: the lean executables and the `courier`
/// multi-call program both call `run` with the full argv (argv[0] included), and the
/// process exits with the returned status.
public struct ToolEntry: Sendable {
    /// The program name, as Courier spells it (`reformail`).
    public let name: String
    /// One line for `courier --help`.
    public let summary: String
    /// Runs the tool; `arguments[0]` is the program name.
    public let run: @Sendable ([String]) -> Int32

    public init(name: String, summary: String, run: @escaping @Sendable ([String]) -> Int32) {
        self.name = name
        self.summary = summary
        self.run = run
    }
}

/// The last path component of `argv[0]`.
public func programBaseName(_ argv0: String) -> String {
    var bytes = Array(argv0.utf8)
    while bytes.count > 1, bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
    if let slash = bytes.lastIndex(of: UInt8(ascii: "/")) {
        return String(decoding: bytes[(slash + 1)...], as: UTF8.self)
    }
    return argv0
}

/// The process's argument bytes exactly as the kernel passed them. Swift's `CommandLine`
/// strings repair invalid UTF-8, which would change header text or file names in other
/// charsets; the lean tools take their arguments from here.
public enum ProcessArguments {
    public static func raw() -> [[UInt8]] {
        var arguments: [[UInt8]] = []
        let argv = CommandLine.unsafeArgv
        for index in 0..<Int(CommandLine.argc) {
            guard let pointer = argv[index] else { continue }
            let length = strlen(pointer)
            arguments.append(pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
                Array(UnsafeBufferPointer(start: $0, count: length))
            })
        }
        return arguments
    }
}
