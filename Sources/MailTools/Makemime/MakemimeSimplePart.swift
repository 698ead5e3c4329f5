import MailCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `-c type`: one MIME section (Courier `createsimplemime`).
extension MakemimeLevel {
    /// The charset `-N` names are labelled with when there is no `-C`.
    static let defaultNameCharset: [UInt8] = Array("utf-8".utf8)

    func buildSimplePart(contentType: [UInt8], from input: MakemimeInput, to output: MakemimeOutput) throws(MakemimeExit) {
        var contentType = contentType
        var charset = request.charset
        let encoding: TransferEncodingKind
        if let chosen = request.encoding {
            encoding = chosen
        } else {
            let (detected, isBinary) = try detectEncoding(of: input)
            encoding = detected
            // `-c auto` (without -e): text/plain, or application/octet-stream without a charset.
            if contentType == Array("auto".utf8) {
                if isBinary {
                    contentType = Array("application/octet-stream".utf8)
                    charset = nil
                } else {
                    contentType = Array("text/plain".utf8)
                }
            }
        }

        for header in request.headers {
            output.write(header)
            output.write(UInt8(ascii: "\n"))
        }
        output.write("Content-Type: ")
        output.write(contentType)
        if let charset, !charset.isEmpty {
            // The value is quoted; quotes and backslashes in it are dropped.
            output.write("; charset=\"")
            output.write(charset.filter { $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") })
            output.write("\"")
        }
        if let name = request.contentName, !name.isEmpty {
            // 2.9.3 labels the name with the -C charset even when `auto` dropped it.
            let label = request.charset ?? Self.defaultNameCharset
            for parameter in RFC2231Encoder.parameters(name: Array("name".utf8), value: name, charset: label) ?? [] {
                output.write(";\n  ")
                output.write(parameter.name)
                output.write("=")
                output.write(parameter.value)
            }
        }
        output.write("\nContent-Transfer-Encoding: ")
        output.write(encoding.headerValue)
        output.write("\n\n")

        var encoder = TransferEncoder(encoding)
        var encoded: [UInt8] = []
        while let chunk = input.readChunk() {
            chunk.withUnsafeBufferPointer { encoder.encode($0, into: &encoded) }
            output.write(encoded)
            encoded.removeAll(keepingCapacity: true)
            if output.writeError != nil { break }
        }
        encoder.finish(into: &encoded)
        output.write(encoded)
    }

    /// The first pass over a rewindable input: reads it from its very start (as Courier
    /// does, whatever the current offset) and leaves the stream where it was.
    private func detectEncoding(of input: MakemimeInput) throws(MakemimeExit) -> (TransferEncodingKind, Bool) {
        guard let start = input.tell() else {
            runtime.perror("ftell", errno)
            throw MakemimeExit(status: 1, runsFinalChecks: true)
        }
        var detector = TransferEncodingDetector()
        input.scanFromStart { chunk in
            detector.scan(chunk)
            return !detector.isDecided
        }
        if input.readError != nil || !input.seek(to: start) {
            runtime.perror("fseek", input.readError != nil ? runtime.lastErrno : errno)
            throw MakemimeExit(status: 1, runsFinalChecks: true)
        }
        return (detector.encoding, detector.isBinary)
    }
}
