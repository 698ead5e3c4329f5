import Glibc
import MaildirCore
import Testing
@testable import POP3

private func line(_ s: String) -> ArraySlice<UInt8> { Array(s.utf8)[...] }

private func text(_ actions: [POP3Action]) -> String {
    actions.map { action -> String in
        if case .send(let bytes) = action { return String(decoding: bytes, as: UTF8.self) }
        return ""
    }.joined()
}

private let messages = [
    POP3Message(path: "cur/1.a:2,", size: 23, uidl: "UID1-1"),
    POP3Message(path: "cur/2.b:2,", size: 40, uidl: "UID2-1", utf8: true),
]

private func session(utf8BeforeLogin: Bool = false, type: String = "message/global") -> POP3Session {
    var session = POP3Session(configuration: POP3SessionConfiguration(
        hostName: "h", unicodeMessageType: type, unicodeBoundary: "=_42-1795709431"))
    if utf8BeforeLogin { _ = session.receive(line: line("UTF8")) }
    _ = session.receive(line: line("USER alice"))
    _ = session.receive(line: line("PASS secret"))
    _ = session.loggedIn(user: "alice", messages: messages)
    return session
}

/// RFC 6856 as Courier's pop3d does it: `UTF8` (before or after login), `LANG`, and the
/// `message/global` wrapper around messages with 8-bit headers for clients that did not say
/// `UTF8` (spec/access.md §3.3).
@Suite struct POP3UnicodeTests {
    @Test func messagesWithEightBitHeadersAreWrappedUntilUTF8() {
        var plain = session()
        let wrapper = POP3UnicodeWrapper(boundary: "=_42-1795709431")
        #expect(plain.receive(line: line("RETR 1")) == [.transmit(index: 0, path: "cur/1.a:2,", size: 23, topLines: nil, wrapper: nil)])
        #expect(plain.receive(line: line("RETR 2")) == [.transmit(index: 1, path: "cur/2.b:2,", size: wrapper.wrappedSize(40),
                                                                  topLines: nil, wrapper: wrapper)])
        #expect(plain.receive(line: line("TOP 2 0")) == [.transmit(index: 1, path: "cur/2.b:2,", size: wrapper.wrappedSize(40),
                                                                   topLines: 0, wrapper: wrapper)])
        // LIST keeps the message's own size, as Courier's does.
        #expect(text(plain.receive(line: line("LIST 2"))) == "+OK 2 40\r\n")
        // Courier takes UTF8 after login too (a workaround for Outlook).
        #expect(text(plain.receive(line: line("UTF8"))) == "+OK UTF8 enabled\r\n")
        #expect(plain.receive(line: line("RETR 2")) == [.transmit(index: 1, path: "cur/2.b:2,", size: 40, topLines: nil, wrapper: nil)])

        var early = session(utf8BeforeLogin: true)
        #expect(early.utf8Enabled)
        #expect(early.receive(line: line("RETR 2")) == [.transmit(index: 1, path: "cur/2.b:2,", size: 40, topLines: nil, wrapper: nil)])
    }

    @Test func wrapperTypeComesFromConfiguration() {
        var old = session(type: "message/rfc822")
        guard case .transmit(_, _, _, _, let wrapper?) = old.receive(line: line("RETR 2")).first else {
            Issue.record("not wrapped")
            return
        }
        #expect(String(decoding: wrapper.header, as: UTF8.self).hasSuffix("--=_42-1795709431\nContent-Type: message/rfc822\n\n"))
    }

    @Test func wrappedWireFormIsAMultipartAroundTheMessage() {
        let wrapper = POP3UnicodeWrapper(boundary: "=_7-9")
        let message = Array("Subject: caf\u{e9}\n\n.dot line\nend\n".utf8)
        var encoder = POP3MessageEncoder()
        var wire: [UInt8] = []
        encoder.encode(wrapper.header, into: &wire)
        encoder.encode(message, into: &wire)
        encoder.encode(wrapper.footer, into: &wire)
        encoder.finish(into: &wire)
        let text = String(decoding: wire, as: UTF8.self)
        #expect(text.hasPrefix("From: Mail Delivery Subsystem <postmaster>\r\nSubject: Cannot display Unicode content\r\n"
            + "Mime-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_7-9\"\r\n\r\n\r\n--=_7-9\r\n"
            + "Content-Type: text/plain\r\n\r\n"))
        #expect(text.hasSuffix("--=_7-9\r\nContent-Type: message/global\r\n\r\nSubject: caf\u{e9}\r\n\r\n..dot line\r\nend\r\n\r\n--=_7-9--\r\n.\r\n"))
        // The octets RETR announces are those sent before the final ".", less the stuffed dot.
        #expect(Int64(wire.count - 3 - 1) == wrapper.wrappedSize(POP3MessageEncoder.wireSize(of: message)))
    }

    @Test func topCountsTheWrappersLines() {
        let wrapper = POP3UnicodeWrapper(boundary: "=_7-9")
        var encoder = POP3MessageEncoder(topBodyLines: 2)
        var wire: [UInt8] = []
        encoder.encode(wrapper.header, into: &wire)
        encoder.encode(Array("Subject: \u{e9}\n\nbody\n".utf8), into: &wire)
        encoder.encode(wrapper.footer, into: &wire)
        encoder.finish(into: &wire)
        #expect(String(decoding: wire, as: UTF8.self).hasSuffix("boundary=\"=_7-9\"\r\n\r\n\r\n--=_7-9\r\n.\r\n"))
    }

    @Test func languages() {
        var s = POP3Session(configuration: POP3SessionConfiguration(hostName: "h"))
        #expect(text(s.receive(line: line("LANG"))) == "+OK Language listing follows:\r\nen English\r\ni-default Default language\r\n.\r\n")
        #expect(text(s.receive(line: line("lang en"))) == "+OK en King's English\r\n")
        #expect(text(s.receive(line: line("LANG *"))) == "+OK en King's English\r\n")
        #expect(text(s.receive(line: line("LANG i-default"))) == "+OK i-default King's English\r\n")
        #expect(text(s.receive(line: line("LANG fr"))) == "-ERR Language not available.\r\n")
        var t = session()
        #expect(text(t.receive(line: line("LANG fr"))) == "-ERR Language not available.\r\n")
    }

    @Test func eightBitHeadersAreFoundInAnyPart() {
        #expect(!POP3MessageMeasure.hasEightBitHeader(Array("Subject: plain\n\nbody caf\u{e9}\n".utf8)))
        #expect(POP3MessageMeasure.hasEightBitHeader(Array("Subject: caf\u{e9}\n\nbody\n".utf8)))
        func nested(_ name: String) -> String { """
            Mime-Version: 1.0
            Content-Type: multipart/mixed; boundary="b"

            --b
            Content-Type: text/plain

            caf\u{e9} in a body is fine
            --b
            Content-Type: text/plain; name="\(name).txt"

            x
            --b--

            """
        }
        #expect(POP3MessageMeasure.hasEightBitHeader(Array(nested("r\u{e9}sum\u{e9}").utf8)))
        #expect(!POP3MessageMeasure.hasEightBitHeader(Array(nested("resume").utf8)))
    }

    @Test func loginRecordsTheUTF8FlagInTheSizeList() throws {
        var template = Array("/tmp/pop3utf8.XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        for sub in ["cur", "new", "tmp"] { mkdir(dir + "/" + sub, 0o700) }
        for (name, body) in [("100.A.h", "Subject: plain\n\ncaf\u{e9}\n"), ("101.B.h", "Subject: caf\u{e9}\n\nx\n")] {
            let fd = open(dir + "/new/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            _ = body.withCString { Glibc.write(fd, $0, strlen($0)) }
            close(fd)
        }
        let opened = try POP3Mailbox(path: dir).open(now: Int64(time(nil)))
        #expect(opened.map(\.utf8) == [false, true])
        let bytes = try #require(try SystemCall.readFile(dir + "/courierpop3dsizelist"))
        let list = POP3SizeList.parse(bytes)
        #expect(list?.entries.map(\.utf8) == [false, true])
        // And the next login takes the flag from the list.
        #expect(try POP3Mailbox(path: dir).open(now: Int64(time(nil))).map(\.utf8) == [false, true])
    }
}

