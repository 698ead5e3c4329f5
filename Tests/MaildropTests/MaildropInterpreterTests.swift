#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Maildrop

let sampleMessage = Array("""
Return-Path: <joe@example.com>
From: Joe Sender <joe@example.com>
To: You There <you@example.org>,
  other@example.net
Subject: =?UTF-8?B?SMOzbGEh?= FREE stuff
Received: from a

free offer, free lunch
From the start
body line

""".utf8)

/// A scratch directory, removed by the caller with `rm -rf`.
func scratchDirectory() -> String {
    var template = Array("/tmp/maildrop-test.XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    return made.map { String(cString: $0) } ?? "/tmp"
}

func removeTree(_ path: String) {
    _ = ChildProcess.run(shell: "/bin/sh", command: "rm -rf '\(path)'", environment: [], input: .devNull, captureOutput: false)
}

func makeMaildir(_ path: String) {
    for d in ["", "/tmp", "/new", "/cur"] { mkdir(path + d, 0o700) }
}

func files(in directory: String) -> [String] {
    guard let dir = opendir(directory) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

func readText(_ path: String) -> String {
    let r = ChildProcess.run(shell: "/bin/sh", command: "cat '\(path)'", environment: [], input: .devNull, captureOutput: true)
    return String(decoding: r.output, as: UTF8.self)
}

/// Serialized: the delivery tests change the working directory of the process.
@Suite(.serialized) struct MaildropInterpreterTests {
    /// Runs a filter; returns the interpreter and how it ended (nil: fell off the end).
    func run(_ filter: String, message: [UInt8] = sampleMessage, in directory: String? = nil) throws -> (MaildropInterpreter, MaildropInterruption?) {
        let statements = try MaildropParser.parse(Array(filter.utf8))
        let i = MaildropInterpreter(message: message, fileName: "test.mf", environment: ["IMPORTED": "from env"], embedded: false)
        i.variables = ["SHELL": "/bin/sh", "PATH": "/bin:/usr/bin", "EXITCODE": "0", "FROM": "joe@example.com", "UMASK": "077"]
        i.updateMessageVariables()
        let saved = directory.map { _ in getcwd(nil, 0) } ?? nil
        if let directory { chdir(directory) }
        defer { if let saved { chdir(saved); free(saved) } }
        do throws(MaildropInterruption) {
            try i.run(statements)
            return (i, nil)
        } catch {
            return (i, error)
        }
    }

    @Test func arithmeticAndStrings() throws {
        let (i, _) = try run("""
        A = 1 / 10
        B = 2 + 3 * 4
        C = "10" < "9"
        D = "10" lt "9"
        E = ~5
        F = 6 | 9
        G = "" || "right"
        H = 0 && "z"
        I = substr("hello world", 6)
        J = length("hello")
        K = escape("a.b*c")
        L = tolower("MiXeD")
        M = 1 / 0
        """)
        #expect(i.get("A") == "0.1000000000000000055511")
        #expect(i.get("B") == "14")
        #expect(i.get("C") == "0")
        #expect(i.get("D") == "1")
        #expect(i.get("E") == "-6")
        #expect(i.get("F") == "15")
        #expect(i.get("G") == "right")
        #expect(i.get("H") == "0")
        #expect(i.get("I") == "world")
        #expect(i.get("J") == "5")
        #expect(i.get("K") == "a\\.b\\*c")
        #expect(i.get("L") == "mixed")
        #expect(i.get("M") == "inf")
    }

    @Test func substitution() throws {
        let (i, _) = try run("Y = inner\nX = \"a${Y}b $Y-c ${NOPE}d \\$Y\"\nZ = 'single $Y'\nimport IMPORTED\n")
        #expect(i.get("X") == "ainnerb inner-c d \\$Y")
        #expect(i.get("Z") == "single $Y")
        #expect(i.get("IMPORTED") == "from env")
    }

    @Test func patternsSeeDecodedHeadersAndBodies() throws {
        let (i, _) = try run("""
        if (/^Subject: *(.*)/)
          S = $MATCH1
        B = (/free/:b,1,2)
        H = (/FREE/:hD)
        N = (/^From the start/:b)
        W = "aXbxcx" =~ /x/:,2,3
        """)
        #expect(i.get("S") == "Hóla! FREE stuff")
        #expect(i.get("B") == "1") // one line with two matches counts once
        #expect(i.get("H") == "1")
        #expect(i.get("N") == "1")
        #expect(i.get("W") == "26")
    }

    @Test func hasaddrGetaddrAndForeach() throws {
        let (i, _) = try run("""
        A = hasaddr("OTHER@example.net")
        B = hasaddr("joe@example.com")
        C = getaddr("joe@domain.com (Joe), \\"Alex\\" <alex@domain.com>")
        N = 0
        foreach (getaddr "a@x, b@y, c@z") =~ /.+/
        {
          N = $N + 1
          L = $MATCH
        }
        """)
        #expect(i.get("A") == "1")
        #expect(i.get("B") == "0")
        #expect(i.get("C") == "joe@domain.com\nalex@domain.com\n")
        #expect(i.get("N") == "3")
        #expect(i.get("L") == "c@z")
    }

    @Test func exitAndExitcode() throws {
        let (_, end) = try run("EXITCODE = 3\nexit\nX = 1")
        guard case .terminate(3)? = end else { Issue.record("expected exit 3, got \(String(describing: end))"); return }
    }

    @Test func exceptionCatchesFatalErrors() throws {
        let (i, end) = try run("exception {\n  include \"/nonexistent/file\"\n}\nX = after\n")
        #expect(end == nil)
        #expect(i.get("X") == "after")
    }

    @Test func backticksAndSystemAndXfilter() throws {
        let (i, end) = try run("""
        X = `printf '  a\\nb  '`
        Y = `grep -c '^From:'`
        Z = `exit 4`
        R = $RETURNCODE
        xfilter "sed 's/^Subject:/X-Old-Subject:/'"
        """)
        #expect(end == nil)
        #expect(i.get("X") == "a b")
        #expect(i.get("Y") == "1")
        #expect(i.get("Z") == "")
        #expect(i.get("R") == "4")
        #expect(String(decoding: i.message, as: UTF8.self).contains("X-Old-Subject:"))
        #expect(i.get("SIZE") == String(i.message.count))
    }

    @Test func failingXfilterIsFatal() throws {
        let (_, end) = try run("xfilter \"cat >/dev/null; exit 3\"")
        guard case .fatal("Unable to filter message.")? = end else { Issue.record("\(String(describing: end))"); return }
    }

    @Test func whileLoopRuns() throws {
        let (i, _) = try run("N = 0\nwhile ($N < 50)\n{\n  N = $N + 1\n}\n")
        #expect(i.get("N") == "50")
    }

    @Test func lookupFile() throws {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        let fd = open(dir + "/list", O_WRONLY | O_CREAT, 0o600)
        let text = Array("# comment\n\n   joe@example\\.com\n".utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let (i, _) = try run("A = lookup(\"JOE@example.com\", \"list\")\nB = lookup(\"JOE@example.com\", \"list\", \"D\")\n", in: dir)
        #expect(i.get("A") == "1")
        #expect(i.get("B") == "0")
    }

    @Test func deliveriesToMaildirWithFlagsAndMbox() throws {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        makeMaildir(dir + "/Maildir")
        makeMaildir(dir + "/Maildir/.Spam")
        let (_, end) = try run("FLAGS=\"SF\"\ncc \"./Maildir\"\nFLAGS=\"\"\ncc \"./Maildir/.Spam/\"\nto \"./mbox\"\n", in: dir)
        guard case .terminate(0)? = end else { Issue.record("\(String(describing: end))"); return }
        let cur = files(in: dir + "/Maildir/cur")
        #expect(cur.count == 1)
        #expect(cur.first?.hasSuffix(",S=\(sampleMessage.count):2,SF") == true)
        #expect(files(in: dir + "/Maildir/.Spam/new").count == 1)
        let mbox = readText(dir + "/mbox")
        #expect(mbox.hasPrefix("From joe@example.com "))
        #expect(mbox.contains("\n>From the start\n"))
        #expect(mbox.hasSuffix("body line\n\n"))
    }

    @Test func quotaRefusesAndPipeSetsExitcode() throws {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        makeMaildir(dir + "/Maildir")
        let (_, end) = try run("MAILDIRQUOTA=\"50S\"\nto \"./Maildir\"\n", in: dir)
        guard case .fatal("maildir over quota.")? = end else { Issue.record("\(String(describing: end))"); return }
        #expect(files(in: dir + "/Maildir/new").isEmpty)
        let (i, end2) = try run("cc \"| cat > copy.txt; exit 5\"\nX = $EXITCODE\nto \"| exit 7\"\n", in: dir)
        #expect(i.get("X") == "5")
        guard case .terminate(7)? = end2 else { Issue.record("\(String(describing: end2))"); return }
        #expect(readText(dir + "/copy.txt") == String(decoding: sampleMessage, as: UTF8.self))
    }

    @Test func includeAndLogfile() throws {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        makeMaildir(dir + "/Maildir")
        let fd = open(dir + "/sub.inc", O_WRONLY | O_CREAT, 0o600)
        let text = Array("V = \"from include\"\n".utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let (i, _) = try run("include \"sub.inc\"\nlogfile \"log\"\nlog \"hello\\tthere\"\ncc \"./Maildir\"\n", in: dir)
        #expect(i.get("V") == "from include")
        let log = readText(dir + "/log")
        #expect(log.hasPrefix("hello\tthere\nDate: "))
        #expect(log.contains("\nSubj: =?UTF-8?B?SMOzbGEh?= FREE stuff\n"))
        let fileLine = log.split(separator: "\n").first { $0.hasPrefix("File: ") }.map(String.init) ?? ""
        #expect(fileLine.utf8.count == 6 + 72)
        #expect(fileLine.hasSuffix("(\(sampleMessage.count))"))
    }
}
