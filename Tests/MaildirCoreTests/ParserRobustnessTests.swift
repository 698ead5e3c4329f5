import Testing
@testable import MaildirCore

/// Every pure parser takes arbitrary bytes without crashing (the fuzz entry points).
@Suite struct ParserRobustnessTests {
    static func randomInputs(count: Int, maxLength: Int) -> [[UInt8]] {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789 :,.-&/\n\tSCTW=ABab+\u{0}".utf8) + [0xC3, 0xA9, 0xFF]
        return (0..<count).map { _ in
            (0..<Int.random(in: 0...maxLength, using: &generator)).map { _ in
                Bool.random(using: &generator) ? alphabet.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
            }
        }
    }

    @Test func parsersSurviveRandomBytes() {
        for input in Self.randomInputs(count: 3000, maxLength: 120) {
            _ = UIDDatabase.parse(input)
            _ = KeywordList.parse(input)
            _ = MaildirSizeFile.parse(input)
            _ = ModifiedUTF7.decode(input)
            _ = FolderName.isValid(input)
            _ = MessageFileName.sizeHint(in: input)
            _ = MessageFileName.countsTowardQuota(input)
            _ = QuotaSpec(parsing: input)
            _ = Subscriptions.parse(input)
            _ = KeywordStore.parseVersioned(input)
            _ = MessageFlags(letters: input)
            let text = String(decoding: input, as: UTF8.self)
            _ = MessageFileName(text).flags
            _ = try? FolderName.fromIMAP("INBOX." + text)
            if let decoded = ModifiedUTF7.decode(input) {
                // Whatever decodes must encode back to the same bytes (canonical form).
                #expect(Array(ModifiedUTF7.encode(decoded).utf8) == input || input.contains(UInt8(ascii: "&")))
            }
        }
    }

    @Test func hugeInputsStayLinear() {
        let big = [UInt8](repeating: UInt8(ascii: "1"), count: 2_000_000)
        _ = UIDDatabase.parse(big)
        _ = MaildirSizeFile.parse(big)
        _ = KeywordList.parse(big)
        #expect(ModifiedUTF7.decode(big) != nil)
        #expect(!FolderName.isValid(big))
    }
}
