import Logging

/// Slows down password guessing (issue #4): every failed login from an address, and every
/// failed login for a user name, adds to a penalty that grows exponentially
/// (`baseDelay · 2^(failures − threshold)`, capped at `maxDelay`) and is forgotten after
/// `forgetAfter` without failures. The protocol server awaits `delay(…)` before checking
/// credentials (a suspended task, never a blocked event loop), and reports each outcome.
public actor LoginThrottle {
    public struct Policy: Sendable {
        /// Failures allowed without any delay.
        public var freeFailures: Int = 3
        public var baseDelay: Duration = .milliseconds(500)
        public var maxDelay: Duration = .seconds(30)
        /// A key with no failure for this long starts again from zero.
        public var forgetAfter: Duration = .seconds(900)
        /// Most keys remembered (oldest dropped first), so an attack with many addresses
        /// cannot exhaust memory.
        public var maxKeys: Int = 100_000

        public init() {}
    }

    private struct Record {
        var failures: Int
        var lastFailure: ContinuousClock.Instant
    }

    public let policy: Policy
    private var records: [String: Record] = [:]
    private let clock = ContinuousClock()
    private var logger: Logger

    public init(policy: Policy = Policy(), logger: Logger = Logger(label: "courier.auth.throttle")) {
        self.policy = policy
        self.logger = logger
    }

    private static func addressKey(_ address: String) -> String { "ip:" + address }
    private static func userKey(_ user: String) -> String { "user:" + user.lowercased() }

    /// How long to wait before checking a login from `address` for `user`.
    public func delay(address: String, user: String?) -> Duration {
        let now = clock.now
        var worst = Duration.zero
        var keys = [Self.addressKey(address)]
        if let user { keys.append(Self.userKey(user)) }
        for key in keys {
            guard let record = records[key] else { continue }
            if now - record.lastFailure > policy.forgetAfter {
                records[key] = nil
                continue
            }
            worst = max(worst, penalty(record.failures))
        }
        if worst > .zero {
            logger.notice("login throttled", metadata: ["ip": "\(address)", "user": "\(user ?? "")", "delay": "\(worst)"])
        }
        return worst
    }

    /// Waits as `delay(…)` says (cancellable).
    public func wait(address: String, user: String?) async throws {
        let pause = delay(address: address, user: user)
        if pause > .zero { try await Task.sleep(for: pause) }
    }

    /// Records a failed login.
    public func failed(address: String, user: String?) {
        let now = clock.now
        var keys = [Self.addressKey(address)]
        if let user { keys.append(Self.userKey(user)) }
        for key in keys {
            var record = records[key] ?? Record(failures: 0, lastFailure: now)
            if now - record.lastFailure > policy.forgetAfter { record.failures = 0 }
            record.failures += 1
            record.lastFailure = now
            records[key] = record
            if record.failures > policy.freeFailures {
                logger.warning("repeated login failures; slowing down",
                               metadata: ["key": "\(key)", "failures": "\(record.failures)", "next delay": "\(penalty(record.failures))"])
            }
        }
        if records.count > policy.maxKeys { evictOldest() }
    }

    /// Records a successful login: the user's count is cleared (the address keeps its count,
    /// so one good account does not launder guesses at others).
    public func succeeded(address: String, user: String) {
        records[Self.userKey(user)] = nil
    }

    /// Failures currently counted for an address (tests, metrics).
    public func failures(address: String) -> Int {
        records[Self.addressKey(address)]?.failures ?? 0
    }

    func penalty(_ failures: Int) -> Duration {
        let over = failures - policy.freeFailures
        guard over > 0 else { return .zero }
        let factor = over >= 30 ? Int64(1) << 30 : Int64(1) << Int64(over - 1)
        let scaled = policy.baseDelay * factor
        return min(scaled, policy.maxDelay)
    }

    private func evictOldest() {
        let excess = records.count - policy.maxKeys * 9 / 10
        guard excess > 0 else { return }
        let oldest = records.sorted { $0.value.lastFailure < $1.value.lastFailure }.prefix(excess)
        for (key, _) in oldest { records[key] = nil }
    }
}
