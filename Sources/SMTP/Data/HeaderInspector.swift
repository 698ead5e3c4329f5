/// Watches the start of a message as it streams to the queue and judges its header section
/// (spec/mta.md §2.11, §2.12 DATA stage): its size (`BOFHHEADERLIMIT`, fewer than 500 fields)
/// and the number of `Received:` fields (more than 100 is a routing loop). Only the header
/// section is kept, never more than the limit.
public struct HeaderInspector: Sendable {
    /// `BOFHHEADERLIMIT`: header bytes allowed (default 100000, at least 1000).
    public let byteLimit: Int
    public static let fieldLimit = 500
    public static let receivedLimit = 100

    private var header: [UInt8] = []
    private var finished = false
    private var overLimit = false
    /// The blank line after the header section was seen.
    public private(set) var endedWithBlankLine = false
    /// The byte before the current position was a line end (a blank line ends the header).
    private var atLineStart = true

    public init(byteLimit: Int = 100_000) {
        self.byteLimit = max(byteLimit, 1000)
    }

    /// Feeds the next decoded bytes of the message (line ends already `\n`). Returns the index
    /// in `bytes` of the blank line that ends the header section when it is in this chunk
    /// (`bytes[..<index]` is the rest of the header section), else nil.
    @discardableResult
    public mutating func feed(_ bytes: [UInt8]) -> Int? {
        guard !finished else { return nil }
        for (index, byte) in bytes.enumerated() {
            if atLineStart && byte == UInt8(ascii: "\n") {
                finished = true
                endedWithBlankLine = true
                return index
            }
            atLineStart = byte == UInt8(ascii: "\n")
            if header.count >= byteLimit {
                overLimit = true
                finished = true
                return nil
            }
            header.append(byte)
        }
        return nil
    }

    /// The header section seen so far (all of it once the blank line came), `\n` line ends.
    public var headerSection: [UInt8] { header }

    /// The header section fit in `byteLimit` (so far).
    public var withinLimit: Bool { !overLimit }

    /// The refusal for this message, if any, once the data has ended.
    public func verdict() -> SMTPReply? {
        if overLimit { return Replies.headerTooBig }
        var fields = 0
        var received = 0
        var lineStart = true
        var index = header.startIndex
        while index < header.endIndex {
            let byte = header[index]
            if lineStart && byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") {
                fields += 1
                if Self.startsWithReceived(header, at: index) { received += 1 }
            }
            lineStart = byte == UInt8(ascii: "\n")
            index += 1
        }
        if received > Self.receivedLimit { return Replies.routingLoop }
        if fields >= Self.fieldLimit { return Replies.headerTooBig }
        return nil
    }

    static func startsWithReceived(_ bytes: [UInt8], at index: Int) -> Bool {
        let name = Array("received:".utf8)
        guard bytes.count - index >= name.count else { return false }
        for offset in 0..<name.count {
            var byte = bytes[index + offset]
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte += 32 }
            if byte != name[offset] { return false }
        }
        return true
    }
}
