import Testing
@testable import MaildirCore

@Suite struct KeywordsTests {
    @Test func parsesCouriersList() {
        let text = "MyKeyword\n$Junk\n\n1795709016.M245843P14698V000000000000FE00I0000000000F869DE.vm,S=168:1 0\nother:1\n"
        let list = KeywordList.parse(Array(text.utf8))
        #expect(list.messages["1795709016.M245843P14698V000000000000FE00I0000000000F869DE.vm,S=168"] == ["$Junk", "MyKeyword"])
        #expect(list.messages["other"] == ["$Junk"])
    }

    @Test func formatsSortedDictionaryAndMessages() {
        let list = KeywordList(messages: ["b": ["Zeta", "$Junk"], "a": ["zeta"], "c": []])
        let text = String(decoding: list.formatted(), as: UTF8.self)
        #expect(text == "$Junk\nzeta\n\na:1\nb:0 1\n")
        #expect(KeywordList.parse(list.formatted()).messages == ["a": ["zeta"], "b": ["$Junk", "zeta"]])
    }

    @Test func badIndexesAndLinesAreIgnored() {
        let list = KeywordList.parse(Array("k\n\nm:0 7 x 0\n:0\nnocolon 0\n".utf8))
        #expect(list.messages == ["m": ["k"]])
    }

    @Test(arguments: [("$Junk", true), ("Work-1", true), ("a b", false), ("(x", false), ("x)", false),
                      ("{", false), ("%", false), ("*", false), ("\"", false), ("\\Seen", false), ("]", false),
                      ("", false), ("tab\t", false)])
    func keywordCharacters(keyword: String, valid: Bool) {
        #expect(KeywordList.isValidKeyword(keyword) == valid)
    }

    @Test func caseInsensitiveDuplicatesCollapse() {
        #expect(KeywordList.normalized(["Work", "WORK", "home", "work"]) == ["home", "Work"])
    }

    @Test func versionedUpdateNames() {
        #expect(KeywordStore.parseVersioned(Array(".5985697.msg.host".utf8))! == (5985697, "msg.host"))
        #expect(KeywordStore.parseVersioned(Array(".tmp.123msg".utf8)) == nil)
        #expect(KeywordStore.parseVersioned(Array(".0.msg".utf8)) == nil)
        #expect(KeywordStore.parseVersioned(Array(".12.".utf8)) == nil)
    }

    @Test func updatesAreMergedIntoTheList() throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        let store = KeywordStore(folderPath: md)
        try store.update(baseName: "m1", keywords: ["MyKeyword", "$Junk"])
        try store.update(baseName: "m2", keywords: ["$Junk"])
        #expect(readText(store.directoryPath + "/m1") == "$Junk\nMyKeyword\n")
        let now: Int64 = 1_795_709_100
        let loaded = try store.load(now: now)
        #expect(loaded.messages == ["m1": ["$Junk", "MyKeyword"], "m2": ["$Junk"]])
        #expect(readText(store.listPath) == "$Junk\nMyKeyword\n\nm1:0 1\nm2:0\n")
        let slot = now / 300 + 1
        #expect(names(store.directoryPath) == [".\(slot).m1", ".\(slot).m2", ":list"])

        // A newer update wins; clearing all keywords removes the message from the list.
        try store.update(baseName: "m1", keywords: [])
        let again = try store.load(existing: ["m1"], now: now)
        #expect(again.messages == [:])
        #expect(readText(store.listPath) == "\n")
        #expect(names(store.directoryPath).filter { $0.hasSuffix("m1") } == [".\(slot).m1"])
    }

    @Test func forbiddenKeywordsAreNotStored() throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        let store = KeywordStore(folderPath: md)
        try store.update(baseName: "m", keywords: ["ok", "not ok", "(bad"])
        #expect(try store.load().messages == ["m": ["ok"]])
        #expect(throws: MaildirError.self) { try store.update(baseName: "../x", keywords: ["a"]) }
    }
}
