#if canImport(Glibc)
import Glibc
#endif
import MaildirCore
import ToolSupport
import Testing
@testable import Maildrop

/// Collects trace messages of an interpreter.
final class TraceLog {
    var lines: [String] = []
}

func writeFile(_ path: String, _ text: String, mode: mode_t = 0o600) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

/// Runs `filter` (absolute paths only: these tests do not change directory).
func runFilter(_ filter: String, verbose: Int = 0, delivery: Bool = false,
               setUp: (MaildropInterpreter) -> Void = { _ in }) throws -> (MaildropInterpreter, MaildropInterruption?, TraceLog) {
    let statements = try MaildropParser.parse(Array(filter.utf8))
    let i = MaildropInterpreter(message: sampleMessage, fileName: "t.mf", environment: [:], embedded: false)
    i.variables = ["SHELL": "/bin/sh", "PATH": "/bin:/usr/bin", "EXITCODE": "0", "FROM": "joe@example.com", "UMASK": "077"]
    i.updateMessageVariables()
    i.verboseLevel = verbose
    i.deliveryMode = delivery
    let log = TraceLog()
    i.traceOutput = { log.lines.append($0) }
    setUp(i)
    do throws(MaildropInterruption) {
        try i.run(statements)
        return (i, nil, log)
    } catch {
        return (i, error, log)
    }
}

@Suite struct EmbeddedFilterTests {
    @Test func nameLosesSlashesAndDots() {
        #expect(EmbeddedFilter.transformedName("../x/y.z") == ":::x:y:z")
        #expect(EmbeddedFilter.transformedName("lists-maildrop") == "lists-maildrop")
    }

    @Test func defaultFallbacksStripOneDashPartAtATime() {
        #expect(EmbeddedFilter.candidates("mailfilter-lists-maildrop") == [
            "mailfilter-lists-maildrop", "mailfilter-lists-maildrop-default", "mailfilter-lists-default",
            "mailfilter-default", "default",
        ])
        #expect(EmbeddedFilter.candidates("plain") == ["plain", "plain-default", "default"])
        // Courier's loop also tries the bare "-default" when the name starts with a dash.
        #expect(EmbeddedFilter.candidates("-x") == ["-x", "-x-default", "-default", "default"])
    }

    @Test func mailfiltersDirectoryRules() {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        let path = dir + "/.mailfilters"
        #expect(EmbeddedFilter.checkDirectory(path) == nil)
        writeFile(path, "")
        #expect(EmbeddedFilter.checkDirectory(path) == "$HOME/.mailfilters should be a directory.")
        unlink(path)
        mkdir(path, 0o750)
        chmod(path, 0o750)
        #expect(EmbeddedFilter.checkDirectory(path)?.hasPrefix("Invalid permissions on $HOME/.mailfilters") == true)
        chmod(path, 0o700)
        #expect(EmbeddedFilter.checkDirectory(path) == nil)
    }
}

