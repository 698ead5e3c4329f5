#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Maildrop

@Suite struct MaildropToolTests {
    @Test func filterFileMustHaveNoGroupOrWorldBits() {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        let path = dir + "/filter"
        let fd = open(path, O_WRONLY | O_CREAT, 0o600)
        close(fd)
        guard case .contents = MaildropTool.readFilter(path, optional: false) else {
            Issue.record("a 0600 file we own is accepted")
            return
        }
        chmod(path, 0o644)
        guard case .failed(let text) = MaildropTool.readFilter(path, optional: false) else {
            Issue.record("0644 must be refused")
            return
        }
        #expect(text.hasPrefix("Cannot have world/group permissions"))
        guard case .failed = MaildropTool.readFilter(dir, optional: false) else {
            Issue.record("a directory is not a filter file")
            return
        }
        guard case .missing = MaildropTool.readFilter(dir + "/none", optional: true) else {
            Issue.record("a missing .mailfilter is fine in delivery mode")
            return
        }
        guard case .failed = MaildropTool.readFilter(dir + "/none", optional: false) else {
            Issue.record("a missing filter file is an error in manual mode")
            return
        }
    }

    @Test func envelopeSenderFromReturnPath() {
        #expect(MaildropTool.envelopeSender(Array("Subject: x\nReturn-Path: <a@b.c>\n\nbody\n".utf8)) == "a@b.c")
        #expect(MaildropTool.envelopeSender(Array("Subject: x\n\nReturn-Path: <a@b.c>\n".utf8)) == "MAILER-DAEMON")
        #expect(MaildropTool.envelopeSender([]) == "MAILER-DAEMON")
    }

    @Test func gdbmFetchCandidates() {
        #expect(MaildropInterpreter.fetchCandidates("joe@a.b.com", options: "D") == ["joe@a.b.com", "joe@", "a.b.com", "b.com", "com"])
        #expect(MaildropInterpreter.fetchCandidates("10.1.2.3", options: "I") == ["10.1.2.3", "10.1.2", "10.1", "10"])
    }
}

@Suite struct MaildropPrefilterTests {
    @Test func requiredPrefixOfAnchoredPatterns() {
        #expect(MaildropInterpreter.requiredPrefix("^Subject: *abc") == Array("subject:".utf8))
        #expect(MaildropInterpreter.requiredPrefix("^X-Spam-Flag: *YES") == Array("x-spam-flag:".utf8))
        #expect(MaildropInterpreter.requiredPrefix("^Froma*") == Array("from".utf8))
        #expect(MaildropInterpreter.requiredPrefix("^(To|Cc):").isEmpty)
        #expect(MaildropInterpreter.requiredPrefix("^To:|Cc:").isEmpty)
        #expect(MaildropInterpreter.requiredPrefix("Subject:").isEmpty)
        #expect(MaildropInterpreter.hasPrefix(Array("SUBJECT: hi".utf8), Array("subject:".utf8)))
        #expect(!MaildropInterpreter.hasPrefix(Array("Subj".utf8), Array("subject:".utf8)))
        #expect(MaildropInterpreter.hasPrefix(Array("\u{212A}ey: x".utf8), Array("key:".utf8)))
        #expect(MaildropInterpreter.requiredText("Unsubscribe") == Array("unsubscribe".utf8))
        #expect(MaildropInterpreter.requiredText("free.*").isEmpty)
        #expect(MaildropInterpreter.mayContain(Array("Click to UNSUBSCRIBE now".utf8), Array("unsubscribe".utf8)))
        #expect(MaildropInterpreter.mayContain(Array("unsubscribe".utf8), Array("unsubscribe".utf8)))
        #expect(MaildropInterpreter.mayContain(Array("uunsubscribe".utf8), Array("unsubscribe".utf8)))
        #expect(!MaildropInterpreter.mayContain(Array("unsubscrib".utf8), Array("unsubscribe".utf8)))
        #expect(!MaildropInterpreter.mayContain(Array("nothing here".utf8), Array("unsubscribe".utf8)))
        #expect(MaildropInterpreter.mayContain(Array("caf\u{E9}".utf8), Array("unsubscribe".utf8)))
    }
}
