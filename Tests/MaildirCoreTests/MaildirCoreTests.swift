import Testing
@testable import MaildirCore

@Test func moduleLoads() {
    #expect(MaildirCoreInfo.version.isEmpty == false)
}
