import MailCore
import ToolSupport

/// `makemime`: Courier's makemime(1) (maildrop 2.9.3), byte-compatible (spec/tools.md §5).
///
/// SYNOPSIS
///     makemime -c type [-o file] [-e encoding] [-C charset] [-N name] [-a "H: v"]… file
///     makemime -m [type] [-o file] [-e encoding] [-a "H: v"]… file
///     makemime -j [-o file] file1 file2
///     makemime @file
///
/// `file` is a path, `-` (standard input), `&n` (descriptor n) or `( options )`, a
/// nested invocation whose output is the input. Nested invocations run in this process
/// and are spooled to unlinked scratch files in /tmp (Courier forks one child each).
///
/// EXIT STATUS
///     0 on success, and after printing the usage text for bad arguments (as Courier);
///     1 when a file cannot be opened, read or written, or when the multipart part of a
///     `-j` whose two inputs are both nested invocations failed.
public enum Makemime {
    /// Runs makemime with `arguments` (argv, program name first); returns the exit status.
    public static func run(_ arguments: [String]) -> Int32 {
        run(rawArguments: arguments.map { Array($0.utf8) })
    }

    /// Runs makemime with the raw bytes of argv (program name first), so that non-UTF-8
    /// arguments (a Latin-1 `-N` name) reach the output unchanged.
    public static func run(rawArguments: [[UInt8]]) -> Int32 {
        let runtime = MakemimeRuntime()
        let arguments: [[UInt8]]
        if rawArguments.count > 1, rawArguments[1].first == UInt8(ascii: "@") {
            // The argument file replaces the whole command line.
            do {
                arguments = try MakemimeArgumentFile.read(Array(rawArguments[1].dropFirst()), runtime: runtime)
            } catch {
                return error.status
            }
        } else {
            arguments = Array(rawArguments.dropFirst())
        }
        guard let request = MakemimeArgumentParser.parse(arguments) else {
            printError(MakemimeUsage.text)
            return ExitStatus.ok
        }
        return MakemimeLevel.run(request, stdoutFD: 1, runtime: runtime)
    }

    /// Fuzz entry point: whether `arguments` (program name not included) form a valid
    /// invocation. Pure; never touches files.
    public static func parsesArguments(_ arguments: [[UInt8]]) -> Bool {
        MakemimeArgumentParser.parse(arguments) != nil
    }
}
