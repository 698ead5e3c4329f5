/// Courier pop3d's response texts (spec/access.md §3.2), each a whole line with CRLF.
public enum POP3Replies {
    public static let greeting = "+OK Hello there."
    public static let capabilities = "+OK Here's what I can do:"
    public static let invalidCommand = "-ERR Invalid command."
    public static let passwordRequired = "+OK Password required."
    public static let tlsRequired = "-ERR TLS required to log in."
    public static let userPassRequired = "-ERR USER/PASS required."
    public static let loggedIn = "+OK logged in."
    public static let loginFailed = "-ERR Login failed."
    public static let authenticationFailed = "-ERR Authentication failed."
    public static let authenticationAborted = "-ERR Authentication aborted."
    public static let temporaryProblem = "-ERR Temporary problem, please try again later"
    public static let beginTLS = "+OK Begin SSL/TLS negotiation now."
    public static let tlsUnavailable = "-ERR TLS support not available."
    public static let utf8Enabled = "+OK UTF8 enabled"
    public static let betterLuck = "+OK Better luck next time."
    public static let listFollows = "+OK POP3 clients that break here, they violate STD53."
    public static let invalidMessageNumber = "-ERR Invalid message number."
    public static let headersFollow = "+OK headers follow."
    public static let deleted = "+OK Deleted."
    public static let resurrected = "+OK Resurrected."
    public static let yup = "+OK Yup."
    public static let byeBye = "+OK Bye-bye."
    public static let messageGone = "-ERR Can't open the message file - it's gone!"
    public static let accountDisabled = "-ERR POP3 access disabled for this account."
    public static let insecureDisabled = "-ERR POP3 access disabled via insecure connection."
    public static let accountLocked = "-ERR Your account is temporarily unavailable (+t bit set on home directory)."
    public static let noCurDirectory = "-ERR Maildir invalid (no 'cur' directory)"
    public static let lineTooLong = "-ERR Invalid command."
    /// RFC 6856 §3 LANG (Courier's upstream pop3d): the list, and the answers to a tag.
    public static let languageListing = ["+OK Language listing follows:", "en English", "i-default Default language", "."]
    public static let languageUnavailable = "-ERR Language not available."
    public static func languageChosen(_ tag: String) -> String { "+OK \(tag) King's English" }

    /// `+OK 23 octets follow.` (RETR).
    public static func octetsFollow(_ size: Int64) -> String { "+OK \(size) octets follow." }

    /// One line as bytes, CRLF added.
    public static func line(_ text: String) -> [UInt8] { Array(text.utf8) + [13, 10] }
}
