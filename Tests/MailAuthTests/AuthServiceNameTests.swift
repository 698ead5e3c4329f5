import Testing
import MailAuth

/// `AUTHSERVICE<port>`: set and not empty names the service, else the protocol's default
/// (Courier's imaplogin and pop3login both treat an empty value as unset).
@Test func authServiceNameFollowsThePortsSetting() {
    let variables = ["AUTHSERVICE993": "imaps", "AUTHSERVICE110": "", "AUTHSERVICE995": "pop3s"]
    #expect(AuthServiceName.forListener(port: 993, default: "imap") { variables[$0] } == "imaps")
    #expect(AuthServiceName.forListener(port: 143, default: "imap") { variables[$0] } == "imap")
    #expect(AuthServiceName.forListener(port: 110, default: "pop3") { variables[$0] } == "pop3")
    #expect(AuthServiceName.forListener(port: 995, default: "pop3") { variables[$0] } == "pop3s")
}
