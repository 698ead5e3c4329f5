#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MailCore

/// `-m type`: a multipart section around an existing MIME entity (Courier
/// `createmultipartmime`), and the boundaries for it and for `-j`.
extension MakemimeLevel {
    /// RFC 2046 §5.1.1: the preamble, shown by software that does not understand MIME.
    static let preamble = """
        This is a MIME-formatted message.  If you see this text it means that your
        E-mail software does not support MIME-formatted messages.

        """

    func buildMultipart(contentType: [UInt8], from input: MakemimeInput, to output: MakemimeOutput) throws(MakemimeExit) {
        let boundary = try makeBoundary(avoiding: input)
        let encoding = request.encoding ?? .eightBit
        for header in request.headers {
            output.write(header)
            output.write(UInt8(ascii: "\n"))
        }
        output.write("Content-Type: ")
        output.write(contentType)
        output.write("; boundary=\"\(boundary)\"\nContent-Transfer-Encoding: \(encoding.headerValue)\n\n")
        output.write(Self.preamble)
        output.write("\n--\(boundary)\n")
        copyRest(of: input, to: output)
        output.write("\n--\(boundary)--\n")
    }

    /// Copies what is left of `input` unchanged.
    func copyRest(of input: MakemimeInput, to output: MakemimeOutput) {
        while let chunk = input.readChunk() {
            output.write(chunk)
        }
    }

    /// Courier 2.9.3 `mkboundary`: `=_<counter>_<time>_<pid>` in decimal, the counter
    /// advancing until no line of `content` starts with `--` and the candidate. The pid is
    /// zero-padded to five digits (Linux's default pid_max is 32768) so that the length of
    /// what we write does not change with the pid: a part's size is reproducible.
    func makeBoundary(avoiding content: MakemimeInput) throws(MakemimeExit) -> String {
        let now = time(nil)
        var pid = String(getpid())
        if pid.utf8.count < 5 { pid = String(repeating: "0", count: 5 - pid.utf8.count) + pid }
        while true {
            runtime.boundaryCounter += 1
            let candidate = "=_\(runtime.boundaryCounter)_\(now)_\(pid)"
            if try !contains(boundary: candidate, in: content) {
                return candidate
            }
        }
    }

    /// Courier `tryboundary`: whether a line of `content` (from its current position)
    /// starts with `--boundary`; the stream is left where it was.
    func contains(boundary: String, in content: MakemimeInput) throws(MakemimeExit) -> Bool {
        guard let start = content.tell() else {
            runtime.perror("ftell", errno)
            throw MakemimeExit(status: 1, runsFinalChecks: true)
        }
        var delimiter: [UInt8] = [UInt8(ascii: "-"), UInt8(ascii: "-")]
        delimiter.append(contentsOf: boundary.utf8)
        var found = false
        while let raw = content.readLine() {
            let line = MakemimeFiles.cString(raw)
            if line.starts(with: delimiter) {
                found = true
                break
            }
            if !line.contains(UInt8(ascii: "\n")) {
                content.skipRestOfLine()
            }
        }
        if content.readError != nil || !content.seek(to: start) {
            runtime.perror("fseek", content.readError != nil ? runtime.lastErrno : errno)
            throw MakemimeExit(status: 1, runsFinalChecks: true)
        }
        return found
    }
}
