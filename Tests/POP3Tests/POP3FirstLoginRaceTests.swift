import Glibc
import MaildirCore
import Synchronization
import Testing
@testable import POP3

/// Runs `body(i)` on `count` threads at once: every thread waits at a barrier until all have
/// started, so the first logins really overlap.
private final class RaceStart: Sendable {
    let arrived = Atomic<Int>(0)
    let count: Int
    init(count: Int) { self.count = count }

    func wait() {
        arrived.add(1, ordering: .sequentiallyConsistent)
        while arrived.load(ordering: .sequentiallyConsistent) < count { sched_yield() }
    }
}

private final class ThreadJob {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

private func race(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let start = RaceStart(count: count)
    var threads: [pthread_t] = []
    for index in 0..<count {
        let job = ThreadJob {
            start.wait()
            body(index)
        }
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { raw in
            let job = Unmanaged<ThreadJob>.fromOpaque(raw!).takeRetainedValue()
            job.body()
            return nil
        }, Unmanaged.passRetained(job).toOpaque())
        precondition(created == 0)
        threads.append(thread)
    }
    for thread in threads { pthread_join(thread, nil) }
}

/// Many first logins of one maildrop at the same moment (a fresh Maildir without
/// `courierpop3dsizelist` or `courierimapuiddb`): everyone must see one UIDVALIDITY and the
/// same UID for each message, POP3 (`POP3Mailbox`, which takes the folder lock when it writes
/// the size list) and IMAP (`FolderScanner`, its SELECT scan) alike.
@Suite struct POP3FirstLoginRaceTests {
    static func maildir(messages: Int) -> String {
        var template = Array("/tmp/pop3race.XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        for sub in ["cur", "new", "tmp"] { mkdir(path + "/" + sub, 0o700) }
        for i in 0..<messages {
            // Half delivered to new/, half already in cur/.
            let name = "\(1_795_700_000 + i).M\(i)P1.host"
            let file = i % 2 == 0 ? "\(path)/new/\(name)" : "\(path)/cur/\(name):2,"
            let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            let text = "Subject: message \(i)\n\nbody \(i)\n"
            _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
            close(fd)
        }
        return path
    }

    /// The base name of a `cur/...:2,flags` path.
    static func base(_ path: String) -> String {
        String(path.split(separator: "/").last!.split(separator: ":").first!)
    }

    @Test(arguments: 0..<5)
    func concurrentFirstPOP3LoginsAgreeOnUIDLs(round: Int) {
        let dir = Self.maildir(messages: 40)
        let logins = 12
        let results = Mutex<[[String: String]]>([])
        race(logins) { index in
            // Each login has its own clock (seconds apart, well within tmp/'s 48 hours): a login
            // that made its own list would show its own UIDVALIDITY.
            guard let listing = try? POP3Mailbox(path: dir).openListing(now: Int64(time(nil)) + Int64(index) * 7) else { return }
            var seen: [String: String] = [:]
            for message in listing.messages { seen[Self.base(message.path)] = message.uidl }
            results.withLock { $0.append(seen) }
        }
        let all = results.withLock { $0 }
        #expect(all.count == logins)
        let validities = Set(all.flatMap { $0.values.map { String($0.split(separator: "-").last!) } })
        #expect(validities.count == 1)
        // Every login saw all 40 messages, each with the UIDL every other login saw.
        #expect(all.allSatisfy { $0.count == 40 })
        #expect(Set(all).count == 1)
        // And the next login, reading the list the race left, agrees too.
        let after = (try? POP3Mailbox(path: dir).open(now: Int64(time(nil)))) ?? []
        var afterMap: [String: String] = [:]
        for message in after { afterMap[Self.base(message.path)] = message.uidl }
        #expect(afterMap == all.first)
    }

    @Test func concurrentPOP3AndIMAPFirstOpensAgree() {
        let dir = Self.maildir(messages: 30)
        let pop3 = Mutex<[[String: String]]>([])
        let imap = Mutex<[(UInt32, [String: UInt32])]>([])
        race(16) { index in
            if index % 2 == 0 {
                guard let listing = try? POP3Mailbox(path: dir).openListing(now: Int64(time(nil)) + Int64(index) * 7) else { return }
                var seen: [String: String] = [:]
                for message in listing.messages { seen[Self.base(message.path)] = message.uidl }
                pop3.withLock { $0.append(seen) }
            } else {
                guard let snapshot = try? FolderScanner(folderPath: dir).scan() else { return }
                var seen: [String: UInt32] = [:]
                for message in snapshot.messages { seen[message.fileName.baseName] = message.uid }
                imap.withLock { $0.append((snapshot.uidValidity, seen)) }
            }
        }
        let pop3Views = pop3.withLock { $0 }
        let imapViews = imap.withLock { $0 }
        #expect(pop3Views.count == 8)
        #expect(imapViews.count == 8)
        #expect(Set(pop3Views).count == 1)
        #expect(pop3Views.first?.count == 30)
        #expect(Set(imapViews.map(\.0)).count == 1)
        // Each IMAP scan saw every message it listed with the same UID as the others did.
        var uids: [String: UInt32] = [:]
        for (_, view) in imapViews {
            for (name, uid) in view {
                if let known = uids[name] { #expect(known == uid) } else { uids[name] = uid }
            }
        }
        #expect(uids.count == 30)
        #expect(Set(uids.values).count == 30)
    }
}
