import MailCore

/// The decisions that make mailbot exit quietly without replying (spec/tools.md §2.2).
enum MailbotChecks {
    /// The address the reply goes to and the duplicate-database key, or nil: do not reply.
    static func replyAddress(_ input: MailbotInput, options: MailbotOptions, senderEnv: [UInt8]?) -> [UInt8]? {
        if let explicit = options.explicitRecipient { return CByteClass.lowercased(explicit) }
        if options.useSenderEnv {
            guard let s = senderEnv, !s.isEmpty else { return nil }
            return CByteClass.lowercased(s)
        }
        if let r = MailbotInput.firstAddress(input.last("reply-to")) { return r }
        return MailbotInput.firstAddress(input.last("from"))
    }

    /// True when the message is a report, bulk/list mail or itself automatic (§2.2 (2)–(5)).
    static func isAutomaticOrBulk(_ input: MailbotInput) -> Bool {
        for h in input.block.headers {
            let v = CByteClass.lowercased(h.value)
            if h.isNamed("content-type"), v.starts(with: Array("multipart/report".utf8)) { return true }
            if h.isNamed("precedence") {
                for p in ["junk", "bulk", "list"] where v.starts(with: Array(p.utf8)) { return true }
            }
            // RFC 3834 §5: anything but "no" marks an automatic message.
            if h.isNamed("auto-submitted"), trimmed(v) != Array("no".utf8) { return true }
            if h.isNamed("list-id") { return true }
        }
        return false
    }

    /// `-r`: whether one of the comma-separated addresses appears in `To:` or `Cc:` (§2.2 (6)).
    static func isAddressedTo(_ input: MailbotInput, list: [UInt8]) -> Bool {
        let wanted = Set(AddressList.parse(list).addresses.map { CByteClass.lowercased($0.addressText) })
        for h in input.block.headers where h.isNamed("to") || h.isNamed("cc") {
            for a in AddressList.parse(h.value).addresses where wanted.contains(CByteClass.lowercased(a.addressText)) {
                return true
            }
        }
        return false
    }

    static func trimmed(_ v: [UInt8]) -> [UInt8] {
        var s = v[...]
        while let f = s.first, CByteClass.isSpace(f) { s = s.dropFirst() }
        while let l = s.last, CByteClass.isSpace(l) { s = s.dropLast() }
        return Array(s)
    }
}