@Suite struct MaildropVerboseTests {
    @Test func levelFourTracesAssignmentsConditionsAndScores() throws {
        let (_, _, log) = try runFilter("X = \"abc\"\nif (/^Subject: .*FREE/)\n{\n  Y = 1\n}\nimport HOME\nunset X\n", verbose: 4)
        // (the level 3 lines are checked below)
        let level4 = log.lines.filter { !$0.hasPrefix("Matching /") && $0 != "Not matched.\n" }
        #expect(level4 == [
            "t.mf(1): X=\"abc\"\n",
            "t.mf(2): Evaluating IF condition.\n",
            "t.mf(2): Search of ^Subject: .*FREE = 1\n",
            "t.mf(2): IF evaluated, result=1\n",
            "t.mf(4): Y=\"1\"\n",
            "t.mf(6): import  \"HOME\"\n",
            "t.mf(7): unset X\n",
        ])
    }

    @Test func levelThreeShowsEveryLineTried() throws {
        let (_, _, log) = try runFilter("A = (/^To:/)\n", verbose: 3)
        #expect(log.lines.first == "Matching /^To:/ against Return-Path: <joe@example.com>\n")
        #expect(log.lines.dropFirst().first == "Not matched.\n")
        #expect(log.lines.contains { $0.hasPrefix("Matching /^To:/ against To: You There") })
    }

    @Test func whileAndException() throws {
        let (_, _, log) = try runFilter("N = 0\nwhile ($N < 1)\n{\n  N = $N + 1\n}\nexception {\n  include \"/nonexistent/x\"\n}\n", verbose: 4)
        #expect(log.lines.contains("t.mf(2): Evaluating WHILE condition.\n"))
        #expect(log.lines.contains("t.mf(2): While condition evaluated, result=1\n"))
        #expect(log.lines.contains("t.mf(2): While condition evaluated, result=0\n"))
        #expect(log.lines.suffix(3) == [
            "t.mf(6): Trapping exceptions.\n", "t.mf(7): Opening include file /nonexistent/x\n",
            "t.mf(6): Trapped exception.\n",
        ])
    }

    @Test func levelOneShowsProgramsAndLevelFiveCompletedDeliveries() throws {
        let (_, _, log) = try runFilter("system \"true\"\nB = `echo hi`\ncc \"|cat >/dev/null\"\n", verbose: 5)
        #expect(log.lines == [
            "maildrop: Executing system command true\n",
            "maildrop: Filtering through `echo hi`\n",
            "t.mf(2): B=\"hi\"\n",
            "maildrop: Delivering to |cat >/dev/null\n",
            "maildrop: Delivery complete.\n",
        ])
    }

    @Test func levelSixTracesEachOperation() throws {
        let (_, _, log) = try runFilter("A = 0 || length(\"ab\") * 2\nB = !$A\n", verbose: 6)
        #expect(log.lines == [
            "t.mf(1): Operation: logical or, left hand side=0\n",
            "t.mf(1): Operation: logical or, evaluating right hand size.\n",
            "t.mf(1): Operation on: ab - strlength.\n",
            "t.mf(1): Operation: strlength=2\n",
            "t.mf(1): Operation on: 2 and 2 - multiply, result is 4\n",
            "t.mf(1): Operation: logical or, result=4\n",
            "t.mf(1): A=\"4\"\n",
            "t.mf(2): Operation on: 4 - logical not.\n",
            "t.mf(2): Operation: logical not=0\n",
            "t.mf(2): B=\"0\"\n",
        ])
    }

    @Test func assigningVerboseSetsTheLevelExceptInDeliveryMode() throws {
        let (i, _, log) = try runFilter("VERBOSE=4\nX = 1\n")
        #expect(i.verboseLevel == 4)
        #expect(log.lines == ["t.mf(2): X=\"1\"\n"])
        let (d, _, dlog) = try runFilter("VERBOSE=4\nX = 1\n", delivery: true)
        #expect(d.verboseLevel == 0)
        #expect(dlog.lines.isEmpty)
        let (u, _, _) = try runFilter("VERBOSE=4\nunset VERBOSE\n")
        #expect(u.verboseLevel == 0)
    }
}

@Suite struct MaildropDeliveryExtrasTests {
    @Test func keywordsAreStoredForTheDeliveredMessage() throws {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        makeMaildir(dir + "/Maildir")
        let (_, end, _) = try runFilter("KEYWORDS=',Work,,$Junk,'\nFLAGS=S\ncc \"\(dir)/Maildir\"\nKEYWORDS=\"\"\ncc \"\(dir)/Maildir\"\n")
        #expect(end == nil)
        let bases = Set(files(in: dir + "/Maildir/cur").map { String($0.split(separator: ":").first ?? "") })
        #expect(bases.count == 2)
        // Only the first delivery had keywords, stored under the name without ":2,S".
        let list = try KeywordStore(folderPath: dir + "/Maildir").load()
        #expect(list.messages.count == 1)
        #expect(list.messages.values.first == ["$Junk", "Work"])
        #expect(list.messages.keys.allSatisfy { bases.contains($0) })
        #expect(MaildropInterpreter.keywordList(",a,,b,") == ["a", "b"])
    }

    @Test func quotaWarningOnceThePercentIsReached() throws {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        makeMaildir(dir + "/Maildir")
        makeMaildir(dir + "/Maildir/.Sub")
        writeFile(dir + "/Maildir/.Sub/maildirfolder", "")
        writeFile(dir + "/Maildir/maildirsize", "100000S\n           0            0\n")
        writeFile(dir + "/warn", "Subject: you are near your quota\n\nClean up.\n")
        let setUp: (MaildropInterpreter) -> Void = {
            $0.quotaWarnPercent = 1
            $0.quotaWarnFile = dir + "/warn"
        }
        // 0.2 % full after the first message: no warning yet.
        _ = try runFilter("cc \"\(dir)/Maildir/.Sub\"\n", setUp: setUp)
        #expect(files(in: dir + "/Maildir/new").isEmpty)
        writeFile(dir + "/Maildir/maildirsize", "100000S\n        5000            1\n")
        // A delivery to a folder warns in the parent maildir's INBOX, once a day.
        _ = try runFilter("cc \"\(dir)/Maildir/.Sub\"\ncc \"\(dir)/Maildir/.Sub\"\n", setUp: setUp)
        let warnings = files(in: dir + "/Maildir/new")
        #expect(warnings.count == 1)
        let text = readText(dir + "/Maildir/new/" + (warnings.first ?? ""))
        #expect(text.hasPrefix("Date: "))
        #expect(text.contains(".overquota@"))
        #expect(text.hasSuffix("Subject: you are near your quota\n\nClean up.\n"))
        #expect(files(in: dir + "/Maildir").contains("quotawarn"))
        #expect(files(in: dir + "/Maildir/.Sub/new").count == 3)
    }

