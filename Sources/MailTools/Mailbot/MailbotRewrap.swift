/// Rewraps an over-long non-flowed line as Courier's text/plain parser does for broken
/// senders that put a paragraph on one line: words are collected up to 74 columns; once a
/// line overshoots that by 30 columns it is broken into soft-broken pieces (RFC 3676 §4.2),
/// an unbreakable word at the width. Break opportunities are after spaces (UAX #14 LB18,
/// simplified); widths are 2 for East Asian wide scalars, 0 for combining marks.
enum MailbotRewrap {
    static let targetWidth = 74
    static let threshold = 30

    static func run(_ line: [UInt32], writer w: inout MailbotQuoteWriter) {
        var current: [UInt32] = []
        var currentWidth = 0
        var word: [UInt32] = []
        var wordWidth = 0
        var forced = false
        var previous: UInt32?

        func emitPiece() {
            if current.isEmpty {
                // An unbreakable word: take all but its last grapheme.
                var n = word.count
                var i = n - 1
                while i > 0 {
                    if !isExtend(word[i]) { n = i; break }
                    i -= 1
                }
                if i == 0 { n = word.count }
                current = Array(word[..<n])
                word.removeFirst(n)
                wordWidth = word.reduce(0) { $0 + width($1) }
            }
            w.contents(current)
            w.softBreak()
            current.removeAll()
            currentWidth = 0
        }

        for ch in line {
            let opportunity = previous == 32 && ch != 32
            previous = ch
            let cw = width(ch)
            if !forced {
                if opportunity, currentWidth + wordWidth <= targetWidth {
                    current.append(contentsOf: word)
                    currentWidth += wordWidth
                    word.removeAll()
                    wordWidth = 0
                }
                word.append(ch)
                wordWidth += cw
                if currentWidth + wordWidth > targetWidth + threshold {
                    forced = true
                    emitPiece()
                }
            } else {
                if opportunity {
                    if currentWidth + wordWidth > targetWidth { emitPiece() }
                    current.append(contentsOf: word)
                    currentWidth += wordWidth
                    word.removeAll()
                    wordWidth = 0
                }
                if currentWidth == 0, wordWidth + cw > targetWidth { emitPiece() }
                word.append(ch)
                wordWidth += cw
            }
        }
        w.contents(current)
        w.contents(word)
    }

    /// Combining marks, joiners and variation selectors: no grapheme break before them.
    static func isExtend(_ c: UInt32) -> Bool {
        (0x300...0x36F).contains(c) || c == 0x200D || (0xFE00...0xFE0F).contains(c)
            || (0x1AB0...0x1AFF).contains(c) || (0x20D0...0x20FF).contains(c)
    }

    /// Display columns of a scalar (wcwidth, simplified).
    static func width(_ c: UInt32) -> Int {
        if isExtend(c) { return 0 }
        switch c {
        case 0x1100...0x115F, 0x2E80...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F,
             0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }
}
