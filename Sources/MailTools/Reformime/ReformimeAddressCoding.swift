import MailCore
import ToolSupport

/// `-H`/`-O` over an address list. Waiting for the shared RFC 822 address parser
/// (MailCore/Address, branch `reformail`).
enum ReformimeAddressCoding {
    static func decode(_ ctx: ReformimeContext) -> Int32 {
        printError("reformime: -H is not available yet\n")
        return 1
    }

    static func encode(_ ctx: ReformimeContext) -> Int32 {
        printError("reformime: -O is not available yet\n")
        return 1
    }
}
