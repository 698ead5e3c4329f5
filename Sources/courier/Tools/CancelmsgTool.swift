import MailConfig
import MailQueue
import ToolSupport

/// `cancelmsg ID [reason…]` (spec/mta.md §4.12): the queued message's pending recipients fail
/// with the reason (default "Message cancelled."), and the sender gets the usual report.
/// Courier's messages and exit codes: "Message scheduled for cancellation." (0) or
/// "Message not found." (1: unknown id, already delivered or bounced, already cancelled).
/// The command is left for the queue's owner (QueueControlCommand), daemon running or not.
enum CancelmsgTool {
    static let entry = ToolEntry(name: "cancelmsg", summary: "cancel a queued message (it bounces to its sender)") { run($0) }

    static func run(_ arguments: [String]) -> Int32 {
        // Courier: no id, nothing to do.
        guard arguments.count >= 2 else { return 0 }
        let root = ConfigRoot.resolve(explicit: nil, environment: ConfigRoot.processEnvironment())
        let id = QueueID(arguments[1])
        let words = arguments.dropFirst(2)
        let reason = words.isEmpty ? QueueControlCommand.defaultCancelReason : words.joined(separator: " ")
        guard QueueTools.isPending(id, queue: root.queue), !QueueTools.isCancelled(id, queue: root.queue) else {
            printToStandardError("Message not found.")
            return 1
        }
        do {
            try QueueControlCommand.cancel(id, reason: reason).write(queueDirectory: root.queue)
        } catch {
            printToStandardError("cancelmsg: \(error)")
            return ExitStatus.tempFail
        }
        print("Message scheduled for cancellation.")
        return 0
    }
}

/// What the queue tools ask of the queue on disk (read-only; the daemon owns it).
enum QueueTools {
    /// The message is queued with a recipient still pending.
    static func isPending(_ id: QueueID, queue: String) -> Bool {
        QueueRecovery.scan(queue).messages.contains { $0.header.id == id && $0.state.recipients.contains(.pending) }
    }

    /// A cancel for the message is already waiting.
    static func isCancelled(_ id: QueueID, queue: String) -> Bool {
        QueueControlCommand.waiting(queueDirectory: queue).contains { command in
            if case .cancel(let cancelled, _) = command { return cancelled == id }
            return false
        }
    }
}
