import MailCore
import MaildirCore
import ToolSupport
#if canImport(Glibc)
import Glibc
#endif

/// `-m file`: a MIME entity as the reply text. Its headers except
/// `Content-Transfer-Encoding` are copied, its charset becomes the reply's, and a type
/// other than `text/plain` turns quoting off (spec/tools.md §2.1).
enum MailbotMIMEContent {
    static func load(_ bytes: [UInt8], name: String, options: inout MailbotOptions,
                     charset: inout String) -> Result<MailbotContent?, Mailbot.Failure> {
        let block = HeaderReader.read(bytes)
        var headers: [UInt8] = []
        let entity = MIMEParser.parse(bytes).entities.first
        var type: [UInt8] = Array("text/plain".utf8)
        if let t = entity?.contentType, !t.isEmpty { type = CByteClass.lowercased(t) }
        let params = entity?.contentTypeParameters ?? MIMEParameters()
        for h in block.headers {
            if h.isNamed("content-transfer-encoding") || h.value.isEmpty { continue }
            headers.append(contentsOf: h.raw)
        }
        if type != Array("text/plain".utf8) { options.noQuote = true }
        if let cs = params["charset"] {
            let name8 = String(decoding: CByteClass.lowercased(cs), as: UTF8.self)
            guard CharsetConverter.isKnown(name8) else {
                return .failure(Mailbot.Failure(status: ExitStatus.dataError, text: "Unknown charset in \(name)"))
            }
            charset = String(decoding: cs, as: UTF8.self)
        }
        let body = Array(bytes[min(block.bodyOffset, bytes.count)...])
        return .success(MailbotContent(contentHeaders: headers, body: body))
    }
}

/// `-T replydraft -l maildir`: the newest message in the folder's `new/` or `cur/` that is
/// not marked deleted supplies the reply; only its `Content-*` headers are kept.
enum MailbotDraft {
    static func newest(in folder: String) -> MailbotContent? {
        var best: (mtime: Int, name: String, path: String)?
        for sub in ["new", "cur"] {
            let dir = folder + "/" + sub
            for name in SystemCall.names(in: dir) {
                if name.hasPrefix(".") { continue }
                // Maildir flags after ":2,"; T marks a deleted message.
                let info = name.split(separator: ":", maxSplits: 1)
                if info.count == 2, info[1].hasPrefix("2,"), info[1].contains("T") { continue }
                let path = dir + "/" + name
                var st = stat()
                guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
                let m = Int(st.st_mtim.tv_sec)
                if best == nil || m > best!.mtime || (m == best!.mtime && name > best!.name) {
                    best = (m, name, path)
                }
            }
        }
        guard let best, let bytes = ByteInput.readFile(best.path) else { return nil }
        let block = HeaderReader.read(bytes)
        var headers: [UInt8] = []
        for h in block.headers where CByteClass.hasPrefixIgnoringCase(h.lines.first ?? [], "content-".utf8) {
            if h.isNamed("content-transfer-encoding") { continue }
            headers.append(contentsOf: h.raw)
        }
        if headers.isEmpty { headers = Array("Content-Type: text/plain\n".utf8) }
        return MailbotContent(contentHeaders: headers, body: Array(bytes[min(block.bodyOffset, bytes.count)...]))
    }
}
