#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MailQueue

/// Delayed-mail warnings (`warntime`, spec/mta.md §4.7, §4.8) with a fake clock.
@Suite struct DelayWarningTests {
    let report = DSNReport(me: "mx.example.test", from: "\"Courier mail server at mx.example.test\" <@>")

    /// A queue with one message from `sender` to `ok@x` (delivered) and `later@x` (deferred).
    func setUp(sender: String = "alice@example.test", notify: DSNNotify = [],
               root: String = temporaryDirectory()) async throws -> (DurableQueue, String) {
        let queue = try await DurableQueue.open(directory: root, settings: QueueSettings(queueTime: 86_400, warnTime: 600),
                                                logger: quietLogger)
        var later = QueueRecipient(address: "later@x")
        later.notify = notify
        let submission = try await queue.submit(QueueEnvelope(sender: sender,
                                                              recipients: [QueueRecipient(address: "ok@x"), later]))
        try await submission.write(Array("Subject: held up\n\nbody\n".utf8))
        _ = try await submission.commit()
        return (queue, root)
    }

    static func deferLater() -> RecordingAgent {
        RecordingAgent { $0.recipient.address == "later@x" ? .deferred("421 4.4.2 try again later") : .delivered("ok") }
    }

    func warnings(_ agent: RecordingAgent) -> [String] {
        agent.delivered.map { String(decoding: $0.2, as: UTF8.self) }.filter { $0.contains("Subject: WARNING: delayed mail.") }
    }

    @Test func oneWarningAfterWarntimeThenNoMore() async throws {
        let (queue, root) = try await setUp()
        let agent = Self.deferLater()
        let clock = ClockBox(value: Int64(time(nil)))
        let dsn = DSNGenerator(queue: queue, report: report, logger: quietLogger)
        let scheduler = DeliveryScheduler(queue: queue, agent: agent, bounces: dsn, logger: quietLogger,
                                          clock: { clock.value })
        await scheduler.runOnce()
        #expect(await queue.messages().count == 1, "before warntime: no warning")
        #expect(await queue.messages().first?.state.warned == false)

        clock.value += 700
        await scheduler.runOnce()
        let afterWarning = await queue.messages()
        #expect(afterWarning.count == 2)
        #expect(afterWarning.first?.state.warned == true)
        let warning = try #require(afterWarning.last)
        #expect(warning.header.envelope.sender == "")
        #expect(warning.header.envelope.recipients.map(\.address) == ["alice@example.test"])

        // The warning is delivered on the next pass; the original still waits, and is not warned again.
        clock.value += 700
        await scheduler.runOnce()
        clock.value += 7200
        await scheduler.runOnce()
        let texts = warnings(agent)
        #expect(texts.count == 1)
        let text = try #require(texts.first)
        #expect(text.contains("Final-Recipient: rfc822; later@x\nAction: delayed\nStatus: 4.4.2\n"))
        #expect(text.contains("Diagnostic-Code: smtp; 421 4.4.2 try again later\n"))
        #expect(text.contains("Will-Retry-Until: "))
        #expect(!text.contains("rfc822; ok@x"), "only pending recipients are reported")
        #expect(text.contains("Content-Type: text/rfc822-headers"), "a warning returns the header only")
        #expect(await queue.messages().map(\.header.envelope.sender) == ["alice@example.test"])
        await queue.close()

        // The warned flag survives a restart: no second warning.
        let reopened = try await DurableQueue.open(directory: root, settings: QueueSettings(queueTime: 86_400, warnTime: 600),
                                                   logger: quietLogger)
        #expect(await reopened.messages().first?.state.warned == true)
        let again = Self.deferLater()
        let next = DeliveryScheduler(queue: reopened, agent: again,
                                     bounces: DSNGenerator(queue: reopened, report: report, logger: quietLogger),
                                     logger: quietLogger, clock: { clock.value })
        await reopened.flush()
        await next.runOnce()
        #expect(await reopened.messages().count == 1)
        #expect(warnings(again).isEmpty)
        await reopened.close()
    }

    @Test func warningIsRecordedBeforeItIsQueued() async throws {
        // After the warning's pass, the log holds the warned state ahead of the warning itself,
        // so a crash can lose the warning but never repeat it.
        let (queue, root) = try await setUp()
        let clock = ClockBox(value: Int64(time(nil)) + 700)
        let scheduler = DeliveryScheduler(queue: queue, agent: Self.deferLater(),
                                          bounces: DSNGenerator(queue: queue, report: report, logger: quietLogger),
                                          logger: quietLogger, clock: { clock.value })
        await scheduler.runOnce()
        await queue.close()
        var kinds: [String] = []
        for segment in FileIO.list(root + "/log").sorted() {
            let bytes = try FileIO.readAll(root + "/log/" + segment)
            for scanned in QueueLogParser.parse(bytes).records {
                switch scanned.record {
                case let .message(header): kinds.append(header.envelope.sender.isEmpty ? "warning" : "message")
                case let .state(_, state): kinds.append(state.warned ? "warned" : "state")
                case .done: kinds.append("done")
                case .spooled: kinds.append("spooled")
                }
            }
        }
        let warned = try #require(kinds.firstIndex(of: "warned"))
        let warning = try #require(kinds.firstIndex(of: "warning"))
        #expect(warned < warning)
        #expect(kinds.filter { $0 == "warning" }.count == 1)
    }

