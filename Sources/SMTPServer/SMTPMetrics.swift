import Metrics

/// The SMTP server's counters (DESIGN.md "Observability"), exported by the `metrics` listener
/// in Prometheus' text format.
enum SMTPMetrics {
    static let sessions = Counter(label: "courier_smtp_sessions_total")
    static let authFailures = Counter(label: "courier_smtp_auth_failures_total")
    static let authSuccesses = Counter(label: "courier_smtp_auth_successes_total")
    static let accepted = Counter(label: "courier_messages_accepted_total", dimensions: [("source", "smtp")])

    static func sessionStarted() { sessions.increment() }
    static func authFailed() { authFailures.increment() }
    static func authSucceeded() { authSuccesses.increment() }
    static func messageAccepted() { accepted.increment() }
}
