#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Opening makemime's inputs and outputs by name, as Courier does: `-` is standard
/// input or output, `&n` is descriptor n (duplicated), anything else is a path.
enum MakemimeFiles {
    /// The bytes of a C string held in `bytes`: everything before the first NUL.
    static func cString(_ bytes: [UInt8]) -> [UInt8] {
        guard let nul = bytes.firstIndex(of: 0) else { return bytes }
        return Array(bytes[..<nul])
    }

    /// C's `atoi`: optional white space and sign, then digits; 0 if there are none.
    static func atoi(_ bytes: ArraySlice<UInt8>) -> Int {
        var rest = bytes.drop(while: MakemimeArgumentParser.isSpace)
        var negative = false
        if let sign = rest.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            rest = rest.dropFirst()
        }
        var value = 0
        for byte in rest {
            guard byte >= 0x30 && byte <= 0x39 else { break }
            value = value &* 10 &+ Int(byte - 0x30)
            if value > Int(Int32.max) { value = Int(Int32.max) }
        }
        return negative ? -value : value
    }

    /// Courier `fd_wanted`: the descriptor a name stands for, or nil for a path.
    static func descriptor(named name: [UInt8], forWriting: Bool) -> Int32? {
        if name == [UInt8(ascii: "-")] { return forWriting ? 1 : 0 }
        if name.first == UInt8(ascii: "&") {
            let number = atoi(name[1...])
            return number >= 0 ? Int32(number) : nil
        }
        return nil
    }

    /// Opens a path, retrying on EINTR; nil with errno set on failure.
    static func openPath(_ name: [UInt8], flags: Int32, mode: mode_t = 0) -> Int32? {
        var path = name
        path.append(0)
        while true {
            let fd = path.withUnsafeBufferPointer { buffer -> Int32 in
                guard let base = buffer.baseAddress else { return -1 }
                return base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    open($0, flags | O_CLOEXEC, mode)
                }
            }
            if fd >= 0 { return fd }
            if errno != EINTR { return nil }
        }
    }

    /// Courier `openfile_or_pipe(name, "r")`: a stream read front to back.
    static func openSequential(_ name: [UInt8], runtime: MakemimeRuntime) throws(MakemimeExit) -> MakemimeInput {
        if let wanted = descriptor(named: name, forWriting: false) {
            if wanted == 0 { return runtime.stdinStream() }
            let fd = fcntl(wanted, F_DUPFD_CLOEXEC, 0)
            if fd < 0 { throw runtime.fail(name, errno) }
            return MakemimeInput(fd: fd, ownsDescriptor: true, runtime: runtime)
        }
        guard let fd = openPath(name, flags: O_RDONLY) else { throw runtime.fail(name, errno) }
        return MakemimeInput(fd: fd, ownsDescriptor: true, runtime: runtime)
    }

    /// Courier `openfile(name)`: an input that can be read twice. A regular file is read
    /// in place; anything else (a pipe, a terminal, a directory) is first copied to an
    /// unlinked scratch file.
    static func openRewindable(_ name: [UInt8], runtime: MakemimeRuntime) throws(MakemimeExit) -> MakemimeInput {
        let stream = try openSequential(name, runtime: runtime)
        if stream.isRegular {
            if !stream.dropBufferAtDescriptorOffset() { throw runtime.fail(Array("fseek".utf8), errno) }
            return stream
        }
        return try spool(stream, runtime: runtime)
    }

    /// Copies `stream` to a scratch file and returns the scratch file, rewound.
    static func spool(_ stream: MakemimeInput, runtime: MakemimeRuntime) throws(MakemimeExit) -> MakemimeInput {
        guard let scratchFD = runtime.makeScratchFile() else { throw runtime.fail(Array("tmpfile".utf8), errno) }
        let scratch = MakemimeInput(fd: scratchFD, ownsDescriptor: true, runtime: runtime)
        let writer = MakemimeOutput(fd: scratchFD, ownsDescriptor: false)
        while let chunk = stream.readChunk() {
            writer.write(chunk)
        }
        writer.flush()
        if let code = stream.readError ?? writer.writeError {
            throw runtime.fail(Array("write".utf8), code)
        }
        if stream.fd != 0 { stream.close() }
        if !scratch.seek(to: 0) { throw runtime.fail(Array("write".utf8), errno) }
        return scratch
    }

    /// Courier `openoutput`: `-o name`, or standard output when there is none. `stdoutFD`
    /// is this level's standard output (a scratch file inside a `( … )` group).
    static func openOutput(_ name: [UInt8]?, stdoutFD: Int32, runtime: MakemimeRuntime) throws(MakemimeExit) -> MakemimeOutput {
        let name = name ?? [UInt8(ascii: "-")]
        if let wanted = descriptor(named: name, forWriting: true) {
            if wanted == 0 {
                // Courier hands back its read-only stdin stream: every write fails.
                return MakemimeOutput(fd: 0, ownsDescriptor: false, failsWith: EBADF)
            }
            let target = wanted == 1 ? stdoutFD : wanted
            let fd = fcntl(target, F_DUPFD_CLOEXEC, 0)
            if fd < 0 { throw runtime.fail(name, errno) }
            return MakemimeOutput(fd: fd, ownsDescriptor: true)
        }
        guard let fd = openPath(name, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o666) else {
            throw runtime.fail(name, errno)
        }
        return MakemimeOutput(fd: fd, ownsDescriptor: true)
    }
}
