import MailCore
import ToolSupport

/// `-H`/`-O` over an address list, and the display of address headers for `-u`.
/// Waiting for the shared RFC 822 address parser (MailCore/Address, branch `reformail`).
enum ReformimeAddressCoding {
    /// Courier's `rfc822hdr_is_addr`.
    static func isAddressHeader(_ name: [UInt8]) -> Bool {
        ["from", "to", "cc", "bcc", "resent-from", "resent-to", "resent-cc", "resent-bcc"].contains {
            MIMEHeaderReader.nameEquals(name, $0)
        }
    }

    /// Displays an address list header; false on a tokenizer error.
    static func display(_ value: [UInt8], charset: String, emit: ([UInt8]) -> Void, separator: (String) -> Void) -> Bool {
        emit(value)
        return true
    }

    static func decode(_ ctx: ReformimeContext) -> Int32 {
        printError("reformime: -H is not available yet\n")
        return 1
    }

    static func encode(_ ctx: ReformimeContext) -> Int32 {
        printError("reformime: -O is not available yet\n")
        return 1
    }
}
