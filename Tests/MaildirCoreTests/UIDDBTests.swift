#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MaildirCore

@Suite struct UIDDBTests {
    let sample = """
        1 795709052 4
        1 1795709016.M245843P14698V000000000000FE00I0000000000F869DE.vm,S=168
        3 1795709016.M253509P14705V000000000000FE00I0000000000F86A80.vm,S=168

        """

    @Test func parsesAndFormatsCouriersFile() {
        guard case .valid(let db, let dropped) = UIDDatabase.parse(Array(sample.utf8)) else {
            Issue.record("not valid")
            return
        }
        #expect(dropped == 0)
        #expect(db.uidValidity == 795709052)
        #expect(db.nextUID == 4)
        #expect(db.entries.map(\.uid) == [1, 3])
        #expect(String(decoding: db.formatted(), as: UTF8.self) == sample)
    }

    @Test(arguments: ["", "2 795709052 4\n", "1 abc 4\n", "garbage\n", "1 795709052\n", "1 0 4\n", "1 795709052 4"])
    func unusableHeaders(text: String) {
        guard case .unusable = UIDDatabase.parse(Array(text.utf8)) else {
            Issue.record("accepted \(text)")
            return
        }
    }

    @Test func damageNeverLowersTheNextUID() {
        let text = "1 700 3\n1 a\n9 b\nx c\n0 d\n5 e/f\n1 dup-uid\n2 a\n7 trunc"
        guard case .valid(let db, let dropped) = UIDDatabase.parse(Array(text.utf8)) else {
            Issue.record("not valid")
            return
        }
        #expect(db.entries == [.init(uid: 1, baseName: "a"), .init(uid: 9, baseName: "b")])
        #expect(db.nextUID == 10)
        #expect(dropped == 6)
    }

    /// Lines out of UID order are accepted and sorted; a UID or a name seen before is dropped
    /// wherever it comes (the in-order fast path must not miss a duplicate).
    @Test func outOfOrderLinesAreSortedAndDuplicatesDropped() {
        let text = "1 700 9\n5 e\n2 b\n7 g\n2 c\n3 e\n8 h\n7 i\n"
        guard case .valid(let db, let dropped) = UIDDatabase.parse(Array(text.utf8)) else {
            Issue.record("not valid")
            return
        }
        #expect(db.entries.map(\.uid) == [2, 5, 7, 8])
        #expect(db.entries.map(\.baseName) == ["b", "e", "g", "h"])
        #expect(dropped == 3)
        #expect(db.nextUID == 9)
    }

    @Test func newUIDValidityDiffersFromThePreviousOne() {
        #expect(UIDDatabase.newUIDValidity(time: 1_795_709_052) == 795_709_052)
        #expect(UIDDatabase.newUIDValidity(time: 1_795_709_052, previous: 795_709_052) == 795_709_053)
        #expect(UIDDatabase.newUIDValidity(time: 1_795_709_052, previous: 900_000_000) == 900_000_001)
    }

    @Test func scanAssignsUIDsInArrivalOrderAndKeepsThem() throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        let one = try deliver("Subject: 1\n\n1\n", to: md)
        let two = try deliver("Subject: 2\n\n2\n", to: md)
        // Courier's order: delivery second, then the name's bytes. Two deliveries in one second
        // whose microseconds differ in length (M99376 / M100614) sort the other way round.
        let (first, second) = FolderScanner.fileNameOrder(one.fileName.name, two.fileName.name) ? (one, two) : (two, one)
        let scanner = FolderScanner(folderPath: md)
        let s1 = try scanner.scan()
        #expect(s1.messages.map(\.uid) == [1, 2])
        #expect(s1.messages.map(\.fileName.baseName) == [first.fileName.name, second.fileName.name])
        #expect(s1.messages.allSatisfy { $0.isRecent })
        #expect(s1.nextUID == 3)
        #expect(names(md + "/new") == [])
        #expect(names(md + "/cur") == [first.fileName.name + ":2,", second.fileName.name + ":2,"].sorted())
        let text = readText(md + "/courierimapuiddb") ?? ""
        #expect(text == "1 \(s1.uidValidity) 3\n1 \(first.fileName.name)\n2 \(second.fileName.name)\n")