    @Test func overQuotaStillWarns() throws {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        makeMaildir(dir + "/Maildir")
        writeFile(dir + "/Maildir/maildirsize", "100S\n          90            1\n")
        writeFile(dir + "/warn", "Subject: full\n\nFull.\n")
        let (_, end, _) = try runFilter("to \"\(dir)/Maildir\"\n") {
            $0.quotaWarnPercent = 80
            $0.quotaWarnFile = dir + "/warn"
        }
        guard case .fatal("maildir over quota.")? = end else { Issue.record("\(String(describing: end))"); return }
        #expect(files(in: dir + "/Maildir/new").count == 1)
    }
}

@Suite struct MaildropCacheTests {
    @Test func lookupFileIsReadOnceAndAgainWhenChanged() throws {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        let list = dir + "/list"
        writeFile(list, "joe@example\\.com\n")
        let filter = "A = lookup(\"joe@example.com\", \"\(list)\")\nB = lookup(\"ann@example.com\", \"\(list)\")\n"
        let statements = try MaildropParser.parse(Array(filter.utf8))
        let i = MaildropInterpreter(message: sampleMessage, fileName: "t.mf", environment: [:], embedded: false)
        try i.run(statements)
        #expect(i.get("A") == "1" && i.get("B") == "0")
        #expect(i.lookupCache.count == 1)
        let first = i.lookupCache.values.first
        try i.run(statements)
        #expect(i.lookupCache.values.first === first)
        writeFile(list, "joe@example\\.com\nann@.*\n")
        try i.run(statements)
        #expect(i.get("B") == "1")
        #expect(i.lookupCache.values.first !== first)
    }

    @Test func patternsAreCompiledOncePerTextOfThePattern() throws {
        let i = MaildropInterpreter(message: sampleMessage, fileName: "t.mf", environment: [:], embedded: false)
        let pattern = MaildropPattern(source: "^Subject: .*$WORD", options: "")
        i.set("WORD", "FREE")
        let a = i.compiled(pattern)
        #expect(i.compiled(pattern) === a)
        #expect(a.source == "^Subject: .*FREE")
        #expect(a.simple != nil)
        i.set("WORD", "lunch")
        let b = i.compiled(pattern)
        #expect(b !== a)
        #expect(b.source == "^Subject: .*lunch")
    }

    @Test func gdbmStoreWritesDurablyWithoutLeftovers() throws {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        let (i, _, _) = try runFilter("gdbmopen(\"\(dir)/db\", \"C\")\nA = gdbmstore(\"k\", \"v\")\nB = gdbmstore(\"k2\", \"v2\")\ngdbmopen(\"\(dir)/db\")\nC = gdbmfetch(\"k2\")\n")
        #expect(i.get("A") == "0" && i.get("B") == "0" && i.get("C") == "v2")
        #expect(files(in: dir) == ["db"])
        #expect(readText(dir + "/db") == "k\tv\nk2\tv2\n")
        #expect(SystemCall.directoryName(of: "a/b/c") == "a/b")
        #expect(SystemCall.directoryName(of: "c") == ".")
        #expect(SystemCall.directoryName(of: "/c") == "/")
    }
}

