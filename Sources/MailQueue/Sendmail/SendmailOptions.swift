/// Courier's `sendmail` command line (spec/mta.md §6.1): pure, arguments in, values out.
public struct SendmailOptions: Sendable, Equatable {
    public var sender: String?
    public var fullName: String?
    public var notify: DSNNotify = []
    public var dsnReturn: DSNReturn?
    public var envelopeID: String?
    public var verp = false
    public var bccOnly = false
    /// `-bs`: speak SMTP on stdin/stdout.
    public var smtpSession = false
    public var recipients: [String] = []

    public init() {}

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case missingValue(String)
        case badValue(String, String)
        public var description: String {
            switch self {
            case let .missingValue(option): return "option \(option) requires a value"
            case let .badValue(option, value): return "invalid value for \(option): \(value)"
            }
        }
    }

    /// Parses everything after the program name. Unknown options are ignored, as Courier does.
    public static func parse(_ arguments: [String]) throws(ParseError) -> SendmailOptions {
        var options = SendmailOptions()
        var index = 0
        func value(_ argument: String, _ letter: String) throws(ParseError) -> String {
            let attached = String(argument.dropFirst(1 + letter.count))
            if !attached.isEmpty { return attached }
            index += 1
            guard index < arguments.count else { throw .missingValue("-" + letter) }
            return arguments[index]
        }
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" || argument == "-" {
                index += 1
                break
            }
            guard argument.hasPrefix("-"), argument.count > 1 else { break }
            switch argument {
            case "-verp": options.verp = true
            case "-bcc": options.bccOnly = true
            case "-bs": options.smtpSession = true
            default:
                switch argument.dropFirst().first {
                case "f": options.sender = try value(argument, "f")
                case "F": options.fullName = try value(argument, "F")
                case "V": options.envelopeID = try value(argument, "V")
                case "N":
                    let list = try value(argument, "N")
                    for word in list.split(separator: ",") {
                        switch word.trimmingSpaces.lowercased().first {
                        case "n": options.notify.insert(.never)
                        case "s": options.notify.insert(.success)
                        case "f": options.notify.insert(.failure)
                        case "d": options.notify.insert(.delay)
                        default: throw .badValue("-N", list)
                        }
                    }
                case "R":
                    let ret = try value(argument, "R")
                    switch ret.lowercased() {
                    case "full": options.dsnReturn = .full
                    case "hdrs": options.dsnReturn = .headers
                    default: throw .badValue("-R", ret)
                    }
                case "S":
                    let level = try value(argument, "S")
                    guard ["NONE", "STARTTLS"].contains(level.uppercased()) else { throw .badValue("-S", level) }
                case "o", "O", "t", "i", "q", "b", "m", "v", "n", "e", "U", "L", "B", "C", "h", "X", "d":
                    // -oi, -t, -i, -bm, -q …: accepted and ignored (-t/-oi semantics always apply).
                    break
                default:
                    break
                }
            }
            index += 1
        }
        options.recipients += arguments[min(index, arguments.count)...]
        return options
    }
}

extension Substring {
    var trimmingSpaces: String { String(self).trimmingSpaces }
}
