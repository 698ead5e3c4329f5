#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The binary form of `courierswiftsnapshot` (version 2): a folder's message list laid out so
/// that a warm open is one `read(2)` and one pass over fixed-size records, with no text to
/// scan and no number to parse. All integers are little-endian.
///
///     header (88 bytes)
///        0  "CSWSNAP2"
///        8  u32 UIDVALIDITY          12  u32 UIDNEXT
///       16  i64 cur/ mtime (ns)      24  i64 new/ mtime (ns)
///       32  i64 courierimapkeywords/ mtime (ns)
///       40  i64 courierimapuiddb mtime (ns)   48  u64 its inode
///       56  u32 message count        60  u32 keyword count
///       64  u32 keyword-set words    68  u32 keyword bytes
///       72  u32 name bytes           76  u32 zero
///       80  u64 checksum of the first 80 bytes and everything after the header
///     records, 32 bytes each, in UID order
///        0  u32 UID                   4  u32 keyword set (word index, or 0xFFFFFFFF: none)
///        8  u16 file name length     10  u8 system flags (`SystemFlags.rawValue`)
///       11  u8 zero                  12  u32 zero
///       16  i64 RFC822.SIZE          24  i64 internal date (seconds)
///     keyword sets: u32 words; a set is its length followed by that many keyword numbers
///     keywords: u16 length + UTF-8 bytes each
///     file names: the records' names, one after the other
///
/// Reading checks every length, offset, UID order and the checksum: a damaged file is
/// refused (nil), never trusted in part.
enum SnapshotCoding {
    static let magic: [UInt8] = Array("CSWSNAP2".utf8)
    static let headerSize = 88
    static let recordSize = 32
    static let noKeywords = UInt32.max
    /// More keywords than this on one message means a damaged file (Courier has no such limit,
    /// but no real folder comes near it; the writer then writes no snapshot at all).
    static let maximumKeywordsPerMessage = 10_000

    // MARK: writing

