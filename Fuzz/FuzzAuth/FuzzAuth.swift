// libFuzzer entry for the authentication parsers (MailAuthCore, MailConfig's userdb parser).
// The first byte picks what the rest is:
//   0: userdb text — parse, compile, look every account up in the compiled bytes; the bytes
//      as a (damaged) compiled file
//   1: an authdaemon request — decode whole and byte by byte; a request re-encodes to a
//      request that decodes the same
//   2: an authdaemon reply — decode as account, status, enumeration; accounts re-encode
//   3: a SASL exchange — one mechanism (next byte), lines of base64 text
//   4: SASLprep — the prepared form is prepared again unchanged
// Built by Scripts/fuzz with -DFUZZING; a plain build replays files named on the command line.
#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import MailAuthCore
import MailConfig

func runAuth(_ bytes: [UInt8]) {
    guard let selector = bytes.first else { return }
    let rest = Array(bytes.dropFirst())
    switch selector % 5 {
    case 0: userdb(rest)
    case 1: daemonRequest(rest)
    case 2: daemonReply(rest)
    case 3: sasl(rest)
    default: saslprep(rest)
    }
}

func userdb(_ bytes: [UInt8]) {
    guard let parsed = try? UserdbParser.parseReporting(bytes, file: "fuzz") else { return }
    for record in parsed.records {
        fuzzCheck(!record.name.isEmpty, "empty account name")
        fuzzCheck(record.line >= 1, "line \(record.line)")
    }
    let compiled = UserdbCompiler.compile(parsed.records)
    guard let database = UserdbDatabaseFile(bytes: compiled.database, path: "fuzz.dat") else {
        fuzzCheck(false, "compiled database does not open")
        return
    }
    let shadow = UserdbDatabaseFile(bytes: compiled.shadow, path: "fuzzshadow.dat")
    var first: [String: UserdbRecord] = [:]
    for record in parsed.records where first[record.name] == nil { first[record.name] = record }
    for (name, record) in first {
        let key = Array(name.utf8)
        guard let value = database.value(for: key) else {
            fuzzCheck(false, "account \(fuzzShow(key)) not in the compiled database")
            return
        }
        if record.isUidMapping { continue }
        var fields = UserdbAccount.parseFields(value)
        if let hidden = shadow?.value(for: key) { fields += UserdbAccount.parseFields(hidden) }
        let expected = record.fields.filter { !UserdbAccount.isSecretField($0.0) } + record.fields.filter { UserdbAccount.isSecretField($0.0) }
        fuzzCheck(fields.elementsEqual(expected) { $0 == $1 }, "fields of \(fuzzShow(key)) changed in the compiled database")
    }
    fuzzCheck(database.allEntries().count == first.count, "entry count \(database.allEntries().count) != \(first.count)")
    // The same bytes as a damaged compiled file: lookups and listing must not trap.
    if let damaged = UserdbDatabaseFile(bytes: bytes, path: "damaged.dat") {
        _ = damaged.value(for: Array(bytes.prefix(8)))
        _ = damaged.value(for: Array("alice".utf8))
        _ = damaged.allEntries().count
    }
}

func daemonRequest(_ bytes: [UInt8]) {
    let outcome = AuthDaemonRequestDecoder.decode(bytes)
    // Fed in pieces, the decoder (which the server calls on everything received so far) gives
    // "need more" until the prefix that completes the request, then that same request.
    if case .request(_, _, let consumed) = outcome {
        fuzzCheck(consumed <= bytes.count, "consumed past the input")
        for cut in stride(from: 0, to: consumed, by: max(1, consumed / 16)) {
            switch AuthDaemonRequestDecoder.decode(bytes[0..<cut]) {
            case .request: fuzzCheck(false, "prefix \(cut) of \(consumed) is a request")
            case .needMore, .malformed: break
            }
        }
        fuzzCheck(AuthDaemonRequestDecoder.decode(bytes[0..<consumed]) == outcome, "the request's own bytes decode differently")
    }
    guard case .request(let request, _, _) = outcome else { return }
    let encoded = request.encoded
    guard case .request(let again, _, let consumed) = AuthDaemonRequestDecoder.decode(encoded) else {
        fuzzCheck(false, "re-encoded request \(fuzzShow(encoded)) does not decode")
        return
    }
    fuzzCheck(again == request, "re-encoded request decodes to another one: \(fuzzShow(encoded))")
    fuzzCheck(consumed == encoded.count, "re-encoded request not consumed whole")
}

