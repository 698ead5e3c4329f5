import Glibc
import Logging
import Testing
@testable import MailQueue

func temporaryDirectory() -> String {
    var template = Array("/tmp/mailqueue-test-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    return path
}

func header(_ id: String, recipients: [String] = ["demo@example.test"]) -> QueuedMessageHeader {
    QueuedMessageHeader(id: QueueID(id), submitted: 1_700_000_000, expires: 1_700_604_800,
                        envelope: QueueEnvelope(sender: "a@b", recipients: recipients.map { QueueRecipient(address: $0) }))
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o640)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

@Suite struct QueueRecordTests {
    @Test func roundTripsEveryRecordKind() {
        var envelope = header("X1", recipients: ["a@x", "b@y"]).envelope
        envelope.dsnReturn = .headers
        envelope.envelopeID = "env"
        envelope.recipients[1].notify = [.success, .failure]
        envelope.recipients[1].originalRecipient = "rfc822;b@y"
        envelope.verp = true
        envelope.heloName = "helo"
        envelope.source = .authenticatedSMTP
        envelope.reportOn = .smtp
        let message = QueuedMessageHeader(id: QueueID("X1"), submitted: 5, expires: 9, envelope: envelope)
        let bytes = QueueRecord.message(message, body: Array("Subject: hi\n\nbody\n".utf8)).encoded()
            + QueueRecord.state(QueueID("X1"), QueueState(passes: 2, nextAttempt: 77, recipients: [.delivered, .pending])).encoded()
            + QueueRecord.done(QueueID("X1")).encoded()
        let parsed = QueueLogParser.parse(bytes)
        #expect(parsed.validLength == bytes.count)
        #expect(parsed.records.map(\.record) == [
            .message(message),
            .state(QueueID("X1"), QueueState(passes: 2, nextAttempt: 77, recipients: [.delivered, .pending])),
            .done(QueueID("X1")),
        ])
        if let range = parsed.records[0].bodyRange {
            #expect(Array(bytes[range]) == Array("Subject: hi\n\nbody\n".utf8))
        }
    }

    @Test func sourceAndReportedSourceRoundTrip() {
        for source in [MessageSource.other, .smtp, .authenticatedSMTP] {
            for report in [nil, MessageSource.other, .smtp, .authenticatedSMTP] {
                var envelope = header("S1").envelope
                envelope.source = source
                envelope.reportOn = report
                envelope.eightBit = true
                envelope.tracked = source == .smtp
                let message = QueuedMessageHeader(id: QueueID("S1"), submitted: 1, expires: 2, envelope: envelope)
                let parsed = QueueLogParser.parse(QueueRecord.message(message, body: [10]).encoded())
                #expect(parsed.records.map(\.record) == [.message(message)])
            }
        }
    }

    @Test func corruptByteStopsTheScan() {
        var bytes = QueueRecord.message(header("A"), body: [1, 2, 3]).encoded()
        let firstLength = bytes.count
        bytes += QueueRecord.message(header("B"), body: [4, 5, 6]).encoded()
        bytes[firstLength + 20] ^= 0xFF
        let parsed = QueueLogParser.parse(bytes)
        #expect(parsed.records.count == 1)
        #expect(parsed.validLength == firstLength)
    }

    @Test func randomBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var bytes = (0..<Int.random(in: 0..<200, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if bytes.count > 4 { bytes[0] = 0x43; bytes[1] = 0x51 }
            _ = QueueLogParser.parse(bytes)
        }
    }

    @Test(arguments: [(1, 300), (2, 300), (3, 1800), (4, 300), (5, 300), (6, 3600), (9, 7200), (12, 7200)])
    func retryScheduleMatchesCourier(passes: Int, delay: Int) {
        #expect(RetryPolicy().delay(afterPasses: passes) == delay)
    }
}

