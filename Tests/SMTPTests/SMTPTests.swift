import Testing
@testable import SMTP

@Test func moduleLoads() {
    #expect(Bool(true))
}
