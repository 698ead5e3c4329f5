import CourierDaemon
import Testing

struct ConnectionLimiterTests {
    @Test func limits() {
        let limiter = ConnectionLimiter(maxTotal: 3, maxPerAddress: 2)
        #expect(limiter.admit("a") == nil)
        #expect(limiter.admit("a") == nil)
        #expect(limiter.admit("a") == .perAddress)
        #expect(limiter.admit("b") == nil)
        #expect(limiter.admit("c") == .total)
        limiter.release("a")
        #expect(limiter.admit("c") == nil)
    }

    @Test func zeroMeansNoLimit() {
        // The same reading for every server: MAXDAEMONS=0 / MAXPERIP=0 lift the limit.
        let limiter = ConnectionLimiter(maxTotal: 0, maxPerAddress: 0)
        for _ in 0..<100 { #expect(limiter.admit("a") == nil) }
    }
}
