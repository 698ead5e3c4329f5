#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MailCore
import ToolSupport

/// `-m [files…]`: a `multipart/digest` of the named messages (file names one per line on
/// stdin when none are given), spec §4.5. The boundary `reformime_<time>_<n>` is chosen
/// so that no line of any file starts with `--<boundary>`.
enum ReformimeDigest {
    static let preamble = "This is a MIME-formatted message.  If you see this text it means that your\nE-mail software does not support MIME-formatted messages.\n"

    /// Splits `bytes` as repeated `fgets` into an 8 KiB buffer would.
    static func stdioLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var i = 0
        while i < bytes.count {
            var j = i
            while j < bytes.count && j - i < 8191 {
                j += 1
                if bytes[j - 1] == 0x0A { break }
            }
            out.append(bytes[i..<j])
            i = j
        }
        return out
    }

    static func run(_ ctx: ReformimeContext) -> Int32 {
        var files = ctx.options.rest
        if files.isEmpty {
            let input = ByteInput.readAll(fd: 0) ?? []
            for line in stdioLines(input) {
                var l = Array(line)
                if let nl = l.firstIndex(of: 0x0A) { l.removeSubrange(nl...) }
                if let nul = l.firstIndex(of: 0) { l.removeSubrange(nul...) }
                files.append(l)
            }
            if files.isEmpty { return 0 }
        }
        let now = time(nil)
        var counter = 0
        var boundary: [UInt8] = []
        var contents: [[UInt8]] = []
        search: while true {
            counter += 1
            boundary = Array("reformime_\(now)_\(counter)".utf8)
            contents.removeAll()
            for name in files {
                guard let data = ReformimeFileNames.cPath(name, { readWhole($0) }) else {
                    ctx.out.flush()
                    printError("\(String(decoding: name, as: UTF8.self)): \(String(cString: strerror(errno)))\n")
                    return 1
                }
                for line in stdioLines(data) where startsWithDelimiter(line, boundary) { continue search }
                contents.append(data)
            }
            break
        }
        let b = String(decoding: boundary, as: UTF8.self)
        ctx.out.write("Mime-Version:1.0\nContent-Type: multipart/digest; boundary=\"\(b)\"\n\n\(preamble)")
        for data in contents {
            ctx.out.write("\n--\(b)\nContent-Type: message/rfc822\n\n")
            for line in stdioLines(data) {
                if let nul = line.firstIndex(of: 0) { ctx.out.write(line[line.startIndex..<nul]) } else { ctx.out.write(line) }
            }
        }
        ctx.out.write("\n--\(b)--\n")
        return 0
    }

    static func readWhole(_ path: UnsafePointer<CChar>) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        return ByteInput.readAll(fd: fd)
    }

    static func startsWithDelimiter(_ line: ArraySlice<UInt8>, _ boundary: [UInt8]) -> Bool {
        guard line.count >= 2 + boundary.count else { return false }
        let s = line.startIndex
        guard line[s] == UInt8(ascii: "-"), line[s + 1] == UInt8(ascii: "-") else { return false }
        for (k, b) in boundary.enumerated() {
            var c = line[s + 2 + k]
            if c >= 0x41 && c <= 0x5A { c += 32 }
            if c != b { return false }
        }
        return true
    }
}
