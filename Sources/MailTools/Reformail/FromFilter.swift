import MailCore

/// Where the from filter is (Courier's `from_filter` function pointer).
enum FromFilterStage: Sendable, Equatable {
    /// `no_from_filter`: skip blank lines, then start the first header.
    case start
    /// `no_from_filter_header`: assemble one logical header.
    case header
    /// `read_blank`: return the blank line that ends the headers.
    case readBlank
    /// `NextLine`: body lines as they are.
    case bodyLines
    /// `add_from_filter` (`-f1`).
    case addStart
    /// `add_from_filter_header`: headers from the block read ahead.
    case addHeader
    /// `add_from_filter_body`: `>*From ` lines get one more `>`.
    case addBody
    /// `rem_from_filter` (`-f0`).
    case removeStart
    /// `rem_from_filter_header`: wraps ``wrappedStage`` until the blank line.
    case removeHeader
    /// `rem_from_filter_body`: one `>` less on `>+From ` lines.
    case removeBody
}

/// `From ` quoting applied to body lines.
enum BodyQuoting: Sendable, Equatable {
    case unchanged
    case add
    case remove

    /// The change to make at the start of a line: +1 adds a `>`, -1 removes the first byte.
    static func adjustment<C: Collection>(for line: C, quoting: BodyQuoting) -> Int where C.Element == UInt8 {
        switch quoting {
        case .unchanged:
            return 0
        case .add:
            return ReformailEngine.isFromLine(line.drop { $0 == UInt8(ascii: ">") }) ? 1 : 0
        case .remove:
            guard line.first == UInt8(ascii: ">") else { return 0 }
            return ReformailEngine.isFromLine(line.drop { $0 == UInt8(ascii: ">") }) ? -1 : 0
        }
    }
}

extension ReformailEngine {
    /// The next line from the from filter.
    func fromFilter() -> [UInt8]? {
        run(stage)
    }

    func run(_ which: FromFilterStage) -> [UInt8]? {
        switch which {
        case .start:
            guard let first = nextNonBlankLine() else { return nil }
            currentLine = first
            return assembleHeader()
        case .header:
            return assembleHeader()
        case .readBlank:
            stage = .bodyLines
            return [0x0A]
        case .bodyLines:
            return reader.nextLine()
        case .addStart:
            return addFromStart()
        case .addHeader:
            return nextHeaderFromBlock()
        case .addBody:
            guard var line = reader.nextLine() else { return nil }
            if BodyQuoting.adjustment(for: line, quoting: .add) > 0 { line.insert(UInt8(ascii: ">"), at: 0) }
            return line
        case .removeStart:
            return removeFromStart()
        case .removeHeader:
            return removeFromHeader()
        case .removeBody:
            guard var line = reader.nextLine() else { return nil }
            if BodyQuoting.adjustment(for: line, quoting: .remove) < 0 { line.removeFirst() }
            return line
        }
    }

    /// Skips empty lines; the first other line, or nil at the end of input.
    private func nextNonBlankLine() -> [UInt8]? {
        while let line = reader.nextLine() {
            if line.first != 0x0A { return line }
        }
        return nil
    }

    /// Returns `currentLine` with its continuation lines (lines starting with whitespace)
    /// and reads the line after them ahead.
    private func assembleHeader() -> [UInt8] {
        stage = .header
        var next = reader.nextLine()
        while let line = next, let b = line.first, b != 0x0A, CByteClass.isSpace(b) {
            currentLine.append(contentsOf: line)
            next = reader.nextLine()
        }
        let header = currentLine
        if let line = next, line.first != 0x0A {
            currentLine = line
        } else {
            stage = .readBlank
        }
        return header
    }

    // MARK: -f1

    /// `-f1` at the start: unless the message starts with `From `, read the whole header block
    /// and return a made-up `From <sender> <date>` line.
    private func addFromStart() -> [UInt8]? {
        guard var line = nextNonBlankLine() else { return nil }
        currentLine = line
        if ReformailEngine.isFromLine(line) { return assembleHeader() }
        fromHeaderBlock = []
        var next: [UInt8]? = line
        while let l = next, l.first != 0x0A {
            fromHeaderBlock.append(contentsOf: l)
            next = reader.nextLine()
        }
        line = Array("From ".utf8)
        line.append(contentsOf: FromLineSender.sender(headerBlock: fromHeaderBlock))
        line.append(0x20)
        line.append(contentsOf: fromLineDate())
        line.append(0x0A)
        stage = .addHeader
        fromHeaderPosition = 0
        return line
    }

    /// The next logical header of the block `-f1` read ahead, then the blank line.
    private func nextHeaderFromBlock() -> [UInt8] {
        let block = fromHeaderBlock
        var p = fromHeaderPosition
        if p >= block.count {
            stage = .addBody
            return [0x0A]
        }
        let start = p
        repeat {
            while p < block.count {
                p += 1
                if block[p - 1] == 0x0A { break }
            }
        } while p < block.count && block[p] != 0x0A && CByteClass.isSpace(block[p])
        fromHeaderPosition = p
        return Array(block[start..<p])
    }

    // MARK: -f0

    /// `-f0` at the start: a leading `From ` line becomes an implicit
    /// `-I 'Return-Path: <sender>'`.
    private func removeFromStart() -> [UInt8]? {
        guard let line = nextNonBlankLine() else { return nil }
        if !ReformailEngine.isFromLine(line) {
            currentLine = line
            return assembleHeader()
        }
        replace.append(Array("Return-Path: <".utf8) + FromLineSender.envelopeSender(fromLine: line) + [UInt8(ascii: ">")])
        guard let next = reader.nextLine() else { return nil }
        currentLine = next
        wrappedStage = .header
        return removeFromHeader()
    }

    private func removeFromHeader() -> [UInt8] {
        let line = run(wrappedStage)
        wrappedStage = stage
        stage = .removeHeader
        guard let line, line.first != 0x0A else {
            stage = .removeBody
            return [0x0A]
        }
        return line
    }
}
