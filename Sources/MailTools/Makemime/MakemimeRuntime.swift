#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ToolSupport

/// Ends the current makemime level (the whole run, or one parenthesised child) with a
/// status. `runsFinalChecks` mirrors Courier's `goodexit(m, 1)`, which still flushes the
/// output and reports input errors; otherwise it is a plain `exit(1)`.
struct MakemimeExit: Error {
    var status: Int32
    var runsFinalChecks: Bool
}

/// State shared by every level of one makemime run: the shared standard input stream,
/// the boundary counter, and C's `errno` as the error messages see it.
final class MakemimeRuntime {
    /// Courier's "current errno", which `perror` prints.
    var lastErrno: Int32 = 0
    /// The stream on descriptor 0, shared by every `-`, `&0` and `@-` (C's `stdin`).
    private var standardInput: MakemimeInput?
    /// Boundary candidates made so far (Courier's per-process counter; here one
    /// counter for all levels, since the levels share one process id).
    var boundaryCounter = 0
    /// The first `perror` re-orients glibc's stderr stream; see `perror`.
    private var stderrOriented = false

    init() {}

    /// The standard input stream.
    func stdinStream() -> MakemimeInput {
        if let stream = standardInput { return stream }
        let stream = MakemimeInput(fd: 0, ownsDescriptor: false, runtime: self)
        standardInput = stream
        return stream
    }

    /// `perror(label)` with `code`: `label: message` (just the message for an empty label).
    /// glibc's perror first tries to write through a `dup` of descriptor 2 opened "w+";
    /// when stderr is write-only that fails with EINVAL, which is left in errno (only the
    /// first time: afterwards stderr has an orientation and the dup is not tried).
    func perror(_ label: [UInt8], _ code: Int32) {
        var message = label
        if !message.isEmpty { message.append(contentsOf: ": ".utf8) }
        message.append(contentsOf: errorText(code).utf8)
        message.append(UInt8(ascii: "\n"))
        printError(String(decoding: message, as: UTF8.self))
        lastErrno = code
        if !stderrOriented {
            stderrOriented = true
            let flags = fcntl(2, F_GETFL)
            if flags >= 0 && (flags & O_ACCMODE) != O_RDWR {
                lastErrno = EINVAL
            }
        }
    }

    func perror(_ label: String, _ code: Int32) {
        perror(Array(label.utf8), code)
    }

    /// `strerror(code)`.
    func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "Unknown error \(code)" }
        return String(cString: text)
    }

    /// Reports a failed system call on `label` and ends the level with `exit(1)`.
    func fail(_ label: [UInt8], _ code: Int32) -> MakemimeExit {
        perror(label, code)
        return MakemimeExit(status: 1, runsFinalChecks: false)
    }

    /// An unlinked scratch file in /tmp (C's `tmpfile()`), or nil with errno set.
    func makeScratchFile() -> Int32? {
        var template = Array("/tmp/makemimeXXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return mkstemp(base)
        }
        if fd < 0 { return nil }
        template.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { _ = unlink(base) }
        }
        return fd
    }
}
