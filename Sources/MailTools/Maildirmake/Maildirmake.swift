#if canImport(Glibc)
import Glibc
#endif
import MaildirCore
import ToolSupport

/// `maildirmake`: Courier's maildirmake, compatible with the maildrop package's (spec/tools.md §6.4,
/// access.md §1.10):
///
///     maildirmake [-S] [-q quota] [-f folder | -F folder] [-s mode] [--add name=path | --del name] maildir
///
/// Exit 0 on success, 1 on any error (usage, existing maildir, invalid folder name), 2 when
/// `--add` names an already defined sharable maildir.
public enum Maildirmake {
    /// The parsed command line.
    struct Options {
        var folder: String?
        var mode: mode_t = 0o700
        var mustHaveFolder = false
        var quota: String?
        var addShared: String?
        var deleteShared: String?
        var maildir = ""
    }

    /// Runs maildirmake with `arguments` (argv, program name first); returns the exit status.
    public static func run(_ arguments: [String]) -> Int32 {
        switch parse(arguments) {
        case .exit(let status): return status
        case .options(let options): return execute(options)
        }
    }

    static func usage() -> Int32 {
        let out = FDOutput(fd: 1)
        out.write("Usage: maildirmake [ options ] maildir\n")
        out.flush()
        return 1
    }

    enum ParseOutcome {
        case options(Options)
        case exit(Int32)
    }

    static func parse(_ arguments: [String]) -> ParseOutcome {
        var o = Options()
        var i = 1
        func value(_ arg: String, _ prefixLength: Int) -> String {
            let rest = String(arg.utf8.dropFirst(prefixLength)) ?? ""
            if rest.isEmpty && i + 1 < arguments.count {
                i += 1
                return arguments[i]
            }
            return rest
        }
        while i < arguments.count {
            let arg = arguments[i]
            if !arg.hasPrefix("-") || arg == "-" { break }
            if arg.hasPrefix("-f") {
                o.folder = value(arg, 2)
            } else if arg.hasPrefix("-F") {
                let name = value(arg, 2)
                guard let converted = LocaleText.toUTF8(name), !converted.isEmpty else {
                    printError("Cannot convert \(name) to maildir encoding\n")
                    return .exit(1)
                }
                o.folder = converted
            } else if arg == "-S" {
                o.mode = 0o755
            } else if arg.hasPrefix("-s") {
                o.mode = sharedMode(value(arg, 2))
                o.mustHaveFolder = true
            } else if arg.hasPrefix("-q") {
                o.quota = value(arg, 2)
            } else if arg == "--add" && i + 1 < arguments.count {
                i += 1
                o.addShared = arguments[i]
            } else if arg == "--del" && i + 1 < arguments.count {
                i += 1
                o.deleteShared = arguments[i]
            } else {
                return .exit(usage())
            }
            i += 1
        }
        if i >= arguments.count { return .exit(usage()) }
        o.maildir = arguments[i]
        return .options(o)
    }

    /// `-s read|write[,group]`: read = 0755, write = 01777 (sticky: users delete only their own
    /// messages), `group` takes away the world's permissions.
    static func sharedMode(_ text: String) -> mode_t {
        var mode: mode_t = 0o755
        for word in text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) {
            switch word.first {
            case "r": mode = 0o755
            case "w": mode = 0o777 | mode_t(S_ISVTX)
            case "g": mode &= ~0o007
            default: break
            }
        }
        return mode
    }

    static func execute(_ o: Options) -> Int32 {
        if let add = o.addShared { return SharedMaildirs.add(maildir: o.maildir, definition: add) }
        if let del = o.deleteShared { return SharedMaildirs.delete(maildir: o.maildir, name: del) }

        var path = o.maildir
        if let folder = o.folder, !folder.isEmpty {
            guard folder.utf8.first != UInt8(ascii: "."), let name = try? FolderName(folder) else {
                let out = FDOutput(fd: 1)
                out.write("Invalid folder name: \(folder)\n")
                out.flush()
                return 1
            }
            path = Maildir(path: o.maildir).directory(of: name)
        } else if o.mustHaveFolder {
            return usage()
        }
        let isFolder = !(o.folder ?? "").isEmpty

        if let quotaText = o.quota {
            if !SystemCall.exists(path) {
                do {
                    try Maildir.create(at: path, mode: o.mode & ~0o022, subdirectoryMode: o.mode & ~0o022)
                } catch {
                    printError("\(error)\n")
                    return 1
                }
            }
            do {
                try MaildirQuota(folderPath: path).setQuota(QuotaSpec(quotaText))
            } catch {
                printError("\(error)\n")
                return 1
            }
            return 0
        }

        umask(0)
        do {
            try Maildir.create(at: path, mode: o.mode & ~0o022, subdirectoryMode: isFolder ? o.mode : 0o700,
                               isFolder: isFolder)
        } catch {
            printError("maildirmake: \(error)\n")
            return 1
        }
        return 0
    }
}

/// Command-line text as a folder name for maildirmake -F. Folder directories are UTF-8 (Courier
/// ≥ 5.0) and the tools run under UTF-8 locales; text that was not valid UTF-8 (the runtime
/// replaced it with U+FFFD) cannot be converted.
enum LocaleText {
    static func toUTF8(_ text: String) -> String? {
        text.unicodeScalars.contains("\u{FFFD}") ? nil : text
    }
}
