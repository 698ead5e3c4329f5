import Testing
@testable import Delivery

@Test func moduleLoads() {
    #expect(Bool(true))
}
