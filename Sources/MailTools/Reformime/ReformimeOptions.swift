import MailCore

/// reformime's command line, parsed the way Courier's `reformime.c` does: options are
/// read while arguments start with `-`; a value is attached (`-s1.2`) or the next
/// argument; the first non-option argument ends the options (for `-X prog args` and
/// `-m files`). An unknown option is a usage error.
struct ReformimeOptions {
    enum RewriteMode { case standard, sevenBit, eightBit }
    enum Extraction { case toFiles, toProgram }

    var charset: String
    var sections: String?
    var info = false
    var decode = false
    var rewrite: RewriteMode?
    var digest = false
    var dsn: Int = 0  // 1: Final-Recipient, 2: prefer Original-Recipient
    var extraction: Extraction?
    var extractPrefix: [UInt8]?
    var validate = false
    var decodeHeader = false
    var decodeAddressHeader = false
    var encodeHeader = false
    var encodeAddressHeader = false
    var headerText: [UInt8] = []
    var toUTF8 = false
    /// Arguments after the options (`-X` program and arguments, `-m` files).
    var rest: [[UInt8]] = []

    enum ParseError: Error {
        case usage
        case unknownCharset(String)
    }

    init(_ arguments: [[UInt8]], defaultCharset: String) throws(ParseError) {
        charset = defaultCharset
        var argn = 1
        while argn < arguments.count {
            let arg = arguments[argn]
            guard arg.first == UInt8(ascii: "-") else { break }
            let optc: UInt8 = arg.count > 1 ? arg[1] : 0
            var optarg: [UInt8]? = arg.count > 2 ? Array(arg[2...]) : nil
            argn += 1
            func value() -> [UInt8]? {
                if optarg == nil && argn < arguments.count {
                    optarg = arguments[argn]
                    argn += 1
                }
                return optarg
            }
            switch optc {
            case UInt8(ascii: "c"):
                if let v = value(), !v.isEmpty {
                    let name = String(decoding: v, as: UTF8.self)
                    guard CharsetConverter.isKnown(name) else { throw .unknownCharset(name) }
                    charset = name
                }
            case UInt8(ascii: "s"):
                if let v = value(), !v.isEmpty { sections = String(decoding: v, as: UTF8.self) }
            case UInt8(ascii: "i"): info = true
            case UInt8(ascii: "e"): decode = true
            case UInt8(ascii: "r"):
                rewrite = .standard
                if let o = optarg?.first {
                    if o == UInt8(ascii: "7") { rewrite = .sevenBit }
                    if o == UInt8(ascii: "8") { rewrite = .eightBit }
                }
            case UInt8(ascii: "m"): digest = true
            case UInt8(ascii: "d"): dsn = 1
            case UInt8(ascii: "D"): dsn = 2
            case UInt8(ascii: "x"):
                extraction = .toFiles
                if let o = optarg { extractPrefix = o }
            case UInt8(ascii: "X"): extraction = .toProgram
            case UInt8(ascii: "V"): validate = true
            case UInt8(ascii: "h"):
                if let v = value() { headerText = v }
                decodeHeader = true
            case UInt8(ascii: "H"):
                if let v = value() { headerText = v }
                decodeAddressHeader = true
            case UInt8(ascii: "o"):
                if let v = value() { headerText = v }
                encodeHeader = true
            case UInt8(ascii: "O"):
                if let v = value() { headerText = v }
                encodeAddressHeader = true
            case UInt8(ascii: "u"): toUTF8 = true
            default:
                throw .usage
            }
        }
        rest = Array(arguments[min(argn, arguments.count)...])
    }

    /// The `-s` list split as `strtok(…, ",")` does (empty items skipped).
    var sectionList: [String] {
        guard let s = sections else { return [] }
        return s.split(separator: ",", omittingEmptySubsequences: true).map(String.init)
    }

    static let usageText = """
    Usage: reformime [options]
        -d - parse a delivery status notification.
        -e - extract contents of MIME section.
        -x - extract MIME section to a file.
        -X - pipe MIME section to a program.
        -i - show MIME info.
        -s n.n.n.n[,n.n.n.n]* - specify MIME section(s).
        -r - rewrite message, filling in missing MIME headers.
        -r7 - also convert 8bit/raw encoding to quoted-printable, if possible.
        -r8 - also convert quoted-printable encoding to 8bit, if possible.
        -c charset - default charset for rewriting, -o, and -O.
        -m [file] [file]... - create a MIME message digest.
        -h "header" - decode RFC 2047-encoded header.
        -o "header" - encode unstructured header using RFC 2047.
        -O "header" - encode address list header using RFC 2047.

    """
}
