#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Builds server responses as bytes (RFC 3501 §7, §9 `response`). All responses produced for
/// one command are collected in one writer and written to the socket in one go (issue 6:
/// split writes stall on delayed ACKs).
public struct ResponseWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// UTF-8 in quoted strings is allowed once the client enabled UTF8=ACCEPT (RFC 6855 §3).
    public var utf8Allowed = false

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    public var isEmpty: Bool { bytes.isEmpty }

    /// Appends the text's UTF-8 bytes (no intermediate array: a FETCH item costs no allocation).
    public mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }
    public mutating func append(bytes more: [UInt8]) { bytes += more }
    public mutating func append<C: Collection>(contentsOf more: C) where C.Element == UInt8 { bytes += more }
    public mutating func appendNumber<N: BinaryInteger>(_ n: N) {
        if n >= 0, let small = UInt64(exactly: n) { appendDecimal(small) } else { bytes += Array(String(n).utf8) }
    }

    /// The decimal digits of `n`, written straight into the buffer (no String per number:
    /// SEARCH answers and FETCH items write thousands of them).
    public mutating func appendDecimal(_ n: UInt64) {
        if n < 10 {
            bytes.append(48 + UInt8(n))
            return
        }
        var divisor: UInt64 = 1
        while divisor <= n / 10 { divisor *= 10 }
        while divisor > 0 {
            bytes.append(48 + UInt8((n / divisor) % 10))
            divisor /= 10
        }
    }
    public mutating func space() { bytes.append(32) }
    public mutating func crlf() {
        bytes.append(13)
        bytes.append(10)
    }

    /// `tag OK [CODE] text` (RFC 3501 §7.1).
    public mutating func tagged(_ tag: [UInt8], _ status: Status, _ code: ResponseCode? = nil, _ text: String) {
        bytes += tag
        space()
        statusLine(status, code, text)
    }

    /// `* OK [CODE] text`.
    public mutating func untaggedStatus(_ status: Status, _ code: ResponseCode? = nil, _ text: String) {
        append("* ")
        statusLine(status, code, text)
    }

    private mutating func statusLine(_ status: Status, _ code: ResponseCode?, _ text: String) {
        append(status.rawValue)
        space()
        if let code {
            bytes.append(UInt8(ascii: "["))
            code.write(into: &self)
            append("] ")
        }
        append(Self.sanitized(text))
        crlf()
    }

    /// `* <data>` — the caller writes the data, then calls ``crlf()``.
    public mutating func untagged(_ data: String) {
        append("* ")
        append(data)
        crlf()
    }

    /// `+ text` (RFC 3501 §7.5).
    public mutating func continuation(_ text: String = "OK") {
        append("+ ")
        append(Self.sanitized(text))
        crlf()
    }

    /// Human-readable text never holds CR, LF or NUL (it would end or corrupt the line).
    static func sanitized(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else { return text }
        return String(decoding: text.utf8.map { $0 == 13 || $0 == 10 || $0 == 0 ? 32 : $0 }, as: UTF8.self)
    }

    // MARK: strings (RFC 3501 §4.3)

    /// string: quoted when every byte allows it, a literal otherwise.
    public mutating func string<C: Collection>(_ value: C) where C.Element == UInt8 {
        if value.count <= 1024 && value.allSatisfy({ isQuotable($0) }) {
            bytes.append(UInt8(ascii: "\""))
            for c in value {
                if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(c)
            }
            bytes.append(UInt8(ascii: "\""))
        } else {
            literal(value)
        }
    }

    public mutating func string(_ value: String) { string(Array(value.utf8)) }

    /// nstring = string / NIL
    public mutating func nstring<C: Collection>(_ value: C?) where C.Element == UInt8 {
        if let value { string(value) } else { append("NIL") }
    }

    public mutating func nstring(_ value: String?) { nstring(value.map { Array($0.utf8) }) }

    /// `{n}` CRLF bytes.
    public mutating func literal<C: Collection>(_ value: C) where C.Element == UInt8 {
        bytes.append(UInt8(ascii: "{"))
        appendNumber(value.count)
        append("}\r\n")
        bytes += value
    }

    /// A message as stored in a Maildir (LF line ends) sent as IMAP sees it (CRLF: RFC 3501
    /// §2.3.4, spec/access.md §2.5): `{n}` CRLF and the bytes with a CR put before every LF
    /// that has none, converted straight into the buffer (no CRLF copy of the message first).
    /// An empty message is `""`, as ``literal(_:)`` callers write it.
    public mutating func literalFromLF(_ stored: [UInt8]) {
        if stored.isEmpty {
            append("\"\"")
            return
        }
        stored.withUnsafeBufferPointer { raw in
            guard let base = raw.baseAddress else { return }
            // The line ends, found with memchr (SIMD in the C library): most of a message is
            // text between them, copied in one piece each.
            var lineEnds: [Int] = []   // positions of LFs with no CR before them
            var at = 0
            while at < raw.count, let found = memchr(base + at, 10, raw.count - at) {
                let i = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base
                if i == 0 || raw[i - 1] != 13 { lineEnds.append(i) }
                at = i + 1
            }
            bytes.append(UInt8(ascii: "{"))
            appendDecimal(UInt64(raw.count + lineEnds.count))
            append("}\r\n")
            bytes.reserveCapacity(bytes.count + raw.count + lineEnds.count)
            var start = 0
            for i in lineEnds {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: raw[start..<i]))
                bytes.append(13)
                start = i
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: raw[start..<raw.count]))
        }
    }

    /// literal8 (RFC 3516 §4.2): `~{n}` CRLF bytes, for binary content with NULs.
    public mutating func binaryLiteral<C: Collection>(_ value: C) where C.Element == UInt8 {
        append("~")
        literal(value)
    }

    private func isQuotable(_ c: UInt8) -> Bool {
        if c == 0 || c == 13 || c == 10 { return false }
        return c < 0x80 || utf8Allowed
    }

    /// A mailbox name: quoted (Courier always quotes them), a literal if it must be.
    public mutating func mailbox(_ name: [UInt8]) { string(name) }

    /// flag-list in Courier's order: system flags first, keywords after (spec/access.md §2.5).
    public mutating func flagList(_ flags: [Flag]) {
        bytes.append(UInt8(ascii: "("))
        var first = true
        for flag in flags {
            if !first { space() }
            first = false
            append(flag.name)
        }
        bytes.append(UInt8(ascii: ")"))
    }
}

/// The status of a tagged or untagged status response (RFC 3501 §7.1).
public enum Status: String, Sendable {
    case ok = "OK", no = "NO", bad = "BAD", bye = "BYE", preauth = "PREAUTH"
}
