/// Comparisons whose time does not depend on where two secrets differ.
public enum ConstantTime {
    /// True when `a` and `b` are equal. The running time depends only on the lengths
    /// (lengths of hashes are public: they follow from the format).
    public static func equal(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        var difference: UInt8 = a.count == b.count ? 0 : 1
        var left = a.makeIterator()
        var right = b.makeIterator()
        // Walk the longer one fully so that a short guess costs as much as a full one.
        for _ in 0..<max(a.count, b.count) {
            let x = left.next() ?? 0
            let y = right.next() ?? 0
            difference |= x ^ y
        }
        return difference == 0
    }

    public static func equal(_ a: String, _ b: String) -> Bool {
        equal(Array(a.utf8), Array(b.utf8))
    }
}
