/// `authenumerate [-s] [-o]` (spec/access.md §4.5): lists every account as
/// `name<TAB>uid<TAB>gid<TAB>home<TAB>maildir`, `-o` adding the options, `-s` leaving out
/// accounts with `disableshared=1`. Asks the authdaemon socket like Courier's tool; when no
/// daemon runs and userdb is the only module, reads the compiled userdb itself.
public enum Authenumerate {
    public static let usage = "Usage: authenumerate [-s] [-o]"

    public static func run(_ arguments: [String], io: ToolIO) -> Int32 {
        var skipShared = false
        var withOptions = false
        for argument in arguments.dropFirst() {
            switch argument {
            case "-s": skipShared = true
            case "-o": withOptions = true
            case "-so", "-os": skipShared = true; withOptions = true
            default:
                io.printError(usage)
                return 1
            }
        }
        let settings: AuthDaemonSettings
        do {
            settings = try AuthDaemonSettings(root: io.root)
        } catch {
            io.printError("authenumerate: \(error)")
            return 1
        }
        let accounts: [AuthDaemonEnumeratedAccount]
        do {
            accounts = try AuthDaemonClient(socketPath: settings.socketPath).enumerate()
        } catch .noDaemon(let reason) {
            guard settings.moduleNames == ["authuserdb"] else {
                io.printError("authenumerate: \(reason)")
                return 1
            }
            do {
                accounts = try UserdbStore(source: io.root.etc("userdb")).allAccounts().compactMap { record in
                    guard let home = record.home else { return nil }
                    return AuthDaemonEnumeratedAccount(name: record.name, uid: record.uid ?? "", gid: record.gid ?? "", home: home,
                                                       maildir: record.maildir ?? "", options: record.options ?? "")
                }
            } catch {
                io.printError("authenumerate: \(error)")
                return 1
            }
        } catch {
            io.printError("authenumerate: \(error)")
            return 1
        }
        var out = ""
        for account in accounts {
            if skipShared, AccountOptions(parsing: account.options)["disableshared"] == "1" { continue }
            var fields = [account.name, account.uid, account.gid, account.home, account.maildir]
            if withOptions { fields.append(account.options) }
            out += fields.joined(separator: "\t") + "\n"
        }
        io.write(Array(out.utf8), fd: 1)
        return 0
    }
}
