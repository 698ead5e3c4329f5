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
    /// Messages larger than this are summarized from their file in pieces.
    public static let streamedSummaryThreshold = 1 << 20

    /// The envelope fields, search fields and MIME structure of a message (FETCH ENVELOPE,
    /// BODYSTRUCTURE, SEARCH on headers). Taken from the folder's `courierswiftsummaries` cache,
    /// else parsed from the message and added to it; kept in memory for the session.
    public func summary(uid: UInt32) async throws(MailStoreError) -> MessageSummary {
        guard let m = snapshot.message(uid: uid) else { throw .noSuchMessage(uid) }
        let base = m.baseName
        if let cached = summaries[base] { return cached }
        let cache = SummaryCache(folderPath: path), executor = store.executor
        if summaryOffsets == nil {
            summaryOffsets = try await executor.run { () throws(MailStoreError) in cache.loadOffsets() }
        }
        if let offset = summaryOffsets?[base],
           let stored = try await executor.run({ () throws(MailStoreError) in cache.read(at: offset, baseName: base) }) {
            summaries[base] = stored
            return stored
        }
        let reader = try await openMessage(uid: uid)
        defer { reader.close() }
        let summary: MessageSummary
        if reader.size > Int64(Self.streamedSummaryThreshold) {
            // A large message: summarized from the file in pieces, never held whole (issue 6).
            guard let streamed = try await executor.run({ () throws(MailStoreError) in reader.summarizeNow() }) else {
                throw .storage(.system(operation: "read", path: path, errno: EIO))
            }
            summary = streamed
        } else {
            let bytes = try await reader.read(offset: 0, maxLength: Int(reader.size))
            summary = try await executor.run { () throws(MailStoreError) in MessageSummary.parse(bytes) }
        }
        if !readOnly, let offset = try await executor.run({ () throws(MailStoreError) in cache.append(baseName: base, summary: summary) }) {
            summaryOffsets?[base] = offset
        }
        summaries[base] = summary
        if summaries.count > 4096 { summaries.removeAll(keepingCapacity: true) }
        return summary
    }
}
