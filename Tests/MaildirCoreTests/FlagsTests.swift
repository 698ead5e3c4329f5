import Testing
@testable import MaildirCore

@Suite struct FlagsTests {
    @Test(arguments: [
        ("", ""), ("S", "S"), ("SF", "FS"), ("TSRFD", "DFRST"), ("SSS", "S"),
        ("Sa", "Sa"), ("aS", "Sa"), ("ZD", "DZ"), ("S1 ,", "S"),
    ])
    func lettersAreSortedAndUnique(input: String, written: String) {
        #expect(MessageFlags(input).description == written)
    }

    @Test func everyCombinationOfTheFiveRoundTrips() {
        let letters = Array("DFRST".utf8)
        for mask in 0..<32 {
            var flags = MessageFlags()
            for (i, l) in letters.enumerated() where mask & (1 << i) != 0 { flags = flags.inserting(l) }
            let name = MessageFileName("1.M1P1.h,S=3").withFlags(flags)
            #expect(name.flags == flags)
            #expect(MessageFileName(name.name).flags?.description == flags.description)
            let expected = letters.enumerated().filter { mask & (1 << $0.offset) != 0 }.map { $0.element }
            #expect(flags.letters == expected)
        }
    }

    @Test func namedFlags() {
        let f = MessageFlags("DFRST")
        #expect(f.isDraft && f.isFlagged && f.isReplied && f.isSeen && f.isTrashed)
        let g = f.removing(MessageFlags.trashed).setting(MessageFlags.seen, false)
        #expect(g.description == "DFR")
        #expect(g.infoSuffix == ":2,DFR")
    }

    @Test func unknownLettersArePreserved() {
        let f = MessageFileName("x:2,Sab").flags
        #expect(f?.description == "Sab")
        #expect(f?.inserting(MessageFlags.flagged).description == "FSab")
    }

    @Test func otherInfoVersionsHaveNoFlags() {
        #expect(MessageFileName("x:1,S").flags == nil)
        #expect(MessageFileName("x:1,S").info == "1,S")
    }
}
