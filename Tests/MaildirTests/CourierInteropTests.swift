#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MaildirCore
import Testing
@testable import Maildir

/// The store and the real Courier-IMAP (Debian's imapd, unpacked by the anchors'
/// install.sh) work on one maildir in turn: UIDs, UIDVALIDITY, flags, keywords and sizes must
/// agree in both directions. imapd runs pre-authenticated on a pipe (AUTHENTICATED=user,
/// maildir as argument), as Courier's login process starts it.
@Suite(.enabled(if: CourierIMAP.binary != nil, "Courier-IMAP not installed (sudo /work/shared/anchors/install.sh)"))
struct CourierInteropTests {
    @Test func storeAndCourierAgreeBothWays() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        for i in 1...3 { try deliver("Subject: m\(i)\nMessage-ID: <m\(i)@x>\n\nbody \(i)\nline\n", to: root) }
        let store = MailStore(root: root)
        let box = try await store.open(.inbox)
        try await box.setFlags(uids: [2], flags: .seen, keywords: ["Work"], operation: .add)
        try await box.setFlags(uids: [1], flags: .deleted, operation: .add)
        #expect(try await box.expunge() == [1])
        let (validity, appended) = try await store.append(to: .inbox, message: Array("Subject: app\r\n\r\nx\r\n".utf8),
                                                          flags: [.answered], internalDate: 1_700_000_000)
        #expect(appended == 4)
        try await box.refresh()
        let ours = await box.snapshot

        // Courier reads what we wrote.
        let out = try CourierIMAP.run(root, [
            "a SELECT INBOX",
            "b UID FETCH 1:* (FLAGS RFC822.SIZE INTERNALDATE)",
        ])
        #expect(out.contains("* OK [UIDVALIDITY \(validity)]"))
        #expect(out.contains("* 3 EXISTS"))
        for m in ours.messages {
            #expect(out.contains("UID \(m.uid) "), "uid \(m.uid) in\n\(out)")
            #expect(out.contains("RFC822.SIZE \(m.size)"), "size \(m.size) in\n\(out)")
        }
        #expect(out.contains(#"INTERNALDATE "14-Nov-2023"#))
        let line2 = out.split(separator: "\n").first { $0.contains("UID 2 ") } ?? ""
        #expect(line2.contains("\\Seen") && line2.contains("Work"))
        let line4 = out.split(separator: "\n").first { $0.contains("UID 4 ") } ?? ""
        #expect(line4.contains("\\Answered"))

        // We read what Courier wrote: a flag and keyword change and an APPEND.
        let out2 = try CourierIMAP.run(root, [
            "a SELECT INBOX",
            "b UID STORE 3 +FLAGS (\\Flagged $Label1)",
            "c APPEND INBOX (\\Seen) {19}\r\nSubject: courier\r\n",
        ])
        #expect(out2.contains("[APPENDUID \(validity) 5]"), "\(out2)")
        #expect(out2.contains("b OK"), "\(out2)")
        let changes = try await box.refresh()
        #expect(changes.added == [5])
        #expect(changes.flagsChanged == [3])
        #expect(!changes.uidValidityChanged)
        let snap = await box.snapshot
        #expect(snap.message(uid: 3)?.flags == .flagged)
        #expect(snap.message(uid: 3)?.keywords == ["$Label1"])
        #expect(snap.message(uid: 5)?.flags == .seen)
        #expect(snap.uidNext == 6)
    }
}

extension CourierInteropTests {
    @Test func foldersSubscriptionsAndCopiesAgree() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        try deliver("Subject: one\n\nbody\n", to: root)
        let store = MailStore(root: root)
        let resume = try MailboxName(imap: "INBOX.R&AOk-sum&AOk-")
        try await store.create(resume)
        try await store.create(MailboxName(imap: "INBOX.Archive.2024"))
        try await store.subscribe(resume)
        let box = try await store.open(.inbox)
        try await box.setFlags(uids: [1], flags: .flagged, keywords: ["Project"], operation: .add)
        let copied = try await box.copy(uids: [1], to: resume)

        let out = try CourierIMAP.run(root, [
            "a LIST \"\" \"*\"",
            "b LSUB \"\" \"*\"",
            "c SELECT INBOX.R&AOk-sum&AOk-",
            "d UID FETCH 1:* (FLAGS)",
            "e CREATE INBOX.FromCourier",
            "f UID COPY 1 INBOX.FromCourier",
        ])
        #expect(out.contains(#"* LIST (\HasNoChildren) "." "INBOX.R&AOk-sum&AOk-""#), "\(out)")
        #expect(out.contains(#"* LIST (\Noselect \HasChildren) "." "INBOX.Archive""#), "\(out)")
        #expect(out.contains(#"* LSUB (\HasNoChildren) "." "INBOX.R&AOk-sum&AOk-""#), "\(out)")
        #expect(out.contains("[UIDVALIDITY \(copied.uidValidity)]"), "\(out)")
        let fetched = out.split(separator: "\n").first { $0.contains("UID 1 ") } ?? ""
        #expect(fetched.contains("\\Flagged") && fetched.contains("Project"), "\(out)")

        // Courier's folder and its COPY, seen through the store.
        let list = try await store.list().map { $0.name.imapName() }
        #expect(list.contains("INBOX.FromCourier"))
        let theirs = try await store.open(MailboxName(imap: "INBOX.FromCourier"))
        let m = try #require(await theirs.snapshot.messages.first)
        #expect(m.flags == .flagged && m.keywords == ["Project"])
    }
}

enum CourierIMAP {
    static let binary: String? = {
        let candidates = [ProcessInfo.processInfo.environment["COURIER_IMAPD"],
                          // Scripts/test unpacks Debian's courier-imap here
                          "/var/cache/courier-swift-test/courier-dist/usr/bin/imapd",
                          (ProcessInfo.processInfo.environment["ANCHORS_HOME"] ?? "/var/tmp/courier-anchors") + "/courier-dist/usr/bin/imapd"]
        return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Runs Courier's imapd on `maildir` with these commands (then LOGOUT); returns its output.
    static func run(_ maildir: String, _ commands: [String]) throws -> String {
        guard let binary else { return "" }
        let dist = URL(fileURLWithPath: binary).deletingLastPathComponent().deletingLastPathComponent().path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = [maildir]
        var env = ProcessInfo.processInfo.environment
        env["AUTHENTICATED"] = "demo"
        env["IMAP_KEYWORDS"] = "1"      // as Debian's /etc/courier/imapd sets them
        env["IMAP_USELOCKS"] = "1"
        env["LD_LIBRARY_PATH"] = dist + "/lib:" + dist + "/lib/x86_64-linux-gnu:" + dist + "/lib/courier-authlib"
        p.environment = env
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = output
        try p.run()
        let script = (commands + ["z LOGOUT"]).map { $0 + "\r\n" }.joined()
        input.fileHandleForWriting.write(Data(script.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r", with: "")
    }
}
