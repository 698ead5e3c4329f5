#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MailCore

/// One makemime level at run time (Courier's `mimestruct` with its open streams): opens
/// the inputs, runs nested invocations, opens the output, builds the result, and ends
/// the way Courier's `goodexit` does.
final class MakemimeLevel {
    let request: MakemimeRequest
    let runtime: MakemimeRuntime
    /// This level's standard output: descriptor 1, or a scratch file for a nested level.
    let stdoutFD: Int32

    /// The file argument (for `-j`, the new section).
    var input: MakemimeInput?
    /// The `-j` multipart.
    var multipartInput: MakemimeInput?
    /// Exit statuses of nested invocations, when the inputs were nested.
    private var inputChildStatus: Int32?
    private var multipartChildStatus: Int32?
    var output: MakemimeOutput?

    private init(request: MakemimeRequest, runtime: MakemimeRuntime, stdoutFD: Int32) {
        self.request = request
        self.runtime = runtime
        self.stdoutFD = stdoutFD
    }

    /// Runs `request` writing to `stdoutFD`; returns the level's exit status.
    static func run(_ request: MakemimeRequest, stdoutFD: Int32, runtime: MakemimeRuntime) -> Int32 {
        let level = MakemimeLevel(request: request, runtime: runtime, stdoutFD: stdoutFD)
        defer { level.closeInputs() }
        do {
            try level.openStreams()
            try level.build()
            return level.finish(status: 0)
        } catch {
            if error.runsFinalChecks { return level.finish(status: error.status) }
            // exit(1): stdio still flushes what was written.
            level.output?.flush()
            return error.status
        }
    }

    /// Courier's `open_func`: inputs first (the `-j` multipart before the new section),
    /// then the output.
    private func openStreams() throws(MakemimeExit) {
        switch request.kind {
        case .simple:
            input = try openInput(request.input, rewindable: request.encoding == nil, status: &inputChildStatus)
        case .multipart:
            input = try openInput(request.input, rewindable: false, status: &inputChildStatus)
        case .join(let multipart):
            multipartInput = try openInput(multipart, rewindable: true, status: &multipartChildStatus)
            input = try openInput(request.input, rewindable: true, status: &inputChildStatus)
        }
        output = try MakemimeFiles.openOutput(request.outputFile, stdoutFD: stdoutFD, runtime: runtime)
    }

    private func openInput(_ source: MakemimeSource, rewindable: Bool, status: inout Int32?) throws(MakemimeExit) -> MakemimeInput {
        switch source {
        case .file(let name):
            return rewindable
                ? try MakemimeFiles.openRewindable(name, runtime: runtime)
                : try MakemimeFiles.openSequential(name, runtime: runtime)
        case .child(let child):
            let (stream, childStatus) = try runNested(child)
            status = childStatus
            return stream
        }
    }

    /// Runs a `( … )` group into a scratch file and returns that file, rewound.
    private func runNested(_ child: MakemimeRequest) throws(MakemimeExit) -> (MakemimeInput, Int32) {
        guard let scratchFD = runtime.makeScratchFile() else {
            throw runtime.fail(Array("tmpfile".utf8), errno)
        }
        let status = MakemimeLevel.run(child, stdoutFD: scratchFD, runtime: runtime)
        let stream = MakemimeInput(fd: scratchFD, ownsDescriptor: true, runtime: runtime)
        if !stream.seek(to: 0) { throw runtime.fail(Array("fseek".utf8), errno) }
        return (stream, status)
    }

    /// Courier's `handler_func`.
    private func build() throws(MakemimeExit) {
        guard let input, let output else { return }
        switch request.kind {
        case .simple(let contentType):
            try buildSimplePart(contentType: contentType, from: input, to: output)
        case .multipart(let contentType):
            try buildMultipart(contentType: contentType, from: input, to: output)
        case .join:
            guard let multipartInput else { return }
            try joinMultipart(multipartInput, section: input, to: output)
        }
    }

    /// Courier's `goodexit`: flush the output (a write error ends with status 1), drain
    /// the inputs, report read errors, and take the multipart child's status for a `-j`
    /// whose inputs are both nested (Courier waits for just one child, the older one).
    private func finish(status: Int32) -> Int32 {
        var status = status
        if let output {
            output.flush()
            if let code = output.writeError {
                runtime.perror("makemime", code)
                return 1
            }
        }
        for stream in [input, multipartInput].compactMap({ $0 }) {
            stream.drain()
        }
        for stream in [input, multipartInput].compactMap({ $0 }) where stream.readError != nil {
            runtime.perror("makemime", runtime.lastErrno)
            status = 1
        }
        if inputChildStatus != nil, let multipartStatus = multipartChildStatus, multipartStatus != 0 {
            status = 1
        }
        return status
    }

    private func closeInputs() {
        for stream in [input, multipartInput].compactMap({ $0 }) where stream.fd != 0 {
            stream.close()
        }
    }
}
