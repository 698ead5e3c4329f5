#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import IMAP

/// Fuzz/seeds/IMAP replayed through what FuzzIMAP runs (Docs/fuzzing.md): the framer, the
/// parser and the session; the framer must not depend on how the input is split.
@Suite struct IMAPFuzzSeedReplayTests {
    static let seedDirectory: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/Fuzz/seeds/IMAP"
    }()

    static func seeds() -> [[UInt8]] {
        guard let dir = opendir(seedDirectory) else { return [] }
        defer { closedir(dir) }
        var result: [[UInt8]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard !name.hasPrefix("."), let file = fopen(seedDirectory + "/" + name, "rb") else { continue }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = fread(&chunk, 1, chunk.count, file)
                if n <= 0 { break }
                bytes += chunk[0..<n]
            }
            fclose(file)
            result.append(bytes)
        }
        return result
    }

    @Test func seedsReplay() {
        let seeds = Self.seeds()
        #expect(seeds.count >= 7)
        for bytes in seeds {
            var session = IMAPSession(configuration: IMAPSessionConfiguration(tlsAvailable: true))
            var whole = CommandFramer()
            var input = bytes[...]
            var events: [CommandFramer.Event] = []
            while let event = whole.next(from: &input) {
                if case .appendStreamStart = event { whole.acceptStream() }
                events.append(event)
                if case .login(let tag, _, _, _) = session.receive(event) {
                    _ = session.loginFinished(tag: tag, user: "u")
                }
            }
            var split = CommandFramer()
            var splitEvents: [CommandFramer.Event] = []
            for index in bytes.indices {
                var one = bytes[index...index]
                while let event = split.next(from: &one) {
                    if case .appendStreamStart = event { split.acceptStream() }
                    splitEvents.append(event)
                }
            }
            #expect(splitEvents == events)
        }
    }

    @Test func randomBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        let starts = ["a FETCH 1 (", "a SEARCH ", "a LOGIN {", "a APPEND INBOX ", "a LIST ", "a STORE 1 +FLAGS ", ""]
        for _ in 0..<3000 {
            var bytes = Array((starts.randomElement(using: &generator) ?? "").utf8)
            bytes += (0..<Int.random(in: 0..<80, using: &generator)).map { _ in
                Array("(){}[]<>\" \\*%$0123456789.:+~NILBODYUID\r\n".utf8).randomElement(using: &generator) ?? 0
            }
            _ = CommandParser.parse(bytes)
            var framer = CommandFramer()
            var input = bytes[...]
            while framer.next(from: &input) != nil {}
        }
    }
}
