import MailCore

/// The esmtp module's output rewriting for the percent hack (spec/mta.md §3.22, §5.2): mail
/// that goes out by SMTP carries `user@domain` for a domain listed in `esmtppercentrelay` as
/// `user%domain@defaultdomain`, in the envelope sender and in the address fields of the
/// top-level header (`From`, `To`, `Cc`, `Bcc` and their `Resent-` forms), the reverse of the
/// `user%domain@ourdomain` → `user@domain` rewriting at RCPT. A field is printed again only
/// when one of its addresses changed; every other byte of the message is kept.
public struct PercentHackOutput: Sendable {
    /// `domain` is listed in `esmtppercentrelay`.
    let isPercentDomain: @Sendable (String) -> Bool
    /// `defaultdomain`.
    let defaultDomain: String

    public init(defaultDomain: String, isPercentDomain: @escaping @Sendable (String) -> Bool) {
        self.defaultDomain = defaultDomain
        self.isPercentDomain = isPercentDomain
    }

    static let addressFields: Set<String> = ["from", "to", "cc", "bcc", "resent-from", "resent-to", "resent-cc", "resent-bcc"]

    /// The envelope sender as it goes out (`<>` stays).
    public func sender(_ address: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return address }
        let domain = String(address[address.index(after: at)...])
        guard !domain.isEmpty, isPercentDomain(domain.lowercased()) else { return address }
        return address[..<at] + "%" + domain + "@" + defaultDomain
    }

    /// The message (LF line ends) with its address fields rewritten; the same bytes when
    /// nothing changed.
    public func message(_ bytes: [UInt8]) -> [UInt8] {
        let block = HeaderReader.read(bytes)
        var out: [UInt8] = []
        var changed = false
        for field in block.headers {
            guard let name = field.name, Self.addressFields.contains(String(decoding: name, as: UTF8.self).lowercased()),
                  let value = rewritten(AddressList.parse(field.value)) else {
                out.append(contentsOf: field.raw)
                continue
            }
            changed = true
            out.append(contentsOf: name)
            out.append(contentsOf: Array(": ".utf8))
            out.append(contentsOf: value)
            out.append(0x0A)
        }
        guard changed else { return bytes }
        // The separator line and the body, as they were.
        let headerEnd = block.headers.reduce(0) { $0 + $1.raw.count }
        out.append(contentsOf: bytes[min(headerEnd, bytes.count)...])
        return out
    }

    /// The printed list when an address in it changed, else nil.
    func rewritten(_ list: AddressList) -> [UInt8]? {
        var list = list
        var changed = false
        for index in list.entries.indices where list.entries[index].hasAddress {
            let tokens = list.entries[index].address
            // The domain follows the last `@` (Courier's rwoutput).
            guard let at = tokens.lastIndex(where: { $0.isSpecial(UInt8(ascii: "@")) }), at + 1 < tokens.count else { continue }
            let domain = String(decoding: AddressPrinter.print(tokens: Array(tokens[(at + 1)...])), as: UTF8.self)
            guard isPercentDomain(domain.lowercased()) else { continue }
            var updated = tokens
            updated[at] = AddressToken(kind: .special(UInt8(ascii: "%")), text: [UInt8(ascii: "%")], offset: tokens[at].offset)
            updated.append(AddressToken(kind: .special(UInt8(ascii: "@")), text: [UInt8(ascii: "@")], offset: 0))
            updated.append(AddressToken(kind: .atom, text: Array(defaultDomain.utf8), offset: 0))
            list.entries[index].address = updated
            changed = true
        }
        return changed ? list.printed : nil
    }
}
