import MailConfig

/// The queue's tunables, from Courier's control files (spec/mta.md §3.12, §3.13).
public struct QueueSettings: Sendable, Equatable {
    /// `queuetime`: how long deferred recipients are retried before they bounce.
    public var queueTime: Int
    /// `warntime`: after this long in the queue, the sender gets one delayed-mail warning
    /// (spec/mta.md §3.12, §4.7); 0 = never.
    public var warnTime: Int
    public var retry: RetryPolicy
    /// `sizelimit`; 0 = no limit.
    public var sizeLimit: Int
    /// Concurrent delivery attempts (messages). Courier dispatches up to `MAXDELS` per output
    /// module (spec/mta.md §5.1: local 10, esmtp 40); the transports enforce their own limits
    /// (esmtp: `MAXDELS`, `MAXHOST` per domain), so the queue allows the sum.
    public var maximumDeliveries: Int
    /// `backuprelay` (spec/mta.md §3.16, §4.7): the host that mail for the esmtp transport
    /// goes to once it has been in the queue for `warntime`, instead of a delayed-mail warning;
    /// nil when the file is missing (or names a driver other than esmtp).
    public var backupRelay: String?

    public init(queueTime: Int = 7 * 86400, warnTime: Int = 4 * 3600, retry: RetryPolicy = RetryPolicy(),
                sizeLimit: Int = 10_485_760, maximumDeliveries: Int = 50) {
        self.queueTime = queueTime
        self.warnTime = warnTime
        self.retry = retry
        self.sizeLimit = sizeLimit
        self.maximumDeliveries = maximumDeliveries
    }

    /// Reads `queuetime`, `warntime`, `sizelimit` (through `SiteConfig`) and `retryalpha`, `retrybeta`,
    /// `retrygamma`, `retrymaxdelta` from `etc/`.
    public init(site: SiteConfig) {
        func firstLine(_ name: String) -> String? {
            guard let bytes = try? FileIO.readAll(site.root.etc(name)) else { return nil }
            let line = bytes.prefix { $0 != 0x0A }
            let text = String(decoding: line, as: UTF8.self).trimmingSpaces
            return text.isEmpty ? nil : text
        }
        var retry = RetryPolicy()
        if let text = firstLine("retryalpha"), let value = IntervalParser.seconds(text) { retry.alpha = value }
        if let text = firstLine("retrybeta"), let value = Int(text), value > 0 { retry.beta = value }
        if let text = firstLine("retrygamma"), let value = IntervalParser.seconds(text) { retry.gamma = value }
        if let text = firstLine("retrymaxdelta"), let value = Int(text), value >= 0 { retry.maxDelta = min(value, 20) }
        self.init(queueTime: site.queueTime, warnTime: site.warnTime, retry: retry, sizeLimit: site.sizeLimit)
        backupRelay = firstLine("backuprelay").flatMap(Self.backupRelay(line:))
    }

    /// `backuprelay`'s line: `host [driver]`, the driver esmtp by default (the only one we have).
    static func backupRelay(line: String) -> String? {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
        guard let host = words.first, words.count == 1 || words[1] == "esmtp" else { return nil }
        return host.lowercased()
    }
}

/// Courier's retry schedule (spec/mta.md §4.7): β attempts α apart, then γ·2^min(k/β, maxΔ).
public struct RetryPolicy: Sendable, Equatable {
    public var alpha = 300
    public var beta = 3
    public var gamma = 900
    public var maxDelta = 3

    public init(alpha: Int = 300, beta: Int = 3, gamma: Int = 900, maxDelta: Int = 3) {
        self.alpha = alpha
        self.beta = max(1, beta)
        self.gamma = gamma
        self.maxDelta = maxDelta
    }

    /// Seconds to wait after the pass that brought the count of completed passes to `passes`.
    public func delay(afterPasses passes: Int) -> Int {
        let beta = max(1, self.beta)
        if passes % beta != 0 { return alpha }
        let exponent = min(passes / beta, maxDelta, 30)
        return gamma * (1 << exponent)
    }
}

extension String {
    var trimmingSpaces: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" && $0 != "\r" }),
              let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" && $0 != "\r" }) else { return "" }
        return String(scalars[first...last])
    }
}
