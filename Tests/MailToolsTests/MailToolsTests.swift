import Testing
@testable import MailTools

@Test func moduleLoads() {
    #expect(Bool(true))
}
