import Testing
@testable import Maildir

/// `FactsTable`: lookups in file order walk the records; any other order falls back to the
/// table by name, with the later of two lines for one name counting.
@Suite struct FactsTableTests {
    static let file = "courierswiftindex 1\n10 1 a\n20 2 b\n30 3 c\n40 4 b\n50 5 d\n"

    @Test func inOrderAndOutOfOrderLookupsFindTheSameFacts() {
        var t = FactsIndex.parseTable(Array(Self.file.utf8))
        #expect(t.count == 5)
        #expect(t.facts(for: "a")?.size == 10)
        #expect(t.facts(for: "b")?.size == 20 || t.facts(for: "b")?.size == 40)
        var shuffled = FactsIndex.parseTable(Array(Self.file.utf8))
        #expect(shuffled.facts(for: "d")?.size == 50)
        #expect(shuffled.facts(for: "c")?.size == 30)
        #expect(shuffled.facts(for: "b")?.size == 40)   // through the table: the later line
        #expect(shuffled.facts(for: "a")?.size == 10)
        #expect(shuffled.facts(for: "zz") == nil)
        #expect(shuffled.facts(for: "") == nil)
        #expect(FactsIndex.parse(Array(Self.file.utf8))["b"]?.size == 40)
    }

    @Test func savedInTheGivenOrder() {
        let out = FactsIndex.format([(name: "y", facts: MessageFacts(size: 2, internalDate: 3)),
                                     (name: "x", facts: MessageFacts(size: 4, internalDate: 5))])
        #expect(String(decoding: out, as: UTF8.self) == "courierswiftindex 1\n2 3 y\n4 5 x\n")
    }
}
