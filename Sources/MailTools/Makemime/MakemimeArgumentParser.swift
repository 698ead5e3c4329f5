import MailCore

/// Parses makemime's arguments into a `MakemimeRequest` tree, the way Courier's
/// `parseargs` does: the `-c`/`-m`/`-j` option first, then any of `-o -C -N -e -a`, then
/// the input, where `(` … `)` (separate arguments) nests a whole invocation. Any
/// deviation is a usage error (nil). Pure: arguments in, request out.
struct MakemimeArgumentParser {
    /// Nesting limit for `( … )`; each level is run with its own scratch files.
    static let maximumDepth = 200

    private let arguments: [[UInt8]]
    private var index = 0

    private init(_ arguments: [[UInt8]]) {
        self.arguments = arguments
    }

    /// The request for a complete argument list (program name not included), or nil
    /// when makemime would print its usage text.
    static func parse(_ arguments: [[UInt8]]) -> MakemimeRequest? {
        var parser = MakemimeArgumentParser(arguments)
        guard let request = parser.parseLevel(depth: 0) else { return nil }
        // Arguments left over are a usage error too.
        return parser.index == arguments.count ? request : nil
    }

    private var remaining: Int { arguments.count - index }

    private func current() -> [UInt8] { arguments[index] }

    /// C's isspace in the "C" locale.
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    static func skippingLeadingSpace(_ value: ArraySlice<UInt8>) -> [UInt8] {
        Array(value.drop(while: isSpace))
    }

    private static func hasPrefix(_ argument: [UInt8], _ option: String) -> Bool {
        argument.starts(with: option.utf8)
    }

    private static let openParenthesis: [UInt8] = [UInt8(ascii: "(")]
    private static let closeParenthesis: [UInt8] = [UInt8(ascii: ")")]

    /// `-cTYPE`, or `-c TYPE` unless the next argument starts with `-` or `)`.
    private mutating func typeValue(default defaultType: String) -> [UInt8] {
        let option = current()
        index += 1
        if option.count > 2 {
            return Self.skippingLeadingSpace(option[2...])
        }
        if remaining > 0, current().first != UInt8(ascii: "-"), current().first != UInt8(ascii: ")") {
            let value = current()
            index += 1
            return Self.skippingLeadingSpace(value[...])
        }
        return Array(defaultType.utf8)
    }

    /// `-xVALUE` or `-x VALUE` (the value may start with anything); nil if missing.
    private mutating func optionValue() -> ArraySlice<UInt8>? {
        let option = current()
        index += 1
        if option.count > 2 { return option[2...] }
        guard remaining > 0 else { return nil }
        let value = current()
        index += 1
        return value[...]
    }

    /// A parenthesised group: `(` has been consumed; parses the level and its `)`.
    private mutating func parseGroup(depth: Int) -> MakemimeRequest? {
        guard depth < Self.maximumDepth, let child = parseLevel(depth: depth + 1) else { return nil }
        guard remaining > 0, current() == Self.closeParenthesis else { return nil }
        index += 1
        return child
    }

    private mutating func parseLevel(depth: Int) -> MakemimeRequest? {
        guard remaining > 0, current().first == UInt8(ascii: "-") else { return nil }
        let option = current()
        let kind: MakemimeRequest.Kind
        if Self.hasPrefix(option, "-c") {
            kind = .simple(contentType: typeValue(default: "application/octet-stream"))
        } else if Self.hasPrefix(option, "-m") {
            kind = .multipart(contentType: typeValue(default: "multipart/mixed"))
        } else if Self.hasPrefix(option, "-j") {
            guard let raw = optionValue() else { return nil }
            let name = Self.skippingLeadingSpace(raw)
            if name == Self.openParenthesis {
                guard let child = parseGroup(depth: depth) else { return nil }
                kind = .join(multipart: .child(child))
            } else {
                kind = .join(multipart: .file(name))
            }
        } else {
            return nil
        }

        var request = MakemimeRequest(kind: kind, input: .file([]))
        guard parseCommonOptions(into: &request) else { return nil }

        // The input comes last.
        guard remaining > 0 else { return nil }
        if current() == Self.openParenthesis {
            index += 1
            guard let child = parseGroup(depth: depth) else { return nil }
            request.input = .child(child)
        } else {
            request.input = .file(current())
            index += 1
        }
        return request
    }

    /// `-o -C -N -e -a`, in any order and number; false on a usage error.
    private mutating func parseCommonOptions(into request: inout MakemimeRequest) -> Bool {
        while remaining > 0 {
            let option = current()
            if Self.hasPrefix(option, "-o") {
                guard let value = optionValue() else { return false }
                request.outputFile = Self.skippingLeadingSpace(value)
            } else if Self.hasPrefix(option, "-C") {
                guard let value = optionValue() else { return false }
                request.charset = Self.skippingLeadingSpace(value)
            } else if Self.hasPrefix(option, "-N") {
                guard let value = optionValue() else { return false }
                request.contentName = Self.skippingLeadingSpace(value)
            } else if Self.hasPrefix(option, "-e") {
                guard let value = optionValue() else { return false }
                let lowered = value.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
                guard let encoding = TransferEncodingKind(name: Self.skippingLeadingSpace(lowered[...])) else {
                    return false
                }
                request.encoding = encoding
            } else if Self.hasPrefix(option, "-a") {
                guard let value = optionValue() else { return false }
                request.headers.append(Self.skippingLeadingSpace(value))
            } else {
                break
            }
        }
        return true
    }
}
