import MailCore
import MaildirCore
#if canImport(Glibc)
import Glibc
#endif

/// What a login learns about a message it has not seen before (spec/access.md §3.3): its POP3
/// size (each bare LF counted as CRLF, plus 2 for a missing final line end) and whether any of
/// its headers, or the headers of any MIME part in it, hold 8-bit bytes (Courier's
/// `RFC2045_ERR8BITHEADER`: the size list's `utf8` flag; such a message is wrapped for clients
/// that did not say `UTF8`, RFC 6856 §3).
public struct POP3MessageMeasure: Equatable, Sendable {
    public var size: Int64
    public var utf8: Bool

    public init(size: Int64, utf8: Bool) {
        self.size = size
        self.utf8 = utf8
    }

    /// Largest message whose MIME structure is parsed for 8-bit headers; a bigger one with 8-bit
    /// bytes is judged by its top-level header alone.
    static let parseLimit = 64 << 20

    /// Measures `file` (size 0 and not UTF-8 when it cannot be read). The file is read once in
    /// 64 KB chunks; only a message that has some 8-bit byte is read again and parsed.
    public init(file: String) {
        self.init(size: 0, utf8: false)
        let fd = MessageFileAccess.open(file)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var counter = POP3MessageEncoder.SizeCounter()
        var eightBit = false
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            let chunk = buffer[0..<n]
            counter.add(chunk)
            if !eightBit { eightBit = chunk.contains { $0 >= 0x80 } }
        }
        size = counter.total
        guard eightBit else { return }
        if lseek(fd, 0, SEEK_SET) == 0, let bytes = try? SystemCall.readAll(fd, path: file, limit: Self.parseLimit) {
            utf8 = Self.hasEightBitHeader(bytes)
        }
    }

    /// True when a header of the message or of one of its MIME parts holds an 8-bit byte.
    public static func hasEightBitHeader(_ message: [UInt8]) -> Bool {
        if message.count >= parseLimit { return topHeaderHasEightBit(message) }
        return MIMEParser.parse(message).errors.contains(.eightBitHeader)
    }

    /// The top-level header alone (up to the first empty line).
    static func topHeaderHasEightBit(_ message: [UInt8]) -> Bool {
        var lineStart = true
        var index = 0
        while index < message.count {
            let byte = message[index]
            if byte >= 0x80 { return true }
            if lineStart && (byte == 10 || (byte == 13 && index + 1 < message.count && message[index + 1] == 10)) {
                return false
            }
            lineStart = byte == 10
            index += 1
        }
        return false
    }
}
