#if canImport(Glibc)
import Glibc
#endif
import IMAP
import MaildirCore

/// `BODY[]` of a large message, streamed: the file is read twice in pieces (once to count the
/// line ends that gain a CR, once to send), so a session never holds the whole message (issue
/// 6: "no session ever holds a whole mailbox or message in memory"). Smaller messages take the
/// one-read path of `storedBytes`.
extension MailboxSession {
    /// Messages larger than this (bytes on disk) are streamed.
    static let streamedBodyThreshold = 1 << 20
    /// The size of each piece read from the file.
    static let streamedBodyPiece = 256 << 10

    /// Writes `{n}` CRLF and the message converted to CRLF through `flushHook`, leaving `w` a
    /// fresh writer for the rest of the response. False (nothing written) when the message is
    /// small, there is no hook, or the file cannot be opened (the caller then takes the
    /// ordinary path, which reports a vanished message).
    func streamWholeMessage(at index: Int, into w: inout ResponseWriter) -> Bool {
        // A message already read (by the event loop, which reads at most the threshold, or by
        // this function for an earlier small message of the same FETCH) is small; another
        // message's preloaded bytes say nothing about this one.
        guard let uid = selected?.messages[index].uid, preloaded?.uid != uid, let flushHook,
              let fd = openStoredMessage(at: index) else { return false }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return false }
        guard Int(st.st_size) > Self.streamedBodyThreshold else {
            // Small: read it from this descriptor now (the caller's one-read path takes it from
            // `preloaded` instead of opening the file a second time).
            if let bytes = try? SystemCall.readAll(fd, path: "", limit: Self.streamedBodyThreshold) {
                preloaded = (uid, bytes)
            }
            return false
        }
        let size = Int(st.st_size)
        var piece = [UInt8](repeating: 0, count: Self.streamedBodyPiece)

        // Pass 1: the CRLF length. A message file never changes once delivered (flag changes
        // rename it; the open descriptor keeps reading the same bytes).
        var added = 0
        var previous: UInt8 = 0
        var offset = 0
        while offset < size {
            let n = readPiece(fd, &piece, at: offset, max: size - offset)
            if n <= 0 { break }
            Self.forEachBareLF(piece, count: n, previous: previous) { _ in added += 1 }
            previous = piece[n - 1]
            offset += n
        }
        let promised = offset + added
        w.append("{")
        w.append(String(promised))
        w.append("}\r\n")
        flushHook(w.bytes)
        let utf8 = w.utf8Allowed
        w = ResponseWriter(capacity: Self.flushThreshold + 4096)
        w.utf8Allowed = utf8

        // Pass 2: send, exactly `promised` octets whatever happens to the file meanwhile.
        var sent = 0
        previous = 0
        offset = 0
        var out: [UInt8] = []
        out.reserveCapacity(Self.streamedBodyPiece + Self.streamedBodyPiece / 8)
        while sent < promised {
            let n = offset < size ? readPiece(fd, &piece, at: offset, max: size - offset) : 0
            out.removeAll(keepingCapacity: true)
            if n <= 0 {
                // The file shrank (it never should): pad, so the literal stays well formed.
                out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: min(promised - sent, Self.streamedBodyPiece)))
            } else {
                var start = 0
                piece.withUnsafeBufferPointer { raw in
                    Self.forEachBareLF(piece, count: n, previous: previous) { lf in
                        out.append(contentsOf: UnsafeBufferPointer(rebasing: raw[start..<lf]))
                        out.append(13)
                        start = lf
                    }
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: raw[start..<n]))
                }
                previous = piece[n - 1]
                offset += n
            }
            if out.count > promised - sent { out.removeLast(out.count - (promised - sent)) }
            sent += out.count
            flushHook(out)
        }
        return true
    }

    /// Calls `body` with the position of every LF in `bytes[0..<count]` that has no CR before
    /// it (`previous` is the byte before the first), found with memchr.
    static func forEachBareLF(_ bytes: [UInt8], count: Int, previous: UInt8, _ body: (Int) -> Void) {
        bytes.withUnsafeBufferPointer { raw in
            guard let base = raw.baseAddress else { return }
            var at = 0
            while at < count, let found = memchr(base + at, 10, count - at) {
                let i = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base
                if (i == 0 ? previous : raw[i - 1]) != 13 { body(i) }
                at = i + 1
            }
        }
    }

    /// `pread` of up to one piece; retries EINTR. The count read, 0 at the end, -1 on error.
    private func readPiece(_ fd: Int32, _ piece: inout [UInt8], at offset: Int, max: Int) -> Int {
        let want = min(piece.count, max)
        while true {
            let n = piece.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, want, off_t(offset)) }
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    /// The message file opened for reading (found again when another session renamed it),
    /// with `MessageFileAccess`'s rule for symbolic links; nil when it is gone.
    func openStoredMessage(at index: Int) -> Int32? {
        guard let directory = selected?.directory, let count = selected?.messages.count, index < count,
              let fileName = selected?.messages[index].fileName else { return nil }
        for sub in ["/cur/", "/new/"] {
            let fd = MessageFileAccess.open(directory + sub + fileName.name)
            if fd >= 0 { return fd }
        }
        guard let renamed = findFile(baseName: fileName.baseName, in: directory) else { return nil }
        selected?.messages[index].fileName = renamed
        let fd = MessageFileAccess.open(directory + "/cur/" + renamed.name)
        return fd >= 0 ? fd : nil
    }
}
