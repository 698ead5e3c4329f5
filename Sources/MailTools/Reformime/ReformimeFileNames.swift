#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MailCore

/// Default file names for extracted parts (Courier `get_suitable_filename`): the
/// disposition `filename`, else its `name`, else the Content-Type `name`; the last 32
/// bytes, trimmed, every byte other than `[A-Za-z0-9.-]` made `_`; no name gives a
/// generated `<time>.<pid>-<n>.<host>`. Interactive mode asks on /dev/tty.
struct ReformimeFileNames {
    let ctx: ReformimeContext
    let message: MIMEMessage
    let index: Int

    nonisolated(unsafe) static var renameCounter = 0
    nonisolated(unsafe) static var tempCounter = 0

    static func generatedName() -> String {
        var host = [CChar](repeating: 0, count: 256)
        if gethostname(&host, 255) != 0 { host[0] = 0 }
        host[255] = 0
        let hostName = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let name = "\(time(nil)).\(getpid())-\(tempCounter).\(hostName)"
        tempCounter += 1
        return name
    }

    /// Calls `body` with `bytes` as a NUL-terminated C string (cut at an embedded NUL).
    static func cPath<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
        var c = bytes.map { CChar(bitPattern: $0) }
        if let nul = c.firstIndex(of: 0) { c.removeSubrange(nul...) }
        c.append(0)
        return c.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// The name Courier would pick from the MIME headers, before sanitising.
    func headerName() -> [UInt8] {
        let e = message.entities[index]
        let cs = ctx.parameterCharset
        let dname = RFC2231.decodeForDisplay(e.dispositionParameters, name: "name", targetCharset: cs)
        let dfile = RFC2231.decodeForDisplay(e.dispositionParameters, name: "filename", targetCharset: cs)
        let cname = RFC2231.decodeForDisplay(e.contentTypeParameters, name: "name", targetCharset: cs)
        var chosen = dfile ?? []
        if chosen.isEmpty { chosen = dname ?? [] }
        if chosen.isEmpty { chosen = cname ?? [] }
        if chosen.count > 32 { chosen = Array(chosen.suffix(32)) }
        while let f = chosen.first, MIMEHeaderTokenizer.isSpace(f) { chosen.removeFirst() }
        while let l = chosen.last, MIMEHeaderTokenizer.isSpace(l) { chosen.removeLast() }
        return chosen
    }

    /// `prefix` + sanitised name; nil when the user declined interactively.
    func suitableName(prefix: [UInt8]?, renaming: Bool) throws -> [UInt8]? {
        var name = headerName()
        if renaming {
            Self.renameCounter += 1
            name = Array("\(Self.renameCounter)-".utf8) + name
        } else if name.isEmpty {
            name = Array(Self.generatedName().utf8)
        }
        var result = prefix ?? []
        for c in name {
            let ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "-")
            result.append(ok ? c : UInt8(ascii: "_"))
        }
        if prefix != nil { return result }
        return try askOnTerminal(result)
    }

    /// Interactive `-x`: "Extract <type>? " then "Filename [<default>]: " on /dev/tty.
    func askOnTerminal(_ suggested: [UInt8]) throws -> [UInt8]? {
        let fd = open("/dev/tty", O_RDWR)
        if fd < 0 {
            throw ReformimeContext.Failure(message: "/dev/tty: \(String(cString: strerror(errno)))\n")
        }
        defer { close(fd) }
        let type = message.info(of: index, defaultCharset: []).contentType
        writeAll(fd, Array("Extract ".utf8) + type + Array("? ".utf8))
        let answer = readLine(fd, limit: Int.max)
        guard let first = answer.bytes.first, first == UInt8(ascii: "y") || first == UInt8(ascii: "Y") else { return nil }
        writeAll(fd, Array("Filename [".utf8) + suggested + Array("]: ".utf8))
        let line = readLine(fd, limit: 254)
        if !line.complete {
            throw ReformimeContext.Failure(message: "Filename too long.\n")
        }
        if line.bytes.isEmpty { return suggested }
        return line.bytes
    }

    func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var off = 0
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            while off < raw.count {
                let n = write(fd, base + off, raw.count - off)
                if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
                off += n
            }
        }
    }

    /// Reads one line (without its newline) up to `limit` bytes.
    func readLine(_ fd: Int32, limit: Int) -> (bytes: [UInt8], complete: Bool, eof: Bool) {
        var bytes: [UInt8] = []
        var c: UInt8 = 0
        while bytes.count < limit {
            let n = read(fd, &c, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return (bytes, false, true) }
            if c == 0x0A { return (bytes, true, false) }
            bytes.append(c)
        }
        return (bytes, false, false)
    }
}
