import Testing
@testable import MailQueue

private func header(ret: DSNReturn? = nil, envid: String? = nil, sender: String = "alice@example.test") -> QueuedMessageHeader {
    QueuedMessageHeader(id: QueueID("0000000000000001.00000001.00000001"), submitted: 1_700_000_000, expires: 0,
                        envelope: QueueEnvelope(sender: sender,
                                                recipients: [QueueRecipient(address: "bob@example.test")],
                                                dsnReturn: ret, envelopeID: envid, clientAddress: "192.0.2.1",
                                                heloName: "client.example"))
}

struct DSNReportTests {
    let report = DSNReport(me: "mx.example.test", from: "\"Courier mail server at mx.example.test\" <@>", limit: 100)

    @Test func failureCarriesTheWholeSmallMessage() {
        let body = Array("Subject: hi\n\nbody\n".utf8)
        let entry = DSNReport.Entry(recipient: QueueRecipient(address: "bob@example.test", originalRecipient: "rfc822;Bob@example.test"),
                                    action: .failed, text: "User <bob@example.test> unknown.")
        let text = String(decoding: report.build(to: "alice@example.test", header: header(envid: "abc"), body: body,
                                                 entries: [entry], now: 1_700_000_100, messageID: "x"), as: UTF8.self)
        #expect(text.contains("Content-Type: multipart/report; report-type=delivery-status;\n    boundary=\"=_courier_0\""))
        #expect(text.contains("Reporting-MTA: dns; mx.example.test\n"))
        #expect(text.contains("Original-Envelope-Id: abc\n"))
        #expect(text.contains("Received-From-MTA: dns; client.example ([192.0.2.1])\n"))
        #expect(text.contains("Final-Recipient: rfc822; bob@example.test\nAction: failed\nOriginal-Recipient: rfc822; Bob@example.test\nStatus: 5.0.0\n"))
        #expect(text.contains("Content-Type: message/rfc822\n"))
        #expect(text.contains("\nbody\n"))
        #expect(text.hasSuffix("\n--=_courier_0--\n"))
    }

    @Test func remoteReplyIsReportedAsGiven() {
        let entry = DSNReport.Entry(recipient: QueueRecipient(address: "bob@example.test"), action: .failed,
                                    text: "550 5.1.1 no such user here")
        let text = String(decoding: report.build(to: "alice@example.test", header: header(), body: Array("S: x\n\nb\n".utf8),
                                                 entries: [entry], now: 1_700_000_100, messageID: "x"), as: UTF8.self)
        #expect(text.contains("Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 no such user here\n"))
        #expect(DSNReport.replyCode("554 go away")?.status == "5.0.0")
        #expect(DSNReport.replyCode("550 4.1.1 mismatched class")?.status == "5.0.0")
        #expect(DSNReport.replyCode("User <x> unknown.") == nil)
        #expect(DSNReport.replyCode("999 x") == nil)
    }

    @Test func remoteMTANamesTheServerThatRefused() {
        let remote = DSNReport.Entry(recipient: QueueRecipient(address: "bob@example.test"), action: .failed,
                                     text: "550 5.1.1 no such user here", remoteMTA: "mx.example.net")
        let local = DSNReport.Entry(recipient: QueueRecipient(address: "carol@example.test"), action: .failed,
                                    text: "User <carol@example.test> unknown.")
        let text = String(decoding: report.build(to: "alice@example.test", header: header(), body: Array("S: x\n\nb\n".utf8),
                                                 entries: [remote, local], now: 1_700_000_100, messageID: "x"), as: UTF8.self)
        // RFC 3464 §2.3.5, after Status: as courierdsn writes it.
        #expect(text.contains("Status: 5.1.1\nRemote-MTA: dns; mx.example.net\nDiagnostic-Code: smtp; 550 5.1.1 no such user here\n"))
        #expect(text.split(separator: "Remote-MTA:").count == 2)
        let entries = DSNGenerator.entries(failed: [FailedRecipient(index: 0, recipient: QueueRecipient(address: "b@x.y"),
                                                                    reason: "550 no", remoteMTA: "[192.0.2.7]")],
                                           delivered: [])
        #expect(entries.first?.remoteMTA == "[192.0.2.7]")
    }

