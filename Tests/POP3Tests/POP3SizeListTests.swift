import Testing
@testable import POP3

@Suite struct POP3SizeListTests {
    let observed = """
        /3 4 1795709431
        1795709277.M843640P26006V000000000000FE00I0000000000F86323.vm,S=20:2,S 23 1:1795709431:0
        1795709442.M230684P31311V000000000000FE00I0000000000F8630B.vm,S=20:2, 23 2:1795709431:0

        """

    @Test func parsesCouriersFile() throws {
        let list = try #require(POP3SizeList.parse(Array(observed.utf8)))
        #expect(list.nextUID == 4 && list.uidValidity == 1795709431)
        #expect(list.entries.map(\.uidl) == ["UID1-1795709431", "UID2-1795709431"])
        #expect(list.entries.map(\.size) == [23, 23])
        #expect(String(decoding: list.serialized(), as: UTF8.self) == observed)
    }

    @Test func olderForms() throws {
        let v2 = try #require(POP3SizeList.parse(Array("/2 3 0\nname:2, 10 7:0\nold:2, 5 0:0\n".utf8)))
        #expect(v2.version == 2)
        #expect(v2.entries.map(\.uidl) == ["UID7", "old"])
        #expect(POP3SizeList.parse(Array("/1 3 5\n".utf8)) == nil)
        #expect(POP3SizeList.parse(Array("garbage".utf8)) == nil)
        #expect(POP3SizeList.legacyUIDL(fileName: "a+b'c\"d e:2,S") == "a+2Bb+27c+22d+20e")
    }

    @Test func courierOrder() {
        #expect(POP3SizeList.precedes("99.x:2,", "100.a:2,"))
        #expect(POP3SizeList.precedes("100.a:2,S", "100.b:2,"))
        #expect(!POP3SizeList.precedes("100.a:2,S", "100.a:2,"))
        #expect(!POP3SizeList.precedes("100.a:2,", "100.a:2,S"))
    }
}
