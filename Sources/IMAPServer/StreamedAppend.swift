import IMAP
import MaildirCore
import NIOConcurrencyHelpers

/// An APPEND message written to the target folder's tmp/ as its bytes arrive
/// (CommandFramer streams messages above `IMAPLimits.appendStreamThreshold`), CRLF turned
/// into LF on the way. Writes run on the thread pool one after another; `abort` may come from
/// any thread (a client that vanished): a lock keeps it from overlapping a write.
final class StreamedAppend: @unchecked Sendable {
    private let lock = NIOLock()
    private var aborted = false
    let pending: PendingMessage
    /// The folder it was opened for; the final APPEND command must name the same one.
    let directory: String
    private var heldCR = false
    private(set) var failure: MaildirError?
    private var finished = false

    init(pending: PendingMessage, directory: String) {
        self.pending = pending
        self.directory = directory
    }

    /// The next bytes of the message (a CR at the end of a chunk waits for the next one).
    func write(_ chunk: [UInt8]) {
        lock.withLock { writeLocked(chunk) }
    }

    private func writeLocked(_ chunk: [UInt8]) {
        guard failure == nil, !aborted else { return }
        var out: [UInt8] = []
        out.reserveCapacity(chunk.count + 1)
        var index = 0
        if heldCR {
            heldCR = false
            if chunk.first != 10 { out.append(13) }
        }
        while index < chunk.count {
            let c = chunk[index]
            if c == 13 {
                if index + 1 == chunk.count {
                    heldCR = true
                } else if chunk[index + 1] != 10 {
                    out.append(13)
                }
            } else {
                out.append(c)
            }
            index += 1
        }
        do {
            try pending.write(out)
        } catch {
            failure = error
        }
    }

    /// The literal is complete.
    func finish() {
        lock.withLock {
            guard !aborted else { return }
            if heldCR {
                heldCR = false
                do throws(MaildirError) { try pending.write([13]) } catch { failure = error }
            }
            finished = true
        }
    }

    var isComplete: Bool { lock.withLock { finished && failure == nil && !aborted } }

    func abort() {
        lock.withLock {
            aborted = true
            pending.abort()
        }
    }
}

extension MailboxSession {
    /// Opens the file for a streamed APPEND message, or says why the command is refused.
    func openStream(_ prefix: AppendPrefix) -> Result<StreamedAppend, StreamRefusal> {
        if let shared = sharedSession(for: prefix.mailbox) { return shared.openStream(prefix) }
        if let local = sharableSession(for: prefix.mailbox) {
            // A `shared.` folder: the message goes to the sharable folder's tmp/ (+SharableWrite).
            guard let remote = local.sharableRemote, local.myRights(.inbox).contains(ACLRights.insert),
                  Self.sharableIsWritable(remote) else {
                return .failure(StreamRefusal(code: .noPerm, text: "Access denied for APPEND (ACL \"i\" required)"))
            }
            do {
                return .success(StreamedAppend(pending: try PendingMessage(folderPath: remote), directory: remote))
            } catch {
                return .failure(StreamRefusal(code: .serverBug, text: "APPEND failed: \(error)"))
            }
        }
        guard let target = target(prefix.mailbox), exists(target) else {
            return .failure(StreamRefusal(code: .tryCreate, text: "Mailbox does not exist."))
        }
        let dir = directory(target)
        do {
            return .success(StreamedAppend(pending: try PendingMessage(folderPath: dir), directory: dir))
        } catch {
            return .failure(StreamRefusal(code: .serverBug, text: "APPEND failed: \(error)"))
        }
    }
}

/// Why a streamed APPEND was refused before its bytes came.
struct StreamRefusal: Error, Sendable {
    var code: ResponseCode
    var text: String
}
