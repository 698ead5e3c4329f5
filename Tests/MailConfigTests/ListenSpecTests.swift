import Testing
@testable import MailConfig

private func variables(_ files: [(String, String)]) throws -> ConfigVariables {
    var merged = ConfigVariables()
    for (name, text) in files {
        merged.merge(try VariableFileParser.parse(text, file: name, environment: merged.environment), file: name)
    }
    return merged
}

@Test func portAndAddress() throws {
    let vars = try variables([("esmtpd", "ADDRESS=127.0.0.1\nPORT=2525\n")])
    #expect(try ListenSpec.endpoints(for: .esmtpd, in: vars, defaultPort: 25) == [ListenEndpoint(address: "127.0.0.1", port: 2525)])
}

@Test func portListsWithOwnAddresses() throws {
    let vars = try variables([("esmtpd", "ADDRESS=0\nPORT=smtp,127.0.0.1.2526,::1.2527\n")])
    #expect(try ListenSpec.endpoints(for: .esmtpd, in: vars, defaultPort: 25) == [
        ListenEndpoint(address: nil, port: 25), ListenEndpoint(address: "127.0.0.1", port: 2526), ListenEndpoint(address: "::1", port: 2527),
    ])
}

@Test func msaOverridesEsmtpd() throws {
    let vars = try variables([("esmtpd", "ADDRESS=127.0.0.1\nPORT=2525\n"), ("esmtpd-msa", "PORT=2587\n")])
    #expect(try ListenSpec.endpoints(for: .esmtpdMSA, in: vars, defaultPort: 587) == [ListenEndpoint(address: "127.0.0.1", port: 2587)])
}

@Test func sslServicesUseSSLPort() throws {
    let vars = try variables([("imapd", "ADDRESS=127.0.0.1\nPORT=2143\n"), ("imapd-ssl", "SSLADDRESS=127.0.0.1\nSSLPORT=2993\n")])
    #expect(try ListenSpec.endpoints(for: .imapdSSL, in: vars, defaultPort: 993) == [ListenEndpoint(address: "127.0.0.1", port: 2993)])
    #expect(try ListenSpec.endpoints(for: .imapd, in: vars, defaultPort: 143) == [ListenEndpoint(address: "127.0.0.1", port: 2143)])
}

@Test func defaultPortWhenUnset() throws {
    #expect(try ListenSpec.endpoints(for: .pop3d, in: ConfigVariables(), defaultPort: 110) == [ListenEndpoint(address: nil, port: 110)])
}

@Test(arguments: ["PORT=70000\n", "PORT=25x\n", "PORT=25,\n", "ADDRESS=localhost\nPORT=25\n", "PORT=1.2.3.4.0\n"])
func badPortsNameTheirLine(_ text: String) throws {
    let vars = try variables([("/r/etc/esmtpd", "# header\n" + text)])
    do {
        _ = try ListenSpec.endpoints(for: .esmtpd, in: vars, defaultPort: 25)
        Issue.record("accepted \(text.debugDescription)")
    } catch {
        #expect(error.file == "/r/etc/esmtpd")
        #expect(error.line != nil)
    }
}

@Test func typedAccessors() throws {
    let vars = try variables([("f", "ON=YES\nOFF=0\nBAD=maybe\nN=40\nLIST=\"PLAIN  LOGIN\"\nT=5m\n")])
    #expect(try vars.bool("ON", default: false))
    #expect(try !vars.bool("OFF", default: true))
    #expect(try vars.bool("UNSET", default: true))
    #expect(throws: ConfigError(file: "f", line: 3, reason: "BAD=maybe: expected YES or NO (or 1 or 0)")) { try vars.bool("BAD", default: false) }
    #expect(try vars.int("N", default: 1, in: 1...100) == 40)
    #expect(throws: ConfigError.self) { try vars.int("N", default: 1, in: 1...10) }
    #expect(vars.list("LIST") == ["PLAIN", "LOGIN"])
    #expect(try vars.interval("T", default: 0) == 300)
}

@Test func endpointDescriptions() {
    #expect(ListenEndpoint(address: "127.0.0.1", port: 25).description == "127.0.0.1:25")
    #expect(ListenEndpoint(address: "::1", port: 25).description == "[::1]:25")
    #expect(ListenEndpoint(address: nil, port: 25).description == "*:25")
    #expect(ListenEndpoint(address: nil, port: 25).overlaps(ListenEndpoint(address: "127.0.0.1", port: 25)))
    #expect(!ListenEndpoint(address: "127.0.0.2", port: 25).overlaps(ListenEndpoint(address: "127.0.0.1", port: 25)))
}

@Test func rootDiscovery() {
    #expect(ConfigRoot.resolve(explicit: "/a", environment: ["COURIER_ROOT": "/b"]).path == "/a")
    #expect(ConfigRoot.resolve(explicit: nil, environment: ["COURIER_ROOT": "/b/"]).path == "/b")
    #expect(ConfigRoot.resolve(explicit: nil, environment: [:]).path == "/usr/lib/courier")
    #expect(ConfigRoot(path: "/x/y").etc("esmtpd") == "/x/y/etc/esmtpd")
}
