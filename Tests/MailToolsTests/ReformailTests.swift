#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MailTools
@testable import MailCore

/// One reformail run recorded from Debian's /usr/bin/reformail (maildrop 2.9.3).
struct ReformailCase: Sendable, CustomTestStringConvertible {
    let arguments: [String]
    let input: String
    let output: String
    let status: Int32
    let error: String

    init(_ arguments: [String], _ input: String, _ output: String, status: Int32, error: String) {
        self.arguments = arguments
        self.input = input
        self.output = output
        self.status = status
        self.error = error
    }

    var testDescription: String { "reformail \(arguments.joined(separator: " "))" }
}

/// A scratch file holding `bytes`, opened for reading; removed on deinit.
final class ScratchFile {
    let path: String
    let fd: Int32

    init(_ bytes: [UInt8] = []) {
        var template = Array("/tmp/reformail-test-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { break }
            offset += n
        }
        lseek(fd, 0, SEEK_SET)
        self.fd = fd
    }

    var contents: [UInt8] {
        lseek(fd, 0, SEEK_SET)
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    deinit {
        close(fd)
        unlink(path)
    }
}

/// Runs reformail in-process on `input`; returns stdout and the exit status.
func runReformail(_ arguments: [String], _ input: [UInt8]) -> (output: [UInt8], status: Int32) {
    let inFile = ScratchFile(input)
    let outFile = ScratchFile()
    let status = Reformail.run(arguments: [Array("reformail".utf8)] + arguments.map { Array($0.utf8) },
                               input: inFile.fd, output: outFile.fd)
    return (outFile.contents, status)
}

@Suite struct ReformailOracleTests {
    static let cases: [ReformailCase] = [
        ReformailCase([], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", status: 0, error: ""),
        ReformailCase(["-c"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", status: 0, error: ""),
        ReformailCase(["-d1"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "Return-Path: <joe@example.com>\r\nFrom: Joe <joe@example.com>\r\nSubject: Hello\n  world\r\nsubject: second\r\nX-Test: 1\r\n\r\nbody\r\n>From quoted\r\nFrom raw\r\n", status: 0, error: ""),
        ReformailCase(["-d"], "A: 1\r\n b\r\n\r\nx\r\ny", "A: 1\n b\r\n\r\nx\r\ny\r\n", status: 0, error: ""),
        ReformailCase(["-a", "X-Test: 2", "-a", "X-New: 3"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\nX-New: 3\n\nbody\n>From quoted\nFrom raw\n", status: 0, error: ""),
        ReformailCase(["-A", "X-Test: 2"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\nX-Test: 2\n\nbody\n>From quoted\nFrom raw\n", status: 0, error: ""),
        ReformailCase(["-i", "Subject: New"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nOld-Subject: Hello\n  world\nOld-subject: second\nX-Test: 1\nSubject: New\n\nbody\n>From quoted\nFrom raw\n", status: 0, error: ""),
        ReformailCase(["-I", "Subject: New"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nX-Test: 1\nSubject: New\n\nbody\n>From quoted\nFrom raw\n", status: 0, error: ""),
        ReformailCase(["-I", "X-Test:"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\n\nbody\n>From quoted\nFrom raw\n", status: 0, error: ""),
        ReformailCase(["-R", "Subject:", "X-Old-Subject:"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nX-Old-Subject: Hello\n  world\nX-Old-Subject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", status: 0, error: ""),
        ReformailCase(["-u", "Subject:"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", status: 0, error: ""),
        ReformailCase(["-U", "Subject:"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nX-Test: 1\nsubject: second\n\nbody\n>From quoted\nFrom raw\n", status: 0, error: ""),
        ReformailCase(["-x", "Subject:"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "Hello world\nsecond\n", status: 0, error: ""),
        ReformailCase(["-X", "subject:"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "Subject: Hello world\nsubject: second\n", status: 0, error: ""),
        ReformailCase(["-X", "From:", "-x", "X-Test:"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "From: Joe <joe@example.com>\n1\n", status: 0, error: ""),
        ReformailCase(["-x", "Subject"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "", status: 0, error: ""),
        ReformailCase(["-f0"], "From sender@example.org Mon Mar  2 10:00:00 2026\nReturn-Path: <old@x>\nSubject: s\n\n>From a\n>>From b\nFrom c\n", "Subject: s\nReturn-Path: <sender@example.org>\n\nFrom a\n>From b\nFrom c\n", status: 0, error: ""),
        ReformailCase(["-f0"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", status: 0, error: ""),
        ReformailCase(["-f1"], "From x@y Mon\nSubject: s\n\nFrom body\n", "From x@y Mon\nSubject: s\n\nFrom body\n", status: 0, error: ""),
        ReformailCase([], "\n\n\nA: 1\nB: 2", "A: 1\nB: 2\n\n", status: 0, error: ""),
        ReformailCase(["-a", "X: 1"], "A: 1\nB: 2", "A: 1\nB: 2\nX: 1\n\n", status: 0, error: ""),
        ReformailCase(["-a", "X: 1"], "", "", status: 0, error: ""),
        ReformailCase(["-c", "-a", "X-A: 1", "-I", "X-Test: replaced", "-u", "Subject:"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello world\nX-A: 1\nX-Test: replaced\n\nbody\n>From quoted\nFrom raw\n", status: 0, error: ""),
        ReformailCase([], "A: x\0y\nB: 2\n\nab\0cd\nef\n", "A: xB: 2\n\nabef\n", status: 0, error: ""),
        ReformailCase(["-d1"], "A: 1\n\nab\0cd\nef\n", "A: 1\r\n\r\na\r\nef\r\n", status: 0, error: ""),
        ReformailCase(["-n"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "", status: 1, error: "reformail: Invalid arguments.\n"),
        ReformailCase(["-B", "1"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "", status: 1, error: "reformail: Invalid arguments.\n"),
        ReformailCase(["-a"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "", status: 1, error: "reformail: Invalid arguments.\n"),
        ReformailCase(["-D", "100"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "", status: 1, error: "reformail: Invalid arguments.\n"),
        ReformailCase(["--x"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "", status: 1, error: "reformail: Invalid arguments.\n"),
        ReformailCase(["-s"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "", status: 1, error: "reformail: Invalid arguments.\n"),
        ReformailCase(["--", "-x", "Subject:"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", status: 0, error: ""),
        ReformailCase(["file", "-x", "Subject:"], "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", "Return-Path: <joe@example.com>\nFrom: Joe <joe@example.com>\nSubject: Hello\n  world\nsubject: second\nX-Test: 1\n\nbody\n>From quoted\nFrom raw\n", status: 0, error: ""),
    ]

    @Test(arguments: cases)
    func matchesDebianReformail(_ c: ReformailCase) {
        let result = runReformail(c.arguments, Array(c.input.utf8))
        #expect(String(decoding: result.output, as: UTF8.self) == c.output)
        #expect(result.output == Array(c.output.utf8))
        #expect(result.status == c.status)
    }
}

@Suite struct ReformailUnitTests {
    @Test func optionsParseAttachedAndSeparateValues() throws {
        let o = try #require(ReformailOptions.parse(["reformail", "-aX-A: 1", "-A", "X-B: 2", "-d", "-c"].map { Array($0.utf8) },
                                                    messageID: { [] }))
        #expect(o.addIfAbsent == [Array("X-A: 1".utf8)])
        #expect(o.addAlways == [Array("X-B: 2".utf8)])
        #expect(o.crlf)
        #expect(o.catenate)
        #expect(o.mode == .copy)
    }

    @Test(arguments: [["-n"], ["-B", "1"], ["-a"], ["-a", ""], ["-D", "100"], ["-s"], ["--x"],
                      ["-D", "1", "f", "-a", "X: y"], ["-x", "A:", "-s", "cat"], ["-R", "A:"]])
    func invalidOptions(_ args: [String]) {
        #expect(ReformailOptions.parse((["reformail"] + args).map { Array($0.utf8) }, messageID: { [] }) == nil)
    }

    @Test func optionsModes() throws {
        let split = try #require(ReformailOptions.parse(["reformail", "-s", "sh", "-c", "cat"].map { Array($0.utf8) },
                                                        messageID: { [] }))
        #expect(split.mode == .split(command: [Array("sh".utf8), Array("-c".utf8), Array("cat".utf8)]))
        let cache = try #require(ReformailOptions.parse(["reformail", "-D120", "x.cache"].map { Array($0.utf8) },
                                                        messageID: { [] }))
        #expect(cache.mode == .duplicateCache(maxLength: Array("120".utf8), file: Array("x.cache".utf8)))
        let f = try #require(ReformailOptions.parse(["reformail", "-f", "1"].map { Array($0.utf8) }, messageID: { [] }))
        #expect(f.fromQuoting == .add)
        let f0 = try #require(ReformailOptions.parse(["reformail", "-f"].map { Array($0.utf8) }, messageID: { [] }))
        #expect(f0.fromQuoting == .remove)
        let d0 = try #require(ReformailOptions.parse(["reformail", "-d0"].map { Array($0.utf8) }, messageID: { [] }))
        #expect(!d0.crlf)
    }

    @Test func messageIDOnlyForExactMessageIDOption() throws {
        let o = try #require(ReformailOptions.parse(
            ["reformail", "-a", "Message-ID:", "-A", "message-id:", "-a", "Resent-Message-ID:", "-a", "Message-ID: <x>"]
                .map { Array($0.utf8) }, messageID: { Array("<id>".utf8) }))
        #expect(o.addIfAbsent == [Array("Message-ID: <id>".utf8), Array("Resent-Message-ID:".utf8), Array("Message-ID: <x>".utf8)])
        #expect(o.addAlways == [Array("message-id: <id>".utf8)])
    }

    @Test func generatedMessageIDShape() {
        let id = MessageIDGenerator.make(time: 0x1234, pid: 0xAB, host: Array("mx.example".utf8))
        #expect(String(decoding: id, as: UTF8.self) == "<4321000000000000.BA00000000000000.reformail@mx.example>")
    }

    @Test func fromOneUsesSenderAndDate() {
        let input = ScratchFile(Array("Return-Path: <bounce@example.org>\nFrom: Joe <joe@example.com>\n\nFrom here\n".utf8))
        let options = ReformailOptions.parse(["reformail", "-f1"].map { Array($0.utf8) }, messageID: { [] })!
        let engine = ReformailEngine(reader: InputReader(fd: input.fd), options: options,
                                     fromLineDate: { Array("Thu Jan  1 00:00:00 1970".utf8) })
        var lines: [String] = []
        while let line = engine.readLine() { lines.append(String(decoding: line, as: UTF8.self)) }
        #expect(lines == ["From bounce@example.org Thu Jan  1 00:00:00 1970\n", "Return-Path: <bounce@example.org>\n",
                          "From: Joe <joe@example.com>\n", "\n", ">From here\n"])
    }

    @Test(arguments: [
        ("From: Joe (the man) <joe@x.com>\n", "joe@x.com"),
        ("From: joe@x.com (Joe Q)\n", "joe@x.com"),
        ("Return-Path: <>\nFrom: joe@x.com\n", "root"),
        ("Return-Path: <a@b>\nErrors-To: x@y, z@w\nFrom: joe@x.com\n", "x@y"),
        (">Return-Path: <r@s>\nFrom: a@b\n", "r@s"),
        ("From: group: a@b, c@d;\n", "a@b"),
        ("From: undisclosed: ;\n", "root"),
        ("Subject: none\n", "root"),
        ("From: \"weird local\"@example.org\n", "\"weird local\"@example.org"),
        ("FROM: A@B\n", "A@B"),
    ])
    func fromLineSender(_ headers: String, _ expected: String) {
        #expect(String(decoding: FromLineSender.sender(headerBlock: Array(headers.utf8)), as: UTF8.self) == expected)
    }

    @Test func envelopeSenderOfFromLine() {
        #expect(FromLineSender.envelopeSender(fromLine: Array("From  <a@b> Mon\n".utf8)) == Array("a@b".utf8))
        #expect(FromLineSender.envelopeSender(fromLine: Array("From x@y\n".utf8)) == Array("x@y".utf8))
        #expect(FromLineSender.envelopeSender(fromLine: Array("From \n".utf8)) == [])
    }

    @Test func duplicateCacheRotation() {
        let id = Array("<z>".utf8)
        // New id appended, list ended by an extra NUL.
        let (first, o1) = DuplicateCache.rotate([], id: id, maxLength: 100)
        #expect(first == Array("<z>\0\0".utf8))
        #expect(o1 == .new)
        // Found: removed from its place and appended at the end.
        let (second, o2) = DuplicateCache.rotate(Array("<z>\0<a>\0\0".utf8), id: id, maxLength: 100)
        #expect(second == Array("<a>\0<z>\0\0".utf8))
        #expect(o2 == .duplicate)
        // Entries dropped from the front while the rest is at least maxLength bytes
        // (an unterminated last entry runs into the new one, as in Courier).
        let (third, _) = DuplicateCache.rotate(Array("<x@y>\0<w>".utf8), id: id, maxLength: 8)
        #expect(third == Array("<w><z>\0\0".utf8))
        // Everything dropped: the whole list is kept instead.
        let (fourth, _) = DuplicateCache.rotate(Array("<a>\0".utf8), id: id, maxLength: 0)
        #expect(fourth == Array("<a>\0<z>\0\0".utf8))
    }

    @Test func duplicateCacheFile() {
        let dir = ScratchFile()
        let path = dir.path + ".cache"
        defer { unlink(path) }
        let message = Array("Message-ID:  <m@x>  \n\nbody\n".utf8)
        #expect(runReformail(["-D", "100", path], message).status == 1)
        #expect(runReformail(["-D", "100", path], message).status == 0)
        #expect(runReformail(["-D", "100", path], Array("Subject: none\n\n".utf8)).status == 1)
        var st = stat()
        #expect(stat(path, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        #expect(runReformail(["-D", "100", "/nonexistent-dir/x.cache"], message).status == 75)
    }

    @Test func fileNumbering() {
        var unset = MboxSplit.FileNumbering(environmentValue: nil)
        #expect(unset.next() == Array("000".utf8))
        #expect(unset.next() == Array("001".utf8))
        var padded = MboxSplit.FileNumbering(environmentValue: Array("0099".utf8))
        #expect(padded.next() == Array("0099".utf8))
        #expect(padded.next() == Array("0100".utf8))
        var narrow = MboxSplit.FileNumbering(environmentValue: Array("9".utf8))
        _ = narrow.next()
        #expect(narrow.next() == Array("10".utf8))
        var empty = MboxSplit.FileNumbering(environmentValue: [])
        #expect(empty.next() == [])
        #expect(empty.next() == Array("1".utf8))
        var other = MboxSplit.FileNumbering(environmentValue: Array("abc".utf8))
        #expect(other.next() == nil)
    }

    @Test func splitRunsProgramPerMessage() {
        let dir = ScratchFile()
        let out = dir.path + ".parts"
        defer { unlink(out) }
        let mbox = Array("From a@b\nSubject: one\n\nbody 1\n\nFrom c@d\nSubject: two\n\nbody 2\n".utf8)
        let script = "{ echo \"== $FILENO\"; cat; echo; } >> '" + out + "'"
        let result = runReformail(["-s", "sh", "-c", script], mbox)
        #expect(result.status == 0)
        let parts = ScratchFile(Array(readAll(out)))
        #expect(String(decoding: parts.contents, as: UTF8.self)
                == "== 000\nFrom a@b\nSubject: one\n\nbody 1\n\n== 001\nFrom c@d\nSubject: two\n\nbody 2\n")
    }

    @Test func longHeaderLineAndBodyStream() {
        var input = Array("Subject: ".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 1_000_000) + Array("\r\n\r\n".utf8)
        input += [UInt8](repeating: UInt8(ascii: ">"), count: 200_000) + Array("From y\r\nlast".utf8)
        let result = runReformail(["-f1"], input)
        #expect(result.status == 0)
        let output = result.output
        let firstLineEnd = output.firstIndex(of: 0x0A) ?? output.endIndex
        #expect(output.starts(with: Array("From root ".utf8)))
        var expected = Array("Subject: ".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 1_000_000) + Array("\n\n".utf8)
        expected += [UInt8](repeating: UInt8(ascii: ">"), count: 200_001) + Array("From y\nlast\n".utf8)
        #expect(output[(firstLineEnd + 1)...].elementsEqual(expected))
    }
}

private func readAll(_ path: String) -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return [] }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if n <= 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return out
}
