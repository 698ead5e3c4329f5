#if canImport(Glibc)
import Glibc
#endif
import Testing
import LeanStart
import ToolSupport

/// LeanStart's replacement of the runtime's argv entry point (Sources/LeanStart): it must hand
/// back exactly the argument vector the kernel gave the process, which /proc/self/cmdline shows.
@Suite struct LeanStartTests {
    /// The NUL-separated arguments of this process, as the kernel records them.
    static func kernelArguments() -> [[UInt8]] {
        let fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        var arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map { Array($0) }
        if arguments.last == [] { arguments.removeLast() }
        return arguments
    }

    @Test func recordedArgumentsAreTheProcessArguments() {
        var count: Int32 = -1
        let argv = _swift_stdlib_getUnsafeArgvArgc(&count)
        let expected = Self.kernelArguments()
        #expect(!expected.isEmpty)
        #expect(Int(count) == expected.count)
        var recorded: [[UInt8]] = []
        for index in 0..<Int(max(count, 0)) {
            guard let pointer = argv?[index] else { break }
            recorded.append(Array(UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self),
                                                      count: strlen(pointer))))
        }
        #expect(recorded == expected)
    }

    @Test func processArgumentsAgreeWithTheKernel() {
        #expect(ProcessArguments.raw() == Self.kernelArguments())
    }
}
