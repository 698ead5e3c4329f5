/// Read buffers for the per-message tools. A `[UInt8](repeating: 0, count: 64 KiB)` costs a
/// memset of the whole buffer and a page fault for each of its 16 pages before the first
/// `read`, which for a small message is a measurable part of a tool's run; these buffers
/// are left as `malloc` returns them, and only bytes a `read` filled are ever looked at.
extension Array where Element == UInt8 {
    /// `count` bytes whose contents are unspecified until written (for `read`/`pread`).
    public static func readBuffer(count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }
}
