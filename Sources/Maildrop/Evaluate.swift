#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MailCore
import ToolSupport

extension MaildropInterpreter {
    /// Evaluates an expression to its string value (tools.md §1.5).
    func evaluate(_ expr: MaildropExpr, line: Int) throws(MaildropInterruption) -> String {
        switch expr {
        case .text(let parts):
            var s = ""
            for p in parts {
                switch p {
                case .substituted(let t): s += substitute(t)
                case .literal(let t): s += t
                case .command(let t): s += backquote(t)
                }
            }
            return s
        case .assign(let name, let e):
            let v = try evaluate(e, line: line)
            trace(4, line: line, "\(name)=\"\(v)\"")
            assign(name, v)
            return v
        case .not(let e):
            let v = try evaluate(e, line: line)
            trace(6, line: line, "Operation on: \(v) - logical not.")
            let result = MaildropValue.bool(!MaildropValue.isTrue(v))
            trace(6, line: line, "Operation: logical not=\(result)")
            return result
        case .complement(let e):
            let v = try evaluate(e, line: line)
            trace(6, line: line, "Operation on: \(v) - bitwise not.")
            let result = String(~MaildropValue.integer(v))
            trace(6, line: line, "Operation: bitwise not=\(result)")
            return result
        case .match(let pattern, let target):
            if let target {
                return try matchString(try evaluate(target, line: line), pattern, line: line)
            }
            return try matchMessage(pattern, line: line)
        case .binary(let op, let l, let r):
            return try binary(op, l, r, line: line)
        case .call(let name, let args):
            return try call(name, args, line: line)
        }
    }

    func assign(_ name: String, _ value: String) {
        set(name, value)
    }

    /// Courier's names of the operators in level 6 traces ("grater" is Courier's spelling).
    static let operatorNames: [String: String] = [
        "+": "add", "-": "subtract", "*": "multiply", "/": "divide", "<": "less than", "<=": "less than or equal",
        ">": "greater than", ">=": "greater than or equal", "==": "equal", "!=": "not equal", "|": "bitwise or",
        "&": "bitwise and", "lt": "string less than", "le": "string less than or equal", "gt": "string greater than",
        "ge": "string grater than or equal", "eq": "string equal", "ne": "string not equal",
    ]

    func binary(_ op: String, _ l: MaildropExpr, _ r: MaildropExpr, line: Int) throws(MaildropInterruption) -> String {
        let left = try evaluate(l, line: line)
        if op == "||" || op == "&&" {
            let name = op == "||" ? "logical or" : "logical and"
            trace(6, line: line, "Operation: \(name), left hand side=\(left)")
            var result = left
            if MaildropValue.isTrue(left) == (op == "&&") {
                trace(6, line: line, "Operation: \(name), evaluating right hand size.")
                result = try evaluate(r, line: line)
            }
            trace(6, line: line, "Operation: \(name), result=\(result)")
            return result
        }
        let right = try evaluate(r, line: line)
        let result = operate(op, left, right)
        if verboseLevel >= 6, let name = Self.operatorNames[op] {
            trace(6, line: line, "Operation on: \(left) and \(right) - \(name), result is \(result)")
        }
        return result
    }

    /// A binary operator other than `||` and `&&` on two evaluated operands.
    func operate(_ op: String, _ left: String, _ right: String) -> String {
        let a = MaildropValue.number(left), b = MaildropValue.number(right)
        switch op {
        case "<": return MaildropValue.bool(a < b)
        case "<=": return MaildropValue.bool(a <= b)
        case ">": return MaildropValue.bool(a > b)
        case ">=": return MaildropValue.bool(a >= b)
        case "==": return MaildropValue.bool(a == b)
        case "!=": return MaildropValue.bool(a != b)
        case "lt": return MaildropValue.bool(compareBytes(left, right) < 0)
        case "le": return MaildropValue.bool(compareBytes(left, right) <= 0)
        case "gt": return MaildropValue.bool(compareBytes(left, right) > 0)
        case "ge": return MaildropValue.bool(compareBytes(left, right) >= 0)
        case "eq": return MaildropValue.bool(compareBytes(left, right) == 0)
        case "ne": return MaildropValue.bool(compareBytes(left, right) != 0)
        case "|": return String(MaildropValue.unsigned(left) | MaildropValue.unsigned(right))
        case "&": return String(MaildropValue.unsigned(left) & MaildropValue.unsigned(right))
        case "+": return MaildropValue.format(a + b)
        case "-": return MaildropValue.format(a - b)
        case "*": return MaildropValue.format(a * b)
        case "/": return MaildropValue.format(a / b)
        default: return ""
        }
    }

