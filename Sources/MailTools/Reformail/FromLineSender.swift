import MailCore

/// The sender of mbox `From ` lines: the one `-f0` turns into `Return-Path:`, and the one
/// `-f1` writes into a new `From ` line.
enum FromLineSender {
    /// `-f0`: the text after `From ` and blanks, one `<` skipped, up to `>`, whitespace or
    /// the end of the line.
    static func envelopeSender(fromLine line: [UInt8]) -> [UInt8] {
        var i = 5
        while i < line.count, line[i] != 0x0A, CByteClass.isSpace(line[i]) { i += 1 }
        if i < line.count, line[i] == UInt8(ascii: "<") { i += 1 }
        var sender: [UInt8] = []
        while i < line.count, line[i] != 0x0A, line[i] != UInt8(ascii: ">"), !CByteClass.isSpace(line[i]) {
            sender.append(line[i])
            i += 1
        }
        return sender
    }

    /// `-f1`: the first address of the last `Return-Path:`, `>Return-Path:`, `Errors-To:` or
    /// `>Errors-To:` header, else of the last `From:` header, else `root`.
    static func sender(headerBlock block: [UInt8]) -> [UInt8] {
        var returnPath: [UInt8] = []
        var from: [UInt8] = []
        var p = 0
        while p < block.count {
            // The name up to ':' or the line end is lowercased, the rest kept.
            var header: [UInt8] = []
            while p < block.count, block[p] != UInt8(ascii: ":"), block[p] != 0x0A {
                header.append(CByteClass.lowercase(block[p]))
                p += 1
            }
            while true {
                while p < block.count, block[p] != 0x0A {
                    header.append(block[p])
                    p += 1
                }
                if p >= block.count { break }
                p += 1
                header.append(0x0A)
                if p >= block.count || !CByteClass.isSpace(block[p]) { break }
            }
            if returnPathPrefixes.contains(where: { header.starts(with: $0) }),
               let colon = header.firstIndex(of: UInt8(ascii: ":")) {
                returnPath = Array(header[colon...])
            }
            if header.starts(with: fromPrefix) {
                from = Array(header[fromPrefix.count...])
            }
        }
        if returnPath.isEmpty { returnPath = from }
        let list = AddressList.parse(returnPath)
        if let first = list.entries.first(where: \.hasAddress) {
            let text = first.addressText
            if !text.isEmpty { return text }
        }
        return Array("root".utf8)
    }

    private static let returnPathPrefixes: [[UInt8]] = [
        Array("return-path:".utf8), Array(">return-path:".utf8), Array("errors-to:".utf8), Array(">errors-to:".utf8),
    ]
    private static let fromPrefix: [UInt8] = Array("from:".utf8)
}
