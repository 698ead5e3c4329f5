#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MaildirCore

extension Mailbox {
    /// The largest message parsed for a summary; bigger ones get only what the first
    /// `maximumSummaryBytes` show (their sizes then come from the snapshot).
    public static let maximumSummaryBytes = 256 * 1024 * 1024

    /// The envelope fields, search fields and MIME structure of a message (FETCH ENVELOPE,
    /// BODYSTRUCTURE, SEARCH on headers). Parsed once per session and base name.
    public func summary(uid: UInt32) async throws(MailStoreError) -> MessageSummary {
        guard let m = snapshot.message(uid: uid) else { throw .noSuchMessage(uid) }
        if let cached = summaries[m.baseName] { return cached }
        let reader = try await openMessage(uid: uid)
        defer { reader.close() }
        let bytes = try await reader.read(offset: 0, maxLength: Int(min(reader.size, Int64(Self.maximumSummaryBytes))))
        let executor = store.executor
        let summary = try await executor.run { () throws(MailStoreError) in MessageSummary.parse(bytes) }
        summaries[m.baseName] = summary
        if summaries.count > 4096 { summaries.removeAll(keepingCapacity: true) }
        return summary
    }
}
