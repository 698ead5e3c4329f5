#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Maildir

/// `MessageSummary.parse(fileDescriptor:)` (a large message read in pieces) gives the summary
/// `MessageSummary.parse(_:)` gives for the whole file: envelope, sizes, line counts, nested
/// parts, bodies that start or end on a line break split from its CR, messages larger than a piece.
struct StreamedSummaryTests {
    static func summaries(_ bytes: [UInt8]) -> (whole: MessageSummary, streamed: MessageSummary?) {
        var template = Array("/tmp/streamed-summary-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        #expect(fd >= 0)
        defer {
            close(fd)
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        return (MessageSummary.parse(bytes), MessageSummary.parse(fileDescriptor: fd))
    }

    static let nested = Array("""
    From: Alice <alice@example.test>
    To: bob@example.test
    Subject: nested
    References: <a@b> <c@d>
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="outer"

    preamble
    --outer
    Content-Type: text/plain; charset=iso-8859-1
    Content-Transfer-Encoding: quoted-printable

    caf=E9\r
    second line
    --outer
    Content-Type: message/rfc822

    Subject: inner
    From: carol@example.test
    MIME-Version: 1.0
    Content-Type: multipart/alternative; boundary=inner

    --inner

    alt1\r
    --inner
    Content-Type: text/html

    <p>no final newline
    --inner--
    --outer--
    epilogue

    """.utf8)

    @Test func sameAsTheWholeParse() {
        var inputs: [[UInt8]] = [Self.nested, Array("Subject: bare\n\nno newline at all".utf8), Array("no header".utf8), [],
                                 Array("Subject: crlf\r\n\r\n\nstarts with LF\r\n".utf8)]
        // Larger than several pieces (256 KiB), with long lines and a base64 part.
        var big = Array("From: x@y\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n".utf8)
        for i in 0..<40000 { big += Array("line \(i) \(String(repeating: "w", count: i % 97))\(i % 5 == 0 ? "\r" : "")\n".utf8) }
        big += Array("--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n".utf8)
        big += Array(String(repeating: "QUJD" + String(repeating: "x", count: 72) + "\n", count: 20000).utf8)
        big += Array("--b--\n".utf8)
        inputs.append(big)
        for bytes in inputs {
            let (whole, streamed) = Self.summaries(bytes)
            #expect(streamed == whole)
        }
    }

    /// Bodies that start and end exactly where a piece (256 KiB) begins, or just after it: the
    /// marks there are counted from the piece's own start (the byte before it came from the
    /// piece before).
    @Test func marksOnPieceBoundaries() {
        let piece = MessageSummary.streamedPiece
        for shift in [-1, 0, 1] {
            var bytes = Array("From: x@y\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\nX-Pad: ".utf8)
            let tail = Array("\r\n\r\n--b\r\n\r\n".utf8)
            bytes += Array(repeating: UInt8(ascii: "p"), count: piece + shift - bytes.count - tail.count)
            bytes += tail
            #expect(bytes.count == piece + shift)
            // The first part's body starts at the piece boundary (give or take one) and ends
            // one piece later on a line break (its last byte the byte before the next piece).
            while bytes.count < 2 * piece + shift - 1 { bytes += Array("line\n".utf8) }
            bytes = Array(bytes.prefix(2 * piece + shift - 1)) + Array("\n\n--b\r\nContent-Type: text/plain\r\n\r\nlast\r\n--b--\r\n".utf8)
            let (whole, streamed) = Self.summaries(bytes)
            #expect(streamed == whole)
        }
    }
}
