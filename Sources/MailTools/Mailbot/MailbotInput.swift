import MailCore

/// The original message as mailbot sees it: the raw bytes, the top-level headers (the last
/// one of each name wins, as in Courier's reply generator) and the MIME structure.
struct MailbotInput {
    let bytes: [UInt8]
    let block: HeaderBlock
    let mime: MIMEMessage

    init(_ bytes: [UInt8]) {
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

    /// Every header of the top-level block, one per line, unfolded (`text/rfc822-headers`).
    var unfoldedHeaderLines: [UInt8] {
        var out: [UInt8] = []
        for h in block.headers {
            out.append(contentsOf: h.unfolded)
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
