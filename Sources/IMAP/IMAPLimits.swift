/// Every size limit of the IMAP module in one place (STYLE.md §5). A command beyond a limit
/// gets `BAD` (or `BYE` when the stream cannot be resynchronised); nothing here can trap.
public struct IMAPLimits: Sendable, Equatable {
    /// One line of a command, literals excluded. RFC 7162 §4 asks servers to accept at least
    /// 8192 octets; long UID sets from clients such as mbsync need more.
    public var lineLength = 65_536
    /// A literal used as a command argument (not an APPEND message). Courier refuses argument
    /// literals above 8192 bytes (spec/access.md §2.11); we allow a little more for SEARCH text.
    public var argumentLiteral = 65_536
    /// An APPEND message (advertised as APPENDLIMIT, RFC 7889).
    public var appendLiteral = 64 << 20
    /// APPEND messages above this size are streamed (``CommandFramer/Event/appendStreamStart(prefix:size:synchronizing:)``)
    /// instead of buffered: a session never holds a large message in memory.
    public var appendStreamThreshold = 64 << 10
    /// A whole command, every line and literal together, apart from APPEND messages.
    public var commandSize = 1 << 20
    /// Nesting of parenthesised lists and search keys (a stack bound for the recursive parser).
    public var nesting = 32
    /// Messages in one MULTIAPPEND command.
    public var appendMessages = 64
    /// LITERAL- (RFC 7888 §5): largest non-synchronising literal.
    public var nonSynchronizingLiteral = 4096
    /// LITERAL+ (RFC 7888 §4): non-synchronising literals of any allowed size. False: LITERAL-
    /// only, and a larger non-synchronising literal ends the connection (RFC 7888 §5).
    public var literalPlus = true

    public init() {}
}
