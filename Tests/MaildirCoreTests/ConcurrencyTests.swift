#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing
@testable import MaildirCore

/// Several deliverer processes (the built `deliverquota`), a flag changer and an expunger work on
/// one maildir at the same time. Afterwards no message may be lost, no UID given twice, and
/// `courierimapuiddb` and `maildirsize` must agree with the files.
///
/// The message count is `MAILDIR_CONCURRENCY_MESSAGES` (default 2,000; run 10,000 by hand:
/// `MAILDIR_CONCURRENCY_MESSAGES=10000 swift test --filter ConcurrencyTests`). The binaries are
/// looked up in `COURIER_BIN_DIR`, else next to the test bundle (.build/debug).
@Suite struct ConcurrencyTests {
    static let deliverers = 4

    static var messageCount: Int {
        if let v = getenv("MAILDIR_CONCURRENCY_MESSAGES"), let n = Int(String(cString: v)), n > 0 { return n }
        return 2000
    }

    static func binDirectory() -> String {
        if let v = getenv("COURIER_BIN_DIR"), v.pointee != 0 { return String(cString: v) }
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, 4095)
        guard n > 0 else { return ".build/debug" }
        let exe = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // .build/<triple>/debug/courier-swiftPackageTests.xctest
        return String(exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)])
    }

    /// What the flag changer and the expunger saw.
    final class Observations: Sendable {
        struct State {
            var uidOfBase: [String: UInt32] = [:]
            var baseOfUID: [UInt32: String] = [:]
            var conflicts: [String] = []
            var expungedSubjects: [Int] = []
            var flagChanges = 0
            var scans = 0
            var errors: [String] = []
        }
        let state = Mutex(State())
        let stop = Atomic<Bool>(false)

        func record(_ snapshot: FolderSnapshot) {
            state.withLock { s in
                s.scans += 1
                for m in snapshot.messages {
                    let base = m.fileName.baseName
                    if let uid = s.uidOfBase[base], uid != m.uid { s.conflicts.append("\(base) had UID \(uid), now \(m.uid)") }
                    if let other = s.baseOfUID[m.uid], other != base { s.conflicts.append("UID \(m.uid) given to \(other) and \(base)") }
                    s.uidOfBase[base] = m.uid
                    s.baseOfUID[m.uid] = base
                }
            }
        }
    }

    static func subject(ofFile path: String) -> Int? {
        guard let text = readText(path), text.hasPrefix("Subject: ") else { return nil }
        let line = text.dropFirst(9).prefix { $0 != "\n" }
        return Int(line)
    }

    static func runWorker(_ observations: Observations, folder: String, expunger: Bool) {
        let md = Maildir(path: folder)
        var random = SystemRandomNumberGenerator()
        while !observations.stop.load(ordering: .relaxed) {
            do {
                let snapshot = try FolderScanner(folderPath: folder).scan()
                observations.record(snapshot)
                if expunger {
                    for m in snapshot.messages where m.fileName.flags?.isTrashed == true {
                        let path = folder + "/cur/" + m.fileName.name
                        let subject = subject(ofFile: path)
                        do {
                            try md.expunge(folder: nil, fileName: m.fileName)
                            if let subject { observations.state.withLock { $0.expungedSubjects.append(subject) } }
                            else { observations.state.withLock { $0.errors.append("no subject in \(path)") } }
                        } catch .notFound(_) {
                            // The flag changer renamed it first: the next scan finds it.
                        }
                    }
                } else if !snapshot.messages.isEmpty {
                    for _ in 0..<10 {
                        let m = snapshot.messages[Int.random(in: 0..<snapshot.messages.count, using: &random)]
                        var flags = m.fileName.flags ?? MessageFlags()
                        flags = flags.inserting(MessageFlags.seen)
                        switch Int.random(in: 0..<6, using: &random) {
                        case 0, 1: flags = flags.inserting(MessageFlags.trashed)
                        case 2: flags = flags.removing(MessageFlags.trashed)
                        case 3: flags = flags.setting(MessageFlags.flagged, !flags.isFlagged)
                        default: break
                        }
                        do {
                            try md.setFlags(folder: nil, fileName: m.fileName, flags: flags)
                            observations.state.withLock { $0.flagChanges += 1 }
                        } catch .notFound(_) {
                            // Expunged or renamed meanwhile.
                        }
                    }
                }
            } catch {
                observations.state.withLock { $0.errors.append("\(error)") }
            }
            usleep(2000)
        }
    }

    /// Starts `/bin/sh -c script`; returns its pid.
    static func spawnShell(_ script: String) -> pid_t {
        var pid: pid_t = 0
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup("sh"), strdup("-c"), strdup(script), nil]
        defer { for p in argv { free(p) } }
        let rc = posix_spawn(&pid, "/bin/sh", nil, nil, &argv, environ)
        return rc == 0 ? pid : -1
    }

    @Test(.timeLimit(.minutes(10)))
    func deliverersFlagChangerAndExpungerAgree() throws {
        let deliverquota = Self.binDirectory() + "/deliverquota"
        guard access(deliverquota, X_OK) == 0 else {
            Issue.record("deliverquota not built at \(deliverquota): swift build --product deliverquota, or set COURIER_BIN_DIR")
            return
        }
        let scratch = ScratchDirectory()
        let folder = try scratch.maildir()
        try MaildirQuota(folderPath: folder).setQuota(QuotaSpec("1000000000S,1000000C"))

        let total = Self.messageCount
        let observations = Observations()
        let flagger = Thread { Self.runWorker(observations, folder: folder, expunger: false) }
        let expunger = Thread { Self.runWorker(observations, folder: folder, expunger: true) }
        flagger.start()
        expunger.start()

        var pids: [pid_t] = []
        let per = (total + Self.deliverers - 1) / Self.deliverers
        for d in 0..<Self.deliverers {
            let first = d * per + 1
            let last = min(total, (d + 1) * per)
            if first > last { continue }
            let script = "i=\(first); while [ $i -le \(last) ]; do printf 'Subject: %d\\n\\nmessage %d\\n' $i $i | '\(deliverquota)' '\(folder)' || exit 1; i=$((i+1)); done"
            let pid = Self.spawnShell(script)
            #expect(pid > 0)
            pids.append(pid)
        }
        for pid in pids where pid > 0 {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            #expect(status == 0, "a deliverer failed")
        }
        // Let the workers see the last deliveries, then stop them.
        usleep(200_000)
        observations.stop.store(true, ordering: .relaxed)
        while !flagger.isFinished || !expunger.isFinished { usleep(10_000) }

        let final = try FolderScanner(folderPath: folder).scan()
        observations.record(final)
        let state = observations.state.withLock { $0 }
        #expect(state.errors == [])
        #expect(state.conflicts == [], "a UID was given twice or changed")
        #expect(state.flagChanges > 0)

        // No message lost: every subject is either still there or was expunged, exactly once.
        var subjects: [Int] = state.expungedSubjects
        for m in final.messages {
            if let s = Self.subject(ofFile: folder + "/cur/" + m.fileName.name) { subjects.append(s) }
        }
        #expect(subjects.count == total)
        #expect(Set(subjects) == Set(1...total))
        #expect(names(folder + "/new") == [])
        #expect(names(folder + "/tmp").filter { !$0.hasPrefix("courier.lock") } == [])

        // courierimapuiddb matches the files and the final scan.
        let bytes = try #require(try SystemCall.readFile(folder + "/courierimapuiddb"))
        guard case .valid(let db, let dropped) = UIDDatabase.parse(bytes) else {
            Issue.record("courierimapuiddb unusable")
            return
        }
        #expect(dropped == 0)
        #expect(db.entries.map(\.uid) == final.messages.map(\.uid))
        #expect(db.entries.map(\.baseName) == final.messages.map(\.fileName.baseName))
        #expect(Set(names(folder + "/cur").map { MessageFileName.baseName(of: $0) }) == Set(db.entries.map(\.baseName)))
        #expect(db.nextUID > (db.entries.last?.uid ?? 0))
        #expect(Set(db.entries.map(\.uid)).count == db.entries.count)

        // maildirsize adds up to exactly what is counted on disk: the sum of all its lines (read
        // whole, even past the 5120 bytes after which Courier would rebuild it).
        let sizeBytes = try #require(try SystemCall.readFile(folder + "/maildirsize"))
        var sum = QuotaUsage.zero
        for line in sizeBytes.split(separator: UInt8(ascii: "\n")).dropFirst() {
            sum = sum + (MaildirSizeFile.parseDelta(line) ?? .zero)
        }
        let recorded = MaildirSizeFile.parse(sizeBytes)
        let counted = MaildirQuota.countMessages(in: folder + "/cur") + MaildirQuota.countMessages(in: folder + "/new")
        #expect(sum == counted)
        let rebuilt = try MaildirQuota(folderPath: folder).recalculate(quota: recorded.quota)
        #expect(rebuilt == counted)
        print("concurrency: \(total) messages, \(state.expungedSubjects.count) expunged, \(state.flagChanges) flag changes, \(state.scans) scans")
    }
}
