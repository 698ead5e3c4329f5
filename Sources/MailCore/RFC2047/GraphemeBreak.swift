/// A small approximation of Unicode extended grapheme cluster boundaries (UAX #29),
/// enough to keep combining marks, joiners, variation selectors, emoji modifiers and
/// CR LF with their base character when long encoded text is split into words.
enum GraphemeBreak {
    static func isExtend(_ c: UInt32) -> Bool {
        switch c {
        case 0x0300...0x036F, 0x0483...0x0489, 0x0591...0x05BD, 0x0610...0x061A, 0x064B...0x065F,
             0x0670, 0x06D6...0x06DC, 0x06DF...0x06E4, 0x0900...0x0903, 0x093A...0x094F,
             0x0951...0x0957, 0x0962...0x0963, 0x0E31, 0x0E34...0x0E3A, 0x0E47...0x0E4E,
             0x1AB0...0x1AFF, 0x1DC0...0x1DFF, 0x200C, 0x200D, 0x20D0...0x20FF,
             0x302A...0x302F, 0x3099...0x309A, 0xFE00...0xFE0F, 0xFE20...0xFE2F,
             0x1F3FB...0x1F3FF, 0xE0020...0xE007F, 0xE0100...0xE01EF:
            return true
        default:
            return false
        }
    }

    /// Whether a cluster boundary lies between `a` and `b`.
    static func isBreak(_ a: UInt32, _ b: UInt32) -> Bool {
        if a == 0x0D && b == 0x0A { return false }
        if a == 0x0D || a == 0x0A || b == 0x0D || b == 0x0A { return true }
        if isExtend(b) { return false }
        if a == 0x200D && b >= 0x1F000 { return false }
        // Hangul syllable sequences (L, V, T jamo).
        if (0x1100...0x115F).contains(a) && ((0x1100...0x11FF).contains(b) || (0xAC00...0xD7A3).contains(b)) { return false }
        return true
    }
}
