import Testing
@testable import MailCore

@Suite struct HeaderFieldRenamerTests {
    static let names = ["return-path", "received-spf", "authentication-results"]

    static func run(_ message: String, chunk: Int? = nil, names: [String] = names) -> String {
        var renamer = HeaderFieldRenamer(renaming: names)
        let bytes = Array(message.utf8)
        var out: [UInt8] = []
        let size = chunk ?? max(bytes.count, 1)
        var start = 0
        while start < bytes.count {
            let end = min(start + size, bytes.count)
            out += renamer.feed(Array(bytes[start..<end]))
            start = end
        }
        out += renamer.finish()
        return String(decoding: out, as: UTF8.self)
    }

    static let message = """
        Return-Path: <forged@example.net>
        received-spf: pass (forged)
        X-Return-Path: kept
        Return-Path-Like: kept
        Subject: a
         Return-Path: folded, kept
        Authentication-Results : mx.example.net; dkim=pass
        From: a@example.net

        Return-Path: in the body, kept
        Received-SPF: body

        """

    static let expected = """
        Old-Return-Path: <forged@example.net>
        Old-received-spf: pass (forged)
        X-Return-Path: kept
        Return-Path-Like: kept
        Subject: a
         Return-Path: folded, kept
        Old-Authentication-Results : mx.example.net; dkim=pass
        From: a@example.net

        Return-Path: in the body, kept
        Received-SPF: body

        """

    @Test func renamesOnlyHeaderFieldsByName() {
        #expect(Self.run(Self.message) == Self.expected)
    }

    @Test func anyChunkingGivesTheSameBytes() {
        for size in 1...40 {
            #expect(Self.run(Self.message, chunk: size) == Self.expected, "chunk \(size)")
        }
    }

    @Test func onlyTheChosenNames() {
        let out = Self.run("Return-Path: <a@b>\nReceived-SPF: x\n\nbody\n", names: ["return-path"])
        #expect(out == "Old-Return-Path: <a@b>\nReceived-SPF: x\n\nbody\n")
        #expect(Self.run("Return-Path: <a@b>\n\n", names: []) == "Return-Path: <a@b>\n\n")
    }

    @Test func messageWithoutBodyOrLineEnd() {
        #expect(Self.run("Return-Path") == "Return-Path")
        #expect(Self.run("Return-Path:x") == "Old-Return-Path:x")
        #expect(Self.run("Subject: s\nReturn-Path: <>", chunk: 3) == "Subject: s\nOld-Return-Path: <>")
        #expect(Self.run("") == "")
    }

    @Test func longLinesAndBinaryPassThrough() {
        let name = String(repeating: "x", count: 5000), tail = String(repeating: "\u{1}", count: 10)
        let long = name + ": y\nReturn-Path: z\n\n" + tail
        #expect(Self.run(long, chunk: 7) == name + ": y\nOld-Return-Path: z\n\n" + tail)
    }
}
