#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MaildirCore
import Testing
@testable import Maildir

@Suite struct FactsIndexTests {
    @Test func openWritesTheIndexAndLaterOpensUseIt() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        try deliver("Subject: one\n\nbody\n", to: root)
        let store = MailStore(root: root)
        let first = try await store.open(.inbox)
        let m = try #require(await first.snapshot.messages.first)
        let index = try #require(readText(root + "/courierswiftindex"))
        #expect(index == "courierswiftindex 1\n\(m.size) \(m.internalDate) \(m.baseName)\n")
        // A later open takes the facts from the index (proved by a doctored entry).
        writeFile(root + "/courierswiftindex", "courierswiftindex 1\n777 5 \(m.baseName)\n")
        let second = try await store.open(.inbox)
        #expect(await second.snapshot.messages.first?.size == 777)
    }

    @Test(arguments: ["", "garbage", "courierswiftindex 2\n1 2 x\n", "courierswiftindex 1\n12",
                      "courierswiftindex 1\n-5 1 NAME\n", "courierswiftindex 1\n1 NAME\n",
                      "courierswiftindex 1\n99999999999999999999999 1 NAME\n"])
    func corruptIndexIsRebuilt(_ content: String) async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        let delivered = try deliver("Subject: one\n\nbody\n", to: root)
        writeFile(root + "/courierswiftindex", content.replacingOccurrences(of: "NAME", with: delivered.fileName.baseName))
        let box = try await MailStore(root: root).open(.inbox)
        let m = try #require(await box.snapshot.messages.first)
        #expect(m.size == Int64("Subject: one\r\n\r\nbody\r\n".utf8.count))
        #expect(readText(root + "/courierswiftindex")?.hasSuffix(" \(m.baseName)\n") == true)
    }

    @Test func parseSkipsBadLinesKeepsGoodOnes() {
        let parsed = FactsIndex.parse(Array("courierswiftindex 1\nbad line\n10 20 a b\n\n3 4 c\n5 6".utf8))
        #expect(parsed == ["a b": MessageFacts(size: 10, internalDate: 20), "c": MessageFacts(size: 3, internalDate: 4)])
    }
}
