#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The `courierimapkeywords/` directory of a folder (access.md §1.5, maildir/maildirkeywords.C).
///
/// A writer puts a message's complete keyword set into `courierimapkeywords/<basename>` (written
/// in `tmp/`, then renamed: atomic per message, last writer wins). A reader merges: the newest
/// update per message wins over `:list`; it rewrites `:list` when something changed and renames
/// the update files it consumed to `.<N>.<basename>` (N = time/300), removing older ones.
public struct KeywordStore: Sendable {
    public let folderPath: String

    public init(folderPath: String) { self.folderPath = folderPath }

    public var directoryPath: String { folderPath + "/courierimapkeywords" }
    public var listPath: String { directoryPath + "/:list" }

    /// Records the complete keyword set of a message (empty = none).
    public func update(baseName: String, keywords: [String]) throws(MaildirError) {
        guard isSafeName(baseName) else { throw .invalidFolderName(baseName) }
        try ensureDirectory()
        let t = SystemCall.now()
        let temporary = folderPath + "/tmp/\(t.seconds).M\(t.microseconds)P\(getpid())_keywords.\(UniqueName.escapeHost(SystemCall.hostName()))"
        try SystemCall.replaceFile(directoryPath + "/" + baseName, temporaryPath: temporary,
                                   bytes: KeywordList.updateFile(keywords), mode: 0o644)
    }

    /// Merges pending updates into `:list` and returns every message's keywords. `existing`, if
    /// given, is the set of base names still in the folder: keywords of vanished messages are
    /// dropped. Call it under the folder lock (`MaildirLock`), as the scan does.
    public func load(existing: Set<String>? = nil, now: Int64 = SystemCall.now().seconds) throws(MaildirError) -> KeywordList {
        for _ in 0..<1000 {
            if let result = try attemptLoad(existing: existing, now: now) { return result }
        }
        throw SystemCall.failure("load", directoryPath, EAGAIN)
    }

    /// One pass; nil when an update file vanished under us (another reader consumed it): retry.
    private func attemptLoad(existing: Set<String>?, now: Int64) throws(MaildirError) -> KeywordList? {
        let slot = now / 300
        var newest: [String: Int64] = [:]      // base name → N of the newest ".N." file
        var fresh = Set<String>()              // base names with a bare update file
        for name in SystemCall.names(in: directoryPath) where name != ":list" {
            let bytes = Array(name.utf8)
            if bytes.first == UInt8(ascii: ".") {
                if let (n, base) = Self.parseVersioned(bytes) {
                    if let old = newest[base] {
                        // Keep only the newest aged update of a message.
                        let smaller = min(old, n)
                        unlink(versionedPath(base, smaller))
                        newest[base] = max(old, n)
                    } else {
                        newest[base] = n
                    }
                } else {
                    removeIfOld(directoryPath + "/" + name, now: now)
                }
                continue
            }
            fresh.insert(name)
        }

        let listBytes = try SystemCall.readFile(listPath, limit: 64 * 1024 * 1024) ?? []
        let stored = KeywordList.parse(listBytes)
        var merged = stored.messages
        for base in Set(newest.keys).union(fresh) {
            let path = fresh.contains(base) ? directoryPath + "/" + base : versionedPath(base, newest[base] ?? 0)
            guard let bytes = try SystemCall.readFile(path, limit: 1024 * 1024) else { return nil }
            let keywords = KeywordList.parseUpdateFile(bytes)
            merged[base] = keywords.isEmpty ? nil : keywords
        }
        if let existing {
            for base in merged.keys where !existing.contains(base) { merged[base] = nil }
        }
        let result = KeywordList(messages: merged)
        if result != stored || !fresh.isEmpty {
            let t = SystemCall.now()
            let temporary = folderPath + "/tmp/\(t.seconds).M\(t.microseconds)P\(getpid())_keywordlist.\(UniqueName.escapeHost(SystemCall.hostName()))"
            try ensureDirectory()
            try SystemCall.replaceFile(listPath, temporaryPath: temporary, bytes: result.formatted(), mode: 0o644)
        }
        // Age the consumed update files; drop aged ones that `:list` now covers.
        for base in fresh {
            let age = max(slot + 1, newest[base] ?? 0)
            _ = rename(directoryPath + "/" + base, versionedPath(base, age))
            if let old = newest[base], old != age { unlink(versionedPath(base, old)) }
        }
        for (base, n) in newest where !fresh.contains(base) && n < slot {
            removeIfOld(versionedPath(base, n), now: now)
        }
        return result
    }

    /// `.N.basename` → (N, basename); N is a positive decimal without leading zeros.
    static func parseVersioned(_ bytes: [UInt8]) -> (Int64, String)? {
        guard bytes.count > 3, bytes[0] == UInt8(ascii: "."), bytes[1] >= 0x31, bytes[1] <= 0x39,
              let (n, used) = NumberText.parseSigned(bytes[1...]), used < 19 else { return nil }
        let dot = 1 + used
        guard dot < bytes.count - 1, bytes[dot] == UInt8(ascii: ".") else { return nil }
        return (n, String(decoding: bytes[(dot + 1)...], as: UTF8.self))
    }

    private func versionedPath(_ base: String, _ n: Int64) -> String {
        directoryPath + "/.\(n)." + base
    }

    /// Removes a file whose modification is at least 15 minutes old.
    private func removeIfOld(_ path: String, now: Int64) {
        if let st = SystemCall.status(path), Int64(st.st_mtim.tv_sec) < now - 15 * 60 { unlink(path) }
    }

    private func ensureDirectory() throws(MaildirError) {
        if mkdir(directoryPath, 0o700) != 0 && errno != EEXIST { throw SystemCall.failure("mkdir", directoryPath) }
    }

    private func isSafeName(_ name: String) -> Bool {
        let b = Array(name.utf8)
        return !b.isEmpty && b.first != UInt8(ascii: ".") && !b.contains(UInt8(ascii: "/"))
            && !b.contains(UInt8(ascii: ":")) && !b.contains(0) && b.count < 256
    }
}
