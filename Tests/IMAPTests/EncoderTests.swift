import Testing
@testable import IMAP

@Suite struct EncoderTests {
    func text(_ body: (inout ResponseWriter) -> Void) -> String {
        var w = ResponseWriter()
        body(&w)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    @Test func strings() {
        #expect(text { $0.string("plain") } == "\"plain\"")
        #expect(text { $0.string(#"a "b" \c"#) } == #""a \"b\" \\c""#)
        #expect(text { $0.string("two\r\nlines") } == "{10}\r\ntwo\r\nlines")
        #expect(text { $0.string("caf\u{e9}") } == "{5}\r\ncaf\u{e9}")
        #expect(text { $0.utf8Allowed = true; $0.string("caf\u{e9}") } == "\"caf\u{e9}\"")
        #expect(text { $0.nstring(nil as [UInt8]?) } == "NIL")
        #expect(text { $0.tagged(Array("a1".utf8), .ok, .readWrite, "Ok") } == "a1 OK [READ-WRITE] Ok\r\n")
        #expect(text { $0.untaggedStatus(.no, nil, "bad\r\ntext") } == "* NO bad  text\r\n")
    }

    @Test func responseCodes() {
        #expect(text { $0.tagged(Array("a".utf8), .ok, .copyUID(uidValidity: 38505, source: [304, 319, 320], destination: [3956, 3957, 3958]), "Done") }
                == "a OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n")  // RFC 4315 §3 example
        #expect(text { $0.tagged(Array("a".utf8), .ok, .appendUID(uidValidity: 38505, uids: [3955]), "APPEND completed") }
                == "a OK [APPENDUID 38505 3955] APPEND completed\r\n")
        #expect(text { $0.untaggedStatus(.ok, .permanentFlags([.deleted, .seen], wildcard: true), "Limited") }
                == "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n")
    }

    /// RFC 3501 §7.4.2 example envelope.
    @Test func envelope() {
        var e = Envelope()
        e.date = Array("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)".utf8)
        e.subject = Array("IMAP4rev1 WG mtg summary and minutes".utf8)
        e.from = [EnvelopeAddress(name: Array("Terry Gray".utf8), mailbox: Array("gray".utf8), host: Array("cac.washington.edu".utf8))]
        e.to = [EnvelopeAddress(name: nil, mailbox: Array("imap".utf8), host: Array("cac.washington.edu".utf8))]
        e.cc = [EnvelopeAddress(name: nil, mailbox: Array("minutes".utf8), host: Array("CNRI.Reston.VA.US".utf8)),
                EnvelopeAddress(name: Array("John Klensin".utf8), mailbox: Array("KLENSIN".utf8), host: Array("MIT.EDU".utf8))]
        e.messageID = Array("<B27397-0100000@cac.washington.edu>".utf8)
        #expect(text { $0.envelope(e) } == #"("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL "<B27397-0100000@cac.washington.edu>")"#)
    }

    /// RFC 3501 §7.4.2 BODY example: a multipart/mixed with two text parts.
    @Test func bodyStructure() {
        var plain = BodyStructure.SinglePart(type: Array("TEXT".utf8), subtype: Array("PLAIN".utf8), encoding: Array("7BIT".utf8), size: 1152)
        plain.parameters = [.init(name: Array("CHARSET".utf8), value: Array("US-ASCII".utf8))]
        plain.lines = 23
        var other = BodyStructure.SinglePart(type: Array("TEXT".utf8), subtype: Array("PLAIN".utf8), encoding: Array("BASE64".utf8), size: 4554)
        other.parameters = [.init(name: Array("CHARSET".utf8), value: Array("US-ASCII".utf8)), .init(name: Array("NAME".utf8), value: Array("cc.diff".utf8))]
        other.id = Array("<960723163407.20117h@cac.washington.edu>".utf8)
        other.description = Array("Compiler diff".utf8)
        other.lines = 73
        let body = BodyStructure.multipart(.init(parts: [.single(plain), .single(other)], subtype: Array("MIXED".utf8)))
        #expect(text { $0.bodyStructure(body, extended: false) } == #"(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") "<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73) "MIXED")"#)
        #expect(text { $0.bodyStructure(body, extended: true) }.hasSuffix(#" "MIXED" NIL NIL NIL NIL)"#))
    }
}
