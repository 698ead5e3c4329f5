#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MailQueue

/// `backuprelay` (spec/mta.md §3.16, §4.7): past `warntime`, no warning; the message is marked
/// and its recipients go to the backup relay from the very next pass on.
@Suite struct BackupRelayTests {
    @Test func reroutedInsteadOfWarned() async throws {
        var settings = QueueSettings(queueTime: 86_400, warnTime: 600)
        settings.backupRelay = "backup.example.test"
        let queue = try await DurableQueue.open(directory: temporaryDirectory(), settings: settings, logger: quietLogger)
        let submission = try await queue.submit(QueueEnvelope(sender: "alice@example.test",
                                                              recipients: [QueueRecipient(address: "bob@down.test")]))
        try await submission.write(Array("Subject: held up\n\nbody\n".utf8))
        _ = try await submission.commit()
        let seen = RelaysSeen()
        // Deferred while it goes to its own domain; delivered by way of the backup relay.
        let agent = RecordingAgent { request in
            seen.add(request.backupRelay)
            return request.backupRelay == nil ? .deferred("421 4.4.2 down") : .delivered("relayed")
        }
        let clock = ClockBox(value: Int64(time(nil)))
        let dsn = DSNGenerator(queue: queue, report: DSNReport(me: "mx.example.test", from: "<@>"), logger: quietLogger)
        let scheduler = DeliveryScheduler(queue: queue, agent: agent, bounces: dsn, logger: quietLogger,
                                          clock: { clock.value })
        await scheduler.runOnce()
        #expect(seen.list == [nil])
        clock.value += 700
        await scheduler.runOnce()
        // The pass past warntime still went to the domain; it marked the message, sent no
        // warning, and made it due at once.
        let messages = await queue.messages()
        #expect(messages.count == 1)
        #expect(messages.first?.state.warned == true)
        #expect(messages.first?.state.nextAttempt == clock.value)
        await scheduler.runOnce()
        #expect(seen.list == [nil, nil, "backup.example.test"])
        #expect(await queue.messages().isEmpty)
        #expect(agent.delivered.map(\.1) == ["bob@down.test"])
        await queue.close()
    }

    @Test func settingsLine() {
        #expect(QueueSettings().backupRelay == nil)
        #expect(QueueSettings.backupRelay(line: "Relay.Example.TEST") == "relay.example.test")
        #expect(QueueSettings.backupRelay(line: "relay.example.test\tesmtp") == "relay.example.test")
        #expect(QueueSettings.backupRelay(line: "relay.example.test uucp") == nil)
    }
}

final class RelaysSeen: @unchecked Sendable {
    let lock = NSLockLike()
    private var seen: [String?] = []
    func add(_ relay: String?) { lock.run { seen.append(relay) } }
    var list: [String?] { lock.run { seen } }
}