/// A crash can cut the log anywhere inside an unacknowledged write. For every offset of the
/// write: every acknowledged message is recovered, the torn one is not, none appears twice.
@Suite struct CrashSafetyTests {
    @Test func truncationAtEveryOffsetOfAMessageWrite() throws {
        let committed = QueueRecord.message(header("A"), body: Array("first\n".utf8)).encoded()
            + QueueRecord.message(header("B", recipients: ["x@y", "z@y"]), body: Array("second\n".utf8)).encoded()
            + QueueRecord.state(QueueID("B"), QueueState(passes: 1, nextAttempt: 5, recipients: [.delivered, .pending])).encoded()
        let torn = QueueRecord.message(header("C"), body: Array("third message\n".utf8)).encoded()
        let root = temporaryDirectory()
        let log = root + "/log"
        mkdir(log, 0o750)
        for cut in 0...torn.count {
            writeFile(log + "/0000000000000001.seg", committed + Array(torn.prefix(cut)))
            let recovered = QueueRecovery.scan(root)
            let ids = recovered.messages.map(\.header.id.rawValue)
            #expect(ids == (cut == torn.count ? ["A", "B", "C"] : ["A", "B"]), "cut at \(cut)")
            #expect(recovered.messages[1].state.recipients == [.delivered, .pending])
        }
    }

    @Test func truncationAtEveryOffsetOfADoneRecord() throws {
        let committed = QueueRecord.message(header("A"), body: Array("first\n".utf8)).encoded()
        let done = QueueRecord.done(QueueID("A")).encoded()
        let root = temporaryDirectory()
        mkdir(root + "/log", 0o750)
        for cut in 0...done.count {
            writeFile(root + "/log/0000000000000001.seg", committed + Array(done.prefix(cut)))
            let ids = QueueRecovery.scan(root).messages.map(\.header.id.rawValue)
            #expect(ids == (cut == done.count ? [] : ["A"]), "cut at \(cut)")
        }
    }

    @Test func importedDropIsCountedOnce() throws {
        let record = QueueRecord.message(header("D"), body: Array("x\n".utf8)).encoded()
        let root = temporaryDirectory()
        mkdir(root + "/log", 0o750)
        mkdir(root + "/incoming", 0o750)
        // Crash after the import was logged but before the drop file was removed.
        writeFile(root + "/log/0000000000000001.seg", record)
        writeFile(root + "/incoming/D", record)
        #expect(QueueRecovery.scan(root).messages.map(\.header.id.rawValue) == ["D"])
        // ... and after delivery finished.
        writeFile(root + "/log/0000000000000001.seg", record + QueueRecord.done(QueueID("D")).encoded())
        #expect(QueueRecovery.scan(root).messages.isEmpty)
    }
}

/// Records what it was asked to deliver; answers from a script.
final class RecordingAgent: DeliveryAgent, @unchecked Sendable {
    let lock = NSLockLike()
    var delivered: [(QueueID, String, [UInt8])] = []
    let answer: @Sendable (DeliveryRequest) -> DeliveryOutcome

    init(answer: @escaping @Sendable (DeliveryRequest) -> DeliveryOutcome = { _ in .delivered("ok") }) {
        self.answer = answer
    }

    func deliver(_ request: DeliveryRequest) -> DeliveryOutcome {
        let outcome = answer(request)
        if case .delivered = outcome {
            lock.run { delivered.append((request.header.id, request.recipient.address, request.body)) }
        }
        return outcome
    }
}

final class NSLockLike: @unchecked Sendable {
    var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func run<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}

@Suite struct DurableQueueTests {
    func envelope(_ recipients: [String]) -> QueueEnvelope {
        QueueEnvelope(sender: "a@b", recipients: recipients.map { QueueRecipient(address: $0) })
    }

