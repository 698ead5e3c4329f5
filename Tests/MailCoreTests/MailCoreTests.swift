import Testing
@testable import MailCore

@Test func moduleLoads() {
    #expect(Bool(true))
}
