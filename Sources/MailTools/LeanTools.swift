import ToolSupport

/// The per-message tools that also exist as lean executables, in `courier --help` order.
public enum LeanTools {
    public static let all: [ToolEntry] = [
        ToolEntry(name: "reformail", summary: "rewrite or extract mail headers, split mbox files, detect duplicates") { Reformail.run($0) },
        ToolEntry(name: "reformime", summary: "show, extract, decode and rewrite MIME messages; RFC 2047 header coding") { Reformime.run($0) },
        ToolEntry(name: "makemime", summary: "build MIME parts and multipart messages") { Makemime.run($0) },
        ToolEntry(name: "maildirmake", summary: "create maildirs, folders and quotas") { Maildirmake.run($0) },
        ToolEntry(name: "maildiracl", summary: "list, set and compute IMAP folder ACLs in a maildir") { Maildiracl.run($0) },
        ToolEntry(name: "deliverquota", summary: "deliver a message to a maildir, honouring its quota") { Deliverquota.run($0) },
        ToolEntry(name: "lockmail", summary: "lock a mailbox file and run a program") { Lockmail.run($0) },
        ToolEntry(name: "mailbot", summary: "autoreply, DSN, forward or abuse report for a message, once per sender") {
            Mailbot.run(rawArguments: $0.map { Array($0.utf8) })
        },
    ]

    public static func named(_ name: String) -> ToolEntry? {
        all.first { $0.name == name }
    }
}
