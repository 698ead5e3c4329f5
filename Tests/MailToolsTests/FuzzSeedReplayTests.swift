#if canImport(Glibc)
import Glibc
#endif
import Testing
import MailCore
import ToolSupport

/// The committed fuzz seeds (Fuzz/seeds/<Thing>/, see Docs/fuzzing.md) replayed as ordinary
/// tests through the library entry points the fuzz targets call, with their main invariants.
/// Crashes the fuzzers found stay here as seeds, so CI keeps checking them without libFuzzer.
enum FuzzSeeds {
    /// The repository root, found from this file's path (Tests/MailToolsTests/…).
    static let root: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    /// The seed files of one target, sorted by name.
    static func files(_ thing: String) -> [String] {
        let directory = root + "/Fuzz/seeds/" + thing
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted().map { thing + "/" + $0 }
    }

    /// The bytes of a seed named `Thing/file`.
    static func bytes(_ seed: String) -> [UInt8]? {
        ByteInput.readFile(root + "/Fuzz/seeds/" + seed)
    }
}

@Suite struct FuzzSeedReplayTests {
    @Test func seedsArePresent() {
        for thing in ["Headers", "Address", "Date", "MIME", "RFC2047"] {
            #expect(!FuzzSeeds.files(thing).isEmpty, "no seeds for \(thing) under \(FuzzSeeds.root)")
        }
    }

    @Test(arguments: FuzzSeeds.files("Headers"))
    func headers(_ seed: String) throws {
        let bytes = try #require(FuzzSeeds.bytes(seed))
        _ = HeaderReader.fuzz(bytes)
        let block = HeaderReader.read(bytes)
        #expect((0...bytes.count).contains(block.bodyOffset))
        let joined = block.headers.flatMap(\.raw)
        #expect(bytes.starts(with: joined))
        #expect(joined.count <= block.bodyOffset)
        var padded: [UInt8] = [0x41, 0x0A]
        padded += bytes
        #expect(HeaderReader.read(padded[2...]) == block)
    }

    @Test(arguments: FuzzSeeds.files("Address"))
    func address(_ seed: String) throws {
        let bytes = try #require(FuzzSeeds.bytes(seed))
        _ = AddressList.fuzz(bytes)
        let source = Array(bytes.prefix { $0 != 0 })
        for t in AddressTokenizer.tokenize(bytes).tokens {
            #expect(t.offset + t.text.count <= source.count)
            #expect(source.dropFirst(t.offset).prefix(t.text.count).elementsEqual(t.text))
        }
        let printed = AddressList.parse(bytes).printed
        // Re-printing is not a fixed point in general (see Fuzz/FuzzAddress); it must not trap.
        _ = AddressList.parse(AddressList.parse(printed).printed).printed
    }

    @Test(arguments: FuzzSeeds.files("MIME"))
    func mime(_ seed: String) throws {
        let bytes = try #require(FuzzSeeds.bytes(seed))
        _ = MIMEFuzz.run(bytes)
        let message = MIMEParser.parse(bytes)
        #expect(message.byteCount == bytes.count)
        #expect(!message.entities.isEmpty && message.entities.count <= MIMEParser.maxEntities + 2)
        for (index, e) in message.entities.enumerated() {
            #expect(0 <= e.startPos && e.startPos <= e.startBody && e.startBody <= e.endPos && e.endPos <= bytes.count)
            #expect(e.startBody <= e.endBody && e.endBody <= e.endPos)
            for child in e.children {
                #expect(child > index && message.entities[child].parent == index)
            }
        }
        for (index, id) in message.sections() {
            let pos = message.position(of: index)
            #expect(0 <= pos.start && pos.start <= pos.startBody && pos.startBody <= pos.end && pos.end <= bytes.count)
            #expect(message.find(id.map(String.init).joined(separator: ".")) == index)
        }
        #expect(Base64Decoder.decode(Base64Encoder.encode(bytes)) == bytes)
        // The encoder drops a final space, as Courier's does.
        let qpExpected = bytes.last == 0x20 ? Array(bytes.dropLast()) : bytes
        #expect(QuotedPrintableDecoder.decode(QuotedPrintableEncoder.encode(bytes)) == qpExpected)
    }

    @Test(arguments: FuzzSeeds.files("RFC2047"))
    func rfc2047(_ seed: String) throws {
        let bytes = try #require(FuzzSeeds.bytes(seed))
        let pieces = RFC2047Decoder.pieces(bytes)
        #expect(pieces.reduce(0) { $0 + $1.content.count } <= bytes.count)
        _ = RFC2047Decoder.decode(bytes, targetCharset: "ISO-8859-1")
        let text = Array(bytes.prefix { $0 != 0 })
        guard String(validating: text, as: UTF8.self) != nil else { return }
        for allowed in [RFC2047Encoder.QAllowed.any, .comment, .word] {
            let encoded = try #require(RFC2047Encoder.encode(text, charset: "UTF-8", allowed: allowed))
            #expect(encoded.allSatisfy { $0 < 0x80 })
            #expect(RFC2047Decoder.decode(encoded, targetCharset: "UTF-8") == text,
                    "\(allowed): \(String(decoding: encoded, as: UTF8.self))")
        }
    }

    @Test(arguments: FuzzSeeds.files("Date"))
    func date(_ seed: String) throws {
        let bytes = try #require(FuzzSeeds.bytes(seed))
        guard let date = RFC5322Date(parsing: bytes) else { return }
        let text = date.formattedBytes
        #expect(RFC5322Date(parsing: text) == date, "\(String(decoding: text, as: UTF8.self))")
    }
}
