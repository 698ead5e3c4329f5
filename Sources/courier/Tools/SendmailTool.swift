#if canImport(Glibc)
import Glibc
#endif
import MailConfig
import MailQueue
import ToolSupport

/// `sendmail` (spec/mta.md §6.1): reads a message from stdin and queues it as a durable drop in
/// `var/queue/incoming/`, so it works whether or not the daemon runs. Exit 0 once it is on
/// disk (fsynced, directory included); 75 for temporary trouble; 67 with no recipients.
enum SendmailTool {
    static let entry = ToolEntry(name: "sendmail", summary: "queue a message from stdin (Courier's sendmail options)") { args in
        run(Array(args.dropFirst()))
    }

    static func run(_ arguments: [String]) -> Int32 {
        let options: SendmailOptions
        do {
            options = try SendmailOptions.parse(arguments)
        } catch {
            printError("sendmail: \(error)")
            return 77
        }
        let root = ConfigRoot.resolve(explicit: nil, environment: ConfigRoot.processEnvironment())
        guard let site = try? ConfigLoader.load(root) else {
            printError("sendmail: cannot read the configuration in \(root.etc); try: courier check --root \(root.path)")
            return 75
        }
        if options.smtpSession {
            let user = userName()
            let now = Int64(time(nil))
            let context = SendmailMessage.Context(
                me: site.me, defaultDomain: site.defaultDomain, userName: user.name, fullName: user.fullName,
                uid: getuid(), now: now, uniquePart: hex(UInt64(now)) + "." + hex(UInt64(getpid())))
            return SendmailSMTPSession(site: site, root: root, options: options, context: context).run()
        }
        var input: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress!, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 {
                printError("sendmail: cannot read the message: \(String(cString: strerror(errno)))")
                return 75
            }
            if count == 0 { break }
            input += chunk[0..<count]
            if site.sizeLimit > 0 && input.count > site.sizeLimit + 65536 {
                printError("sendmail: message too big (sizelimit \(site.sizeLimit))")
                return 67
            }
        }
        let user = userName()
        let now = Int64(time(nil))
        let context = SendmailMessage.Context(
            me: site.me, defaultDomain: site.defaultDomain, userName: user.name, fullName: user.fullName,
            uid: getuid(), now: now, uniquePart: hex(UInt64(now)) + "." + hex(UInt64(getpid())))
        let message = SendmailMessage.prepare(input, options: options, context: context)
        guard !message.recipients.isEmpty else {
            printError("sendmail: no recipients.")
            return 67
        }
        var sender = options.sender ?? (user.name + "@" + site.me)
        if !sender.isEmpty && !sender.contains("@") { sender += "@" + site.defaultDomain }
        if sender == "<>" { sender = "" }
        let envelope = QueueEnvelope(
            sender: sender,
            recipients: message.recipients.map { QueueRecipient(address: $0, notify: options.notify) },
            dsnReturn: options.dsnReturn, envelopeID: options.envelopeID, verp: options.verp,
            clientAddress: "127.0.0.1", heloName: "localhost", authenticatedUser: nil)
        do {
            _ = try IncomingDrop.write(queueDirectory: root.queue, envelope: envelope, body: message.bytes,
                                       queueTime: site.queueTime)
            return 0
        } catch {
            printError("sendmail: Unable to submit message: \(error)")
            return 75
        }
    }

    static func userName() -> (name: String, fullName: String?) {
        let environment = ConfigRoot.processEnvironment()
        var name = environment["MAILUSER"] ?? environment["LOGNAME"] ?? environment["USER"]
        var gecos: String?
        if let entry = getpwuid(getuid()) {
            if name == nil, let pwName = entry.pointee.pw_name { name = String(cString: pwName) }
            if let field = entry.pointee.pw_gecos {
                let text = String(cString: field).split(separator: ",").first.map(String.init) ?? ""
                gecos = text.isEmpty ? nil : text
            }
        }
        return (name ?? "nobody", environment["MAILNAME"] ?? environment["NAME"] ?? gecos)
    }

    static func hex(_ value: UInt64) -> String { String(value, radix: 16, uppercase: true) }

    static func printError(_ text: String) {
        let line = Array((text + "\n").utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
