/// Courier's unique message names (access.md §1.2, maildir(5)).
///
/// While a message is written it lives in `tmp/<secs>.M<usecs>P<pid>[_<uniq>].<host>[,S=<n>]`;
/// once the file exists its device and inode are known and the final name in `new/` or `cur/`
/// becomes `<secs>.M<usecs>P<pid>V<dev>I<ino>[_<uniq>].<host>[,S=<n>]` with `V`/`I` in upper-case
/// hexadecimal, zero padded to 16 digits (what a 64-bit Courier writes).
public struct UniqueName: Hashable, Sendable {
    public var seconds: Int64
    public var microseconds: Int64
    public var pid: Int32
    /// Courier's "uniq" part (`_warn`, `_0`, `_courierlock` ...); nil for none.
    public var uniq: String?
    /// The host name as it goes into the file name (already escaped).
    public var host: String
    /// The message size for `,S=`; nil or 0 for none (Courier omits `,S=` for size 0).
    public var size: Int64?

    public init(seconds: Int64, microseconds: Int64, pid: Int32, uniq: String? = nil,
                host: String, size: Int64? = nil) {
        self.seconds = seconds
        self.microseconds = microseconds
        self.pid = pid
        self.uniq = uniq
        self.host = host
        self.size = size
    }

    private var head: String { "\(seconds).M\(microseconds)P\(pid)" }

    private var tail: String {
        var s = ""
        if let uniq, !uniq.isEmpty { s += "_" + uniq }
        s += "." + host
        if let size, size > 0 { s += ",S=\(size)" }
        return s
    }

    /// The name in `tmp/`.
    public var temporaryName: String { head + tail }

    /// The name in `new/` (and, with an info part, `cur/`) for a file on `device`/`inode`.
    public func finalName(device: UInt64, inode: UInt64) -> String {
        head + "V" + NumberText.hex(device, width: 16) + "I" + NumberText.hex(inode, width: 16) + tail
    }

    /// A host name made safe for a file name: `/` becomes `\057` and `:` becomes `\072`
    /// (maildir(5)'s recommendation; Courier inserts gethostname() verbatim, which is the same
    /// for every ordinary host name). Other bytes that cannot appear (NUL) are dropped.
    public static func escapeHost(_ host: String) -> String {
        var out = ""
        for ch in host.unicodeScalars {
            switch ch {
            case "/": out += "\\057"
            case ":": out += "\\072"
            case "\0": continue
            default: out.unicodeScalars.append(ch)
            }
        }
        return out.isEmpty ? "localhost" : out
    }
}
