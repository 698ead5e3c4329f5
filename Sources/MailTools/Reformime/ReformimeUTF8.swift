import MailCore

/// `-u`: the message as maildrop's pattern matching sees it (waiting for the address parser).
enum ReformimeUTF8 {
    static func run(_ ctx: ReformimeContext, _ message: MIMEMessage) {}
}