    func compareBytes(_ a: String, _ b: String) -> Int {
        let x = Array(a.utf8), y = Array(b.utf8)
        for (p, q) in zip(x, y) where p != q { return p < q ? -1 : 1 }
        return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
    }

    func call(_ name: String, _ args: [MaildropExpr], line: Int) throws(MaildropInterruption) -> String {
        var values: [String] = []
        // gdbmfetch's default is evaluated only when needed.
        let eager = name == "gdbmfetch" ? Array(args.prefix(2)) : args
        for a in eager { values.append(try evaluate(a, line: line)) }
        func arg(_ i: Int) -> String { i < values.count ? values[i] : "" }
        switch name {
        case "length":
            trace(6, line: line, "Operation on: \(arg(0)) - strlength.")
            let result = String(arg(0).utf8.count)
            trace(6, line: line, "Operation: strlength=\(result)")
            return result
        case "substr":
            let bytes = Array(arg(0).utf8)
            let start = MaildropValue.integer(arg(1))
            guard start >= 0, start < bytes.count else { return "" }
            var end = bytes.count
            if values.count > 2 {
                let count = MaildropValue.integer(arg(2))
                if count < 0 { return "" }
                end = min(bytes.count, start + min(count, bytes.count))
            }
            return String(decoding: bytes[start..<end], as: UTF8.self)
        case "tolower":
            return String(decoding: arg(0).utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }, as: UTF8.self)
        case "toupper":
            return String(decoding: arg(0).utf8.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 32 : $0 }, as: UTF8.self)
        case "escape":
            let specials = Array("|!$()[]\\+*?.&;`'-~<>^{}\"".utf8)
            var out: [UInt8] = []
            for c in arg(0).utf8 {
                if specials.contains(c) { out.append(UInt8(ascii: "\\")) }
                out.append(c)
            }
            return String(decoding: out, as: UTF8.self)
        case "getaddr":
            var out = ""
            for a in AddressList.parse(arg(0)).addresses {
                out += String(decoding: a.addressText, as: UTF8.self) + "\n"
            }
            return out
        case "hasaddr":
            return MaildropValue.bool(hasAddress(arg(0)))
        case "lookup":
            return try lookup(arg(0), file: arg(1), options: arg(2), line: line)
        case "time":
            return String(time(nil))
        case "gdbmopen", "gdbmclose", "gdbmfetch", "gdbmstore":
            return try gdbm(name, values, args, line: line)
        default:
            return ""
        }
    }

    /// `hasaddr`: the address occurs in a To/Cc/Resent-To/Resent-Cc header (case-insensitive).
    func hasAddress(_ address: String) -> Bool {
        let wanted = lowercased(Array(address.utf8))
        for value in topHeaders(named: ["to", "cc", "resent-to", "resent-cc"]) {
            for a in AddressList.parse(value).addresses where lowercased(a.addressText) == wanted {
                return true
            }
        }
        return false
    }

    func lowercased(_ bytes: [UInt8]) -> [UInt8] {
        bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }
    }

    /// The values of the named top-level headers, continuation lines joined.
    func topHeaders(named names: Set<String>) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var current: [UInt8]?
        var i = 0
        let m = message
        while i < m.count {
            var j = i
            while j < m.count && m[j] != 0x0A { j += 1 }
            var lineBytes = Array(m[i..<j])
            if lineBytes.last == 0x0D { lineBytes.removeLast() }
            i = j + 1
            if lineBytes.isEmpty { break }
            if lineBytes[0] == 0x20 || lineBytes[0] == 0x09 {
                current?.append(contentsOf: lineBytes)
                continue
            }
            if let c = current { result.append(c) }
            current = nil
            if let colon = lineBytes.firstIndex(of: UInt8(ascii: ":")) {
                var name = lowercased(Array(lineBytes[..<colon]))
                while name.last == 0x20 || name.last == 0x09 { name.removeLast() }
                if names.contains(String(decoding: name, as: UTF8.self)) {
                    current = Array(lineBytes[(colon + 1)...])
                }
            }
        }
        if let c = current { result.append(c) }
        return result
    }
}
