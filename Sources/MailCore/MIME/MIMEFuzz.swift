/// Fuzz entry for the MIME stack: parses arbitrary bytes and exercises everything derived
/// from the result (sections, positions, header reading, RFC 2231 and RFC 2047 decoding,
/// transfer decoding). Returns a number that depends on all of it, so nothing is optimised
/// away. Must never trap, for any input.
public enum MIMEFuzz {
    public static func run(_ data: [UInt8]) -> Int {
        let message = MIMEParser.parse(data)
        var total = message.entities.count
        data.withUnsafeBufferPointer { bytes in
            for (index, id) in message.sections() {
                total &+= id.count
                let pos = message.position(of: index)
                total &+= pos.lineCount &+ pos.bodyLineCount
                let e = message.entities[index]
                for field in MIMEHeaderReader.fields(message, bytes, index) {
                    total &+= RFC2047Decoder.decode(field.value, targetCharset: "UTF-8").count
                }
                for asTop in [false, true] {
                    total &+= MIMEHeaderReader.fields(message, bytes, index, asTopLevel: asTop).count
                }
                total &+= RFC2231.decode(e.contentTypeParameters, name: "name").text.count
                total &+= RFC2231.decode(e.dispositionParameters, name: "filename").text.count
                _ = TransferDecoder.decode(bytes, range: message.bodyRange(of: index), encoding: e.transferEncoding) { chunk in
                    total &+= chunk.count
                    return true
                }
            }
        }
        total &+= Base64Decoder.decode(data).count &+ QuotedPrintableDecoder.decode(data).count
        total &+= (RFC2047Encoder.encode(data, charset: "UTF-8", allowed: .word) ?? []).count
        return total
    }
}
