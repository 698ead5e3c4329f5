// libFuzzer entry for makemime's argument parser (`Makemime.parsesArguments`): the input is the
// argument list, one argument per line (as in an `@file`). Pure: nothing runs, no file opens.
// Scripts/fuzz MakemimeArgs N; a plain build replays the files given as arguments.
#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import MailTools

/// The input split at `\n` into arguments (a final newline ends the last one).
func makemimeArguments(_ bytes: [UInt8]) -> [[UInt8]] {
    var arguments = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Array($0) }
    if bytes.last == UInt8(ascii: "\n") { arguments.removeLast() }
    return arguments
}

func fuzzMakemimeArgs(_ bytes: [UInt8]) {
    let arguments = makemimeArguments(bytes)
    let valid = Makemime.parsesArguments(arguments)
    fuzzCheck(valid == Makemime.parsesArguments(arguments), "parsing is not deterministic")
    if valid {
        // A complete invocation ends with its input: anything after it is a usage error.
        fuzzCheck(!Makemime.parsesArguments(arguments + [[UInt8(ascii: "x")]]), "argument after the input accepted")
        fuzzCheck(!Makemime.parsesArguments(Array(arguments.dropLast())), "invocation without its input accepted")
    }
}

#if FUZZING
@_cdecl("FuzzMakemimeArgs_main")
func fuzzMakemimeArgsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzMakemimeArgs)
}
#else
@main
struct FuzzMakemimeArgsReplay {
    static func main() {
        exit(FuzzDriver.replay(Array(CommandLine.arguments.dropFirst()), fuzzMakemimeArgs))
    }
}
#endif