    /// The file's bytes; nil when the snapshot cannot be represented (a file name longer than
    /// 65,535 bytes or with a NUL or `/`, a keyword longer than 65,535 bytes), in which case no
    /// snapshot is kept and every open scans.
    static func encode(_ snapshot: MailboxSnapshot, stamps: DirectoryStamps) -> [UInt8]? {
        let messages = snapshot.messages
        // First pass: the keyword sets (few) and the names' total length.
        var keywordNumbers: [String: UInt32] = [:]
        var keywordBytes: [UInt8] = []
        var sets: [UInt32] = []
        var setIndex: [[String]: UInt32] = [:]
        var setOf: [UInt32] = []
        var nameBytes = 0
        for (i, m) in messages.enumerated() {
            let length = m.fileName.utf8.count
            guard length > 0, length <= Int(UInt16.max) else { return nil }
            nameBytes += length
            guard !m.keywords.isEmpty else { continue }
            guard m.keywords.count <= maximumKeywordsPerMessage else { return nil }
            let set: UInt32
            if let known = setIndex[m.keywords] {
                set = known
            } else {
                set = UInt32(sets.count)
                sets.append(UInt32(m.keywords.count))
                for k in m.keywords {
                    if let n = keywordNumbers[k] {
                        sets.append(n)
                        continue
                    }
                    let bytes = Array(k.utf8)
                    guard bytes.count <= Int(UInt16.max) else { return nil }
                    let n = UInt32(keywordNumbers.count)
                    keywordNumbers[k] = n
                    appendLE(&keywordBytes, UInt16(bytes.count))
                    keywordBytes += bytes
                    sets.append(n)
                }
                setIndex[m.keywords] = set
            }
            if setOf.isEmpty { setOf = [UInt32](repeating: noKeywords, count: messages.count) }
            setOf[i] = set
        }
        guard nameBytes <= Int(UInt32.max), keywordBytes.count <= Int(UInt32.max),
              sets.count <= Int(UInt32.max), messages.count <= Int(UInt32.max) else { return nil }

        // Second pass: every byte stored in place in one buffer of the final size.
        let setsStart = headerSize + messages.count * recordSize
        let keywordsStart = setsStart + sets.count * 4
        let namesStart = keywordsStart + keywordBytes.count
        let total = namesStart + nameBytes
        var representable = true
        let out = [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            let p = UnsafeMutableRawBufferPointer(buffer)
            func put<T: FixedWidthInteger>(_ value: T, _ at: Int) { p.storeBytes(of: value.littleEndian, toByteOffset: at, as: T.self) }
            var r = headerSize
            var nameAt = namesStart
            for (i, m) in messages.enumerated() {
                var name = m.fileName
                let length = name.withUTF8 { utf8 -> Int in
                    guard nameAt + utf8.count <= total, let source = utf8.baseAddress else { return 0 }
                    (p.baseAddress! + nameAt).copyMemory(from: source, byteCount: utf8.count)
                    return memchr(source, 0, utf8.count) == nil && memchr(source, 0x2F, utf8.count) == nil ? utf8.count : 0
                }
                guard length > 0 else {
                    representable = false
                    break
                }
                put(m.uid, r)
                put(setOf.isEmpty ? noKeywords : setOf[i], r + 4)
                put(UInt16(length), r + 8)
                p[r + 10] = m.flags.rawValue
                p[r + 11] = 0
                put(UInt32(0), r + 12)
                put(UInt64(bitPattern: m.size), r + 16)
                put(UInt64(bitPattern: m.internalDate), r + 24)
                r += recordSize
                nameAt += length
            }
            if representable {
                for (i, w) in sets.enumerated() { put(w, setsStart + i * 4) }
                if !keywordBytes.isEmpty {
                    keywordBytes.withUnsafeBytes { (p.baseAddress! + keywordsStart).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                }
                for (i, b) in magic.enumerated() { p[i] = b }
                put(snapshot.uidValidity, 8)
                put(snapshot.uidNext, 12)
                put(UInt64(bitPattern: stamps.cur), 16)
                put(UInt64(bitPattern: stamps.new), 24)
                put(UInt64(bitPattern: stamps.keywords), 32)
                put(UInt64(bitPattern: stamps.database), 40)
                put(stamps.databaseInode, 48)
                put(UInt32(messages.count), 56)
                put(UInt32(keywordNumbers.count), 60)
                put(UInt32(sets.count), 64)
                put(UInt32(keywordBytes.count), 68)
                put(UInt32(nameBytes), 72)
                put(UInt32(0), 76)
                let raw = UnsafeRawBufferPointer(p)
                let seed = checksum(UnsafeRawBufferPointer(rebasing: raw[..<80]))
                put(checksum(UnsafeRawBufferPointer(rebasing: raw[headerSize..<total]), seed: seed), 80)
                initialized = total
            } else {
                initialized = 0
            }
        }
        return representable ? out : nil
    }

    static func appendLE<T: FixedWidthInteger>(_ out: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    /// A 64-bit hash over 8-byte words (FNV-1a style multiply-xor, then the tail bytes): cheap
    /// enough for a warm open, strong enough to catch a torn or scribbled file.
    static func checksum(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        // Four independent lanes of 8 bytes each, so the multiplications overlap instead of
        // waiting on each other: 10 MB (a 100,000-message snapshot, read on every warm open)
        // in about 0.7 ms instead of 2.1. Each lane's step is a bijection of its state for a
        // given word, and the lanes are combined with odd multipliers, so any one changed
        // byte changes the result. Only lane `a` starts from the seed (the header's checksum):
        // the result is then a bijection of the seed too, so a changed header byte is always
        // caught; a seed in every lane made `a ^ 3b ^ 5c ^ 7d` many-to-one (seeds 0x…04 and
        // 0x…0a gave one checksum for a short body).
        let prime: UInt64 = 0x100_0000_01b3
        var a = seed, b: UInt64 = 0x9E37_79B9_7F4A_7C15, c: UInt64 = 0xBF58_476D_1CE4_E5B9, d: UInt64 = 0x94D0_49BB_1331_11EB
        let n = bytes.count
        var i = 0
        while i + 32 <= n {
            a = (a ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))) &* prime
            b = (b ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))) &* prime
            c = (c ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self))) &* prime
            d = (d ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))) &* prime
            a ^= a >> 29
            b ^= b >> 29
            c ^= c >> 29
            d ^= d >> 29
            i += 32
        }
        var h = a ^ (b &* 3) ^ (c &* 5) ^ (d &* 7)
        while i < n {
            h = (h ^ UInt64(bytes[i])) &* prime
            h ^= h >> 29
            i += 1
        }
        return h ^ UInt64(n)
    }

    // MARK: reading

    /// The snapshot in `bytes` when its stamps equal `stamps` and the whole file checks out.
    static func decode(_ bytes: UnsafeRawBufferPointer, matching stamps: DirectoryStamps) -> MailboxSnapshot? {
        var messages: [MessageInfo] = []
        guard let (validity, next) = decodeEach(bytes, matching: stamps, reserve: { messages.reserveCapacity($0) },
                                                { messages.append($0); return true }) else { return nil }
        return MailboxSnapshot(uidValidity: validity, uidNext: next, messages: messages)
    }

    /// The `DirectoryStamps` stored at `offset` (40 bytes: the mtimes of cur/, new/,
    /// courierimapkeywords/ and courierimapuiddb, then its inode), as this file and
    /// `courierswiftsnapmodseq` both lay them out; the caller checked the length.
    static func stamps(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> DirectoryStamps {
        func i64(_ at: Int) -> Int64 { Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + at, as: Int64.self)) }
        return DirectoryStamps(cur: i64(0), new: i64(8), keywords: i64(16), database: i64(24),
                               databaseInode: UInt64(bitPattern: i64(32)))
    }

    /// UIDVALIDITY and the message count of a file, unchecked (the checks come with `decodeEach`).
    static func peek(_ bytes: UnsafeRawBufferPointer) -> (uidValidity: UInt32, count: Int)? {
        guard bytes.count >= headerSize, bytes.prefix(magic.count).elementsEqual(magic) else { return nil }
        return (UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self)),
                Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 56, as: UInt32.self))))
    }

    /// `decode` one message at a time, for a caller that builds its own list (no array of
    /// `MessageInfo` in between): `reserve` gets the count, then `each` every message in UID
    /// order, after the whole file's checksum was verified; `each` returning false, or a record
    /// that does not check out, stops it (nil: whatever the caller built is to be dropped).
    /// Returns UIDVALIDITY and UIDNEXT.
    static func decodeEach(_ bytes: UnsafeRawBufferPointer, matching stamps: DirectoryStamps, reserve: (Int) -> Void,
                           _ each: (MessageInfo) -> Bool) -> (uidValidity: UInt32, uidNext: UInt32)? {
        guard bytes.count >= headerSize, bytes.prefix(magic.count).elementsEqual(magic) else { return nil }
        func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        guard Self.stamps(bytes, at: 16) == stamps else { return nil }
        let validity = u32(8), next = u32(12)
        let count = Int(u32(56)), keywordCount = Int(u32(60)), setWords = Int(u32(64))
        let keywordLength = Int(u32(68)), nameLength = Int(u32(72))
        // Each keyword takes at least 3 bytes (length and one byte): the count is checked
        // against them before anything is reserved for it.
        guard keywordCount <= keywordLength / 3 else { return nil }
        // Each is below 2^32, so the sum cannot overflow an Int.
        let setsStart = headerSize + count * recordSize
        let keywordsStart = setsStart + setWords * 4
        let namesStart = keywordsStart + keywordLength
        guard u32(76) == 0, namesStart + nameLength == bytes.count,
              checksum(UnsafeRawBufferPointer(rebasing: bytes[headerSize...]),
                       seed: checksum(UnsafeRawBufferPointer(rebasing: bytes[..<80]))) == u64(80) else { return nil }

        // The keyword strings.
        var keywords: [String] = []
        keywords.reserveCapacity(keywordCount)
        var k = keywordsStart
        for _ in 0..<keywordCount {
            guard k + 2 <= namesStart else { return nil }
            let length = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: k, as: UInt16.self)))
            guard length > 0, k + 2 + length <= namesStart else { return nil }
            keywords.append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(k + 2)..<(k + 2 + length)]), as: UTF8.self))
            k += 2 + length
        }
        guard k == namesStart else { return nil }
        // A message's keyword list, decoded once per distinct set. The writer lays the sets
        // end to end, so the distinct sets read cannot take more words than there are (sets
        // overlapping in a crafted file would multiply the lists built: refused).
        var decodedSets: [UInt32: [String]] = [:]
        var decodedWords = 0
        func keywordSet(_ word: UInt32) -> [String]? {
            if let known = decodedSets[word] { return known }
            let w = Int(word)
            guard w < setWords else { return nil }
            let n = Int(u32(setsStart + w * 4))
            guard n > 0, n <= maximumKeywordsPerMessage, w + 1 + n <= setWords else { return nil }
            decodedWords += 1 + n
            guard decodedWords <= setWords else { return nil }
            var list: [String] = []
            list.reserveCapacity(n)
            for i in 0..<n {
                let number = Int(u32(setsStart + (w + 1 + i) * 4))
                guard number < keywords.count else { return nil }
                list.append(keywords[number])
            }
            decodedSets[word] = list
            return list
        }

        // No name may hold a NUL or a slash (a name is a path component under cur/).
        let names = UnsafeRawBufferPointer(rebasing: bytes[namesStart...])
        if nameLength > 0, let base = names.baseAddress,
           memchr(base, 0, nameLength) != nil || memchr(base, 0x2F, nameLength) != nil { return nil }

        reserve(count)
        var previousUID: UInt32 = 0
        var nameOffset = 0
        var r = headerSize
        for _ in 0..<count {
            let uid = u32(r), set = u32(r + 4)
            let length = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: r + 8, as: UInt16.self)))
            let flags = bytes[r + 10]
            let size = Int64(bitPattern: u64(r + 16)), date = Int64(bitPattern: u64(r + 24))
            guard uid > previousUID, uid < next, length > 0, nameOffset + length <= nameLength, flags < 32,
                  bytes[r + 11] == 0, u32(r + 12) == 0, size >= 0 else { return nil }
            var list: [String] = []
            if set != noKeywords {
                guard let found = keywordSet(set) else { return nil }
                list = found
            }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: names[nameOffset..<(nameOffset + length)]), as: UTF8.self)
            guard each(MessageInfo(uid: uid, fileName: name, flags: SystemFlags(rawValue: flags), keywords: list,
                                   size: size, internalDate: date, isRecent: false)) else { return nil }
            nameOffset += length
            previousUID = uid
            r += recordSize
        }
        guard nameOffset == nameLength else { return nil }
        return (validity, next)
    }
}