    @Test func headersOnlyWhenLargeOrRetHdrsOrSuccess() {
        let big = Array(("Subject: big\n\n" + String(repeating: "x", count: 200) + "\n").utf8)
        let failed = DSNReport.Entry(recipient: QueueRecipient(address: "bob@example.test"), action: .failed, text: "no")
        var text = String(decoding: report.build(to: "a@b.c", header: header(), body: big, entries: [failed], now: 0, messageID: "x"), as: UTF8.self)
        #expect(text.contains("text/rfc822-headers") && !text.contains("xxxx"))
        let small = Array("Subject: s\n\nbody\n".utf8)
        text = String(decoding: report.build(to: "a@b.c", header: header(ret: .headers), body: small, entries: [failed], now: 0, messageID: "x"), as: UTF8.self)
        #expect(text.contains("text/rfc822-headers") && !text.contains("\nbody\n"))
        let ok = DSNReport.Entry(recipient: QueueRecipient(address: "bob@example.test"), action: .delivered, text: "Ok")
        text = String(decoding: report.build(to: "a@b.c", header: header(), body: small, entries: [ok], now: 0, messageID: "x"), as: UTF8.self)
        #expect(text.contains("Action: delivered\n") && text.contains("Status: 2.0.0") && text.contains("text/rfc822-headers"))
    }

    @Test func boundaryAvoidsTheOriginal() {
        #expect(DSNReport.boundaryNumber(avoiding: Array("--=_courier_0\n--=_courier_12\nx\n".utf8)) == 2)
        #expect(DSNReport.boundaryNumber(avoiding: Array("a --=_courier_0\n".utf8)) == 0)
    }

    @Test func notifyDecidesWhatIsReported() {
        func recipient(_ notify: DSNNotify) -> QueueRecipient { QueueRecipient(address: "r@x.y", notify: notify) }
        let failed = [FailedRecipient(index: 0, recipient: recipient([]), reason: "a"),
                      FailedRecipient(index: 1, recipient: recipient(.never), reason: "b"),
                      FailedRecipient(index: 2, recipient: recipient(.success), reason: "c"),
                      FailedRecipient(index: 3, recipient: recipient([.failure, .delay]), reason: "d")]
        let delivered = [DeliveredRecipient(index: 4, recipient: recipient([]), text: "e"),
                         DeliveredRecipient(index: 5, recipient: recipient([.success, .failure]), text: "f")]
        let entries = DSNGenerator.entries(failed: failed, delivered: delivered)
        #expect(entries.map(\.text) == ["f", "a", "d"])
    }

    /// spec/mta.md §4.8: NOTIFY=SUCCESS to a server without DSN is "relayed"; to one with DSN
    /// NOTIFY went along and we report nothing.
    @Test func successHandedToAnotherServer() {
        let success = QueueRecipient(address: "r@x.y", notify: .success)
        let delivered = [
            DeliveredRecipient(index: 0, recipient: success, text: "mx.x.y [192.0.2.1]: 250 ok", relayedTo: "mx.x.y",
                               reply: "250 2.0.0 ok", dsnPassedOn: false),
            DeliveredRecipient(index: 1, recipient: success, text: "mx.x.y [192.0.2.1]: 250 ok", relayedTo: "mx.x.y",
                               reply: "250 2.0.0 ok", dsnPassedOn: true),
            DeliveredRecipient(index: 2, recipient: success, text: "delivered to ./Maildir"),
        ]
        let entries = DSNGenerator.entries(failed: [], delivered: delivered)
        #expect(entries.map(\.action) == [.relayed, .delivered])
        #expect(entries[0].text == "250 2.0.0 ok" && entries[0].remoteMTA == "mx.x.y")
        let text = String(decoding: DSNReport(me: "me.example", from: "robot").build(
            to: "s@here.example", header: header(), body: Array("Subject: x\n\nbody\n".utf8), entries: [entries[0]],
            now: 1_700_000_100, messageID: "m"), as: UTF8.self)
        #expect(text.contains("Action: relayed\nStatus: 2.0.0\nRemote-MTA: dns; mx.x.y\nDiagnostic-Code: smtp; 250 2.0.0 ok\n"))
        #expect(text.contains("DELIVERED TO A MAIL GATEWAY"))
    }

