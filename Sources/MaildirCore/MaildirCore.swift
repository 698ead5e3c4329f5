/// MaildirCore: Maildir++ on disk, synchronous and lean (DESIGN.md): atomic delivery
/// (`PendingMessage`), file names and flags (`MessageFileName`, `MessageFlags`, `UniqueName`),
/// folders (`Maildir`, `FolderName`, `ModifiedUTF7`, `Subscriptions`), keywords (`KeywordStore`),
/// `courierimapuiddb` (`UIDDatabase`, `FolderScanner`), `maildirsize` quota (`MaildirQuota`);
/// mbox delivery and locking (`MboxDelivery`, `MailboxLock`, `DotLock`).
public enum MaildirCoreInfo {
    public static let version = "0.2.0"
}
