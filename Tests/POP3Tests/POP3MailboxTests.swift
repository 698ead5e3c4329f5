import Glibc
import Testing
@testable import POP3

private func names(_ dir: String) -> [String] {
    guard let d = opendir(dir) else { return [] }
    defer { closedir(d) }
    var out: [String] = []
    while let e = readdir(d) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name != "." && name != ".." { out.append(name) }
    }
    return out.sorted()
}

@Suite struct POP3MailboxTests {
    @Test func openMovesNewAssignsStableUIDsAndDeletes() throws {
        let dir = makeTestMaildir()
        writeTestFile(dir + "/new/1000.A.host", "Subject: one\n\nbody\n")
        writeTestFile(dir + "/cur/999.B.host:2,S", "Subject: two\n\nx")
        let mailbox = POP3Mailbox(path: dir)
        let first = try mailbox.open(now: 1_795_709_431)
        #expect(names(dir + "/new").isEmpty)
        #expect(first.map(\.path) == ["cur/999.B.host:2,S", "cur/1000.A.host:2,"])
        #expect(first.map(\.uidl) == ["UID1-1795709431", "UID2-1795709431"])
        #expect(first.map(\.size) == [Int64("Subject: two\n\nx".utf8.count + 2 + 2), 22])
        writeTestFile(dir + "/new/1001.C.host", "new\n")
        let second = try mailbox.open(now: 1_900_000_000)
        #expect(second.map(\.uidl) == ["UID1-1795709431", "UID2-1795709431", "UID3-1795709431"])
        #expect(mailbox.markSeen("cur/1000.A.host:2,") == "cur/1000.A.host:2,S")
        #expect(mailbox.markSeen("cur/999.B.host:2,S") == nil)
        #expect(mailbox.delete(["cur/999.B.host:2,S"]) == ["cur/999.B.host:2,S"])
        let third = try mailbox.open(now: 1_900_000_000)
        #expect(third.map(\.uidl) == ["UID2-1795709431", "UID3-1795709431"])
        #expect(third.map(\.path) == ["cur/1000.A.host:2,S", "cur/1001.C.host:2,"])
    }

    @Test func noCurIsAnError() {
        #expect(throws: POP3Mailbox.OpenError.noCurDirectory) { try POP3Mailbox(path: "/nonexistent/x").open(now: 0) }
    }
}