    /// The text part shows the server, the command it refused and its reply (spec/mta.md §4.9).
    @Test func transcriptNamesServerCommandAndReply() {
        let entry = DSNReport.Entry(recipient: QueueRecipient(address: "gone@x.y"), action: .failed,
                                    text: "550 5.1.1 no such user", remoteMTA: "mx.x.y", command: "RCPT TO:<gone@x.y>")
        let text = String(decoding: DSNReport(me: "me.example", from: "robot").build(
            to: "s@here.example", header: header(), body: Array("Subject: x\n\nbody\n".utf8), entries: [entry],
            now: 1_700_000_100, messageID: "m"), as: UTF8.self)
        #expect(text.contains("<gone@x.y>:\n     mx.x.y:\n >>> RCPT TO:<gone@x.y>\n <<< 550 5.1.1 no such user\n"))
        let greeting = DSNReport.Entry(recipient: QueueRecipient(address: "a@x.y"), action: .failed,
                                       text: "554 go away", remoteMTA: "mx.x.y", command: "(greeting)")
        let other = String(decoding: DSNReport(me: "me.example", from: "robot").build(
            to: "s@here.example", header: header(), body: Array("Subject: x\n\nbody\n".utf8), entries: [greeting],
            now: 1_700_000_100, messageID: "m"), as: UTF8.self)
        #expect(other.contains("<a@x.y>:\n     mx.x.y:\n <<< 554 go away\n"))
    }

    /// An expired recipient's last reply may be transient; the failure's Status stays 5.x.x.
    @Test func failedStatusIsPermanentEvenAfterATransientReply() {
        let entry = DSNReport.Entry(recipient: QueueRecipient(address: "r@x.y"), action: .failed,
                                    text: "451 4.3.0 Message expired: last attempt deferred")
        let text = String(decoding: DSNReport(me: "me.example", from: "robot").build(
            to: "s@here.example", header: header(), body: Array("Subject: x\n\nbody\n".utf8), entries: [entry],
            now: 1_700_000_100, messageID: "m"), as: UTF8.self)
        #expect(text.contains("Action: failed\nStatus: 5.0.0\n"))
    }

    /// A server's reply is the server's text: 800 KiB of it must not make a line of the report
    /// longer than RFC 5322 allows, and 8-bit text in it makes its parts say 8bit, as Courier's do.
    @Test func remoteReplyIsBoundedAndItsEightBitTextLabelled() {
        let long = "550 5.1.1 n\u{FC}t here " + String(repeating: "\u{E9}x", count: 5_000)
        let entry = DSNReport.Entry(recipient: QueueRecipient(address: "bob@example.test"), action: .failed, text: long,
                                    remoteMTA: "mx.example.net")
        let bytes = report.build(to: "alice@example.test", header: header(), body: Array("S: x\n\nb\n".utf8),
                                 entries: [entry], now: 1_700_000_100, messageID: "x")
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let diagnostic = lines.first { $0.hasPrefix("Diagnostic-Code: ") }
        #expect(diagnostic?.hasPrefix("Diagnostic-Code: smtp; 550 5.1.1 n\u{FC}t here \u{E9}x\u{E9}x") == true)
        #expect((diagnostic?.utf8.count ?? 0) <= 998)
        #expect(lines.allSatisfy { $0.utf8.count <= 998 })
        #expect(text.contains("Content-Type: message/delivery-status\nContent-Transfer-Encoding: 8bit\n"))
        // RFC 2045 §6.4: the multipart is 8bit when a part is, though the returned header is ASCII.
        #expect(text.split(separator: "\n\n", maxSplits: 1).first?.contains("Content-Transfer-Encoding: 8bit") == true)
        let plain = DSNReport.Entry(recipient: QueueRecipient(address: "bob@example.test"), action: .failed, text: "550 no")
        let ascii = String(decoding: report.build(to: "alice@example.test", header: header(), body: Array("S: x\n\nb\n".utf8),
                                                  entries: [plain], now: 1_700_000_100, messageID: "x"), as: UTF8.self)
        #expect(ascii.split(separator: "\n\n", maxSplits: 1).first?.contains("Content-Transfer-Encoding: 7bit") == true)
        #expect(ascii.contains("Content-Type: message/delivery-status\nContent-Transfer-Encoding: 7bit\n"))
    }

    /// spec/mta.md §4.9: a report about a message with the null sender (a double bounce to the
    /// postmaster) returns that message whole, even above dsnlimit.
    @Test func doubleBounceReturnsTheWholeMessage() {
        let big = Array(("Subject: a bounce\n\n" + String(repeating: "y", count: 300) + "\n").utf8)
        let failed = DSNReport.Entry(recipient: QueueRecipient(address: "alice@example.test"), action: .failed, text: "550 no")
        let text = String(decoding: report.build(to: "postmaster", header: header(sender: ""), body: big, entries: [failed],
                                                 now: 0, messageID: "x"), as: UTF8.self)
        #expect(text.contains("Content-Type: message/rfc822\n") && text.contains(String(repeating: "y", count: 300)))
    }
}
