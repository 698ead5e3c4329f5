import Testing
@testable import MailQueue

@Test func moduleLoads() {
    #expect(Bool(true))
}