        // Flags change the name, not the UID; an expunged UID is never given again.
        try Maildir(path: md).setFlags(folder: nil, fileName: MessageFileName(first.fileName.name + ":2,"), flags: MessageFlags("S"))
        try Maildir(path: md).expunge(folder: nil, fileName: MessageFileName(second.fileName.name + ":2,"))
        let third = try deliver("Subject: 3\n\n3\n", to: md)
        let s2 = try scanner.scan()
        #expect(s2.uidValidity == s1.uidValidity)
        #expect(s2.messages.map(\.uid) == [1, 3])
        #expect(s2.messages.map(\.isRecent) == [false, true])
        #expect(s2.messages[0].fileName.name == first.fileName.name + ":2,S")
        #expect(s2.messages[1].fileName.baseName == third.fileName.name)
        #expect(s2.nextUID == 4)
    }

    @Test func scanGivesNewFilesCouriersNamesInCur() throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        // maildir_getnew: `:2,…` is kept, any other info part (or none) becomes `:2,`.
        for name in ["1795700001.M1P1.host", "1795700002.M2P1.host:2,F", "1795700003.M3P1.host:1,x"] {
            writeFile(md + "/new/" + name, "Subject: x\n\nx\n")
        }
        let s = try FolderScanner(folderPath: md).scan()
        #expect(s.messages.count == 3)
        #expect(names(md + "/new") == [])
        #expect(names(md + "/cur") == ["1795700001.M1P1.host:2,", "1795700002.M2P1.host:2,F", "1795700003.M3P1.host:2,"])
    }

    @Test func readOnlyScanLeavesEverythingAlone() throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        try deliver("Subject: 1\n\n1\n", to: md)
        let s = try FolderScanner(folderPath: md).scan(readOnly: true)
        #expect(s.leftInNew == 1)
        #expect(s.nextUID == 2)
        #expect(!SystemCall.exists(md + "/courierimapuiddb"))
        #expect(names(md + "/new").count == 1)
    }

    @Test func corruptDatabaseGetsANewUIDValidity() throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        try deliver("Subject: 1\n\n1\n", to: md)
        let s1 = try FolderScanner(folderPath: md).scan()
        writeFile(md + "/courierimapuiddb", "1 \(s1.uidValidity) x\n")
        let s2 = try FolderScanner(folderPath: md).scan()
        #expect(s2.uidValidity > s1.uidValidity)
        #expect(s2.messages.map(\.uid) == [1])
    }

    @Test func truncatedDatabaseKeepsUIDsUnique() throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        for i in 0..<3 { try deliver("Subject: \(i)\n\n\(i)\n", to: md) }
        let s1 = try FolderScanner(folderPath: md).scan()
        let full = readText(md + "/courierimapuiddb") ?? ""
        // Cut the file in the middle of the last line.
        writeFile(md + "/courierimapuiddb", String(full.dropLast(10)))
        let s2 = try FolderScanner(folderPath: md).scan()
        #expect(s2.uidValidity == s1.uidValidity)
        #expect(s2.messages.map(\.uid) == [1, 2, 4])
        #expect(Set(s2.messages.map(\.uid)).count == 3)
    }

    @Test func appendedMessagesGetTheirUIDsUnderTheLock() throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        try deliver("Subject: 1\n\n1\n", to: md)
        let a = try PendingMessage(folderPath: md)
        try a.write(Array("Subject: appended\n\nx\n".utf8))
        let s = try FolderScanner(folderPath: md).scan(adding: [(a, MessageFlags("S"))])
        #expect(s.addedUIDs == [1])
        #expect(s.messages.map(\.uid) == [1, 2])
        #expect(s.messages[0].fileName.flags == MessageFlags("S"))
        #expect(!SystemCall.exists(md + "/tmp/courier.lock"))
    }

    @Test func staleLockOfADeadProcessIsBroken() throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        // A pid that cannot exist on this host.
        writeFile(md + "/tmp/courier.lock", "2147483646:\(SystemCall.hostName())")
        _ = try FolderScanner(folderPath: md).scan()
        #expect(!SystemCall.exists(md + "/tmp/courier.lock"))
    }
}
