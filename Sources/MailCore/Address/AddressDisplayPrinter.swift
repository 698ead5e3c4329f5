/// How ``AddressDisplayPrinter`` turns the name and the address of each entry into output:
/// decoding RFC 2047 words or IDN domains for display, or encoding them for a header.
public struct NameAddressTransform: Sendable {
    /// Gets the display name (``AddressPrinter/displayName(_:)`` form), returns what to print.
    public var name: @Sendable ([UInt8]) -> [UInt8]
    /// Gets the printed address (``AddressPrinter/print(tokens:)`` form), returns what to print.
    public var address: @Sendable ([UInt8]) -> [UInt8]

    public init(name: @escaping @Sendable ([UInt8]) -> [UInt8], address: @escaping @Sendable ([UInt8]) -> [UInt8]) {
        self.name = name
        self.address = address
    }

    /// Prints names and addresses unchanged.
    public static let identity = NameAddressTransform(name: { $0 }, address: { $0 })
}

/// Courier's list printer for display and re-encoding (`rfc822_print_common` with a decode
/// function, as `reformime -H/-O` and mailbot use it): every address is printed `name <addr>`
/// from the transformed display name and address; `<…>` is also used without a name when the
/// address holds an RFC 822 special other than `.` and `@`. Group syntax prints as tokens.
/// `separator` gets `", "` between entries and `" "` after a group name or `;`, and returns
/// what to print (e.g. a line break for wrapping).
public enum AddressDisplayPrinter {
    public static func print(_ list: AddressList, transform: NameAddressTransform = .identity,
                             separator: ([UInt8]) -> [UInt8] = { $0 }) -> [UInt8] {
        var out: [UInt8] = []
        let entries = list.entries
        for (index, entry) in entries.enumerated() {
            let more = index + 1 < entries.count
            if !entry.hasAddress {
                AddressPrinter.append(tokens: entry.name, to: &out)
                if let last = entry.name.last, more,
                   last.isSpecial(UInt8(ascii: ":")) || last.isSpecial(UInt8(ascii: ";")) {
                    out.append(contentsOf: separator([0x20]))
                }
                continue
            }
            appendNameAddress(entry, transform: transform, to: &out)
            if more {
                let next = entries[index + 1]
                if next.hasAddress || (next.name.first?.isWordLike ?? false) {
                    out.append(contentsOf: separator([UInt8(ascii: ","), 0x20]))
                }
            }
        }
        return out
    }

    /// One entry as `name <address>` (`rfc822_print_common_nameaddr`).
    public static func appendNameAddress(_ entry: ParsedAddress, transform: NameAddressTransform,
                                         to out: inout [UInt8]) {
        let name = transform.name(AddressPrinter.displayName(entry.name))
        let address = transform.address(AddressPrinter.print(tokens: entry.address))
        var braces = !name.isEmpty
        out.append(contentsOf: name)
        if braces { out.append(0x20) }
        if address.contains(where: { $0 != UInt8(ascii: ".") && $0 != UInt8(ascii: "@") && AddressTokenizer.isRFC822Special($0) }) {
            braces = true
        }
        if braces { out.append(UInt8(ascii: "<")) }
        out.append(contentsOf: address)
        if braces { out.append(UInt8(ascii: ">")) }
    }
}
