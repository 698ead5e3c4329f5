import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where the daemon's log lines go: stderr and the mail log file (`var/log/courier.log`),
/// one line per event, each with a local timestamp. Writes are serialised so lines from
/// concurrent services never interleave.
public final class MailLogSink: Sendable {
    private let state: Mutex<Int32>   // the log file's descriptor, or -1
    public let path: String?

    /// Opens (appends to) `path`, creating it mode 0640; nil logs to stderr only.
    public init(path: String?) {
        self.path = path
        var fd: Int32 = -1
        if let path {
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        }
        state = Mutex(fd)
    }

    deinit {
        state.withLock { fd in
            if fd >= 0 { close(fd) }
        }
    }

    /// True when the log file could be opened.
    public var hasFile: Bool { state.withLock { $0 >= 0 } }

    /// One event: `TIMESTAMP LEVEL LABEL: message` on stderr and in the file.
    public func log(level: Logger.Level, label: String, message: String) {
        let line = "\(Self.timestamp()) \(level.rawValue.uppercased()) \(label): \(Self.oneLine(message))\n"
        state.withLock { fd in
            Self.writeAll(2, line)
            if fd >= 0 { Self.writeAll(fd, line) }
        }
    }

    /// A line for scripts (`courier: ready (…)`, `esmtpd listening on 127.0.0.1:2525`): exactly
    /// `line` on stderr, and a timestamped event in the file.
    public func announce(_ line: String) {
        let text = Self.oneLine(line)
        state.withLock { fd in
            Self.writeAll(2, text + "\n")
            if fd >= 0 { Self.writeAll(fd, "\(Self.timestamp()) NOTICE \(text)\n") }
        }
    }

    /// Keeps one event on one line.
    static func oneLine(_ text: String) -> String {
        guard text.contains(where: \.isNewline) else { return text }
        return text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).joined(separator: " | ")
    }

    /// `2026-11-26 17:49:40.774 +0100` in local time.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S", &parts)
        var zone = [CChar](repeating: 0, count: 16)
        let zoneCount = strftime(&zone, zone.count, "%z", &parts)
        let millis = Int(now.tv_nsec / 1_000_000)
        let main = String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let offset = String(decoding: zone.prefix(zoneCount).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let padded = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(main).\(padded) \(offset)"
    }

    static func writeAll(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { return }
            bytes = bytes.dropFirst(count)
        }
    }
}

/// A swift-log handler writing to a `MailLogSink`; metadata is appended as `key=value`.
public struct MailLogHandler: LogHandler {
    public let label: String
    public let sink: MailLogSink
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]

    public init(label: String, sink: MailLogSink, level: Logger.Level) {
        self.label = label
        self.sink = sink
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var text = event.message.description
        if !merged.isEmpty {
            text += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        sink.log(level: event.level, label: label, message: text)
    }
}

extension Logger {
    /// A logger writing to `sink` under `label` (`courier`, `esmtpd`, …).
    public static func mailLog(_ label: String, sink: MailLogSink, level: Logger.Level) -> Logger {
        Logger(label: label) { label in MailLogHandler(label: label, sink: sink, level: level) }
    }
}
