import Testing
@testable import MaildirCore

@Suite struct ByteKeyTableTests {
    @Test func agreesWithADictionaryOverManyNames() {
        var table = ByteKeyTable(capacity: 4)   // grows many times
        var reference: [String: Int32] = [:]
        var names: [String] = []
        for i in 0..<20_000 {
            // Lengths 0…70 (every tail length of the word loop), some names equal.
            let name = i % 97 == 0 ? "dup\(i % 5)" : "\(1_700_000_000 + i).M\(i * 7919)P\(i % 3000).host" + String(repeating: "x", count: i % 9)
            names.append(name)
            let before = table.insert(name, value: Int32(i))
            #expect(before == reference[name])
            if reference[name] == nil { reference[name] = Int32(i) }
        }
        #expect(table.count == reference.count)
        for name in names { #expect(table.value(for: name) == reference[name]) }
        for missing in ["", "dup5", "1700000000.M0P0.hos", "1700000000.M0P0.hostx"] {
            #expect(table.value(for: missing) == reference[missing])
        }
        #expect(Dictionary(uniqueKeysWithValues: table.pairs.map { ($0.key, $0.value) }) == reference)
    }

    @Test func emptyKeysBytesAndReplacement() {
        var table = ByteKeyTable()
        #expect(table.value(for: "") == nil)
        #expect(table.insert("", value: 1) == nil)
        #expect(table.insert("", value: 2) == 1)
        #expect(table.value(for: "") == 1)
        let bytes: [UInt8] = [0xFF, 0, 0x2F, 0x80]   // not UTF-8: still a key
        bytes.withUnsafeBufferPointer { b in
            #expect(table.insert(b, value: 7) == nil)
            #expect(table.value(for: b) == 7)
            table.replaceValue(for: b, with: 9)
            #expect(table.value(for: b) == 9)
            #expect(table.value(for: UnsafeBufferPointer(rebasing: b[..<3])) == nil)
        }
        #expect(table.count == 2)
    }
}
