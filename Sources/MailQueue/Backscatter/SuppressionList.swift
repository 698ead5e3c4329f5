/// Courier's backscatter suppression list (spec/mta.md §4.10, `BOFHSUPPRESSBACKSCATTER`): the
/// recipients of tracked messages (mail from the listed sources) whose delivery failed or was
/// deferred. For `window` seconds (Courier's `TRACK_NHOURS`, 2 hours) new mail from those
/// sources to such an address is refused at RCPT — `556 Address unavailable.` after a
/// failure, `456 Address temporarily unavailable.` after a deferral — so that a spammer's
/// run of bad addresses does not turn into a run of bounces. A later successful delivery,
/// or `courier clear`, takes the address off.
///
/// Pure: times are passed in; the file form is one line per address,
/// `<unix time> <F|D><address>` (the line layout of Courier's `track/<hour>` files).
public struct SuppressionList: Sendable, Equatable {
    /// Why an address is on the list.
    public enum Status: UInt8, Sendable, Equatable {
        case failed = 0x46    // "F"
        case deferred = 0x44  // "D"
    }

    /// One listed address: its last recorded failure or deferral.
    public struct Entry: Sendable, Equatable {
        public var status: Status
        public var time: Int64
    }

    /// A delivery result of a tracked message's recipient.
    public enum Result: Sendable, Equatable {
        case delivered, failed, deferred
    }

    /// Courier's window: 2 hours.
    public static let defaultWindow: Int64 = 2 * 3600
    /// At most this many addresses are kept; past it the oldest go first.
    public static let defaultCapacity = 10_000
    /// Longest address kept (longer ones are not tracked: RFC 5321 §4.5.3.1 allows 254).
    static let addressLimit = 512

    public private(set) var entries: [String: Entry] = [:]
    public let window: Int64
    public let capacity: Int

    public init(window: Int64 = Self.defaultWindow, capacity: Int = Self.defaultCapacity) {
        self.window = window
        self.capacity = max(1, capacity)
    }

    /// The form addresses are compared in: the domain lower-cased, the local part as is
    /// (Courier's `udomainlower`).
    public static func key(_ address: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return address }
        return String(address[..<at]) + address[at...].lowercased()
    }

    /// Records one delivery result (Courier's `ctlfile_append_reply`): a success takes the
    /// address off; a failure or deferral puts it on, unless it was put on less than half a
    /// window ago already.
    public mutating func record(_ address: String, _ result: Result, now: Int64) {
        let key = Self.key(address)
        guard !key.isEmpty, key.utf8.count <= Self.addressLimit, !key.contains(where: \.isNewline) else { return }
        switch result {
        case .delivered:
            entries[key] = nil
        case .failed, .deferred:
            if let entry = entries[key], entry.time >= now - window / 2, entry.time <= now { return }
            entries[key] = Entry(status: result == .failed ? .failed : .deferred, time: now)
            trim(now: now)
        }
    }

    /// Why `address` is refused now, or nil when it may receive mail.
    public func refusal(for address: String, now: Int64) -> Status? {
        guard let entry = entries[Self.key(address)], entry.time >= now - window else { return nil }
        return entry.status
    }

    /// `courier clear <address>`: true when it was listed.
    @discardableResult
    public mutating func clear(_ address: String) -> Bool {
        entries.removeValue(forKey: Self.key(address)) != nil
    }

    /// `courier clear all`.
    public mutating func clearAll() {
        entries.removeAll()
    }

    /// `courier show all`: the listed addresses, sorted.
    public func addresses(now: Int64) -> [String] {
        entries.filter { $0.value.time >= now - window }.keys.sorted()
    }

    /// Drops expired entries, then the oldest past `capacity`.
    public mutating func trim(now: Int64) {
        entries = entries.filter { $0.value.time >= now - window }
        guard entries.count > capacity else { return }
        let keep = entries.sorted { ($0.value.time, $0.key) > ($1.value.time, $1.key) }.prefix(capacity)
        entries = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
    }

    /// The file form: one `<time> <F|D><address>` line per live entry, oldest first.
    public func encoded(now: Int64) -> [UInt8] {
        var out: [UInt8] = []
        let live = entries.filter { $0.value.time >= now - window }
        for (address, entry) in live.sorted(by: { ($0.value.time, $0.key) < ($1.value.time, $1.key) }) {
            out.append(contentsOf: "\(entry.time) ".utf8)
            out.append(entry.status.rawValue)
            out.append(contentsOf: address.utf8)
            out.append(0x0A)
        }
        return out
    }

    /// Reads the file form; lines that do not parse are skipped, and at most `capacity`
    /// entries are kept (a damaged or hostile file cannot make the list unbounded).
    public static func decode(_ bytes: [UInt8], now: Int64, window: Int64 = defaultWindow,
                              capacity: Int = defaultCapacity) -> SuppressionList {
        var list = SuppressionList(window: window, capacity: capacity)
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: true) {
            guard line.count <= addressLimit + 32, let space = line.firstIndex(of: 0x20),
                  let time = Int64(String(decoding: line[line.startIndex..<space], as: UTF8.self)),
                  space + 1 < line.endIndex, let status = Status(rawValue: line[space + 1]) else { continue }
            let address = String(decoding: line[(space + 2)...], as: UTF8.self)
            guard !address.isEmpty, time >= now - window, time <= now + 60 else { continue }
            let key = key(address)
            if let old = list.entries[key], old.time > time { continue }
            list.entries[key] = Entry(status: status, time: time)
        }
        list.trim(now: now)
        return list
    }
}
