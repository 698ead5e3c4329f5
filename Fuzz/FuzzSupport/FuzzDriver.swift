// Shared glue for the libFuzzer targets under Fuzz/ (DESIGN.md "Tests and benchmarks").
//
// Built by Scripts/fuzz with `-sanitize=fuzzer,address -DFUZZING`, a target's `<Target>_main`
// hands its entry to libFuzzer's driver (SwiftPM aliases an executable's `main` to
// `<Target>_main`, so libFuzzer's own `main` never runs). In a plain `swift build` the same
// target is a replay tool: every file named on the command line goes through the entry once.
// Only fuzz targets link this module; it may trap, library code never does.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One fuzz input in, nothing out; a broken invariant traps through ``fuzzCheck(_:_:file:line:)``.
public typealias FuzzEntry = ([UInt8]) -> Void

/// The entry the C callback forwards to; set once before libFuzzer starts, read only after.
nonisolated(unsafe) private var currentEntry: FuzzEntry = { _ in }

/// A broken invariant is a finding: print what broke and abort, so libFuzzer saves the input.
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    if condition() { return }
    let text = "fuzz invariant broken at \(file):\(line): \(message())\n"
    _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    abort()
}

/// Printable form of bytes for invariant messages (non-printable bytes as `\xNN`, cut at 300).
public func fuzzShow<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    var s = ""
    for b in bytes.prefix(300) {
        if b >= 0x20 && b < 0x7F && b != UInt8(ascii: "\\") {
            s.unicodeScalars.append(Unicode.Scalar(b))
        } else {
            let hex = Array("0123456789abcdef".utf8)
            s += "\\x" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
        }
    }
    return bytes.count > 300 ? s + "…" : s
}

#if FUZZING
/// libFuzzer's own `main` (linked in, never run) refers to this symbol; the driver gets it too.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    currentEntry(bytes)
    return 0
}
#endif

/// Starting a target: libFuzzer's driver, or a replay of files.
public enum FuzzDriver {
    #if FUZZING
    @_silgen_name("LLVMFuzzerRunDriver")
    private static func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// Runs libFuzzer on `entry` with the process's arguments; returns libFuzzer's status.
    public static func run(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                           _ entry: @escaping FuzzEntry) -> CInt {
        currentEntry = entry
        var count = argc
        var arguments = argv
        return runFuzzerDriver(&count, &arguments, fuzzTestOneInput)
    }
    #endif

    /// Feeds every file in `paths` to `entry` (a directory's files, one level deep); prints a count.
    /// Exit status 2 when a path cannot be read.
    public static func replay(_ paths: [String], _ entry: FuzzEntry) -> Int32 {
        var count = 0
        var status: Int32 = 0
        for path in paths {
            for file in filesUnder(path) {
                guard let bytes = readFile(file) else {
                    print("cannot read \(file)")
                    status = 2
                    continue
                }
                entry(bytes)
                count += 1
            }
        }
        print("replayed \(count) input(s)")
        return status
    }

    /// The regular files directly inside a directory, sorted; or the path itself.
    static func filesUnder(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [path] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }
            names.append(path + "/" + name)
        }
        return names.sorted()
    }

    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { return bytes }
            bytes += chunk[0..<n]
        }
    }
}
