/// Splits the input stream into whole IMAP commands: lines plus the literals they announce
/// (RFC 3501 §4.3 `{n}`, RFC 7888 LITERAL+ `{n+}`, RFC 3516 binary `~{n}`). A command comes out
/// as its wire bytes, literals inline, so the parser sees exactly what the client sent.
///
/// A synchronising literal needs a `+` continuation from the server before the client sends
/// its bytes: the framer returns `.continuationNeeded` and keeps what it has. Limits come from
/// ``IMAPLimits``; memory is bounded by them.
public struct CommandFramer: Sendable {
    /// What the framer found.
    public enum Event: Sendable, Equatable {
        /// One whole command (without its final CRLF).
        case command([UInt8])
        /// The client waits for `+ ` before sending the literal it announced (RFC 3501 §7.5).
        case continuationNeeded
        /// A line was longer than the limit; it was discarded up to its line end. The tag,
        /// when one could be read, lets the server answer `tag BAD`.
        case tooLong(tag: [UInt8]?)
        /// A synchronising literal above the limit: the client has not sent it, the command
        /// is dropped and gets `tag NO/BAD` (RFC 7888 §4 lets the server refuse it).
        case literalRefused(tag: [UInt8]?, size: Int)
        /// A non-synchronising literal above the limit: its bytes are on the way and cannot
        /// be told apart from commands, so the connection must close (RFC 7888 §4: `BYE`).
        case fatal(String)
        /// An APPEND message larger than `IMAPLimits.appendStreamThreshold` begins: `prefix` is
        /// the command before its `{n}`. The framer waits for ``acceptStream()`` (then the
        /// server sends `+` for a synchronising literal) or ``refuseStream()``. In the command
        /// that finally comes out, the streamed message is an empty literal.
        case appendStreamStart(prefix: [UInt8], size: Int, synchronizing: Bool)
        /// The next bytes of the streamed message.
        case appendStreamBytes([UInt8])
        /// The streamed message is complete; the rest of the command follows.
        case appendStreamEnd
    }

    private enum State: Sendable {
        case line
        case literal(remaining: Int)
        case discardingLine
        case awaitingDecision(size: Int, synchronizing: Bool)
        case streaming(remaining: Int)
        case streamEnded
        case discardingLiteral(remaining: Int)
    }

    public let limits: IMAPLimits
    private var buffer: [UInt8] = []
    private var lineStart = 0
    private var state = State.line

    public init(limits: IMAPLimits = IMAPLimits()) {
        self.limits = limits
    }

    /// Bytes held back waiting for the rest of their command.
    public var bufferedCount: Int { buffer.count }
    /// The buffer's allocated size (what an idle connection holds).
    var bufferCapacity: Int { buffer.capacity }
    /// A command buffer up to this size is kept for the next command; a larger one is freed.
    static let keptCapacity = 4096

    /// Takes the next event from `input`, consuming the bytes it used. Nil when input ran out.
    public mutating func next(from input: inout ArraySlice<UInt8>) -> Event? {
        switch state {
        case .awaitingDecision: return nil
        case .streamEnded:
            state = .line
            lineStart = buffer.count
            return .appendStreamEnd
        default: break
        }
        while !input.isEmpty {
            switch state {
            case .awaitingDecision, .streamEnded:
                return nil
            case .streaming(let remaining):
                let take = min(remaining, input.count, 1 << 20)
                let chunk = Array(input.prefix(take))
                input = input.dropFirst(take)
                state = take == remaining ? .streamEnded : .streaming(remaining: remaining - take)
                return .appendStreamBytes(chunk)
            case .discardingLiteral(let remaining):
                let take = min(remaining, input.count)
                input = input.dropFirst(take)
                state = take == remaining ? .discardingLine : .discardingLiteral(remaining: remaining - take)
            case .literal(let remaining):
                let take = min(remaining, input.count)
                buffer.append(contentsOf: input.prefix(take))
                input = input.dropFirst(take)
                if take == remaining {
                    state = .line
                    lineStart = buffer.count
                } else {
                    state = .literal(remaining: remaining - take)
                }
            case .discardingLine:
                guard let newline = input.firstIndex(of: 10) else {
                    input = input[input.endIndex...]
                    return nil
                }
                input = input[(newline + 1)...]
                state = .line
            case .line:
                guard let newline = input.firstIndex(of: 10) else {
                    buffer.append(contentsOf: input)
                    input = input[input.endIndex...]
                    if buffer.count - lineStart > limits.lineLength {
                        return dropLine(discardRest: true)
                    }
                    return nil
                }
                buffer.append(contentsOf: input[input.startIndex..<newline])
                input = input[(newline + 1)...]
                if buffer.count - lineStart > limits.lineLength {
                    return dropLine(discardRest: false)
                }
                // The CR of CRLF, never the last byte of a literal that ended just before.
                if buffer.count > lineStart && buffer.last == 13 { buffer.removeLast() }
                if let event = lineEnded() { return event }
            }
        }
        return nil
    }

    /// The server takes the announced APPEND message as a stream.
    public mutating func acceptStream() {
        guard case .awaitingDecision(let size, _) = state else { return }
        state = size == 0 ? .streamEnded : .streaming(remaining: size)
    }

