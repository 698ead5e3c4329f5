/// A compact binary encoding of `MessageSummary` for the summary cache: varint lengths and
/// numbers, optional byte strings as a presence byte plus length and bytes, trees depth-first
/// with a child count. Decoding is bounded (depth, node count, lengths) and returns nil on
/// anything malformed: the cache is untrusted input.
enum SummaryCoding {
    static let maximumNodes = 10_000

    static func encode(_ s: MessageSummary) -> [UInt8] {
        var out: [UInt8] = []
        envelope(s.envelope, &out)
        optional(s.references, &out)
        structure(s.structure, &out)
        return out
    }

    static func decode(_ bytes: ArraySlice<UInt8>) -> MessageSummary? {
        var r = Reader(bytes: bytes)
        guard let env = r.envelope(), let refs = r.optional(), let st = r.structure(depth: 0), r.atEnd else { return nil }
        return MessageSummary(envelope: env, references: refs, structure: st)
    }

    static func varint(_ value: Int, _ out: inout [UInt8]) {
        var v = UInt64(max(value, 0))
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        out.append(UInt8(v))
    }

    static func bytes(_ b: [UInt8], _ out: inout [UInt8]) { varint(b.count, &out); out += b }

    static func optional(_ b: [UInt8]?, _ out: inout [UInt8]) {
        guard let b else { out.append(0); return }
        out.append(1)
        bytes(b, &out)
    }

    static func envelope(_ e: Envelope, _ out: inout [UInt8]) {
        for f in [e.date, e.subject, e.from, e.sender, e.replyTo, e.to, e.cc, e.bcc, e.inReplyTo, e.messageID] { optional(f, &out) }
    }

    static func parameters(_ p: [MIMEParameter], _ out: inout [UInt8]) {
        varint(p.count, &out)
        for x in p { bytes(x.name, &out); bytes(x.value, &out) }
    }

    static func structure(_ s: BodyStructure, _ out: inout [UInt8]) {
        bytes(Array(s.type.utf8), &out)
        bytes(Array(s.subtype.utf8), &out)
        parameters(s.parameters, &out)
        optional(s.id, &out); optional(s.description, &out); optional(s.encoding, &out)
        varint(s.size, &out); varint(s.lines, &out)
        optional(s.disposition, &out)
        parameters(s.dispositionParameters, &out)
        optional(s.language, &out); optional(s.location, &out); optional(s.md5, &out)
        if let e = s.envelope { out.append(1); envelope(e, &out) } else { out.append(0) }
        varint(s.children.count, &out)
        for c in s.children { structure(c, &out) }
    }

    struct Reader {
        let bytes: ArraySlice<UInt8>
        var i: Int
        var nodes = 0

        init(bytes: ArraySlice<UInt8>) { self.bytes = bytes; self.i = bytes.startIndex }

        var atEnd: Bool { i == bytes.endIndex }

        mutating func byte() -> UInt8? {
            guard i < bytes.endIndex else { return nil }
            defer { i += 1 }
            return bytes[i]
        }

        mutating func varint() -> Int? {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while let b = byte() {
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return v <= UInt64(Int32.max) ? Int(v) : nil }
                shift += 7
                if shift > 35 { return nil }
            }
            return nil
        }

        mutating func bytesValue() -> [UInt8]? {
            guard let n = varint(), n <= bytes.endIndex - i else { return nil }
            defer { i += n }
            return Array(bytes[i..<(i + n)])
        }

        /// nil = malformed; .some(nil) = absent.
        mutating func optional() -> [UInt8]?? {
            switch byte() {
            case 0: return .some(nil)
            case 1: return bytesValue().map { .some($0) }
            default: return nil
            }
        }

        mutating func envelope() -> Envelope? {
            var f: [[UInt8]?] = []
            for _ in 0..<10 {
                guard let v = optional() else { return nil }
                f.append(v)
            }
            var e = Envelope()
            (e.date, e.subject, e.from, e.sender, e.replyTo) = (f[0], f[1], f[2], f[3], f[4])
            (e.to, e.cc, e.bcc, e.inReplyTo, e.messageID) = (f[5], f[6], f[7], f[8], f[9])
            return e
        }

        mutating func parameters() -> [MIMEParameter]? {
            guard let n = varint(), n <= 1000 else { return nil }
            var out: [MIMEParameter] = []
            for _ in 0..<n {
                guard let name = bytesValue(), let value = bytesValue() else { return nil }
                out.append(MIMEParameter(name: name, value: value))
            }
            return out
        }

        mutating func structure(depth: Int) -> BodyStructure? {
            nodes += 1
            guard depth <= MessageSummary.maximumDepth, nodes <= SummaryCoding.maximumNodes,
                  let type = bytesValue(), let subtype = bytesValue(), let params = parameters(),
                  let id = optional(), let description = optional(), let encoding = optional(),
                  let size = varint(), let lines = varint(), let disposition = optional(),
                  let dispositionParameters = parameters(), let language = optional(), let location = optional(),
                  let md5 = optional(), let hasEnvelope = byte(), hasEnvelope <= 1 else { return nil }
            var env: Envelope?
            if hasEnvelope == 1 {
                guard let e = envelope() else { return nil }
                env = e
            }
            guard let count = varint(), count <= SummaryCoding.maximumNodes else { return nil }
            var children: [BodyStructure] = []
            for _ in 0..<count {
                guard let c = structure(depth: depth + 1) else { return nil }
                children.append(c)
            }
            return BodyStructure(type: String(decoding: type, as: UTF8.self), subtype: String(decoding: subtype, as: UTF8.self),
                                 parameters: params, id: id, description: description, encoding: encoding,
                                 size: size, lines: lines, disposition: disposition,
                                 dispositionParameters: dispositionParameters, language: language, location: location,
                                 md5: md5, children: children, envelope: env)
        }
    }
}
