// Names for PTR lookups (RFC 1035 §3.5 in-addr.arpa, RFC 3596 §2.5 ip6.arpa).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension DNSName {
    /// `192.0.2.1` → `1.2.0.192.in-addr.arpa`; `2001:db8::1` → its 32 nibbles under `ip6.arpa`.
    /// Nil when the text is not an IP address.
    public init?(reverseOf address: String) {
        var bytes = [UInt8](repeating: 0, count: 16)
        if bytes.withUnsafeMutableBytes({ inet_pton(AF_INET, address, $0.baseAddress) }) == 1 {
            let labels = bytes.prefix(4).reversed().map { Array(String($0).utf8) }
            self.init(labels: labels + [Array("in-addr".utf8), Array("arpa".utf8)])
        } else if bytes.withUnsafeMutableBytes({ inet_pton(AF_INET6, address, $0.baseAddress) }) == 1 {
            let digits = Array("0123456789abcdef".utf8)
            var labels: [[UInt8]] = []
            for byte in bytes.reversed() {
                labels.append([digits[Int(byte & 0x0F)]])
                labels.append([digits[Int(byte >> 4)]])
            }
            self.init(labels: labels + [Array("ip6".utf8), Array("arpa".utf8)])
        } else {
            return nil
        }
    }
}
