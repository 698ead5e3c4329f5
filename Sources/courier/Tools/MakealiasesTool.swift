import Delivery
import MailConfig
import ToolSupport

/// `makealiases [-src=SRC] [-alias=DAT] [-tmp=TMP] [-dump] [-chk] [-protocol=P] [module]`
/// (spec/mta.md §3.7): reads the alias source (`etc/aliases`, a file or a directory), checks it,
/// and writes the compiled `etc/aliases.dat` (ours: one `name: target, target` line per
/// alias, definitions of one name merged, duplicate targets removed). Errors are reported as
/// `FILE:LINE: reason` and nothing is written (exit 1). `-dump` prints the database instead;
/// `-chk` reports targets in our domains that name no account or alias.
/// The server reads the source text itself (at start and on SIGHUP); the `.dat` is for tools
/// and sites that expect it.
enum MakealiasesTool {
    static let entry = ToolEntry(name: "makealiases", summary: "check etc/aliases and compile it into aliases.dat") { run($0) }

    static func run(_ arguments: [String]) -> Int32 {
        let options = DashOptions(arguments.dropFirst())
        let root = ConfigRoot.resolve(explicit: nil, environment: ConfigRoot.processEnvironment())
        let suffix = options.values["protocol"].map { "-" + $0 } ?? ""
        let source = options.values["src"] ?? root.etc("aliases" + suffix)
        let output = options.values["alias"] ?? root.etc("aliases" + suffix + ".dat")
        var entries: [AliasEntry] = []
        var errors: [ConfigError] = []
        do {
            for (file, bytes) in try ConfigSources.read(source) ?? [] {
                do {
                    entries += try AliasFileParser.parse(bytes, file: file)
                } catch {
                    errors.append(error)
                }
            }
        } catch {
            errors.append(error)
        }
        for entry in entries {
            for target in entry.targets where target.hasPrefix(":include:") {
                let path = String(target.dropFirst(":include:".count)).trimmingCharacters(in: " \t")
                if !path.hasPrefix("/") {
                    errors.append(ConfigError(file: entry.file, line: entry.line, reason: ":include: needs an absolute path: \(path)"))
                } else if (try? ConfigSources.read(path)) == nil {
                    errors.append(ConfigError(file: entry.file, line: entry.line, reason: "cannot read :include: file \(path)"))
                }
            }
        }
        guard errors.isEmpty else {
            for error in errors { printToStandardError("makealiases: \(error)") }
            return 1
        }
        // One line per name, in first-definition order; targets merged without duplicates.
        var order: [String] = []
        var merged: [String: [String]] = [:]
        for entry in entries {
            let key = entry.name.lowercased()
            if merged[key] == nil { order.append(key) }
            for target in entry.targets where !(merged[key]?.contains(target) ?? false) {
                merged[key, default: []].append(target)
            }
        }
        let text = order.map { "\($0): \(merged[$0]?.joined(separator: ", ") ?? "")\n" }.joined()
        if options.flags.contains("dump") {
            print(text, terminator: "")
            return 0
        }
        if options.flags.contains("chk") {
            return check(root: root, order: order, merged: merged)
        }
        do {
            try MakeDatabase.write(Array(text.utf8), to: output, temporary: options.values["tmp"])
        } catch {
            printToStandardError("makealiases: \(error)")
            return 1
        }
        DaemonPidFile.signalReload(root, tool: "makealiases")
        return 0
    }

    /// `-chk`: every target in one of our domains must be an account or an alias.
    static func check(root: ConfigRoot, order: [String], merged: [String: [String]]) -> Int32 {
        let site: SiteConfig
        do {
            site = try ConfigLoader.load(root)
        } catch {
            printToStandardError("makealiases: \(error)")
            return 1
        }
        let router = AddressRouter(site: site)
        var bad = 0
        for name in order {
            for target in merged[name] ?? [] where !target.hasPrefix(":include:") && !target.hasPrefix("|") && !target.hasPrefix("/") {
                if router.resolve(target) == .unknown {
                    print("\(name): \(target): no such local address")
                    bad += 1
                }
            }
        }
        return bad == 0 ? 0 : 1
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
