import MailConfig
import MaildirCore
import ToolSupport

/// Courier's tools for the virtual shared folders' index (spec/access.md §1.7 (A)):
/// `sharedindexsplit OUTPUTDIR [LETTERS]` splits the index read on standard input (the output
/// of `authenumerate -s`, or `-s -o` for `sharedgroup=`) into `OUTPUTDIR/index*` files, and
/// `sharedindexinstall` moves the files of the site's `etc/shared.tmp/` into `etc/shared/`
/// (the directory the IMAP server reads `index` from), removing those no longer made.
enum SharedIndexTools {
    static let entries = [
        ToolEntry(name: "sharedindexsplit", summary: "split a shared folders index by name prefix or sharedgroup") { split($0) },
        ToolEntry(name: "sharedindexinstall", summary: "install etc/shared.tmp as the shared folders index") { install($0) },
    ]

    static func split(_ arguments: [String]) -> Int32 {
        guard arguments.count >= 2, SystemCall.isDirectory(arguments[1]) else {
            printError("Usage: \(arguments.first ?? "sharedindexsplit") outputdir [ letters ]\n")
            return 2   // Courier's script dies with the failed directory test's errno (ENOENT)
        }
        // The letter count as Perl reads a number: its leading digits, 0 without any.
        let letters = arguments.count >= 3 ? Int(String(arguments[2].prefix { $0.isASCII && $0.isNumber }.prefix(6))) ?? 0 : 0
        guard let input = ByteInput.readAll(fd: 0) else {
            printError("sharedindexsplit: cannot read standard input\n")
            return 1
        }
        do {
            try SharedIndexMaintenance.write(SharedIndexMaintenance.split(input, letters: letters), to: arguments[1])
        } catch {
            printError("\(error)\n")
            return 1
        }
        return 0
    }

    static func install(_ arguments: [String]) -> Int32 {
        let root = ConfigRoot.resolve(explicit: nil, environment: ConfigRoot.processEnvironment())
        let out = FDOutput(fd: 1)
        defer { _ = out.flush() }
        do throws(SharedIndexMaintenance.InstallError) {
            try SharedIndexMaintenance.install(sysconfdir: root.etc)
        } catch {
            switch error {
            case .newIndexEmpty(let path): out.write("\(path) is empty!\n")
            case .noIndexDirectory(let path): out.write("\(path) does not exist!\n")
            }
            return 1
        }
        return 0
    }
}
