#if canImport(Glibc)
import Glibc
#endif
import MailConfig
import Testing
@testable import MailAuthCore

/// The committed FuzzAuth seeds (Fuzz/seeds/Auth/, Docs/fuzzing.md) replayed through the entry
/// points FuzzAuth calls, with its main invariants, so past findings stay checked in CI.
enum AuthFuzzSeeds {
    static let directory: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/Fuzz/seeds/Auth"
    }()

    static var names: [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }
}

@Test func authSeedsArePresent() {
    #expect(AuthFuzzSeeds.names.count >= 18)
}

@Test(arguments: AuthFuzzSeeds.names)
func authSeedReplays(_ name: String) throws {
    let bytes = try #require(try AuthFiles.read(AuthFuzzSeeds.directory + "/" + name, limit: 1 << 20))
    guard let selector = bytes.first else { return }
    let rest = Array(bytes.dropFirst())
    switch selector % 5 {
    case 0:
        let parsed = try UserdbParser.parseReporting(rest, file: name)
        let compiled = UserdbCompiler.compile(parsed.records)
        let database = try #require(UserdbDatabaseFile(bytes: compiled.database, path: name))
        let shadow = UserdbDatabaseFile(bytes: compiled.shadow, path: name)
        var seen = Set<String>()
        for record in parsed.records where seen.insert(record.name).inserted && !record.isUidMapping {
            let key = Array(record.name.utf8)
            var fields = UserdbAccount.parseFields(try #require(database.value(for: key)))
            if let hidden = shadow?.value(for: key) { fields += UserdbAccount.parseFields(hidden) }
            let expected = record.fields.filter { !UserdbAccount.isSecretField($0.0) } + record.fields.filter { UserdbAccount.isSecretField($0.0) }
            #expect(fields.elementsEqual(expected) { $0 == $1 }, "\(record.name)")
        }
    case 1:
        guard case .request(let request, _, _) = AuthDaemonRequestDecoder.decode(rest) else { return }
        let encoded = request.encoded
        #expect(AuthDaemonRequestDecoder.decode(encoded) == .request(request, environment: [], consumed: encoded.count))
    case 2:
        if case .account(let account) = AuthDaemonReply.decodeAccount(rest) {
            #expect(AuthDaemonReply.decodeAccount(account.encoded) == .account(account))
        }
        if let accounts = AuthDaemonReply.decodeEnumeration(rest) {
            #expect(AuthDaemonReply.decodeEnumeration(AuthDaemonReply.enumeration([("m", accounts)])) == accounts)
        }
    case 3:
        let mechanism = SASLMechanism.allCases[Int(rest.first ?? 0) % SASLMechanism.allCases.count]
        let lines = rest.dropFirst().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        var server = SASLServer(mechanism: mechanism, hostName: "seed.example") { [UInt8](repeating: 1, count: $0) }
        var step = server.start(initialResponse: lines.first.flatMap { $0 == "-" ? nil : $0 })
        for line in lines.dropFirst() {
            guard case .challenge = step else { break }
            step = server.receive(line)
        }
        switch step {
        case .verifyPassword(_, let user, _), .verifyCram(_, let user, _, _), .needScramCredentials(_, let user):
            #expect(!user.isEmpty)
        case .verifyExternal(let identity):
            #expect(identity == "alice")
        default:
            Issue.record("SASL seed \(name) did not reach a decision: \(step)")
        }
    default:
        guard let text = String(validating: rest, as: UTF8.self), let prepared = try? SASLprep.prepare(text) else { return }
        #expect(try SASLprep.prepare(prepared) == prepared)
    }
}