    @Test func concurrentCommitsSurviveReopenAndDeliverOnce() async throws {
        let root = temporaryDirectory()
        let queue = try await DurableQueue.open(directory: root, logger: quietLogger)
        let ids = try await withThrowingTaskGroup(of: QueueID.self) { group in
            for number in 0..<50 {
                group.addTask {
                    let submission = try await queue.submit(envelope(["u\(number)@example.test"]))
                    try await submission.write(Array("Subject: \(number)\n\n".utf8))
                    try await submission.write(Array("body \(number)\n".utf8))
                    return try await submission.commit()
                }
            }
            var ids: [QueueID] = []
            for try await id in group { ids.append(id) }
            return ids
        }
        #expect(Set(ids).count == 50)
        let aborted = try await queue.submit(envelope(["gone@example.test"]))
        try await aborted.write(Array("x".utf8))
        await aborted.abort()
        await queue.close()

        let reopened = try await DurableQueue.open(directory: root, logger: quietLogger)
        #expect(Set(await reopened.messages().map(\.header.id)) == Set(ids))
        let agent = RecordingAgent()
        let scheduler = DeliveryScheduler(queue: reopened, agent: agent, logger: quietLogger)
        await scheduler.runOnce()
        #expect(agent.delivered.count == 50)
        #expect(agent.delivered.allSatisfy { id, address, body in
            let number = address.dropFirst().prefix { $0 != "@" }
            return body == Array("Subject: \(number)\n\nbody \(number)\n".utf8)
        })
        #expect(await reopened.messages().isEmpty)
        await reopened.close()

        let third = try await DurableQueue.open(directory: root, logger: quietLogger)
        #expect(await third.messages().isEmpty)
        await third.close()
    }

    @Test func deferralFollowsRetryScheduleThenExpires() async throws {
        let root = temporaryDirectory()
        let settings = QueueSettings(queueTime: 3600)
        let queue = try await DurableQueue.open(directory: root, settings: settings, logger: quietLogger)
        let submission = try await queue.submit(envelope(["ok@x", "later@x", "bad@x"]))
        try await submission.write(Array("hello\n".utf8))
        let id = try await submission.commit()
        let agent = RecordingAgent { request in
            switch request.recipient.address {
            case "ok@x": return .delivered("ok")
            case "bad@x": return .failed("no such user")
            default: return .deferred("try later")
            }
        }
        let bounces = BounceRecorder()
        let clock = ClockBox(value: Int64(time(nil)))
        let scheduler = DeliveryScheduler(queue: queue, agent: agent, bounces: bounces, logger: quietLogger,
                                          clock: { clock.value })
        await scheduler.runOnce()
        let state = await queue.messages().first?.state
        #expect(state?.recipients == [.delivered, .pending, .failed])
        #expect(state?.passes == 1)
        #expect(state?.nextAttempt == clock.value + 300)
        #expect(bounces.failures.map(\.recipient.address) == ["bad@x"])
        await scheduler.runOnce()
        #expect(await queue.messages().first?.state.passes == 1, "not due yet")
        clock.value += 3600
        await scheduler.runOnce()
        #expect(await queue.messages().isEmpty)
        #expect(bounces.failures.map(\.recipient.address) == ["bad@x", "later@x"])
        #expect(agent.delivered.map(\.1) == ["ok@x"])
        _ = id
        await queue.close()
    }

    @Test func sendmailDropIsImported() async throws {
        let root = temporaryDirectory()
        let id = try IncomingDrop.write(queueDirectory: root, envelope: envelope(["d@x"]), body: Array("drop\n".utf8),
                                        queueTime: 60)
        #expect(QueueRecovery.scan(root).messages.map(\.header.id) == [id])
        let queue = try await DurableQueue.open(directory: root, logger: quietLogger)
        #expect(await queue.messages().map(\.header.id) == [id])
        #expect(FileIO.list(root + "/incoming").isEmpty)
        let agent = RecordingAgent()
        await DeliveryScheduler(queue: queue, agent: agent, logger: quietLogger).runOnce()
        #expect(agent.delivered.map(\.2) == [Array("drop\n".utf8)])
        await queue.close()
    }

    @Test func oversizedMessageIsRefused() async throws {
        let queue = try await DurableQueue.open(directory: temporaryDirectory(), settings: QueueSettings(sizeLimit: 10),
                                                logger: quietLogger)
        let submission = try await queue.submit(envelope(["x@y"]))
        try await submission.write(Array(repeating: 0x41, count: 11))
        await #expect(throws: QueueError.messageTooBig(limit: 10)) { try await submission.commit() }
        await queue.close()
    }
}

final class ClockBox: @unchecked Sendable {
    var value: Int64
    init(value: Int64) { self.value = value }
}

final class BounceRecorder: BounceHandler, @unchecked Sendable {
    var failures: [FailedRecipient] = []
    func bounce(_ header: QueuedMessageHeader, body: [UInt8], failed: [FailedRecipient], delivered: [DeliveredRecipient]) async {
        failures += failed
    }
}
