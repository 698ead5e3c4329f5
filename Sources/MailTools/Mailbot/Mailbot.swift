import MailCore
import ToolSupport
#if canImport(Glibc)
import Glibc
#endif

/// `mailbot`: Courier's autoreply tool (maildrop 2.9.3's mailbot(1); spec/tools.md §2).
///
/// SYNOPSIS
///     mailbot [options] [$MAILER arg…] < message
///
/// Reads a message, decides whether to answer it (never to bulk, list or automatic mail,
/// optionally once per sender per `-D` days), builds a MIME reply, DSN or forward and
/// prints it (`-n`) or runs the mailer on it (default `sendmail -f ''`).
///
/// EXIT STATUS
///     0 replied or decided not to; 75 usage; 65 unknown charset; 66 missing reply file;
///     74 I/O error.
public enum Mailbot {
    /// Runs mailbot with the raw bytes of argv (program name first).
    public static func run(rawArguments: [[UInt8]]) -> Int32 {
        guard let options = MailbotArgumentParser.parse(Array(rawArguments.dropFirst())) else {
            printError(MailbotUsage.text + "\n")
            return ExitStatus.tempFail
        }
        if options.feedbackType != nil, options.mode != .feedback, options.mode != .replyfeedback {
            printError("\"-T feedback\" or \"-T replyfeedback\" required\n")
            return ExitStatus.usage
        }
        guard let message = ByteInput.readAll(fd: 0) else {
            printError("mailbot: cannot read the message\n")
            return ExitStatus.ioError
        }
        let env = { (name: String) -> [UInt8]? in
            guard let p = getenv(name) else { return nil }
            return Array(String(cString: p).utf8)
        }
        // No -c: MM_CHARSET, CHARSET, else the locale's codeset, as Courier's library decides
        // (`UTF-8` under C.UTF-8, `US-ASCII` under C).
        var charset = options.charset.map { String(decoding: $0, as: UTF8.self) } ?? CharsetName.processDefault()
        guard CharsetConverter.isKnown(charset) else {
            printError("Unknown charset: \(charset)\n")
            return ExitStatus.dataError
        }
        let result = compose(message: message, options: options, charset: &charset,
                             senderEnv: env("SENDER"), now: Int(time(nil)))
        switch result {
        case .noReply: return ExitStatus.ok
        case .failed(let status, let text):
            printError(text + "\n")
            return status
        case .reply(let bytes):
            return deliver(bytes, options: options)
        }
    }

    /// What `compose` decided.
    enum Outcome {
        case noReply
        case failed(Int32, String)
        case reply([UInt8])
    }

    /// The whole decision and message generation, without sending: testable.
    static func compose(message: [UInt8], options: MailbotOptions, charset: inout String,
                        senderEnv: [UInt8]?, now: Int) -> Outcome {
        let input = MailbotInput(message)
        guard let sender = MailbotChecks.replyAddress(input, options: options, senderEnv: senderEnv) else {
            return .noReply
        }
        if MailbotChecks.isAutomaticOrBulk(input) { return .noReply }
        if let list = options.recipients, !MailbotChecks.isAddressedTo(input, list: list) { return .noReply }
        if let db = options.duplicateDB {
            guard let reply = MailbotDuplicateDB.shouldReply(path: db, sender: sender, days: options.days, now: now) else {
                return .failed(ExitStatus.ioError, "mailbot: cannot update \(String(decoding: db, as: UTF8.self))")
            }
            if !reply { return .noReply }
        }
        var opts = options
        let content: MailbotContent
        switch loadContent(&opts, charset: &charset) {
        case .failure(let f): return .failed(f.status, f.text)
        case .success(nil): return .noReply
        case .success(let c?): content = c
        }
        var out: [UInt8] = []
        for h in opts.headers {
            out.append(contentsOf: h)
            out.append(10)
        }
        out.append(contentsOf: "Precedence: junk\nAuto-Submitted: auto-replied\n".utf8)
        var builder = MailbotReplyBuilder(input: input, options: opts, charset: charset, content: content)
        out.append(contentsOf: builder.build())
        return .reply(out)
    }

    struct Failure: Error {
        var status: Int32
        var text: String
    }

    /// Reads the `-t`, `-m` or `-l` reply text. nil content: nothing to send (no draft).
    static func loadContent(_ options: inout MailbotOptions, charset: inout String) -> Result<MailbotContent?, Failure> {
        if let m = options.mimeFile {
            let name = String(decoding: m, as: UTF8.self)
            guard let bytes = ByteInput.readFile(name) else {
                return .failure(Failure(status: ExitStatus.noInput, text: "\(name): cannot open"))
            }
            return MailbotMIMEContent.load(bytes, name: name, options: &options, charset: &charset).map { $0 }
        }
        if let t = options.textFile {
            let name = String(decoding: t, as: UTF8.self)
            guard let bytes = ByteInput.readFile(name) else {
                return .failure(Failure(status: ExitStatus.noInput, text: "\(name): cannot open"))
            }
            return .success(MailbotContent(contentHeaders: nil, body: bytes))
        }
        if let folder = options.draftFolder {
            guard let draft = MailbotDraft.newest(in: String(decoding: folder, as: UTF8.self)) else {
                return .success(nil)
            }
            return .success(draft)
        }
        return .success(MailbotContent(contentHeaders: nil, body: []))
    }

    /// `-n` prints; otherwise the message becomes standard input of the mailer, which
    /// replaces this process (default `sendmail -f ''`).
    static func deliver(_ bytes: [UInt8], options: MailbotOptions) -> Int32 {
        if options.printOnly {
            let out = FDOutput(fd: 1)
            out.write(bytes)
            return out.flush() ? ExitStatus.ok : ExitStatus.ioError
        }
        var template = Array("/tmp/mailbot.XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else {
            printError("mailbot: cannot create a temporary file\n")
            return ExitStatus.ioError
        }
        unlink(template)
        let out = FDOutput(fd: fd)
        out.write(bytes)
        guard out.flush(), lseek(fd, 0, SEEK_SET) == 0, dup2(fd, 0) == 0 else {
            printError("mailbot: cannot write a temporary file\n")
            return ExitStatus.ioError
        }
        close(fd)
        let argv: [[UInt8]] = options.mailer.isEmpty
            ? [Array("sendmail".utf8), Array("-f".utf8), []]
            : options.mailer
        var cStrings: [UnsafeMutablePointer<CChar>?] = argv.map { arg in
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: arg.count + 1)
            for (i, b) in arg.enumerated() { p[i] = CChar(bitPattern: b) }
            p[arg.count] = 0
            return p
        }
        cStrings.append(nil)
        guard let program = cStrings[0] else { return ExitStatus.usage }
        execvp(program, cStrings)
        perror(program)
        return ExitStatus.tempFail
    }
}