    @Test func noWarningWithoutDelayNotifyOrForTheNullSender() async throws {
        for (sender, notify) in [("alice@example.test", DSNNotify.failure), ("alice@example.test", .never), ("", [])] {
            let (queue, _) = try await setUp(sender: sender, notify: notify)
            let agent = Self.deferLater()
            let clock = ClockBox(value: Int64(time(nil)) + 700)
            let scheduler = DeliveryScheduler(queue: queue, agent: agent,
                                              bounces: DSNGenerator(queue: queue, report: report, logger: quietLogger),
                                              logger: quietLogger, clock: { clock.value })
            await scheduler.runOnce()
            #expect(await queue.messages().count == 1, "no warning for sender <\(sender)> NOTIFY \(notify.rawValue)")
            #expect(await queue.messages().first?.state.warned == true, "settled: not looked at again")
            await queue.close()
        }
        // NOTIFY=DELAY asks for it explicitly.
        let (queue, _) = try await setUp(notify: .delay)
        let clock = ClockBox(value: Int64(time(nil)) + 700)
        let scheduler = DeliveryScheduler(queue: queue, agent: Self.deferLater(),
                                          bounces: DSNGenerator(queue: queue, report: report, logger: quietLogger),
                                          logger: quietLogger, clock: { clock.value })
        await scheduler.runOnce()
        #expect(await queue.messages().count == 2)
        await queue.close()
    }

    @Test func warntimeZeroNeverWarns() async throws {
        let root = temporaryDirectory()
        let queue = try await DurableQueue.open(directory: root, settings: QueueSettings(queueTime: 86_400, warnTime: 0),
                                                logger: quietLogger)
        let submission = try await queue.submit(QueueEnvelope(sender: "alice@example.test",
                                                              recipients: [QueueRecipient(address: "later@x")]))
        try await submission.write(Array("Subject: x\n\nbody\n".utf8))
        _ = try await submission.commit()
        let clock = ClockBox(value: Int64(time(nil)) + 80_000)
        let scheduler = DeliveryScheduler(queue: queue, agent: Self.deferLater(),
                                          bounces: DSNGenerator(queue: queue, report: report, logger: quietLogger),
                                          logger: quietLogger, clock: { clock.value })
        await scheduler.runOnce()
        #expect(await queue.messages().count == 1)
        await queue.close()
    }

    @Test func stateFlagRoundTripsAndOldRecordsDecode() {
        let state = QueueState(passes: 3, nextAttempt: 99, recipients: [.pending], warned: true)
        let bytes = QueueRecord.state(QueueID("W"), state).encoded()
        #expect(QueueLogParser.parse(bytes).records.first?.record == .state(QueueID("W"), state))
        // A state record from before the flags byte existed: not warned.
        var payload = ByteWriter()
        payload.string("W")
        payload.u32(3)
        payload.i64(99)
        payload.u32(1)
        payload.u8(0)
        let old = QueueRecord.frame(kind: .state, payload: payload.bytes)
        #expect(QueueLogParser.parse(old).records.first?.record
            == .state(QueueID("W"), QueueState(passes: 3, nextAttempt: 99, recipients: [.pending], warned: false)))
    }

    @Test func reportWithoutReplyCodeIsTransient() {
        let header = QueuedMessageHeader(id: QueueID("1"), submitted: 1_700_000_000, expires: 1_700_604_800,
                                         envelope: QueueEnvelope(sender: "a@b", recipients: [QueueRecipient(address: "c@d")]))
        let entry = DSNReport.Entry(recipient: QueueRecipient(address: "c@d"), action: .delayed,
                                    text: "Connection refused", willRetryUntil: 1_700_604_800)
        let text = String(decoding: report.build(to: "a@b", header: header, body: Array("Subject: s\n\nbody text\n".utf8),
                                                 entries: [entry], now: 1_700_020_000, messageID: "m"), as: UTF8.self)
        #expect(text.contains("Subject: WARNING: delayed mail.\n"))
        #expect(text.contains("Action: delayed\nStatus: 4.0.0\nDiagnostic-Code: smtp; 451 Connection refused\n"))
        #expect(text.contains("Will-Retry-Until: Tue, 21 Nov 2023"))
        #expect(text.contains("DELAYED MAIL"))
        #expect(!text.contains("body text"))
    }
}
