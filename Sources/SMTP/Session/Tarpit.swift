/// Courier's tarpit (spec/mta.md §2.11): after each 5xx reply the server waits before reading
/// the next command; 8 s, doubling up to 128 s; reset after a successful DATA, VRFY or EXPN.
/// The server runs the wait as a timer, never blocking an event loop.
public struct Tarpit: Sendable, Equatable {
    public let enabled: Bool
    public let initialSeconds: Int
    public let maximumSeconds: Int
    private var nextSeconds: Int

    public init(enabled: Bool, initialSeconds: Int = 8, maximumSeconds: Int = 128) {
        self.enabled = enabled
        self.initialSeconds = initialSeconds
        self.maximumSeconds = maximumSeconds
        nextSeconds = initialSeconds
    }

    /// The delay after sending `reply`, in seconds (0 = none).
    public mutating func delay(after reply: SMTPReply) -> Int {
        guard enabled, reply.isPermanentFailure else { return 0 }
        let delay = nextSeconds
        nextSeconds = min(nextSeconds * 2, maximumSeconds)
        return delay
    }

    public mutating func reset() {
        nextSeconds = initialSeconds
    }
}
