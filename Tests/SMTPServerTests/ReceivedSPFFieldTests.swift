import Testing
@testable import SMTPServer

/// `Received-SPF:` values from the client (MAIL FROM, HELO) cannot add key-value pairs.
@Suite struct ReceivedSPFFieldTests {
    @Test func plainAddressesAndNamesStayAsCourierWritesThem() {
        #expect(SenderPolicy.fieldValue("user+tag@example.test") == "user+tag@example.test")
        #expect(SenderPolicy.fieldValue("mx.example.test") == "mx.example.test")
    }

    @Test func separatorsSpacesAndQuotesAreQuoted() {
        #expect(SenderPolicy.fieldValue("\"a;b\"@example.test") == #""\"a;b\"@example.test""#)
        #expect(SenderPolicy.fieldValue("evil; identity=helo") == #""evil; identity=helo""#)
        #expect(SenderPolicy.fieldValue("back\\slash") == #""back\\slash""#)
        #expect(SenderPolicy.fieldValue("") == #""""#)
        #expect(SenderPolicy.fieldValue("line\r\nX-Injected: 1") == #""line  X-Injected: 1""#)
        // Not atext: an SMTPUTF8 address is a quoted string too.
        #expect(SenderPolicy.fieldValue("jos\u{e9}@example.test") == "\"jos\u{e9}@example.test\"")
    }
}
