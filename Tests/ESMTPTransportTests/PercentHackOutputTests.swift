import Testing
@testable import ESMTPTransport

struct PercentHackOutputTests {
    let rewrite = PercentHackOutput(defaultDomain: "example.com", isPercentDomain: { $0 == "gateway.test" })

    private func message(_ text: String) -> String {
        String(decoding: rewrite.message(Array(text.utf8)), as: UTF8.self)
    }

    @Test func sender() {
        #expect(rewrite.sender("joe@gateway.test") == "joe%gateway.test@example.com")
        #expect(rewrite.sender("joe@Gateway.Test") == "joe%Gateway.Test@example.com")
        #expect(rewrite.sender("joe@other.test") == "joe@other.test")
        #expect(rewrite.sender("") == "")
        #expect(rewrite.sender("joe@") == "joe@")
    }

    @Test func addressFieldsOnly() {
        let input = "Received: from gateway.test\nFrom: \"Joe Q\" <joe@gateway.test>\nto: a@other.test,\n  b@gateway.test\n"
            + "Reply-To: r@gateway.test\nResent-Cc: c@gateway.test (Cee)\n\nbody joe@gateway.test\n"
        #expect(message(input) == "Received: from gateway.test\nFrom: \"Joe Q\" <joe%gateway.test@example.com>\n"
            + "to: a@other.test, b%gateway.test@example.com\nReply-To: r@gateway.test\n"
            + "Resent-Cc: c%gateway.test@example.com (Cee)\n\nbody joe@gateway.test\n")
    }

    @Test func untouchedBytesWhenNothingMatches() {
        let input = "From:   joe@other.test\nTo: group:;\nSubject: x\n\nbody\n"
        #expect(message(input) == input)
        #expect(message("To: a@gateway.test") == "To: a%gateway.test@example.com\n")
    }
}
