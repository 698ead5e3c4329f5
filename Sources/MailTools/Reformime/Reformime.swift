#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MailCore
import ToolSupport

/// `reformime`: Courier's reformime(1), byte-compatible with maildrop 2.9.3 (spec/tools.md §4).
public enum Reformime {
    /// Runs reformime with `arguments` (argv, program name first); returns the exit status.
    public static func run(_ arguments: [String]) -> Int32 {
        run(rawArguments: arguments.map { Array($0.utf8) })
    }

    /// Runs reformime with the raw bytes of argv, so that header text, file names and
    /// program arguments that are not UTF-8 are used unchanged.
    public static func run(rawArguments arguments: [[UInt8]]) -> Int32 {
        let out = FDOutput(fd: 1)
        defer { out.flush() }
        let options: ReformimeOptions
        do {
            options = try ReformimeOptions(arguments, defaultCharset: CharsetName.processDefault())
        } catch {
            switch error {
            case .usage: printError(ReformimeOptions.usageText)
            case .unknownCharset(let name): printError("Unknown charset: \(name)\n")
            }
            return 1
        }
        let context = ReformimeContext(options: options, out: out)
        return context.main()
    }
}

/// Everything one reformime run needs: options, output, and the parsed message.
final class ReformimeContext {
    let options: ReformimeOptions
    let out: FDOutput
    var charset: String { options.charset }
    /// Charset for RFC 2231 parameter values: the process default, not `-c` (as 2.9.3).
    let parameterCharset: String
    /// The message being processed (mapped, not copied).
    var bytes = UnsafeBufferPointer<UInt8>(start: nil, count: 0)

    init(options: ReformimeOptions, out: FDOutput) {
        self.options = options
        self.out = out
        parameterCharset = CharsetName.processDefault()
    }

    /// A fatal error: message on stderr, exit status.
    struct Failure: Error {
        var message: String
        var status: Int32 = 1
    }

    func main() -> Int32 {
        if options.digest { return ReformimeDigest.run(self) }
        if options.decodeHeader { return ReformimeHeaderCoding.decodeUnstructured(self) }
        if options.decodeAddressHeader { return ReformimeHeaderCoding.decodeAddresses(self) }
        if options.encodeHeader { return ReformimeHeaderCoding.encodeUnstructured(self) }
        if options.encodeAddressHeader { return ReformimeHeaderCoding.encodeAddresses(self) }

        // Courier reads a seekable stdin from its start, wherever the offset was left.
        if lseek(0, 0, SEEK_END) >= 0 { _ = lseek(0, 0, SEEK_SET) }
        guard let input = MappedInput.standardInput() else {
            printError("reformime: \(String(cString: strerror(errno)))\n")
            return 1
        }
        bytes = input.bytes
        defer { withExtendedLifetime(input) {} }
        let message = MIMEParser.parse(bytes)
        do {
            if options.info {
                try ReformimeInfo.printInfo(self, message)
            } else if options.decode {
                try ReformimeExtract.decodeSections(self, message)
            } else if let mode = options.rewrite {
                try ReformimeRewrite.run(self, message, mode: mode)
            } else if options.dsn != 0 {
                return ReformimeDSN.run(self, message, preferOriginal: options.dsn == 2)
            } else if options.extraction != nil {
                try ReformimeExtract.extractSections(self, message)
            } else if options.validate {
                if message.errors.contains(.tooComplex) {
                    out.write("ERROR: MIME complexity.\n")
                    return 1
                }
                if message.errors.contains(.ambiguousBoundary) {
                    out.write("ERROR: Ambiguous  MIME boundary delimiters.\n")
                    return 1
                }
            } else if options.toUTF8 {
                ReformimeUTF8.run(self, message)
            } else {
                ReformimeInfo.printStructure(self, message)
            }
        } catch let failure as Failure {
            out.flush()
            printError(failure.message)
            return failure.status
        } catch {
            return 1
        }
        return 0
    }

    func notFound(_ section: String) -> Failure {
        Failure(message: "reformime: MIME section \(section) not found.\n")
    }
}
