/// Placeholder until the shared quoted-printable encoder (MailCore/Encoders) lands.
struct RewriteQPEncoder {
    mutating func encode(_ input: [UInt8], into out: inout [UInt8]) {
        out.append(contentsOf: input)
    }

    mutating func finish(into out: inout [UInt8]) {}
}
