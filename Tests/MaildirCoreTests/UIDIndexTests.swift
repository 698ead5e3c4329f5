import Testing
@testable import MaildirCore

/// `UIDDatabase.parseIndexed` (the folder scan's parse, no String per line) keeps and drops
/// exactly the lines `parse` does.
@Suite struct UIDIndexTests {
    static let samples = [
        "1 795709052 4\n1 a,S=1\n2 b\n3 c\n",
        "1 795709052 4\n3 c\n1 a\n2 b\n1 again\n",             // out of order, a UID twice
        "1 795709052 2\n1 a\n2 a\n3 b\n",                      // a name twice; next UID raised
        "1 795709052 9\n1 a\r\n2 b\n\n3\n4 x/y\n5 x:2,S\n6 \t c\n7 d",  // CR, empty, bad, cut short
        "1 795709052 9\n1 na\u{EF}ve\n2 caf\u{E9}\n",        // non-ASCII names
        "2 795709052 9\n1 a\n",                                 // another version
        "1 0 9\n1 a\n",                                         // no UIDVALIDITY
        "",
        "1 795709052 4",
    ]

    @Test(arguments: samples)
    func indexAgreesWithParse(_ text: String) {
        let bytes = Array(text.utf8)
        var names: [String] = []
        let indexed = UIDDatabase.parseIndexed(bytes) { _, name in names.append(String(decoding: name, as: UTF8.self)) }
        switch (UIDDatabase.parse(bytes), indexed) {
        case (.valid(let db, let dropped), .valid(let index)):
            #expect(index.uidValidity == db.uidValidity && index.nextUID == db.nextUID)
            #expect(index.droppedLines == dropped)
            #expect(index.uids.sorted() == db.entries.map(\.uid))
            #expect(index.names.count == db.entries.count)
            for e in db.entries {
                let at = index.names.value(for: e.baseName).map { Int($0) }
                #expect(at.map { index.uids[$0] } == e.uid, "\(e.baseName)")
            }
            #expect(Set(names) == Set(db.entries.map(\.baseName)))
        case (.unusable(let a), .unusable(let b)):
            #expect(a == b)
        default:
            Issue.record("parse and parseIndexed disagree on \(text.debugDescription)")
        }
    }

    /// A name with invalid UTF-8 is keyed as a String read from cur/ holds it (repaired), so
    /// the scan still finds its UID.
    @Test func invalidUTF8NamesAreKeyedAsStrings() {
        var bytes = Array("1 795709052 3\n1 bad".utf8)
        bytes.append(0xFF)
        bytes.append(contentsOf: Array("name\n2 good\n".utf8))
        guard case .valid(let index) = UIDDatabase.parseIndexed(bytes) else {
            Issue.record("unusable")
            return
        }
        let repaired = String(decoding: Array("bad".utf8) + [0xFF] + Array("name".utf8), as: UTF8.self)
        #expect(index.names.value(for: repaired).map { index.uids[Int($0)] } == 1)
        #expect(index.names.value(for: "good").map { index.uids[Int($0)] } == 2)
    }

    /// `parse` is built on `parseIndexed`, so agreeing with it proves little: damaged files
    /// are recovered as the String-per-line parse before them did, spelled out here (kept
    /// lines, dropped count, next UID; unusable files with the UIDVALIDITY they had).
    @Test func damagedFilesRecoverAsBefore() {
        func valid(_ text: String) -> (entries: [String], dropped: Int, next: UInt32)? {
            guard case .valid(let db, let dropped) = UIDDatabase.parse(Array(text.utf8)) else { return nil }
            return (db.entries.map { "\($0.uid) \($0.baseName)" }, dropped, db.nextUID)
        }
        let cut = valid("1 795709052 9\n1 a\r\n2 b\n\n3\n4 x/y\n5 x:2,S\n6 \t c\n7 d")
        #expect(cut?.entries == ["1 a", "2 b", "6 c"] && cut?.dropped == 4 && cut?.next == 9)
        let disorder = valid("1 795709052 4\n3 c\n1 a\n2 b\n1 again\n")
        #expect(disorder?.entries == ["1 a", "2 b", "3 c"] && disorder?.dropped == 1 && disorder?.next == 4)
        let twice = valid("1 795709052 2\n1 a\n2 a\n3 b\n")
        #expect(twice?.entries == ["1 a", "3 b"] && twice?.dropped == 1 && twice?.next == 4)
        let headerOnly = valid("1 795709052 7\n")
        #expect(headerOnly?.entries == [] && headerOnly?.dropped == 0 && headerOnly?.next == 7)
        let unusable: [(String, UInt32?)] = [("", nil), ("1 795709052 4", nil), ("\n1 a\n", nil),
                                            ("2 795709052 9\n1 a\n", 795709052), ("1 0 9\n", 0),
                                            ("1 795709052\n1 a\n", 795709052), ("1 x 9\n", nil)]
        for (text, previous) in unusable {
            guard case .unusable(let p) = UIDDatabase.parse(Array(text.utf8)) else {
                Issue.record("usable: \(text.debugDescription)")
                continue
            }
            #expect(p == previous, "\(text.debugDescription)")
        }
    }
}
