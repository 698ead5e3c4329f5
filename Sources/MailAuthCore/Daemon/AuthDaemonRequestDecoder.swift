/// Reads one authdaemon request from the bytes a client has sent so far (pure: bytes in,
/// request out). The server feeds it everything received; it answers "need more" until the
/// request is complete.
public enum AuthDaemonRequestDecoder {
    /// The state of the bytes received so far.
    public enum Outcome: Equatable, Sendable {
        /// Not a whole request yet.
        case needMore
        /// A request; `consumed` bytes belong to it (anything after is ignored: one request
        /// per connection). `environment` holds the `NAME=value` lines Courier's client library
        /// sends before the request (`TCPREMOTEIP=::1`), in order.
        case request(AuthDaemonRequest, environment: [AuthDaemonVariable], consumed: Int)
        /// Not a request Courier's daemon would answer: close without a reply.
        case malformed(String)
    }

    public static func decode(_ bytes: some Collection<UInt8>) -> Outcome {
        let limit = AuthDaemonLimits.maxEnvironmentBytes + AuthDaemonLimits.maxLineBytes + 1 + AuthDaemonLimits.maxPayloadBytes
        let bytes = Array(bytes.prefix(limit + 1))
        var start = 0
        var environment: [AuthDaemonVariable] = []
        while true {
            guard let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) else {
                if start > AuthDaemonLimits.maxEnvironmentBytes { return .malformed("too many variables before the request") }
                return bytes.count - start > AuthDaemonLimits.maxLineBytes ? .malformed("request line too long") : .needMore
            }
            guard newline - start <= AuthDaemonLimits.maxLineBytes else { return .malformed("request line too long") }
            let line = bytes[start..<newline]
            guard let variable = AuthDaemonVariable(line: line) else {
                return request(line: line, after: newline + 1, in: bytes, environment: environment)
            }
            environment.append(variable)
            start = newline + 1
            guard environment.count <= AuthDaemonLimits.maxEnvironmentVariables, start <= AuthDaemonLimits.maxEnvironmentBytes else {
                return .malformed("too many variables before the request")
            }
        }
    }

    /// The request whose first line is `line`; its payload (AUTH) starts at `payloadStart`.
    private static func request(line: ArraySlice<UInt8>, after payloadStart: Int, in bytes: [UInt8],
                                environment: [AuthDaemonVariable]) -> Outcome {
        func found(_ request: AuthDaemonRequest, _ consumed: Int) -> Outcome {
            .request(request, environment: environment, consumed: consumed)
        }
        if line.starts(with: Array("PRE ".utf8)) {
            return pre(line.dropFirst(4)).map { found($0, payloadStart) } ?? .malformed("PRE: expected module, service and user")
        }
        if line.starts(with: Array("AUTH ".utf8)) {
            guard let count = decimal(line.dropFirst(5)), count > 0, count <= AuthDaemonLimits.maxPayloadBytes else {
                return .malformed("AUTH: bad length")
            }
            guard bytes.count - payloadStart >= count else { return .needMore }
            let payload = bytes[payloadStart..<(payloadStart + count)]
            return auth(payload).map { found($0, payloadStart + count) } ?? .malformed("AUTH: expected service and authtype")
        }
        if line.starts(with: Array("PASSWD ".utf8)) {
            return passwd(line.dropFirst(7)).map { found($0, payloadStart) } ?? .malformed("PASSWD: expected four tab-separated fields")
        }
        if line.elementsEqual("ENUMERATE".utf8) {
            return found(.enumerate, payloadStart)
        }
        return .malformed("unknown request")
    }

    /// `<module> <service> <userid>`: runs of spaces separate the first two words; the user id
    /// is the rest of the line.
    static func pre(_ text: ArraySlice<UInt8>) -> AuthDaemonRequest? {
        let space = UInt8(ascii: " ")
        var rest = text
        guard let firstEnd = rest.firstIndex(of: space) else { return nil }
        let module = rest[..<firstEnd]
        rest = rest[firstEnd...].drop { $0 == space }
        guard let secondEnd = rest.firstIndex(of: space) else { return nil }
        let service = rest[..<secondEnd]
        let user = rest[secondEnd...].drop { $0 == space }
        guard !module.isEmpty, !service.isEmpty, !user.isEmpty else { return nil }
        return .pre(module: string(module), service: string(service), user: string(user))
    }

    static func passwd(_ text: ArraySlice<UInt8>) -> AuthDaemonRequest? {
        let fields = text.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
        guard fields.count == 4, !fields[0].isEmpty, !fields[1].isEmpty else { return nil }
        return .passwd(service: string(fields[0]), user: string(fields[1]), oldPassword: Array(fields[2]), newPassword: Array(fields[3]))
    }

    /// `<service>\n<authtype>\n<authdata>`.
    static func auth(_ payload: ArraySlice<UInt8>) -> AuthDaemonRequest? {
        var lines = payload.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
        guard lines.count >= 2, !lines[0].isEmpty, !lines[1].isEmpty else { return nil }
        if lines.count == 2 { lines.append([]) }
        let service = string(lines[0])
        let type = string(lines[1])
        let data = lines[2]
        let fields = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        func field(_ index: Int) -> ArraySlice<UInt8> { index < fields.count ? fields[index] : [] }
        switch type.lowercased() {
        case "login":
            guard !field(0).isEmpty else { return .auth(service: service, .unsupported(type: type)) }
            return .auth(service: service, .login(user: string(field(0)), password: Array(field(1))))
        case "cram-md5", "cram-sha1", "cram-sha256":
            guard let algorithm = CramAlgorithm(rawValue: type.uppercased()),
                  let challenge = AuthEncoding.decodeBase64(field(0)),
                  let response = AuthEncoding.decodeBase64(field(1)),
                  let space = response.lastIndex(of: UInt8(ascii: " ")), space > 0
            else { return .auth(service: service, .unsupported(type: type)) }
            return .auth(service: service, .cram(algorithm, user: string(response[..<space]), challenge: challenge,
                                                 response: string(response[(space + 1)...])))
        case "external":
            guard !field(0).isEmpty else { return .auth(service: service, .unsupported(type: type)) }
            return .auth(service: service, .external(user: string(field(0))))
        default:
            return .auth(service: service, .unsupported(type: type))
        }
    }

    static func decimal(_ text: ArraySlice<UInt8>) -> Int? {
        guard !text.isEmpty, text.count <= 9 else { return nil }
        var value = 0
        for byte in text {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    static func string(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

/// A `NAME=value` line before the request: Courier's client library passes the connection's
/// `TCPREMOTEIP` (and other variables) this way.
public struct AuthDaemonVariable: Equatable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// A line is a variable when it starts with a name of letters, digits and `_` (not a
    /// digit first) followed by `=`; request words (`PRE`, `AUTH`…) have a space instead.
    init?(line: ArraySlice<UInt8>) {
        guard let equals = line.firstIndex(of: UInt8(ascii: "=")), equals > line.startIndex else { return nil }
        let name = line[..<equals]
        guard let first = name.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first),
              name.allSatisfy({ $0 == UInt8(ascii: "_") || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0)
                  || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return nil }
        self.name = String(decoding: name, as: UTF8.self)
        self.value = String(decoding: line[(equals + 1)...], as: UTF8.self)
    }

    var line: String { "\(name)=\(value)\n" }
}
