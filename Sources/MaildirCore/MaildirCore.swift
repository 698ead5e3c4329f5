/// MaildirCore: Maildir++ on disk, synchronous and lean (DESIGN.md): atomic delivery, file
/// names and flags, folders, keywords, courierimapuiddb, maildirsize quota; mbox delivery and
/// locking. Used by the lean tools and, through `Maildir`, by the servers.
public enum MaildirCoreInfo {
    public static let version = "0.1.0"
}
