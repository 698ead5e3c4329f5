#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The Message-ID reformail makes for `-a 'Message-ID:'`:
/// `<TTTTTTTTTTTTTTTT.PPPPPPPPPPPPPPPP.reformail@host>`, time and pid as 16 uppercase hex
/// digits written least significant digit first.
enum MessageIDGenerator {
    static func make(time: Int, pid: Int, host: [UInt8]) -> [UInt8] {
        var id: [UInt8] = [UInt8(ascii: "<")]
        id.append(contentsOf: reversedHex(UInt64(bitPattern: Int64(time))))
        id.append(UInt8(ascii: "."))
        id.append(contentsOf: reversedHex(UInt64(bitPattern: Int64(pid))))
        id.append(contentsOf: Array(".reformail@".utf8))
        id.append(contentsOf: host)
        id.append(UInt8(ascii: ">"))
        return id
    }

    /// An id for now, this process and this host.
    static func make() -> [UInt8] {
        var t = time_t()
        _ = time(&t)
        return make(time: Int(t), pid: Int(getpid()), host: hostName())
    }

    static func reversedHex(_ value: UInt64) -> [UInt8] {
        let digits = Array("0123456789ABCDEF".utf8)
        var n = value
        var out: [UInt8] = []
        for _ in 0..<16 {
            out.append(digits[Int(n % 16)])
            n /= 16
        }
        return out
    }

    static func hostName() -> [UInt8] {
        var buf = [CChar](repeating: 0, count: 256)
        _ = gethostname(&buf, 255)
        buf[255] = 0
        let bytes = buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return bytes
    }
}
