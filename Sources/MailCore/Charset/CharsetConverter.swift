#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Character set conversion through the C library's iconv, with the error handling of
/// Courier's unicode library: an invalid or unconvertible byte sequence is skipped (one
/// byte, or one code unit for UCS-2/UCS-4/UTF-16/UTF-32 input), the conversion state is
/// reset, and the result records that something was lost. Charset names are passed to
/// iconv as given (glibc matches them case-insensitively and knows the usual aliases).
public enum CharsetConverter {
    /// The outcome of a conversion: the converted bytes and whether anything was dropped.
    public struct Result: Sendable, Equatable {
        public var bytes: [UInt8]
        public var hadErrors: Bool
    }

    /// True when iconv can convert from `charset` (Courier's `-c` validation).
    public static func isKnown(_ charset: String) -> Bool {
        convert([], from: charset, to: "UCS-4LE") != nil
    }

    /// Converts `input` from `from` to `to`; nil when iconv does not know either charset.
    public static func convert(_ input: [UInt8], from: String, to: String) -> Result? {
        let cd = iconv_open(to, from)
        if cd == iconv_t(bitPattern: -1) { return nil }
        defer { iconv_close(cd) }
        // An uninitialised scratch buffer (on the stack when small): a zero-filled array here
        // cost more than the conversion for the short words RFC 2047 encoding converts.
        let scratch = min(4096, max(64, input.count * 2 + 32))
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: scratch) { outBuffer in
            run(cd, input, skip: skipCount(from), outBuffer)
        }
    }

    /// The conversion loop of `convert`, with `cd` open and `outBuffer` as iconv's output window.
    private static func run(_ cd: iconv_t?, _ input: [UInt8], skip: Int, _ outBuffer: UnsafeMutableBufferPointer<CChar>) -> Result {
        var output: [UInt8] = []
        output.reserveCapacity(input.count + input.count / 2 + 16)
        var hadErrors = false

        var offset = 0
        var skipLeft = 0
        input.withUnsafeBufferPointer { inBuf in
            guard let base = inBuf.baseAddress else { return }
            while offset < inBuf.count {
                if skipLeft > 0 {
                    let s = min(skipLeft, inBuf.count - offset)
                    offset += s
                    skipLeft = 0
                    continue
                }
                let before = offset
                var inPtr = UnsafeMutablePointer<CChar>(mutating: UnsafeRawPointer(base + offset)
                    .assumingMemoryBound(to: CChar.self))
                var inLeft = inBuf.count - offset
                var outPtr: UnsafeMutablePointer<CChar>? = outBuffer.baseAddress
                var outLeft = outBuffer.count
                var inOpt: UnsafeMutablePointer<CChar>? = inPtr
                let rc = iconv(cd, &inOpt, &inLeft, &outPtr, &outLeft)
                let err = errno
                if let np = inOpt { inPtr = np }
                let produced = outBuffer.count - outLeft
                offset = inBuf.count - inLeft
                if produced > 0 {
                    UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(outBuffer)[0..<produced])
                        .withMemoryRebound(to: UInt8.self) { output.append(contentsOf: $0) }
                }
                if rc != -1 { break }
                if err == E2BIG { continue }
                if offset == before {
                    skipLeft = skip
                    hadErrors = true
                } else if err == EINVAL {
                    // Incomplete sequence at the end of the input: dropped.
                    hadErrors = true
                    break
                }
                if err == EILSEQ { hadErrors = true }
                iconv(cd, nil, nil, nil, nil)
            }
        }
        // Return to the initial shift state (ISO-2022-JP and friends).
        do {
            let ob = outBuffer
            var outPtr: UnsafeMutablePointer<CChar>? = ob.baseAddress
            var outLeft = ob.count
            _ = iconv(cd, nil, nil, &outPtr, &outLeft)
            let produced = ob.count - outLeft
            if produced > 0 {
                ob.withMemoryRebound(to: UInt8.self) { output.append(contentsOf: $0[0..<produced]) }
            }
        }
        return Result(bytes: output, hadErrors: hadErrors)
    }

    /// How many bytes Courier skips after an invalid sequence, from the source charset name.
    static func skipCount(_ charset: String) -> Int {
        let u = Array(charset.utf8.prefix(5)).map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 32 : $0 }
        guard u.count == 5, u[3] == UInt8(ascii: "-") else { return 1 }
        let head = String(decoding: u[0..<3], as: UTF8.self)
        switch (head, u[4]) {
        case ("UCS", UInt8(ascii: "4")), ("UTF", UInt8(ascii: "3")): return 4
        case ("UCS", UInt8(ascii: "2")), ("UTF", UInt8(ascii: "1")): return 2
        default: return 1
        }
    }

    /// Decodes `input` in `charset` to Unicode scalars (via UCS-4); nil for an unknown charset.
    public static func scalars(_ input: [UInt8], from charset: String) -> [UInt32]? {
        guard let r = convert(input, from: charset, to: "UCS-4LE") else { return nil }
        var out: [UInt32] = []
        out.reserveCapacity(r.bytes.count / 4)
        var i = 0
        while i + 4 <= r.bytes.count {
            out.append(UInt32(r.bytes[i]) | UInt32(r.bytes[i + 1]) << 8 | UInt32(r.bytes[i + 2]) << 16 | UInt32(r.bytes[i + 3]) << 24)
            i += 4
        }
        return out
    }

    /// Encodes Unicode scalars into `charset`; nil for an unknown charset.
    public static func encode(_ scalars: ArraySlice<UInt32>, to charset: String) -> Result? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(scalars.count * 4)
        for s in scalars {
            bytes.append(UInt8(s & 0xFF)); bytes.append(UInt8((s >> 8) & 0xFF))
            bytes.append(UInt8((s >> 16) & 0xFF)); bytes.append(UInt8((s >> 24) & 0xFF))
        }
        return convert(bytes, from: "UCS-4LE", to: charset)
    }
}
