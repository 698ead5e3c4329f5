#if canImport(Glibc)
import Glibc
#endif
import Testing
import MailCore
@testable import MailTools

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
private func args(_ items: String...) -> [[UInt8]] { items.map { Array($0.utf8) } }

/// A scratch directory with helpers to write inputs and read outputs.
private final class Scratch {
    let path: String

    init() {
        var template = Array("/tmp/makemime-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = made.map { String(cString: $0) } ?? "/tmp"
    }

    deinit {
        if let dir = opendir(path) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(dir)
        }
        rmdir(path)
    }

    func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    func write(_ name: String, _ content: [UInt8]) -> String {
        let target = file(name)
        let fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = content.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return target
    }

    func read(_ name: String) -> [UInt8]? {
        let fd = open(file(name), O_RDONLY)
        if fd < 0 { return nil }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }

    /// Runs makemime with `arguments` (no program name); returns the exit status.
    func run(_ arguments: [String]) -> Int32 {
        Makemime.run(["makemime"] + arguments)
    }
}

/// Replaces each distinct `=_N_TIME_PID` boundary by B1, B2… in order of appearance.
private func normalizeBoundaries(_ data: [UInt8]) -> String {
    var names: [[UInt8]: [UInt8]] = [:]
    var result: [UInt8] = []
    var index = 0
    func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    while index < data.count {
        if data[index] == UInt8(ascii: "="), index + 1 < data.count, data[index + 1] == UInt8(ascii: "_") {
            var end = index + 2
            var groups = 0
            while groups < 3 {
                let groupStart = end
                while end < data.count && isDigit(data[end]) { end += 1 }
                if end == groupStart { break }
                groups += 1
                if groups < 3 {
                    guard end < data.count, data[end] == UInt8(ascii: "_") else { break }
                    end += 1
                }
            }
            if groups == 3 {
                let token = Array(data[index..<end])
                let name = names[token] ?? Array("B\(names.count + 1)".utf8)
                names[token] = name
                result.append(contentsOf: name)
                index = end
                continue
            }
        }
        result.append(data[index])
        index += 1
    }
    return String(decoding: result, as: UTF8.self)
}

@Suite struct MakemimeArgumentParserTests {
    @Test func simpleSection() throws {
        let request = try #require(MakemimeArgumentParser.parse(args("-c", "text/plain", "-e", " Base64", "-C", "utf-8", "-N", "x", "-a", "  X-A: 1", "-o", "out", "in")))
        guard case .simple(let type) = request.kind else { Issue.record("not simple"); return }
        #expect(type == bytes("text/plain"))
        #expect(request.encoding == .base64)
        #expect(request.charset == bytes("utf-8"))
        #expect(request.contentName == bytes("x"))
        #expect(request.headers == [bytes("X-A: 1")])
        #expect(request.outputFile == bytes("out"))
        guard case .file(let name) = request.input else { Issue.record("not a file"); return }
        #expect(name == bytes("in"))
    }

    @Test func defaultTypes() throws {
        let simple = try #require(MakemimeArgumentParser.parse(args("-c", "-e", "7bit", "f")))
        guard case .simple(let type) = simple.kind else { Issue.record("not simple"); return }
        #expect(type == bytes("application/octet-stream"))
        let multipart = try #require(MakemimeArgumentParser.parse(args("-m", "-e", "7bit", "f")))
        guard case .multipart(let mtype) = multipart.kind else { Issue.record("not multipart"); return }
        #expect(mtype == bytes("multipart/mixed"))
        // "f" is taken as the type: the input is then missing.
        #expect(MakemimeArgumentParser.parse(args("-m", "f")) == nil)
    }

    @Test func attachedValues() throws {
        let request = try #require(MakemimeArgumentParser.parse(args("-cfoo/bar", "-e8BIT", "-ofile", "in")))
        guard case .simple(let type) = request.kind else { Issue.record("not simple"); return }
        #expect(type == bytes("foo/bar"))
        #expect(request.encoding == .eightBit)
        #expect(request.outputFile == bytes("file"))
    }

