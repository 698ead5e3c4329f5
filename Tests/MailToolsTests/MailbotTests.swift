#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MailTools
@testable import MailCore
import ToolSupport

/// mailbot (spec/tools.md §2): decisions, reply format and quoting. Expected texts were
/// recorded from Debian's /usr/bin/mailbot (maildrop 2.9.3).
@Suite struct MailbotTests {
    static let plain = """
    From: Joe Sender <joe@example.com>
    To: You There <you@example.org>, Other <other@example.org>
    Cc: you@EXAMPLE.org, third@example.org
    Subject: Re: Fwd: Lunch
    Date: Mon, 2 Mar 2026 10:00:00 +0000
    Message-ID: <m1@example.com>
    References: <r0@example.com>

    Hello,
    > already quoted
    From the start

    --\u{20}
    Joe

    """

    static func options(_ args: [String]) -> MailbotOptions? {
        MailbotArgumentParser.parse(args.map { Array($0.utf8) })
    }

    static func compose(_ args: [String], _ message: String, now: Int = 1_000_000, sender: String? = nil) -> String? {
        guard let o = options(args) else { return nil }
        var charset = "utf-8"
        switch Mailbot.compose(message: Array(message.utf8), options: o, charset: &charset,
                               senderEnv: sender.map { Array($0.utf8) }, now: now) {
        case .reply(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .noReply: return nil
        case .failed(_, let text): return "FAILED " + text
        }
    }

    @Test func replyHeadersAndQuote() throws {
        let out = try #require(Self.compose(["-n", "-A", "From: bot@example.org"], Self.plain))
        #expect(out == """
        From: bot@example.org
        Precedence: junk
        Auto-Submitted: auto-replied
        To: Joe Sender <joe@example.com>
        References: <r0@example.com>
                    <m1@example.com>
        In-Reply-To: <m1@example.com>
        Subject: Re: Lunch
        Mime-Version: 1.0
        Content-Type: text/plain; format=flowed; delsp=yes; charset="utf-8"
        Content-Transfer-Encoding: 8bit

        Joe Sender writes:

        > Hello,
        >> already quoted
        > From the start
        >
        > --
        > Joe




        """)
    }

    @Test func replyAllDropsTheReplyAddressAndDuplicates() throws {
        let out = try #require(Self.compose(["-n", "-T", "replyall"], "Reply-To: other@EXAMPLE.ORG\n" + Self.plain))
        #expect(out.contains("\nTo: other@EXAMPLE.ORG\n"))
        // other@example.org is the To address (domain compared without case); you@ twice.
        #expect(out.contains("\nCc: You There <you@example.org>, third@example.org\n"))
    }

    @Test(arguments: [
        "Precedence: bulk\n", "Precedence: junk\n", "Precedence: list\n", "Auto-Submitted: auto-generated\n",
        "List-ID: <x.example.org>\n", "Content-Type: multipart/report; report-type=delivery-status\n",
    ])
    func noReplyToAutomaticMail(_ header: String) {
        #expect(Self.compose(["-n"], header + Self.plain) == nil)
    }

    @Test func autoSubmittedNoIsAnswered() {
        #expect(Self.compose(["-n"], "Auto-Submitted: no\n" + Self.plain) != nil)
    }

    @Test func noSenderNoReply() {
        #expect(Self.compose(["-n"], "Subject: x\n\nbody\n") == nil)
        #expect(Self.compose(["-n", "-f"], "Subject: x\n\nbody\n") == nil)
        #expect(Self.compose(["-n", "-f"], "Subject: x\n\nbody\n", sender: "env@example.net") != nil)
    }

    @Test func recipientCheck() {
        #expect(Self.compose(["-n", "-r", "nobody@example.org,THIRD@example.org"], Self.plain) != nil)
        #expect(Self.compose(["-n", "-r", "nobody@example.org"], Self.plain) == nil)
    }

    @Test func duplicateDatabaseSuppressesWithinDays() throws {
        var template = Array("/tmp/mailbot-test.XXXXXX".utf8CString)
        let dir = try #require(mkdtemp(&template).map { String(cString: $0) })
        let db = dir + "/dupdb"
        #expect(Self.compose(["-n", "-d", db], Self.plain, now: 1_000_000) != nil)
        #expect(Self.compose(["-n", "-d", db], Self.plain, now: 1_000_000 + 3600) == nil)
        #expect(Self.compose(["-n", "-d", db, "-D", "2"], Self.plain, now: 1_000_000 + 86_400 + 3600) == nil)
        #expect(Self.compose(["-n", "-d", db], Self.plain, now: 1_000_000 + 86_400 + 3600) != nil)
        let text = String(decoding: ByteInput.readFile(db + ".dat") ?? [], as: UTF8.self)
        #expect(text == "joe@example.com\t1090000\n")
        unlink(db + ".dat"); unlink(db + ".lock"); rmdir(dir)
    }

    @Test func argumentErrors() {
        #expect(Self.options(["-x"]) == nil)
        #expect(Self.options(["-T", "bogus"]) == nil)
        #expect(Self.options(["-t"]) == nil)
        #expect(Self.options(["-t", "a", "-m", "b"]) == nil)
        let o = Self.options(["-fme@x.y", "-M", "dsn@x.y", "--feedback-source-ip", "1.2.3.4", "sendmail", "-oi"])
        #expect(o?.explicitRecipient == Array("me@x.y".utf8))
        #expect(o?.mode == .replydsn)
        #expect(o?.feedbackHeaders.first?.name == Array("source-ip".utf8))
        #expect(o?.mailer.count == 2)
    }

    @Test func dsnReportParts() throws {
        let out = try #require(Self.compose(["-n", "-M", "bot@example.org", "-N"], Self.plain))
        #expect(out.contains("Content-Type: multipart/report; report-type=delivery-status;\n    boundary=\"=_"))
        #expect(out.contains("\nFinal-Recipient: rfc822; bot@example.org\nAction: delivered\nStatus: 2.0.0\n"))
        #expect(out.contains("Content-Type: text/rfc822-headers; charset=\"utf-8\"\n"))
        #expect(!out.contains("writes:"))
    }

    @Test func forwardAttachesTheOriginal() throws {
        let out = try #require(Self.compose(["-n", "-T", "forwardatt"], Self.plain))
        #expect(out.contains("Subject: Lunch (fwd)\n"))
        #expect(!out.split(separator: "\n\n", maxSplits: 1)[0].contains("\nTo: "))
        #expect(out.contains("--- Forwarded message ---\n\n--=_"))
        #expect(out.contains("Content-Type: message/rfc822\nContent-Description: Forwarded message\n\nFrom: Joe Sender"))
    }

    @Test func quotingNonFlowed() {
        let q = MailbotQuoter.quoteLines(Array("a  \n\n>b\n c\n".unicodeScalars.map(\.value)), depth: 1, flowed: false, delsp: false)
        #expect(String(String.UnicodeScalarView(q.compactMap(Unicode.Scalar.init))) == "> a\n>\n>>b\n>  c\n")
    }

    @Test func quotingFlowedKeepsSoftBreaks() {
        let text = "soft \nend\n> q\n-- \n"
        let q = MailbotQuoter.quoteLines(Array(text.unicodeScalars.map(\.value)), depth: 1, flowed: true, delsp: true)
        #expect(String(String.UnicodeScalarView(q.compactMap(Unicode.Scalar.init))) == "> soft \n> end\n>> q\n> --\n")
    }

    @Test func overlongLinesAreRewrapped() {
        let line = String(repeating: "x", count: 200)
        let q = MailbotQuoter.quoteLines(Array((line + "\n").unicodeScalars.map(\.value)), depth: 1, flowed: false, delsp: false)
        let lines = String(String.UnicodeScalarView(q.compactMap(Unicode.Scalar.init))).split(separator: "\n")
        #expect(lines.map(\.count) == [2 + 104 + 1, 2 + 73 + 1, 2 + 23])
    }

    @Test func subjectCore() {
        #expect(MailbotHeaders.coreSubject(Array("Re: RE: fwd: Hello (fwd)".utf8)) == Array("Hello".utf8))
        #expect(MailbotHeaders.coreSubject(Array("[list] Re: x".utf8)) == Array("[list] Re: x".utf8))
    }

    @Test func salutationEscapes() {
        var f = MailbotSalutation.Fields()
        f.name = Array("Joe".utf8)
        f.address = Array("joe@x.y".utf8)
        f.messageID = Array("<id>".utf8)
        let s = MailbotSalutation.expand(Array("%F <%f>%n%i 100%% %S".utf8), f)
        #expect(String(decoding: s, as: UTF8.self) == "Joe <joe@x.y>\n<id> 100% S")
    }
}
