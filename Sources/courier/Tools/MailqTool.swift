#if canImport(Glibc)
import Glibc
#endif
import MailConfig
import MailQueue
import ToolSupport

/// `mailq`: lists the queue from disk (the log and sendmail drops), daemon or not.
/// One block per message: `<id> <size> <date>`, the sender, then one line per recipient
/// with its status (pending, delivered, failed) — the shape of Courier's mailq.
enum MailqTool {
    static let entry = ToolEntry(name: "mailq", summary: "list the mail queue") { _ in run() }

    static func run() -> Int32 {
        let root = ConfigRoot.resolve(explicit: nil, environment: ConfigRoot.processEnvironment())
        let queue = QueueRecovery.scan(root.queue)
        var out = ""
        for message in queue.messages {
            var clock = time_t(message.header.submitted)
            var buffer = [CChar](repeating: 0, count: 32)
            _ = ctime_r(&clock, &buffer)
            let date = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).trimmingTrailingNewline
            out += "\(message.header.id) \(message.bodyLength) \(date)\n"
            out += "  <\(message.header.envelope.sender)>\n"
            for (index, recipient) in message.header.envelope.recipients.enumerated() {
                let status: String
                switch message.state.recipients[safe: index] ?? .pending {
                case .pending: status = message.state.passes > 0 ? "deferred, \(message.state.passes) attempts" : "pending"
                case .delivered: status = "delivered"
                case .failed: status = "failed"
                }
                out += "  <\(recipient.address)> \(status)\n"
            }
        }
        out += "\(queue.messages.count) message\(queue.messages.count == 1 ? "" : "s") in the queue.\n"
        print(out, terminator: "")
        return 0
    }
}

extension String {
    var trimmingTrailingNewline: String {
        hasSuffix("\n") ? String(dropLast()) : self
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
