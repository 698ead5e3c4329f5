#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import IMAP
@testable import IMAPServer
import MaildirCore

/// BODYSTRUCTURE of a message over 1 MiB is described once per process, not by a scan of the
/// file at every FETCH (`LargeStructureCache`).
struct LargeStructureCacheTests {
    static func structure(_ text: String, extended: Bool) -> String {
        var view = MessageView(fileBytes: Array(text.utf8))
        var w = ResponseWriter()
        w.bodyStructure(view.bodyStructure(), extended: extended)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    @Test func secondFetchDoesNotScanTheFileAgain() throws {
        let m = try TemporaryMaildir()
        let text = LargeMessageTests.text()
        try m.deliver(text)
        try m.deliver("Subject: small\n\nsmall\n")
        let name = try #require(SystemCall.names(in: m.path + "/new").sorted().first)
        var t = MailboxTranscript(m)
        _ = t.run("a SELECT INBOX")
        let first = t.run("b FETCH 1 (BODYSTRUCTURE BODY)")
        #expect(first.hasPrefix("* 1 FETCH (BODYSTRUCTURE " + Self.structure(text, extended: true)
            + " BODY " + Self.structure(text, extended: false) + ")\r\n"))
        _ = t.run("c FETCH 2 BODY.PEEK[]")   // the session's open large message is another now
        // The file changes under its name (which a Maildir never does): a new scan would show it.
        let path = ["/cur/", "/new/"].lazy.compactMap { sub in
            SystemCall.names(in: m.path + sub).first { $0.hasPrefix(name) }.map { m.path + sub + $0 }
        }.first ?? ""
        let changed = text.replacing("boundary=\"B\"", with: "boundary=\"Z\"")
        let fd = open(path, O_WRONLY | O_TRUNC)
        #expect(fd >= 0)
        _ = try? SystemCall.writeAll(fd, Array(changed.utf8), path: path)
        close(fd)
        var other = MailboxTranscript(m)   // another session of the process
        _ = other.run("a SELECT INBOX")
        let again = other.run("b FETCH 1 BODYSTRUCTURE")
        #expect(again.hasPrefix("* 1 FETCH (BODYSTRUCTURE " + Self.structure(text, extended: true) + ")\r\n"))
        #expect(Self.structure(changed, extended: true) != Self.structure(text, extended: true))
    }

    /// Another size under the same name is another entry; many small values under long keys
    /// stay within the byte bound (the keys count too).
    @Test func keyedBySizeAndBoundedWithItsKeys() {
        let cache = LargeStructureCache()
        let key = LargeStructureCache.Key(folder: "/m", baseName: "1.M1P1.h", size: 2_000_000, extended: true, utf8: false)
        cache.put(key, Array("(\"text\" \"plain\")".utf8))
        var resized = key
        resized.size = 3_000_000
        #expect(cache.get(key) != nil)
        #expect(cache.get(resized) == nil)
        let folder = "/" + String(repeating: "f", count: 4000)
        for i in 0..<6_000 {
            cache.put(LargeStructureCache.Key(folder: folder, baseName: "\(i)", size: 1, extended: false, utf8: false), [0x28, 0x29])
            #expect(cache.accountedBytes <= LargeStructureCache.byteLimit)
        }
    }
}