    @Test func nestedGroups() throws {
        let request = try #require(MakemimeArgumentParser.parse(args(
            "-j", "(", "-m", "multipart/mixed", "(", "-c", "text/plain", "a", ")", ")", "(", "-c", "image/gif", "b", ")")))
        guard case .join(let multipart) = request.kind, case .child(let inner) = multipart else {
            Issue.record("not a join of a group"); return
        }
        guard case .multipart = inner.kind, case .child = inner.input else { Issue.record("inner"); return }
        guard case .child(let section) = request.input, case .simple = section.kind else { Issue.record("section"); return }
    }

    @Test(arguments: [
        ["-c", "text/plain", "(", "-c", "text/plain", "f"],
        ["-c", "text/plain", "f", ")"],
        ["-c", "text/plain", "f", "extra"],
        ["-c", "text/plain", "-e", "bogus", "f"],
        ["-c", "text/plain", "-e"],
        ["-c", "text/plain"],
        ["-x", "f"],
        ["f"],
        [],
        ["-j"],
    ])
    func usageErrors(arguments: [String]) {
        #expect(MakemimeArgumentParser.parse(arguments.map { Array($0.utf8) }) == nil)
    }

    @Test func fuzzEntryAcceptsAnything() {
        #expect(Makemime.parsesArguments([[0xFF, 0x00], [UInt8(ascii: "(")]]) == false)
        #expect(Makemime.parsesArguments(args("-c", "text/plain", "f")) == true)
    }

    @Test func deepNestingIsBounded() {
        var list: [String] = ["-m"]
        for _ in 0..<10_000 { list += ["(", "-m"] }
        list.append("f")
        #expect(MakemimeArgumentParser.parse(list.map { Array($0.utf8) }) == nil)
    }
}

@Suite(.serialized) struct MakemimeRunTests {
    @Test func simpleSevenBit() {
        let scratch = Scratch()
        let input = scratch.write("in.txt", bytes("Plain text part.\n"))
        #expect(scratch.run(["-c", "text/plain", "-o", scratch.file("out"), input]) == 0)
        #expect(scratch.read("out") == bytes("Content-Type: text/plain\nContent-Transfer-Encoding: 7bit\n\nPlain text part.\n"))
    }

    @Test func autoPicksEncodingAndType() {
        let scratch = Scratch()
        let gif = scratch.write("pixel.gif", [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00])
        #expect(scratch.run(["-c", "auto", "-C", "utf-8", "-o", scratch.file("out"), gif]) == 0)
        #expect(scratch.read("out") == bytes("Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nR0lGODlhAQA=\n"))

        let latin = scratch.write("latin.txt", [0x63, 0x61, 0x66, 0xE9, 0x0A])
        #expect(scratch.run(["-c", "auto", "-C", "iso-8859-1", "-o", scratch.file("out2"), latin]) == 0)
        #expect(scratch.read("out2") == bytes("Content-Type: text/plain; charset=\"iso-8859-1\"\nContent-Transfer-Encoding: 8bit\n\n") + [0x63, 0x61, 0x66, 0xE9, 0x0A])
    }

    @Test func longLineForcesQuotedPrintable() {
        let scratch = Scratch()
        let input = scratch.write("long.txt", bytes(String(repeating: "x", count: 1000) + "\n"))
        #expect(scratch.run(["-c", "text/plain", "-o", scratch.file("out"), input]) == 0)
        let output = scratch.read("out") ?? []
        #expect(output.starts(with: bytes("Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n" + String(repeating: "x", count: 73) + "=\n")))
    }

