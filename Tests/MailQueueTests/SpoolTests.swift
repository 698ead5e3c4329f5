#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MailQueue

/// Large messages go to `spool/` while they arrive: committed ones survive a reopen and are
/// delivered byte for byte, aborted or unacknowledged ones leave nothing, finished ones are removed.
@Suite struct SpoolTests {
    func envelope(_ recipient: String) -> QueueEnvelope {
        QueueEnvelope(sender: "a@b", recipients: [QueueRecipient(address: recipient)])
    }

    func spoolFiles(_ root: String) -> [String] {
        FileIO.list(QueueRecovery.spoolDirectory(root)).sorted()
    }

    @Test func largeMessageIsSpooledRecoveredDeliveredAndRemoved() async throws {
        let root = temporaryDirectory()
        let queue = try await DurableQueue.open(directory: root, settings: QueueSettings(sizeLimit: 0), logger: quietLogger)
        var expected: [UInt8] = Array("Subject: big\n\n".utf8)
        let submission = try await queue.submit(envelope("big@example.test"))
        try await submission.write(expected)
        for index in 0..<40 {
            let chunk = [UInt8](repeating: UInt8(ascii: "a") + UInt8(index % 26), count: 100_000) + [10]
            expected += chunk
            try await submission.write(chunk)
        }
        #expect(spoolFiles(root).count == 1 && spoolFiles(root)[0].hasPrefix(".tmp-"))
        let id = try await submission.commit()
        #expect(spoolFiles(root) == [id.rawValue])
        // An aborted large submission leaves nothing.
        let aborted = try await queue.submit(envelope("gone@example.test"))
        try await aborted.write([UInt8](repeating: 120, count: 2_000_000))
        await aborted.abort()
        #expect(spoolFiles(root) == [id.rawValue])
        await queue.close()

        // A crash leftover: a temporary spool file no record names.
        writeFile(QueueRecovery.spoolDirectory(root) + "/.tmp-crashed", [1, 2, 3])
        let reopened = try await DurableQueue.open(directory: root, logger: quietLogger)
        #expect(spoolFiles(root) == [id.rawValue])
        let messages = await reopened.messages()
        #expect(messages.map(\.header.id) == [id])
        #expect(messages.first?.bodyLength == expected.count)
        let agent = RecordingAgent()
        let scheduler = DeliveryScheduler(queue: reopened, agent: agent, logger: quietLogger)
        await scheduler.runOnce()
        #expect(agent.delivered.count == 1)
        #expect(agent.delivered.first?.2 == expected)
        #expect(spoolFiles(root).isEmpty)
        await reopened.close()
    }

    @Test func spooledMessageOverTheLimitIsDropped() async throws {
        let root = temporaryDirectory()
        let limit = 3 * QueueSubmission.spillThreshold
        let queue = try await DurableQueue.open(directory: root, settings: QueueSettings(sizeLimit: limit), logger: quietLogger)
        let submission = try await queue.submit(envelope("big@example.test"))
        for _ in 0..<5 { try await submission.write([UInt8](repeating: 65, count: QueueSubmission.spillThreshold)) }
        #expect(spoolFiles(root).isEmpty)
        await #expect(throws: QueueError.self) { try await submission.commit() }
        #expect(await queue.messages().isEmpty)
        await queue.close()
    }

    @Test func spooledRecordRoundTrips() {
        let record = QueueRecord.spooled(header("S"), file: "0000000000000001.00000001.00000001", length: 1234)
        let parsed = QueueLogParser.parse(record.encoded())
        #expect(parsed.records.map(\.record) == [.spooled(header("S"), file: "0000000000000001.00000001.00000001", length: 1234)])
        // A file name that would leave spool/ is not accepted.
        let hostile = QueueRecord.spooled(header("S"), file: "../../etc/passwd", length: 1).encoded()
        #expect(QueueLogParser.parse(hostile).records.isEmpty)
    }
}
