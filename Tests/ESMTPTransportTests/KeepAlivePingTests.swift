import Testing
@testable import ESMTPTransport

@Suite struct KeepAlivePingTests {
    @Test func pingIntervalIsReadAndOffByDefault() throws {
        let dir = "/tmp/esmtp-ping-test-\(UInt32.random(in: 0...UInt32.max))"
        #expect(mkdirAll(dir))
        defer { removeAll(dir) }
        #expect(ESMTPConfiguration.load(etc: dir, me: "me.example").keepAlivePing == 0)
        try write(dir + "/esmtptimeoutkeepaliveping", "30\n")
        #expect(ESMTPConfiguration.load(etc: dir, me: "me.example").keepAlivePing == 30)
        try write(dir + "/esmtptimeoutkeepaliveping", "1m\n")
        #expect(ESMTPConfiguration.load(etc: dir, me: "me.example").keepAlivePing == 60)
    }
}
