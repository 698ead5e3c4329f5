import Testing
@testable import MailConfig

@Test func moduleLoads() {
    #expect(Bool(true))
}
