/// `makeuserdb [-f file]` (spec/access.md §4.4): compiles `$COURIER_ROOT/etc/userdb` (a file
/// or a directory of files) into `userdb.dat` and `userdbshadow.dat`, atomically. Lines that
/// are not valid records are reported as `makeuserdb: FILE:LINE: reason` and skipped; the other
/// accounts are still compiled (exit 0). A missing or group/world-accessible source, or a
/// write failure, is fatal (exit 1) and leaves the old databases in place.
public enum Makeuserdb {
    public static func run(_ arguments: [String], io: ToolIO) -> Int32 {
        var source = io.root.etc("userdb")
        var rest = arguments.dropFirst()
        if rest.first == "-f" {
            rest = rest.dropFirst()
            guard let file = rest.popFirst() else {
                io.printError("Usage: makeuserdb [-f file]")
                return 1
            }
            source = file
        }
        guard rest.isEmpty else {
            io.printError("Usage: makeuserdb [-f file]")
            return 1
        }
        do {
            let report = try UserdbCompiler.make(UserdbPaths(source: source))
            for problem in report.problems {
                io.printError("makeuserdb: \(problem)")
            }
            return 0
        } catch {
            io.printError("\(error)")
            return 1
        }
    }
}
