import IMAP
import MaildirCore

extension MailboxSession {
    /// The expunge half of a MOVE whose copies are already in the target (RFC 6851 §3.3):
    /// removes these messages (indices into the selection, any order) from the selected folder
    /// and its quota, and reports them as EXPUNGE, or VANISHED once QRESYNC is on (RFC 7162
    /// §3.2.10), highest number first so each EXPUNGE number is right when it is read.
    func expungeMoved(_ indices: [Int], into w: inout ResponseWriter) {
        var gone: [UInt32] = []
        for index in Set(indices).sorted(by: >) {
            guard let count = selected?.messages.count, index < count, var m = selected?.messages[index],
                  let directory = selected?.directory else { continue }
            let folder = selected?.folder   // nil: INBOX
            if let p = filePath(m), let last = p.split(separator: "/").last { m.fileName = MessageFileName(String(last)) }
            try? maildir.expunge(folder: folder, fileName: m.fileName)
            try? KeywordStore(folderPath: directory).update(baseName: m.fileName.baseName, keywords: [])
            // In place through `selected` (a local copy would make each removal copy the array).
            selected?.messages.remove(at: index)
            gone.append(m.uid)
            if !qresync { w.untagged("\(index + 1) EXPUNGE") }
        }
        recordOwnExpunges(gone)
        writeVanished(gone, earlier: false, into: &w)
    }
}
