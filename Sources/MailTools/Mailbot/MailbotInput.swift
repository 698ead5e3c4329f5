import MailCore

/// The original message as mailbot sees it: the raw bytes, the top-level headers (the last
/// one of each name wins, as in Courier's reply generator) and the MIME structure.
struct MailbotInput {
    let bytes: [UInt8]
    let block: HeaderBlock
    let mime: MIMEMessage

    init(_ message: [UInt8]) {
        // maildrop 2.9.3 drops an unterminated last line (observed: a header or body line
        // without a final newline is not part of the message it replies to).
        var bytes = message
        if let lastNewline = bytes.lastIndex(of: 10) {
            bytes.removeSubrange((lastNewline + 1)...)
        } else {
            bytes = []
        }
        self.bytes = bytes
        block = HeaderReader.read(bytes)
        mime = MIMEParser.parse(bytes)
    }

    /// The unfolded value of the last header named `name`, or nil.
    func last(_ name: String) -> [UInt8]? {
        block.headers.last(where: { $0.isNamed(name) })?.value
    }

    /// The unfolded value of the first header named `name`, or nil.
    func first(_ name: String) -> [UInt8]? {
        block.headers.first(where: { $0.isNamed(name) })?.value
    }

    /// Every header of the top-level block, one per line, unfolded, as `name: value`
    /// (`text/rfc822-headers`): the name is everything before the first colon, so an
    /// mbox `From ` line comes out split at its time.
    var unfoldedHeaderLines: [UInt8] {
        var out: [UInt8] = []
        for h in block.headers {
            let line = h.unfolded
            let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
            var nameEnd = colon
            while nameEnd > 0, CByteClass.isSpace(line[nameEnd - 1]) { nameEnd -= 1 }
            out.append(contentsOf: line[..<nameEnd])
            out.append(contentsOf: [UInt8(ascii: ":"), 32])
            var value = h.value
            while let last = value.last, CByteClass.isSpace(last) { value.removeLast() }
            out.append(contentsOf: value)
            out.append(10)
        }
        return out
    }

    /// The first address of an address header, lowercased (spec/tools.md §2.2 (1)).
    static func firstAddress(_ value: [UInt8]?) -> [UInt8]? {
        guard let value else { return nil }
        guard let a = AddressList.parse(value).addresses.first else { return nil }
        let text = a.addressText
        return text.isEmpty ? nil : CByteClass.lowercased(text)
    }
}
