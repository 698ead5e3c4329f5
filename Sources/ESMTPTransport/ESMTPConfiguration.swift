#if canImport(Glibc)
import Glibc
#endif
import MailConfig
import SMTPClient

/// The esmtp client's control files (spec/mta.md §3.9–§3.11, §3.23, §5.3.5), read when a
/// delivery starts so that edits apply to new connections, as in Courier.
public struct ESMTPConfiguration: Sendable {
    public var routes: [ESMTPRoute] = []
    public var authClient: [ESMTPAuthClientEntry] = []
    /// `esmtphelo`, default `me`.
    public var heloName: String
    /// `esmtphelo` is `*`: each connection's EHLO name is its local address's reverse DNS name.
    public var heloFromReverseDNS = false
    /// `ipout` / `ip6out`: source addresses; nil = the kernel's choice.
    public var sourceIPv4: String?
    public var sourceIPv6: String?
    public var timeouts = ClientTimeouts()
    /// `esmtpdelay` (default 5 minutes, 0 = off), seconds.
    public var esmtpDelay: Int64 = 300
    /// `esmtptimeoutkeepalive` (default 60 s, 0 = QUIT after each message): how long an idle
    /// session stays open for the next message to the same server (spec/mta.md §5.3.2).
    public var keepAlive: Int64 = 60
    /// `esmtptimeoutkeepaliveping` (default 0 = off): RSET this often on an idle kept session.
    public var keepAlivePing: Int64 = 0
    /// Certificate checks for outbound TLS (`courierd` settings).
    public var tlsVerification = OutboundTLSVerification()
    /// `ESMTP_BLOCKBACKSCATTER` (courierd, default `smtp/dsn`): sources (`smtp`, `authsmtp`) whose
    /// delivery reports are not sent out by SMTP (spec/mta.md §4.10); empty = send them all.
    public var blockBackscatter: Set<String> = ["smtp"]
    /// `ESMTP_PREFER_IPV6_MX` (courierd; Courier ships it set to 1): a host's AAAA addresses
    /// are tried before its A addresses; `0` puts A first.
    public var preferIPv6 = true
    /// `ESMTP_USE_STARTTLS` (courierd, default 1): `0` never starts TLS where it is only
    /// opportunistic (routes that require TLS still do).
    public var useStartTLS = true

    public init(heloName: String) {
        self.heloName = heloName
    }

    /// Reads the files under `etc`.
    public static func load(etc: String, me: String) -> ESMTPConfiguration {
        // spec/mta.md §3.11: the EHLO name goes out in ACE (`xn--` labels).
        var config = ESMTPConfiguration(heloName: PunycodeHostName.ascii(me) ?? me)
        if let bytes = readSmallFile(etc + "/esmtproutes"),
           let entries = try? ListFileParser.parse(bytes, file: "esmtproutes") {
            config.routes = ESMTPRoutes.parse(entries).routes
        }
        if let bytes = readSmallFile(etc + "/esmtpauthclient"),
           let entries = try? ListFileParser.parse(bytes, file: "esmtpauthclient", comments: .wholeLine) {
            config.authClient = ESMTPAuthClientEntry.parse(entries)
        }
        if let helo = oneLine(etc + "/esmtphelo"), !helo.isEmpty {
            if helo == "*" { config.heloFromReverseDNS = true } else { config.heloName = PunycodeHostName.ascii(helo) ?? helo }
        }
        if let ip = oneLine(etc + "/ipout"), !ip.isEmpty, ip != "0" { config.sourceIPv4 = ip }
        if let ip = oneLine(etc + "/ip6out"), !ip.isEmpty, ip != "0" { config.sourceIPv6 = ip }
        func seconds(_ name: String, _ value: inout Int64) {
            if let text = oneLine(etc + "/" + name), let parsed = IntervalParser.seconds(text) { value = Int64(parsed) }
        }
        seconds("esmtptimeoutconnect", &config.timeouts.connect)
        seconds("esmtptimeouthelo", &config.timeouts.hello)
        seconds("esmtptimeout", &config.timeouts.command)
        seconds("esmtptimeoutdata", &config.timeouts.data)
        seconds("esmtptimeoutquit", &config.timeouts.quit)
        seconds("esmtpdelay", &config.esmtpDelay)
        seconds("esmtptimeoutkeepalive", &config.keepAlive)
        seconds("esmtptimeoutkeepaliveping", &config.keepAlivePing)
        if let bytes = readSmallFile(etc + "/courierd"),
           let parsed = try? VariableFileParser.parse(bytes, file: etc + "/courierd") {
            var variables = ConfigVariables()
            variables.merge(parsed, file: etc + "/courierd")
            config.tlsVerification = OutboundTLSVerification(variables.environment)
            if let value = variables.environment["ESMTP_USE_STARTTLS"] {
                config.useStartTLS = (Int(value) ?? 1) != 0
            }
            if let value = variables.environment["ESMTP_PREFER_IPV6_MX"] {
                config.preferIPv6 = !value.isEmpty && !value.hasPrefix("0")
            }
            if let value = variables.environment["ESMTP_BLOCKBACKSCATTER"] {
                config.blockBackscatter = Self.backscatterSources(value)
            }
        }
        return config
    }

    /// `smtp/dsn,authsmtp/dsn` → the sources whose reports are dropped; other words are ignored.
    static func backscatterSources(_ value: String) -> Set<String> {
        Set(value.split(whereSeparator: { $0 == "," || $0 == " " }).compactMap { word in
            let parts = word.lowercased().split(separator: "/")
            return parts.count == 2 && parts[1] == "dsn" ? String(parts[0]) : nil
        })
    }

    static func oneLine(_ path: String) -> String? {
        readSmallFile(path).flatMap(ListFileParser.firstLine)?.trimmingCharacters()
    }

    static func readSmallFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while out.count < ConfigLimits.maxFileBytes {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            out += chunk[0..<n]
        }
        return out
    }
}

extension String {
    func trimmingCharacters() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" || first == "\r" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" || last == "\r" { slice = slice.dropLast() }
        return String(slice)
    }
}