    @Test func contentNameIsRFC2231Encoded() {
        let scratch = Scratch()
        let input = scratch.write("in.txt", bytes("x\n"))
        #expect(scratch.run(["-c", "text/plain", "-C", "iso-8859-1", "-N", "résumé (final).txt", "-a", "Content-Disposition: attachment", "-e", "7bit", "-o", scratch.file("out"), input]) == 0)
        #expect(scratch.read("out") == bytes("""
            Content-Disposition: attachment
            Content-Type: text/plain; charset="iso-8859-1";
              name*0*=iso-8859-1''r%C3%A9sum%C3%A9%20%28final%29.txt
            Content-Transfer-Encoding: 7bit

            x

            """))
    }

    @Test func multipartWithNestedSection() {
        let scratch = Scratch()
        let input = scratch.write("in.txt", bytes("Plain text part.\n"))
        #expect(scratch.run(["-m", "multipart/alternative", "-a", "Mime-Version: 1.0", "-o", scratch.file("out"), "(", "-c", "text/plain", input, ")"]) == 0)
        #expect(normalizeBoundaries(scratch.read("out") ?? []) == """
            Mime-Version: 1.0
            Content-Type: multipart/alternative; boundary="B1"
            Content-Transfer-Encoding: 8bit

            This is a MIME-formatted message.  If you see this text it means that your
            E-mail software does not support MIME-formatted messages.

            --B1
            Content-Type: text/plain
            Content-Transfer-Encoding: 7bit

            Plain text part.

            --B1--

            """)
    }

    @Test func joinAddsASectionWithANewBoundary() {
        let scratch = Scratch()
        let text = scratch.write("in.txt", bytes("Plain text part.\n"))
        #expect(scratch.run(["-m", "multipart/mixed", "-o", scratch.file("mm1"), "(", "-c", "text/plain", text, ")"]) == 0)
        #expect(scratch.run(["-j", scratch.file("mm1"), "-o", scratch.file("out"), "(", "-c", "text/plain", "-e", "base64", text, ")"]) == 0)
        let first = normalizeBoundaries(scratch.read("mm1") ?? [])
        let joined = normalizeBoundaries(scratch.read("out") ?? [])
        #expect(first.contains("--B1--"))
        #expect(joined == """
            Content-Type: multipart/mixed; boundary="B1"
            Content-Transfer-Encoding: 8bit

            This is a MIME-formatted message.  If you see this text it means that your
            E-mail software does not support MIME-formatted messages.

            --B1
            Content-Type: text/plain
            Content-Transfer-Encoding: 7bit

            Plain text part.

            --B1
            Content-Type: text/plain
            Content-Transfer-Encoding: base64

            UGxhaW4gdGV4dCBwYXJ0Lgo=

            --B1--

            """)
        // The new boundary differs from the old one.
        let old = String(decoding: scratch.read("mm1") ?? [], as: UTF8.self)
        let new = String(decoding: scratch.read("out") ?? [], as: UTF8.self)
        #expect(old.split(separator: "\"")[1] != new.split(separator: "\"")[1])
    }

    @Test func boundaryAvoidsContent() {
        let scratch = Scratch()
        // Content that already holds the first candidate (counter 1, this second or the next).
        let now = time(nil)
        var pid = String(getpid())  // zero-padded to five digits, as makeBoundary writes it
        if pid.count < 5 { pid = String(repeating: "0", count: 5 - pid.count) + pid }
        let input = scratch.write("in.txt", bytes("x\n--=_1_\(now)_\(pid)\n--=_1_\(now + 1)_\(pid)--\n"))
        #expect(scratch.run(["-m", "-o", scratch.file("out"), input]) == 0)
        let output = String(decoding: scratch.read("out") ?? [], as: UTF8.self)
        #expect(output.hasPrefix("Content-Type: multipart/mixed; boundary=\"=_2_"))
    }

    @Test func argumentFile() {
        let scratch = Scratch()
        let input = scratch.write("in.txt", bytes("hi\n"))
        let list = scratch.write("args", bytes("# comment\n  -c\n\n   text/plain; charset=us-ascii\n-o\n\(scratch.file("out"))\n\(input)\n-\nignored\n"))
        #expect(scratch.run(["@" + list, "ignored", "too"]) == 0)
        #expect(scratch.read("out") == bytes("Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\nhi\n"))
    }

    @Test func missingFileFails() {
        let scratch = Scratch()
        #expect(scratch.run(["-c", "text/plain", "-o", scratch.file("out"), scratch.file("nosuch")]) == 1)
        // The output is opened after the inputs: it is never created.
        #expect(scratch.read("out") == nil)
    }

    @Test func usageExitsZero() {
        #expect(Makemime.run(["makemime", "-c", "text/plain", "-e", "bogus", "x"]) == 0)
        #expect(Makemime.run(["makemime"]) == 0)
    }

    @Test func joinOfFailedNestedMultipartFails() {
        let scratch = Scratch()
        let text = scratch.write("in.txt", bytes("x\n"))
        let status = scratch.run(["-j", "(", "-c", "text/plain", scratch.file("nosuch"), ")", "-o", scratch.file("out"), "(", "-c", "text/plain", text, ")"])
        #expect(status == 1)
        let single = scratch.run(["-m", "-o", scratch.file("out2"), "(", "-c", "text/plain", scratch.file("nosuch"), ")"])
        #expect(single == 0)
    }
}
