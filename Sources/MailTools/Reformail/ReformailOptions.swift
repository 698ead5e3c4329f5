#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MailCore

/// How `-f` changes mbox `From ` quoting.
enum FromQuoting: Sendable, Equatable {
    /// No `-f`: the message is copied as it is.
    case unchanged
    /// `-f0`: a leading `From ` line becomes `Return-Path:`, one `>` is removed from `>From ` body lines.
    case remove
    /// `-f1`: a `From ` line is added unless present, `>*From ` body lines get one more `>`.
    case add
}

/// The one mode a reformail run works in.
enum ReformailMode: Sendable, Equatable {
    /// Copy the message, editing headers.
    case copy
    /// `-x`/`-X`: print selected headers only.
    case extract
    /// `-D len file`: duplicate detection on the Message-ID.
    case duplicateCache(maxLength: [UInt8], file: [UInt8])
    /// `-s prog args…`: split an mbox, one run of `prog` per message.
    case split(command: [[UInt8]])
}

/// reformail's command line, parsed the way maildrop 2.9.3 parses it (spec/tools.md §3).
///
/// Every list holds option texts as given; header matching lowercases them later. `-R` entries
/// hold the old and the new name concatenated, as Courier stores them.
struct ReformailOptions: Sendable, Equatable {
    var crlf = false
    var catenate = false
    var fromQuoting = FromQuoting.unchanged
    var mode = ReformailMode.copy
    /// `-a`: add if absent.
    var addIfAbsent: [[UInt8]] = []
    /// `-A`: add always.
    var addAlways: [[UInt8]] = []
    /// `-i`: rename existing to `Old-…`, then add.
    var insert: [[UInt8]] = []
    /// `-I`: delete existing, then add unless empty.
    var replace: [[UInt8]] = []
    /// `-u`: keep the first occurrence.
    var keepFirst: [[UInt8]] = []
    /// `-U`: keep the last occurrence.
    var keepLast: [[UInt8]] = []
    /// `-R old new`, stored as `old` + `new`.
    var rename: [[UInt8]] = []
    /// `-x`: print values.
    var extractValues: [[UInt8]] = []
    /// `-X`: print whole headers.
    var extractHeaders: [[UInt8]] = []

    /// Parses argv (program name first); nil means "reformail: Invalid arguments.".
    /// `messageID` makes the value `-a/-A 'Message-ID:'` adds (called once per such option).
    static func parse(_ argv: [[UInt8]], messageID: () -> [UInt8]) -> ReformailOptions? {
        var o = ReformailOptions()
        var splitStart: Int?
        var modeChosen = false
        var argn = 1
        let argc = argv.count
        loop: while argn < argc {
            let arg = argv[argn]
            if arg == Array("--".utf8) || arg == Array("-".utf8) {
                argn += 1
                break
            }
            guard arg.first == UInt8(ascii: "-") else { break }
            var optarg: [UInt8]? = arg.count > 2 ? Array(arg[2...]) : nil
            let letter: UInt8 = arg.count > 1 ? arg[1] : 0

            /// The option's value: attached, or the next argument.
            func value() -> [UInt8]? {
                if optarg == nil && argn + 1 < argc {
                    argn += 1
                    optarg = argv[argn]
                }
                return optarg
            }
            /// A required non-empty value for a header option that cannot follow `-D`/`-s`.
            func headerValue() -> [UInt8]? {
                guard let v = value(), !v.isEmpty, !modeChosen else { return nil }
                return v
            }

            switch letter {
            case UInt8(ascii: "d"):
                let v = (optarg?.isEmpty ?? true) ? Array("1".utf8) : optarg!
                o.crlf = Int32(truncatingIfNeeded: cInteger(v)) != 0  // atoi()
            case UInt8(ascii: "c"):
                o.catenate = true
            case UInt8(ascii: "f"):
                let v = value()
                o.fromQuoting = (v == nil || v?.first == UInt8(ascii: "0")) ? .remove : .add
            case UInt8(ascii: "D"):
                guard let v = value(), argn + 1 < argc, !modeChosen else { return nil }
                modeChosen = true
                argn += 1
                o.mode = .duplicateCache(maxLength: v, file: argv[argn])
            case UInt8(ascii: "a"), UInt8(ascii: "A"):
                guard let v = headerValue() else { return nil }
                var entry = v
                if CByteClass.lowercased(v) == Array("message-id:".utf8)
                    || CByteClass.lowercased(v) == Array("resent_message_id:".utf8) {
                    // Courier compares with an underscore, so only Message-ID: gets an id.
                    entry.append(0x20)
                    entry.append(contentsOf: messageID())
                }
                if letter == UInt8(ascii: "a") { o.addIfAbsent.append(entry) } else { o.addAlways.append(entry) }
            case UInt8(ascii: "i"):
                guard let v = headerValue() else { return nil }
                o.insert.append(v)
            case UInt8(ascii: "I"):
                guard let v = headerValue() else { return nil }
                o.replace.append(v)
            case UInt8(ascii: "R"):
                guard let v = headerValue(), argn + 1 < argc else { return nil }
                argn += 1
                o.rename.append(v + argv[argn])
            case UInt8(ascii: "u"):
                guard let v = headerValue() else { return nil }
                o.keepFirst.append(v)
            case UInt8(ascii: "U"):
                guard let v = headerValue() else { return nil }
                o.keepLast.append(v)
            case UInt8(ascii: "x"):
                guard let v = headerValue() else { return nil }
                o.extractValues.append(v)
            case UInt8(ascii: "X"):
                guard let v = headerValue() else { return nil }
                o.extractHeaders.append(v)
            case UInt8(ascii: "s"):
                guard !modeChosen else { return nil }
                modeChosen = true
                splitStart = argn + 1
                break loop
            default:
                return nil
            }
            argn += 1
        }
        if !o.extractValues.isEmpty || !o.extractHeaders.isEmpty {
            guard !modeChosen else { return nil }
            o.mode = .extract
        }
        if let start = splitStart {
            guard start < argc else { return nil }
            o.mode = .split(command: Array(argv[start...]))
        }
        return o
    }

    /// C `atoi`/`atol` of an option text.
    static func cInteger(_ bytes: [UInt8]) -> Int {
        var c = bytes.map { CChar(bitPattern: $0) }
        c.append(0)
        return c.withUnsafeBufferPointer { Int(atol($0.baseAddress!)) }
    }
}