func daemonReply(_ bytes: [UInt8]) {
    if case .account(let account) = AuthDaemonReply.decodeAccount(bytes) {
        let encoded = account.encoded
        fuzzCheck(AuthDaemonReply.decodeAccount(encoded) == .account(account), "account reply does not round-trip: \(fuzzShow(encoded))")
    }
    _ = AuthDaemonReply.decodeStatus(bytes)
    if let accounts = AuthDaemonReply.decodeEnumeration(bytes) {
        let encoded = AuthDaemonReply.enumeration([("fuzz", accounts)])
        let again = AuthDaemonReply.decodeEnumeration(encoded)
        fuzzCheck(again == accounts, "enumeration does not round-trip: \(fuzzShow(encoded))")
    }
}

func sasl(_ bytes: [UInt8]) {
    guard let selector = bytes.first else { return }
    let mechanisms = SASLMechanism.allCases
    let mechanism = mechanisms[Int(selector) % mechanisms.count]
    let lines = bytes.dropFirst().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
    let fill = selector
    var server = SASLServer(mechanism: mechanism, hostName: "fuzz.example") { count in
        [UInt8](repeating: fill, count: count)
    }
    var step = server.start(initialResponse: lines.first.flatMap { $0 == "-" ? nil : $0 })
    var index = 1
    var rounds = 0
    while rounds < 16 {
        rounds += 1
        switch step {
        case .needScramCredentials(let algorithm, let user):
            fuzzCheck(!user.isEmpty, "SCRAM with an empty user")
            let credentials = user.utf8.count % 2 == 0 ? nil
                : ScramCredentials(password: Array(user.utf8), salt: Array("salt".utf8), iterations: 2, algorithm: algorithm)
            step = server.provide(credentials)
        case .challenge:
            guard index < lines.count else { return }
            step = server.receive(lines[index])
            index += 1
        case .verifyPassword(_, let user, let password):
            fuzzCheck(!user.isEmpty && user.utf8.count <= AuthLimits.maxNameBytes, "PLAIN/LOGIN user \(fuzzShow(Array(user.utf8)))")
            fuzzCheck(password.count <= AuthLimits.maxPasswordBytes, "password too long")
            return
        case .verifyCram(_, let user, _, _):
            fuzzCheck(!user.isEmpty, "CRAM with an empty user")
            return
        case .verifyExternal, .success, .failure:
            // After the end, the machine answers only with failures.
            if index < lines.count, case .challenge = server.receive(lines[index]) {
                fuzzCheck(false, "a finished exchange went on")
            }
            return
        }
    }
}

func saslprep(_ bytes: [UInt8]) {
    guard let text = String(validating: bytes, as: UTF8.self) else { return }
    for stored in [false, true] {
        guard let prepared = try? SASLprep.prepare(text, storedString: stored) else { continue }
        fuzzCheck(prepared.utf8.count <= text.utf8.count * 18 + 4, "SASLprep grew \(text.utf8.count) bytes to \(prepared.utf8.count)")
        guard let again = try? SASLprep.prepare(prepared, storedString: stored) else {
            fuzzCheck(false, "prepared string \(fuzzShow(Array(prepared.utf8))) fails SASLprep")
            return
        }
        fuzzCheck(again == prepared, "SASLprep not idempotent: \(fuzzShow(Array(prepared.utf8))) -> \(fuzzShow(Array(again.utf8)))")
    }
}

#if FUZZING
@_cdecl("FuzzAuth_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, runAuth)
}
#else
@main
struct FuzzAuthReplay {
    static func main() {
        exit(FuzzDriver.replay(Array(CommandLine.arguments.dropFirst()), runAuth))
    }
}
#endif
