#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The IMAP subscription list, `courierimapsubscribed` in the top maildir: one mailbox name per
/// line (`INBOX.Sent`), names in UTF-8 as Courier ≥ 5.0 writes them (access.md §1.3).
public struct Subscriptions: Sendable {
    public let maildir: Maildir

    public init(maildir: Maildir) { self.maildir = maildir }

    public var filePath: String { maildir.path + "/courierimapsubscribed" }

    /// Parses the file's bytes: non-empty lines, duplicates removed, order kept.
    public static func parse(_ bytes: [UInt8]) -> [String] {
        var seen = Set<String>()
        var result: [String] = []
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            var l = line
            if l.last == UInt8(ascii: "\r") { l = l.dropLast() }
            if l.isEmpty { continue }
            let name = String(decoding: l, as: UTF8.self)
            if seen.insert(name).inserted { result.append(name) }
        }
        return result
    }

    /// The subscribed names (empty if the file does not exist).
    public func names() throws(MaildirError) -> [String] {
        guard let bytes = try SystemCall.readFile(filePath, limit: 16 * 1024 * 1024) else { return [] }
        return Self.parse(bytes)
    }

    public func subscribe(_ name: String) throws(MaildirError) {
        var list = try names()
        if list.contains(name) { return }
        list.append(name)
        try write(list)
    }

    public func unsubscribe(_ name: String) throws(MaildirError) {
        let list = try names()
        if !list.contains(name) { return }
        try write(list.filter { $0 != name })
    }

    /// Rewrites the file through `tmp/` and rename, so readers never see half of it.
    public func write(_ list: [String]) throws(MaildirError) {
        var bytes: [UInt8] = []
        for name in list where !name.utf8.contains(UInt8(ascii: "\n")) {
            bytes.append(contentsOf: name.utf8)
            bytes.append(UInt8(ascii: "\n"))
        }
        let t = SystemCall.now()
        let temporary = maildir.path + "/tmp/\(t.seconds).M\(t.microseconds)P\(getpid())_subscribed.\(UniqueName.escapeHost(SystemCall.hostName()))"
        try SystemCall.replaceFile(filePath, temporaryPath: temporary, bytes: bytes, mode: 0o644)
    }
}