@Suite struct SimplePatternProbeTests {
    /// The fuzz target's check on the unit tests' patterns and texts: never a disagreement, and
    /// most pairs really compared.
    @Test func probeAgreesOnTheKnownCases() {
        var compared = 0
        for caseless in [true, false] {
            for pattern in SimplePatternTests.patterns {
                for text in SimplePatternTests.texts {
                    let verdict = SimplePatternProbe.compare(pattern: pattern, text: text, caseless: caseless)
                    if case .disagree(let why) = verdict { Issue.record("/\(pattern)/ on \(text): \(why)") }
                    if verdict == .sameMatch || verdict == .bothMiss { compared += 1 }
                }
            }
        }
        #expect(compared > 2000)
        #expect(SimplePatternProbe.compare(pattern: "a{2}", text: "aa", caseless: true) == .notInSubset)
        #expect(SimplePatternProbe.compare(pattern: "caf", text: "caf\u{E9}", caseless: true) == .declined)
        #expect(SimplePatternProbe.compare(pattern: "^(Re|Fwd): *(.*)", text: "fwd: x", caseless: true) == .sameMatch)
        #expect(SimplePatternProbe.compare(pattern: "^(Re|Fwd): *(.*)", text: "fwd: x", caseless: false) == .bothMiss)
    }
}

/// Fuzz/seeds/SimplePattern replayed through the fuzz target's check (findings stay tested).
@Suite struct SimplePatternSeedReplayTests {
    static let seedDirectory: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/Fuzz/seeds/SimplePattern"
    }()

    @Test func seedsAgree() {
        let names = files(in: Self.seedDirectory)
        #expect(names.count >= 13)
        for name in names {
            guard let bytes = ByteInput.readFile(Self.seedDirectory + "/" + name),
                  let (pattern, text, caseless) = SimplePatternProbe.decodeEitherMode(bytes) else {
                Issue.record("unreadable seed \(name)")
                continue
            }
            if case .disagree(let why) = SimplePatternProbe.compare(pattern: pattern, text: text, caseless: caseless) {
                Issue.record("\(name): /\(pattern)/ on \(text): \(why)")
            }
        }
    }
}

@Suite struct MaildropNumberFormatTests {
    /// Whole numbers take a fast path; everything must print as %.22g does.
    @Test func formatIsPercent22g() {
        let cases: [(Double, String)] = [
            (0, "0"), (-0.0, "-0"), (3, "3"), (-7, "-7"), (20, "20"), (999_999_999_999_999, "999999999999999"),
            (1e15, "1000000000000000"), (1e22, "1e+22"), (1e21, "1000000000000000000000"), (0.1, "0.1000000000000000055511"),
            (2.5, "2.5"), (-0.5, "-0.5"), (1.0 / 3.0, "0.3333333333333333148296"),
        ]
        for (value, text) in cases {
            #expect(MaildropValue.format(value) == text, "\(value)")
        }
    }
}

@Suite struct MaildropTrustedIncludeTests {
    /// An embedded filter may include the site's maildroprcs files, which run with full powers
    /// after DEFAULT and friends are reset; other files stay restricted.
    @Test func maildroprcsFilesLiftEmbeddedRestrictions() throws {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        makeMaildir(dir + "/Maildir")
        mkdir(dir + "/maildroprcs", 0o755)
        writeFile(dir + "/maildroprcs/deliver", "X = $DEFAULT\nto \"\(dir)/Maildir\"\n")
        writeFile(dir + "/maildroprcs/with.dot", "to \"\(dir)/Maildir\"\n")
        writeFile(dir + "/plain", "to \"\(dir)/Maildir\"\n")
        func run(_ filter: String) throws -> (MaildropInterpreter, MaildropInterruption?) {
            let statements = try MaildropParser.parse(Array(filter.utf8), embedded: true)
            let i = MaildropInterpreter(message: sampleMessage, fileName: "t.mf", environment: [:], embedded: true)
            i.variables = ["SHELL": "/bin/sh", "EXITCODE": "0", "UMASK": "077", "DEFAULT": "./Maildir"]
            i.trustedIncludeDirectory = dir + "/maildroprcs/"
            i.resetValues = ["DEFAULT": "./Maildir"]
            do throws(MaildropInterruption) {
                try i.run(statements)
                return (i, nil)
            } catch {
                return (i, error)
            }
        }
        let (i, end) = try run("DEFAULT = \"elsewhere\"\ninclude \"\(dir)/maildroprcs/deliver\"\n")
        guard case .terminate(0)? = end else { Issue.record("\(String(describing: end))"); return }
        #expect(i.get("X") == "./Maildir")
        #expect(files(in: dir + "/Maildir/new").count == 1)
        for path in [dir + "/maildroprcs/with.dot", dir + "/plain"] {
            let (_, refused) = try run("include \"\(path)\"\n")
            guard case .syntax(_, let e)? = refused else { Issue.record("\(path): \(String(describing: refused))"); continue }
            #expect(e.preface == "maildrop: 'to' disabled in embedded mode.")
        }
        #expect(files(in: dir + "/Maildir/new").count == 1)
    }
}
