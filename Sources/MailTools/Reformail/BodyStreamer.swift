#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ToolSupport

/// Copies the rest of the message body from an ``InputReader`` to the output in chunks,
/// producing exactly what reformail's line-at-a-time loop would:
///
/// * one CR before each LF (or before the end of input) is dropped, a missing final newline
///   is added, lines end in `\n` or, with `-d1`, `\r\n`;
/// * a NUL byte ends a line's text (the C string) and eats its line terminator; with `-d1`
///   the last byte before the NUL is replaced by `\r\n` (Courier pops one byte and appends);
/// * `-f1` adds one `>` to lines matching `>*From `, `-f0` removes one from `>+From `.
///
/// A line is never held whole: only the bytes needed to decide the `From ` quoting are looked
/// at before the line is written, so memory stays bounded for any line length.
enum BodyStreamer {
    static func copy(from reader: InputReader, quoting: BodyQuoting, crlf: Bool, to out: FDOutput) {
        let newline: [UInt8] = crlf ? [0x0D, 0x0A] : [0x0A]
        while true {
            if reader.available == 0 && !reader.fill() { return }
            if quoting != .unchanged {
                let adjustment = adjustment(reader, quoting: quoting)
                if adjustment > 0 {
                    out.write(UInt8(ascii: ">"))
                } else if adjustment < 0 {
                    reader.position += 1
                }
            }
            copyRestOfLine(reader, newline: newline, crlf: crlf, to: out)
        }
    }

    /// The `From ` quoting change for the current line (+1 add a `>`, -1 drop the first
    /// byte, 0 none), looking only at the run of `>` and the five bytes after it.
    private static func adjustment(_ reader: InputReader, quoting: BodyQuoting) -> Int {
        var offset = 0
        while true {
            var i = reader.position + offset
            let decided: Int? = reader.buffer.withUnsafeBufferPointer { buffer -> Int? in
                while i < buffer.count, buffer[i] == UInt8(ascii: ">") { i += 1 }
                let runLength = i - reader.position
                var matched = 0
                while matched < 5, i + matched < buffer.count,
                      buffer[i + matched] == ReformailEngine.fromPrefix[matched] {
                    matched += 1
                }
                if matched < 5 && i + matched >= buffer.count && !reader.atEOF { return nil }  // need more bytes
                guard matched == 5 else { return 0 }
                switch quoting {
                case .unchanged: return 0
                case .add: return 1
                case .remove: return runLength > 0 ? -1 : 0
                }
            }
            if let decided { return decided }
            offset = i - reader.position
            if !reader.fill() { offset = 0 }
        }
    }

    private static func copyRestOfLine(_ reader: InputReader, newline: [UInt8], crlf: Bool, to out: FDOutput) {
        while true {
            let start = reader.position
            let count = reader.buffer.count
            let lineEnd = reader.firstNewline(from: start)
            let nul = firstNUL(reader.buffer, start, lineEnd ?? count)
            if let nul {
                // The C string ends here; the line terminator is lost.
                if crlf {
                    if nul > start { out.write(reader.buffer[start..<(nul - 1)]) }
                    out.write(newline)
                } else {
                    out.write(reader.buffer[start..<nul])
                }
                reader.position = nul
                skipToNextLine(reader)
                return
            }
            if let lineEnd {
                var end = lineEnd
                if end > start, reader.buffer[end - 1] == 0x0D { end -= 1 }
                out.write(reader.buffer[start..<end])
                out.write(newline)
                reader.position = lineEnd + 1
                return
            }
            // No line end yet: write all but the last byte (it may be a CR before the LF).
            if count - start > 1 {
                out.write(reader.buffer[start..<(count - 1)])
                reader.position = count - 1
            }
            if !reader.fill() {
                var end = reader.buffer.count
                let s = reader.position
                if end > s, reader.buffer[end - 1] == 0x0D { end -= 1 }
                out.write(reader.buffer[s..<end])
                out.write(newline)
                reader.position = reader.buffer.count
                return
            }
        }
    }

    private static func skipToNextLine(_ reader: InputReader) {
        while true {
            if let nl = reader.firstNewline(from: reader.position) {
                reader.position = nl + 1
                return
            }
            reader.position = reader.buffer.count
            if !reader.fill() { return }
        }
    }

    private static func firstNUL(_ buffer: [UInt8], _ start: Int, _ end: Int) -> Int? {
        guard start < end else { return nil }
        return buffer.withUnsafeBufferPointer { p -> Int? in
            guard let base = p.baseAddress, let hit = memchr(base + start, 0, end - start) else { return nil }
            return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
    }
}
