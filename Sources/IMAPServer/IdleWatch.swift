import Maildir
import MaildirCore

/// Change events for an IDLE client's folder from the `Maildir` store's watcher (inotify,
/// or its polling fallback): each event means "rescan now". This file alone imports the
/// `Maildir` module, whose `MailboxName` and the IMAP one would otherwise collide.
enum IdleWatch {
    /// The events of the folder (nil: INBOX) of the Maildir at `root`, and whether they are
    /// realtime (inotify) rather than a timer.
    static func events(root: String, folder: FolderName?, trashFolderName: String,
                       pollInterval: Duration) -> (events: AsyncStream<Void>, realtime: Bool) {
        let store = MailStore(root: root, trashFolderName: trashFolderName)
        let name: MailboxName = folder.map { .folder($0) } ?? .inbox
        let watch = store.watch(name, pollInterval: pollInterval)
        return (watch.events, watch.isRealtime)
    }
}
