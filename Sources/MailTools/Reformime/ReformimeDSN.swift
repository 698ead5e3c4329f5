import MailCore

/// `-d`/`-D`: list `<action> <address>` for each recipient block of a delivery status
/// notification (RFC 3464 `multipart/report; report-type=delivery-status`); exit 1 with no
/// output when the message is not one. Reproduces Courier's line reader, including its
/// look-ahead for folded lines and its treatment of CRLF blank lines.
enum ReformimeDSN {
    static func run(_ ctx: ReformimeContext, _ message: MIMEMessage, preferOriginal: Bool) -> Int32 {
        let root = message.entities[0]
        let type = message.info(of: 0, defaultCharset: []).contentType
        guard lowercased(type) == Array("multipart/report".utf8),
              let reportType = root.contentTypeParameters["report-type"],
              lowercased(reportType) == Array("delivery-status".utf8),
              root.children.count >= 3 else { return 1 }
        let part = root.children[2]
        guard lowercased(message.info(of: part, defaultCharset: []).contentType) == Array("message/delivery-status".utf8) else {
            return 1
        }
        let pos = message.position(of: part)
        let bytes = ctx.bytes
        var p = max(pos.startBody, 0)
        let end = pos.end
        var line: [UInt8] = []
        var recip: [UInt8]?
        var orecip: [UInt8]?
        var action: [UInt8]?
        while p < end && p < bytes.count {
            let ch = bytes[p]
            p += 1
            if line.count < 8191 { line.append(ch) }
            if ch != 0x0A { continue }
            if p < bytes.count {
                let next = bytes[p]
                if next != 0x0A && MIMEHeaderTokenizer.isSpace(next) { continue }
            }
            if !line.isEmpty { line.removeLast() }
            if let nul = line.firstIndex(of: 0) { line.removeSubrange(nul...) }
            if line.isEmpty {
                if let o = orecip { recip = o; orecip = nil }
                printRecipient(ctx, recip, action)
                recip = nil
                action = nil
            }
            if recip == nil, let v = value(line, "final-recipient:") { recip = v }
            if orecip == nil && preferOriginal, let v = value(line, "original-recipient:") { orecip = v }
            if action == nil, let v = value(line, "action:") { action = v }
            line.removeAll(keepingCapacity: true)
        }
        if let o = orecip { recip = o }
        printRecipient(ctx, recip, action)
        return 0
    }

    static func lowercased(_ b: [UInt8]) -> [UInt8] {
        b.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }
    }

    /// The text after `name` when `line` starts with it (case-insensitively).
    static func value(_ line: [UInt8], _ name: String) -> [UInt8]? {
        let n = Array(name.utf8)
        guard line.count >= n.count, lowercased(Array(line[0..<n.count])) == n else { return nil }
        return Array(line[n.count...])
    }

    static func printRecipient(_ ctx: ReformimeContext, _ recip: [UInt8]?, _ action: [UInt8]?) {
        guard let recip, let action else { return }
        var a = lowercased(action)[...]
        while let f = a.first, MIMEHeaderTokenizer.isSpace(f) { a = a.dropFirst() }
        var r = recip[...]
        while let f = r.first, MIMEHeaderTokenizer.isSpace(f) { r = r.dropFirst() }
        guard r.count >= 7, lowercased(Array(r.prefix(7))) == Array("rfc822;".utf8) else { return }
        r = r.dropFirst(7)
        while let f = r.first, MIMEHeaderTokenizer.isSpace(f) { r = r.dropFirst() }
        ctx.out.write(a)
        ctx.out.write(UInt8(ascii: " "))
        ctx.out.write(r)
        ctx.out.write(UInt8(ascii: "\n"))
    }
}
