import Logging
import Testing
@testable import MailQueue

/// The hop-free commit path: `commit(completion:)` of an in-memory submission, answered from
/// the log's flusher thread after the fdatasync (Docs/queue-format.md "Accepting a message").
@Suite struct CommitCompletionTests {
    func envelope(_ recipient: String) -> QueueEnvelope {
        QueueEnvelope(sender: "a@b", recipients: [QueueRecipient(address: recipient)])
    }

    /// Waits for a completion-style commit.
    func commit(_ submission: any MessageSubmission) async throws -> QueueID? {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<QueueID?, any Error>) in
            let started = submission.commit { result in continuation.resume(with: result.map { Optional($0) }.mapError { $0 }) }
            if !started { continuation.resume(returning: nil) }
        }
    }

    @Test func completedCommitsAreIndexedDurableAndDeliveredFromMemory() async throws {
        let root = temporaryDirectory()
        let queue = try await DurableQueue.open(directory: root, logger: quietLogger)
        var ids: [QueueID] = []
        for number in 0..<20 {
            guard let submission = queue.submitNow(envelope("u\(number)@example.test")) else {
                Issue.record("an open queue opens submissions at once")
                return
            }
            #expect(submission.writeInMemory(Array("Subject: \(number)\n\nbody \(number)\n".utf8)))
            let id = try #require(try await commit(submission))
            ids.append(id)
        }
        // In the index as soon as the completion ran.
        #expect(await queue.messages().map(\.header.id) == ids)
        // The first attempt takes the body from memory; it matches what the log holds.
        let claimed = await queue.claimDue(now: Int64.max / 2, limit: 100)
        #expect(claimed.count == 20)
        for message in claimed {
            let held = try #require(message.heldBody)
            var onDisk = message
            onDisk.heldBody = nil
            #expect(try await queue.body(of: onDisk) == held)
        }
        // A second claim (a retry) reads from the log: nothing stays held.
        #expect(await queue.messages().allSatisfy { $0.heldBody == nil })
        await queue.close()

        // Durable: every completed commit is there after a reopen, nothing else.
        let reopened = try await DurableQueue.open(directory: root, logger: quietLogger)
        #expect(await reopened.messages().map(\.header.id) == ids)
        let agent = RecordingAgent()
        await DeliveryScheduler(queue: reopened, agent: agent, logger: quietLogger).runOnce()
        #expect(agent.delivered.count == 20)
        #expect(agent.delivered.allSatisfy { _, address, body in
            let number = address.dropFirst().prefix { $0 != "@" }
            return body == Array("Subject: \(number)\n\nbody \(number)\n".utf8)
        })
        await reopened.close()
    }

    @Test func concurrentCompletionCommitsShareTheLog() async throws {
        let root = temporaryDirectory()
        let queue = try await DurableQueue.open(directory: root, logger: quietLogger)
        let ids = try await withThrowingTaskGroup(of: QueueID?.self) { group in
            for number in 0..<40 {
                group.addTask {
                    let submission = try #require(queue.submitNow(envelope("c\(number)@example.test")))
                    _ = submission.writeInMemory(Array("n \(number)\n".utf8))
                    return try await commit(submission)
                }
            }
            var ids: [QueueID] = []
            for try await id in group { if let id { ids.append(id) } }
            return ids
        }
        #expect(Set(ids).count == 40)
        #expect(Set(await queue.messages().map(\.header.id)) == Set(ids))
        await queue.close()
    }

    @Test func spooledOrOversizedSubmissionsTakeTheAsyncCommit() async throws {
        let root = temporaryDirectory()
        let queue = try await DurableQueue.open(directory: root, settings: QueueSettings(sizeLimit: 64),
                                                logger: quietLogger)
        let tooBig = try #require(queue.submitNow(envelope("big@example.test")))
        try await tooBig.write([UInt8](repeating: 0x61, count: 100))
        #expect(try await commit(tooBig) == nil)
        await #expect(throws: QueueError.messageTooBig(limit: 64)) { try await tooBig.commit() }

        let unlimited = try await DurableQueue.open(directory: temporaryDirectory(), logger: quietLogger)
        let large = try #require(unlimited.submitNow(envelope("large@example.test")))
        try await large.write([UInt8](repeating: 0x62, count: QueueSubmission.spillThreshold + 10))
        #expect(try await commit(large) == nil)
        let id = try await large.commit()
        #expect(await unlimited.messages().map(\.header.id) == [id])
        await unlimited.close()
        await queue.close()
    }

    @Test func finishedSubmissionsRefuseASecondCommit() async throws {
        let queue = try await DurableQueue.open(directory: temporaryDirectory(), logger: quietLogger)
        let submission = try #require(queue.submitNow(envelope("once@example.test")))
        _ = submission.writeInMemory(Array("x\n".utf8))
        #expect(try await commit(submission) != nil)
        #expect(try await commit(submission) == nil)
        await #expect(throws: QueueError.self) { try await submission.commit() }
        #expect(await queue.messages().count == 1)
        await queue.close()
    }
}
