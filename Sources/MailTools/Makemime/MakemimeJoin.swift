import MailCore

/// `-j file1 file2`: adds `file2` as one more section of the multipart `file1` (Courier
/// `joinmultipart`). A new boundary that appears in neither input replaces the old one;
/// `file1`'s headers are copied with the boundary parameter of its Content-Type
/// rewritten, its closing delimiter and epilogue are dropped, and the new section and a
/// new closing delimiter follow.
///
/// Lines are read the way Courier reads them (8191-byte `fgets` pieces, C strings): a
/// body line longer than that keeps only its first piece, a long non-Content-Type
/// header loses its line break, and bytes after a NUL are lost.
extension MakemimeLevel {
    func joinMultipart(_ multipart: MakemimeInput, section: MakemimeInput, to output: MakemimeOutput) throws(MakemimeExit) {
        var boundary: String
        repeat {
            boundary = try makeBoundary(avoiding: section)
        } while try contains(boundary: boundary, in: multipart)

        var line = copyHeaders(of: multipart, boundary: boundary, to: output)
        copyBody(of: multipart, firstLine: &line, boundary: boundary, to: output)

        output.write("--\(boundary)\n")
        copyRest(of: section, to: output)
        output.write("\n--\(boundary)--\n")
    }

    private static let contentTypeLabel: [UInt8] = Array("content-type:".utf8)

    /// Copies the header block; returns the line that ended it (a blank line, a line
    /// starting with `--`, or empty at end of file).
    private func copyHeaders(of multipart: MakemimeInput, boundary: String, to output: MakemimeOutput) -> [UInt8] {
        let newline = UInt8(ascii: "\n")
        while true {
            guard let raw = multipart.readLine() else { return [] }
            let line = MakemimeFiles.cString(raw)
            if line == [UInt8(ascii: "\r"), newline] || line.first == newline || line.starts(with: "--".utf8) {
                return line
            }
            if !Self.hasCaseInsensitivePrefix(line, Self.contentTypeLabel) {
                output.write(line)
                if !line.contains(newline) {
                    // The rest of an over-long header line, without its line break.
                    multipart.copyRestOfLine(to: output)
                }
                continue
            }
            if !line.contains(newline) { multipart.skipRestOfLine() }
            // 2.9.3: "Content-Type:" + the original text up to the first ";".
            var value = line[Self.contentTypeLabel.count...]
            if let semicolon = value.firstIndex(of: UInt8(ascii: ";")) {
                value = value[..<semicolon]
            }
            output.write("Content-Type:")
            output.write(value)
            output.write("; boundary=\"\(boundary)\"\n")
            // Drop the folded continuation lines of the old Content-Type.
            while let next = multipart.peekByte(), next != newline, MakemimeArgumentParser.isSpace(next) {
                multipart.skipRestOfLine()
            }
        }
    }

    /// Copies the body, rewriting delimiter lines of the old boundary (matched without
    /// regard to case, as a prefix) and stopping at its closing delimiter.
    private func copyBody(of multipart: MakemimeInput, firstLine: inout [UInt8], boundary: String, to output: MakemimeOutput) {
        let newline = UInt8(ascii: "\n")
        let carriageReturn = UInt8(ascii: "\r")
        var oldBoundary: [UInt8]?
        var line = firstLine
        while true {
            if line.starts(with: "--".utf8) {
                if oldBoundary == nil {
                    var old = line
                    if let end = old.firstIndex(of: newline) {
                        var cut = end
                        if cut > 0 && old[cut - 1] == carriageReturn { cut -= 1 }
                        old.removeSubrange(cut...)
                    }
                    if old.count >= 4 && old.suffix(2).elementsEqual("--".utf8) {
                        old.removeLast(2)
                    }
                    oldBoundary = old
                }
                if let old = oldBoundary, Self.hasCaseInsensitivePrefix(line, old) {
                    var delimiter = line
                    if let end = delimiter.firstIndex(of: newline) {
                        delimiter.removeSubrange(end...)
                    } else {
                        multipart.skipRestOfLine()
                    }
                    if delimiter.last == carriageReturn { delimiter.removeLast() }
                    if delimiter.count >= 4 && delimiter.suffix(2).elementsEqual("--".utf8) {
                        break
                    }
                    output.write("--\(boundary)\n")
                    guard let next = multipart.readLine() else { break }
                    line = MakemimeFiles.cString(next)
                    continue
                }
            }
            output.write(line)
            if !line.contains(newline) {
                // Courier keeps only the first piece of an over-long line.
                multipart.skipRestOfLine()
            }
            guard let next = multipart.readLine() else { break }
            line = MakemimeFiles.cString(next)
        }
        firstLine = []
    }

    /// `strncasecmp(line, prefix, prefix.count) == 0` (ASCII case folding).
    static func hasCaseInsensitivePrefix(_ line: [UInt8], _ prefix: [UInt8]) -> Bool {
        guard line.count >= prefix.count else { return false }
        for (a, b) in zip(line, prefix) where lowerASCII(a) != lowerASCII(b) {
            return false
        }
        return true
    }

    private static func lowerASCII(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }
}
