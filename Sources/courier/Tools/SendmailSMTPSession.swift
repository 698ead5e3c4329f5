#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MailConfig
import MailQueue
import SMTP
import SMTPServer

/// `sendmail -bs` (spec/mta.md §6.1): an SMTP session on stdin/stdout for a local program,
/// driven by the same pure `SMTPSession` as the network server. Each accepted message is
/// prepared like a `sendmail` message (Date, Message-ID, From added when missing) and written
/// as a durable drop in `var/queue/incoming/`, so it works whether or not the daemon runs;
/// `250` comes only after the drop is on disk. The local user may send to any address (the
/// queue routes it), as with plain `sendmail`.
struct SendmailSMTPSession {
    let site: SiteConfig
    let root: ConfigRoot
    let options: SendmailOptions
    let context: SendmailMessage.Context

    func run() -> Int32 {
        var limits = SMTPLimits()
        limits.messageSize = site.sizeLimit
        var session = SMTPSession(configuration: SMTPSessionConfiguration(hostname: site.me, limits: limits))
        var framer = CommandLineFramer(limit: limits.commandLine)
        var decoder: DataDecoder?
        var message: [UInt8] = []
        send(session.greeting())
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { return 75 }  // EX_TEMPFAIL: input broke; nothing half-queued is kept
            if count == 0 { return 0 }  // the client went away
            var input = buffer[0..<count]
            while !input.isEmpty || decoder?.isFinished == true {
                if var active = decoder {
                    var chunk: [UInt8] = []
                    let used = active.decode(input, into: &chunk)
                    input = input.dropFirst(used)
                    decoder = active
                    message += chunk
                    guard active.isFinished else { continue }
                    decoder = nil
                    var action = session.dataEnded(active.outcome)
                    if action == .commitSubmission, let transaction = session.currentTransaction {
                        action = commit(transaction, message, &session)
                    }
                    message = []
                    if perform(action, &session, &decoder) { return 0 }
                    continue
                }
                guard let line = framer.next(from: &input) else { break }
                let action: SMTPSession.Action
                switch line {
                case .line(let bytes): action = session.receive(line: bytes[...])
                case .tooLong: action = session.receiveOverlongLine()
                }
                if perform(action, &session, &decoder) { return 0 }
            }
        }
    }

    /// Carries out one action; true when the session is over.
    private func perform(_ action: SMTPSession.Action, _ session: inout SMTPSession, _ decoder: inout DataDecoder?) -> Bool {
        switch action {
        case .send(let reply):
            send(reply, enhanced: session.writesEnhancedCodes)
        case .sendAndClose(let reply):
            send(reply, enhanced: session.writesEnhancedCodes)
            return true
        case .sendAndStartTLS:
            // Never offered (no certificate on a pipe).
            send(Replies.tlsNotAvailable, enhanced: session.writesEnhancedCodes)
        case .checkSender(let sender, let parameters):
            return perform(session.senderChecked(sender, parameters, refusal: nil), &session, &decoder)
        case .checkRecipient(let mailbox, let parameters):
            return perform(session.recipientChecked(mailbox, parameters, refusal: nil), &session, &decoder)
        case .openSubmission:
            decoder = DataDecoder(sizeLimit: session.configuration.limits.messageSize,
                                  lineLimit: session.configuration.limits.dataLine)
            return perform(session.submissionOpened(), &session, &decoder)
        case .commitSubmission:
            break  // handled where the data ends
        case .abortSubmission(let reply):
            send(reply, enhanced: session.writesEnhancedCodes)
        case .authenticate:
            return perform(session.authenticationEnded(Replies.authRejected), &session, &decoder)
        case .receiveChunk, .discardChunk:
            break  // CHUNKING is not offered on a pipe (`SMTPSessionConfiguration.chunking` is off)
        }
        return false
    }

    private func commit(_ transaction: SMTPTransaction, _ data: [UInt8], _ session: inout SMTPSession) -> SMTPSession.Action {
        var messageOptions = options
        messageOptions.recipients = transaction.recipients.map { $0.0.address }
        // Each message of the session gets its own time and Message-ID.
        var messageContext = context
        messageContext.now = Int64(time(nil))
        messageContext.uniquePart += "." + String(UInt64(bitPattern: Int64(data.count)) &+ UInt64(messageContext.now), radix: 16)
            + "." + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let prepared = SendmailMessage.prepare(data, options: messageOptions, context: messageContext)
        var envelope = QueueEnvelope(transaction, clientAddress: "127.0.0.1", heloName: session.heloName ?? "localhost",
                                     authenticatedUser: nil)
        envelope.source = .other  // `sendmail -bs` is a local submission, not an SMTP client
        do {
            let id = try IncomingDrop.write(queueDirectory: root.queue, envelope: envelope, body: prepared.bytes,
                                            queueTime: site.queueTime)
            return session.committed(id: id.rawValue)
        } catch .insufficientStorage {
            return session.commitFailed(Replies.mailSystemFull)
        } catch {
            return session.commitFailed(Replies.submitFailed)
        }
    }

    private func send(_ reply: SMTPReply, enhanced: Bool = false) {
        let bytes = reply.encoded(enhanced: enhanced)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }
}
