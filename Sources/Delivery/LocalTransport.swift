#if canImport(Glibc)
import Glibc
#endif
import Logging
import MailCore
import MailConfig
import MaildirCore
import MailQueue

/// The local transport (spec/mta.md §5.2): aliases, `.courier` instructions, DEFAULTDELIVERY,
/// Maildir (with quota) and mbox deliveries, programs run as the mailbox owner, forwards.
/// Runs on a thread-pool thread (it blocks). Forwards are enqueued as `sendmail`-style drops
/// in `var/queue/incoming/` so they are durable before the recipient counts as delivered.
public struct LocalTransport: DeliveryAgent {
    public let router: AddressRouter
    public let queueDirectory: String
    /// The site's config root, passed to programs as `COURIER_ROOT`.
    let configRoot: String
    /// `DEFAULTDELIVERY` from `courierd` (default `./Maildir`).
    public let defaultDelivery: String
    let path: String
    let maximumAliasDepth = 8

    public init(router: AddressRouter) {
        self.router = router
        self.queueDirectory = router.site.root.queue
        self.configRoot = router.site.root.path
        self.defaultDelivery = router.site.courierd["DEFAULTDELIVERY"] ?? "./Maildir"
        self.path = router.site.courierd["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    }

    public func deliver(_ request: DeliveryRequest) -> DeliveryOutcome {
        let address = request.recipient.address
        // Accounts only the auth modules know (authpgsql): this is a delivery thread, so it
        // may wait for the lookup. A database that is down defers, never bounces.
        let resolved: ResolvedAddress
        switch router.resolveThroughAuthWaiting(address) {
        case .temporaryFailure(let reason): return .deferred("Account lookup failed temporarily: \(reason)")
        case .resolved(let answer): resolved = answer
        }
        switch resolved {
        case .remote:
            // Remote addresses go to the esmtp transport (CourierTransport); one reaching here
            // became remote after it was routed (a control file changed): the next pass routes it again.
            return .deferred("Remote address: left for the esmtp transport.")
        case .unknown:
            return .failed("User <\(address)> unknown.")
        case let .alias(targets):
            return forward(request, to: targets, from: address, marker: "alias")
        case let .account(account, ext, recipient):
            return deliver(request, account: account, ext: ext, recipient: recipient)
        }
    }

    func deliver(_ request: DeliveryRequest, account: LocalAccount, ext: String, recipient: String) -> DeliveryOutcome {
        let lines = EnvelopeLines(sender: Self.returnPath(request), recipient: recipient,
                                  time: request.header.submitted)
        if HeaderScan.hasDeliveredTo(request.body, recipient: recipient) {
            return .failed("Mail loop - already have my Delivered-To: header.")
        }
        guard let file = DotCourierFile.find(home: account.home, extension: ext) else {
            return .failed("User <\(recipient)> unknown.")
        }
        var instructions: [DeliveryInstruction]
        var info = stat()
        if lstat(file.path, &info) == 0 {
            if info.st_mode & 0o002 != 0 { return .deferred("\(file.path) is world-writable.") }
            guard let bytes = try? readFile(file.path) else { return .deferred("Cannot read \(file.path).") }
            if bytes.isEmpty {
                instructions = defaultInstructions(account)
            } else {
                instructions = DotCourierParser.parse(bytes)
                if instructions.isEmpty { return .delivered("Message discarded by \(file.path).") }
            }
        } else {
            instructions = defaultInstructions(account)
        }
        let context = InstructionContext(request: request, account: account, ext: ext, defaultPart: file.defaultPart,
                                         recipient: recipient, lines: lines)
        return run(instructions, context: context, depth: 0)
    }

    /// The account's own default (its maildir; from authpgsql with PGSQL_DEFAULTDELIVERY, a
    /// value starting with `|` or `!`, or of several lines, is `.courier` instructions), else
    /// courierd's DEFAULTDELIVERY.
    func defaultInstructions(_ account: LocalAccount) -> [DeliveryInstruction] {
        if let maildir = account.maildir, !maildir.isEmpty {
            if maildir.hasPrefix("|") || maildir.hasPrefix("!") || maildir.contains("\n") {
                return DotCourierParser.parse(Array(maildir.utf8))
            }
            return [.mailbox(maildir)]
        }
        return DotCourierParser.parse(Array(defaultDelivery.replacingEscapedNewlines.utf8))
    }

    struct InstructionContext {
        var request: DeliveryRequest
        var account: LocalAccount
        var ext: String
        var defaultPart: String
        var recipient: String
        var lines: EnvelopeLines
    }

    func run(_ instructions: [DeliveryInstruction], context: InstructionContext, depth: Int) -> DeliveryOutcome {
        var notes: [String] = []
        for (number, instruction) in instructions.enumerated() {
            let token = DeliveryToken.make(context.request, instruction: depth * 100 + number)
            switch instruction {
            case let .mailbox(path):
                let full = path.hasPrefix("/") ? path : context.account.home + "/" + path.drop { $0 == "." || $0 == "/" }
                let outcome = MailboxWriter.deliver(to: full, context: context, token: token)
                guard case let .delivered(text) = outcome else { return outcome }
                notes.append(text)
            case let .program(command), let .dynamic(command):
                let result = ProgramRunner.run(command: command, input: context.request.body,
                                               environment: environment(context), uid: context.account.uid,
                                               gid: context.account.gid, directory: context.account.home)
                let text = String(decoding: result.output.prefix(4096), as: UTF8.self)
                if result.status == 0 || result.status == 99 {
                    if case .dynamic = instruction {
                        guard depth < 3 else { return .failed("Maximum recursion level for dynamic delivery instructions exceeded.") }
                        let outcome = run(DotCourierParser.parse(result.output), context: context, depth: depth + 1)
                        guard case let .delivered(more) = outcome else { return outcome }
                        notes.append(more)
                    } else {
                        notes.append("delivered to program")
                    }
                    if result.status == 99 { break }
                    continue
                }
                let reason = text.isEmpty ? "Program \(command) exited with status \(result.status)." : text
                return ProgramRunner.permanentFailures.contains(result.status) ? .failed(reason) : .deferred(reason)
            case let .forward(addresses):
                let outcome = forward(context.request, to: addresses, from: context.recipient, marker: "i\(number)d\(depth)")
                guard case let .delivered(text) = outcome else { return outcome }
                notes.append(text)
            }
        }
        return .delivered(notes.isEmpty ? "Message delivered." : notes.joined(separator: "; "))
    }

    func environment(_ context: InstructionContext) -> [String: String] {
        let recipient = context.recipient
        let at = recipient.lastIndex(of: "@")
        let ext = context.ext
        func tail(_ text: String) -> String {
            guard let dash = text.firstIndex(of: "-") else { return "" }
            return String(text[text.index(after: dash)...])
        }
        return [
            "HOME": context.account.home, "USER": context.account.name, "SENDER": Self.returnPath(context.request),
            "RECIPIENT": recipient, "HOST": at.map { String(recipient[recipient.index(after: $0)...]) } ?? "localhost",
            "LOCAL": at.map { String(recipient[..<$0]) } ?? recipient,
            "EXT": ext, "EXT2": tail(ext), "EXT3": tail(tail(ext)), "EXT4": tail(tail(tail(ext))),
            "DEFAULT": context.defaultPart, "UFLINE": context.lines.fromLine, "RPLINE": context.lines.returnPath,
            "DTLINE": context.lines.deliveredTo, "PATH": path, "MAILDIRQUOTA": context.account.quota ?? "",
            "MAILDROPDEFAULT": "./Maildir", "SHELL": "/bin/sh",
            // The site's tools (maildrop, sendmail, deliverquota) find the config root here.
            "COURIER_ROOT": configRoot,
        ]
    }

    /// The sender this delivery reports (Return-Path, SENDER): with VERP, the envelope sender
    /// with this recipient encoded in it, as the esmtp transport sends it (spec/mta.md, VERP).
    static func returnPath(_ request: DeliveryRequest) -> String {
        let envelope = request.header.envelope
        return envelope.verp ? VERPAddress.sender(envelope.sender, for: request.recipient.address) : envelope.sender
    }

    /// Enqueues a copy for `addresses` with `Delivered-To: <from>` prepended (loop protection).
    func forward(_ request: DeliveryRequest, to addresses: [String], from: String, marker: String) -> DeliveryOutcome {
        let targets = addresses.filter { !$0.hasPrefix(":include:") && !$0.hasPrefix("|") && !$0.hasPrefix("/") }
        guard !targets.isEmpty else { return .failed("Alias target kinds not supported yet: \(addresses).") }
        let header = Array("Delivered-To: \(from)\n".utf8)
        let envelope = QueueEnvelope(sender: request.header.envelope.sender,
                                     recipients: targets.map { QueueRecipient(address: $0, notify: .failure,
                                                                              originalRecipient: "rfc822;" + from) })
        do {
            let id = try IncomingDrop.write(queueDirectory: queueDirectory, envelope: envelope,
                                            body: header + request.body,
                                            queueTime: Int(request.header.expires - request.header.submitted))
            return .delivered("forwarded to \(targets.joined(separator: ", ")) as \(id)")
        } catch {
            return .deferred("Cannot forward: \(error)")
        }
    }

    func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DeliveryFileError() }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw DeliveryFileError() }
            if count == 0 || result.count > 1 << 20 { break }
            result += chunk[0..<count]
        }
        return result
    }
}

struct DeliveryFileError: Error {}

extension String {
    /// `DEFAULTDELIVERY="|| dotforward\n./Maildir"`: a literal `\n` separates lines.
    var replacingEscapedNewlines: String {
        var result = ""
        var iterator = makeIterator()
        while let character = iterator.next() {
            if character == "\\" {
                if let next = iterator.next() {
                    result.append(next == "n" ? "\n" : next)
                }
            } else {
                result.append(character)
            }
        }
        return result
    }
}