    /// The server refuses the announced APPEND message (and answers the command itself): a
    /// synchronising literal is never sent; a non-synchronising one is skipped with the rest
    /// of its line.
    public mutating func refuseStream() {
        guard case .awaitingDecision(let size, let synchronizing) = state else { return }
        buffer.removeAll(keepingCapacity: false)
        lineStart = 0
        state = synchronizing ? .line : .discardingLiteral(remaining: size)
    }

    /// Forgets everything buffered (after STARTTLS, RFC 3501 §6.2.1).
    public mutating func reset() {
        buffer.removeAll()
        lineStart = 0
        state = .line
    }

    private mutating func dropLine(discardRest: Bool) -> Event {
        let tag = Self.tag(of: buffer)
        buffer.removeAll(keepingCapacity: false)
        lineStart = 0
        state = discardRest ? .discardingLine : .line
        return .tooLong(tag: tag)
    }

    /// A line ended: either the command is complete, or it announced a literal.
    private mutating func lineEnded() -> Event? {
        guard let literal = Self.literalAnnouncement(buffer[lineStart...]) else {
            let command = buffer
            // `command` holds the old storage, so a kept capacity is a new allocation of that
            // size: after a long command (a literal, a big UID set) an idle connection would
            // keep it for good (issue 6). Small ones keep theirs.
            buffer.removeAll(keepingCapacity: buffer.capacity <= Self.keptCapacity)
            lineStart = 0
            return .command(command)
        }
        let isAppend = Self.isAppend(buffer)
        if !literal.synchronizing && !limits.literalPlus && literal.size > limits.nonSynchronizingLiteral {
            // RFC 7888 §5 (LITERAL-): the client broke the rule; its literal cannot be skipped safely.
            buffer.removeAll(keepingCapacity: false)
            lineStart = 0
            return .fatal("non-synchronizing literal of \(literal.size) bytes is over \(limits.nonSynchronizingLiteral) (LITERAL-)")
        }
        let limit = isAppend ? limits.appendLiteral : limits.argumentLiteral
        let total = buffer.count + (isAppend ? 0 : literal.size)
        if literal.size > limit || (!isAppend && total > limits.commandSize) {
            let tag = Self.tag(of: buffer)
            buffer.removeAll(keepingCapacity: false)
            lineStart = 0
            if literal.synchronizing {
                return .literalRefused(tag: tag, size: literal.size)
            }
            return .fatal("literal of \(literal.size) bytes is too large")
        }
        if isAppend && literal.size > limits.appendStreamThreshold {
            let prefix = Array(buffer[..<literal.start])
            buffer.removeSubrange(literal.start...)
            buffer.append(contentsOf: Array("{0}\r\n".utf8))
            state = .awaitingDecision(size: literal.size, synchronizing: literal.synchronizing)
            return .appendStreamStart(prefix: prefix, size: literal.size, synchronizing: literal.synchronizing)
        }
        // The CRLF after `{n}` stays in the command so the parser sees the literal's start.
        buffer.append(contentsOf: [13, 10])
        if literal.size == 0 {
            lineStart = buffer.count
            state = .line
        } else {
            state = .literal(remaining: literal.size)
        }
        return literal.synchronizing ? .continuationNeeded : nil
    }

    /// `{n}`, `{n+}`, `{n-}`… at the end of a line: size and whether the client waits for `+`.
    static func literalAnnouncement(_ line: ArraySlice<UInt8>) -> (size: Int, synchronizing: Bool, start: Int)? {
        guard line.last == UInt8(ascii: "}") else { return nil }
        var index = line.index(before: line.endIndex)
        var synchronizing = true
        if index > line.startIndex, line[line.index(before: index)] == UInt8(ascii: "+") {
            synchronizing = false
            index = line.index(before: index)
        }
        var digitsStart = index
        while digitsStart > line.startIndex, Parser.isDigit(line[line.index(before: digitsStart)]) {
            digitsStart = line.index(before: digitsStart)
        }
        guard digitsStart < index, digitsStart > line.startIndex,
              line[line.index(before: digitsStart)] == UInt8(ascii: "{"),
              index - digitsStart <= 12 else { return nil }
        var size = 0
        for digit in line[digitsStart..<index] { size = size * 10 + Int(digit - 48) }
        var start = line.index(before: digitsStart)
        if start > line.startIndex, line[line.index(before: start)] == UInt8(ascii: "~") { start = line.index(before: start) }
        return (size, synchronizing, start)
    }

    /// The tag of a (possibly partial) command, for an error reply.
    static func tag(of bytes: [UInt8]) -> [UInt8]? {
        let tag = bytes.prefix(while: { Parser.isTagChar($0) }).prefix(64)
        guard !tag.isEmpty, tag.count < bytes.count, bytes[tag.count] == 32 else { return nil }
        return Array(tag)
    }

    /// The tag of a command's start, for an error reply.
    public static func tagOf(_ bytes: [UInt8]) -> [UInt8]? { tag(of: bytes) }

    /// Whether the command is APPEND (whose literal is a message, not an argument).
    static func isAppend(_ bytes: [UInt8]) -> Bool {
        guard let space = bytes.prefix(200).firstIndex(of: 32) else { return false }
        let name = bytes[(space + 1)...].prefix(7)
        return name.count == 7 && Parser.lowercased(Array(name)) == Array("append ".utf8)
    }
}
