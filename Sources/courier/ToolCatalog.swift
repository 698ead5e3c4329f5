import Maildrop
import MailTools
import ToolSupport

/// Every tool `courier` runs by name (`courier TOOL` or a link named TOOL), in `--help` order.
enum ToolCatalog {
    /// Tools that are also lean executables of their own (products of this package).
    static let lean: [ToolEntry] = LeanTools.all + [MaildropTool.entry]
    /// Tools that exist only inside `courier` (admin tools such as `mailq` join here).
    static let inProcess: [ToolEntry] = AuthTools.all + [SendmailTool.entry, MailqTool.entry, CancelmsgTool.entry,
                                                           MakealiasesTool.entry, TestmxlookupTool.entry] + MakesmtpaccessTool.entries
        + MakeDomainListTool.entries + SharedIndexTools.entries

    static var all: [ToolEntry] { lean + inProcess }

    static func named(_ name: String) -> ToolEntry? {
        lean.first { $0.name == name } ?? inProcess.first { $0.name == name }
    }

    static func hasLeanExecutable(_ name: String) -> Bool {
        lean.contains { $0.name == name }
    }
}
