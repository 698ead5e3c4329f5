#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `makemime @file`: the arguments read from a file, one per line (Courier `read_args`).
///
/// * Each line is read like `fgets` with a BUFSIZ buffer: a line longer than 8191 bytes
///   is cut and the rest of it skipped; bytes after a NUL are ignored.
/// * Leading white space is skipped; empty lines and lines starting with `#` are ignored.
///   Trailing white space is kept (2.9.3).
/// * A line that is exactly `-` ends the arguments. The rest of the stream stays
///   readable: a regular file's descriptor is moved back to just after that line (the
///   stream keeps what it had buffered, so standard input can then repeat those bytes,
///   as Courier's does).
enum MakemimeArgumentFile {
    /// Reads the arguments from `name` (`-`, `&n` or a path).
    static func read(_ name: [UInt8], runtime: MakemimeRuntime) throws(MakemimeExit) -> [[UInt8]] {
        let stream = try MakemimeFiles.openSequential(name, runtime: runtime)
        defer { if stream.fd != 0 { stream.close() } }
        var arguments: [[UInt8]] = []
        while let raw = stream.readLine() {
            var line = MakemimeFiles.cString(raw)
            if let newline = line.firstIndex(of: UInt8(ascii: "\n")) {
                line.removeSubrange(newline...)
            } else {
                stream.skipRestOfLine()
            }
            let value = MakemimeArgumentParser.skippingLeadingSpace(line[...])
            if value.isEmpty || value.first == UInt8(ascii: "#") { continue }
            if line == [UInt8(ascii: "-")] {
                if stream.isRegular { stream.alignDescriptorKeepingBuffer() }
                break
            }
            arguments.append(value)
        }
        return arguments
    }
}
