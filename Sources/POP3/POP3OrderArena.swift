#if canImport(Glibc)
import Glibc
#endif

/// Courier's message order (``POP3SizeList/precedes(_:_:)``: the leading number, then the bytes
/// up to and including the first `:`) for many names at once. Every name's compared bytes go
/// into one byte array and its key is three integers, so sorting 10,000 names of `cur/` and
/// matching them against the size list compare raw bytes: no String is retained or copied per
/// comparison and no array is made per name (the login of a changed maildrop sorts them all).
struct POP3OrderArena {
    /// A name's place in the order: its leading number and where its compared bytes are.
    struct Key {
        var number: Int64
        var start: Int
        var count: Int
    }

    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    /// Adds `name` and returns its key.
    mutating func add(_ name: String) -> Key {
        let start = bytes.count
        for byte in name.utf8 {
            bytes.append(byte)
            if byte == UInt8(ascii: ":") { break }
        }
        return Key(number: POP3SizeList.leadingNumber(name), start: start, count: bytes.count - start)
    }

    /// Runs `body` with a comparison of two keys ("sorts before"), valid inside `body` only.
    func withOrder<R>(_ body: ((Key, Key) -> Bool) throws -> R) rethrows -> R {
        try bytes.withUnsafeBufferPointer { arena in
            try body { a, b in
                if a.number != b.number { return a.number < b.number }
                let common = min(a.count, b.count)
                if common > 0, let base = arena.baseAddress {
                    let order = memcmp(base + a.start, base + b.start, common)
                    if order != 0 { return order < 0 }
                }
                return a.count < b.count
            }
        }
    }

    /// The indices of `keys` in order; equal keys keep their relative order.
    func sortedIndices(_ keys: [Key]) -> [Int] {
        var order = Array(keys.indices)
        withOrder { less in
            if zip(order, order.dropFirst()).allSatisfy({ !less(keys[$1], keys[$0]) }) { return }
            order.sort { x, y in
                if less(keys[x], keys[y]) { return true }
                if less(keys[y], keys[x]) { return false }
                return x < y
            }
        }
        return order
    }
}
