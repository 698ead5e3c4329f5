import MailCore

/// `-T forward` and `-T forwardatt` (spec/tools.md §2.3): the reply text, the `-F` marker,
/// then the original inline (its text part and attachments) or as a `message/rfc822` part.
extension MailbotReplyBuilder {
    static let forwardedHeaders: Set<[UInt8]> = Set([
        "subject", "from", "to", "cc", "date", "message-id",
        "resent-from", "resent-to", "resent-cc", "resent-date", "resent-message-id",
    ].map { Array($0.utf8) })

    func typeOf(_ index: Int) -> [UInt8] {
        CByteClass.lowercased(input.mime.info(of: index, defaultCharset: []).contentType)
    }

    /// The first `text/plain` entity in the subtree of `index` (document order).
    func firstTextPlain(under index: Int) -> Int? {
        if typeOf(index) == Array("text/plain".utf8), input.mime.entities[index].children.isEmpty { return index }
        for c in input.mime.entities[index].children where !input.mime.entities[c].isPreamble {
            if let t = firstTextPlain(under: c) { return t }
        }
        return nil
    }

    mutating func buildForward() {
        emit("Subject: ")
        if let s = options.subject, !s.isEmpty {
            emit(s)
        } else if let subject = input.last("subject"), !subject.isEmpty {
            emit(MailbotHeaders.coreSubject(subject))
            emit(" (fwd)")
        }
        emit("\nMime-Version: 1.0\n")
        let entities = input.mime.entities
        guard !entities.isEmpty else { return }
        var top = 0
        let parts = { (i: Int) in entities[i].children.filter { !entities[$0].isPreamble } }
        if typeOf(0) == Array("multipart/signed".utf8), let first = parts(0).first { top = first }
        var textPart: Int?
        var attachments: [Int] = []
        var attachWhole = false
        switch typeOf(top) {
        case Array("text/plain".utf8): textPart = top
        case Array("multipart/alternative".utf8): textPart = firstTextPlain(under: top)
        case Array("multipart/mixed".utf8):
            let children = parts(top)
            if let first = children.first, let t = firstTextPlain(under: first) {
                textPart = t
                attachments = Array(children.dropFirst())
            }
        default: break
        }
        if options.mode == .forwardatt || textPart == nil {
            textPart = nil
            attachments = [top]
            attachWhole = true
        }
        var boundary: [UInt8] = []
        if !attachments.isEmpty {
            boundary = newBoundary()
            emit("Content-Type: multipart/mixed; boundary=\""); emit(boundary); emit("\"\n\n")
            emit(Self.mimePreamble)
            emit("\n--"); emit(boundary); emit("\n")
        }
        emitContentHeaders()
        emit(content.body)
        emit("\n\n")
        if !options.forwardMarker.isEmpty { emit(options.forwardMarker); emit("\n") }
        if let textPart {
            for h in input.block.headers {
                guard let name = h.name, Self.forwardedHeaders.contains(CByteClass.lowercased(name)) else { continue }
                emit(name); emit(": ")
                emit(RFC2047Decoder.decode(h.value, targetCharset: charset))
                emit("\n")
            }
            emit("\n")
            emit(MailbotQuoter.quote(input, entity: textPart, charset: charset, depth: 0))
        }
        guard !attachments.isEmpty else { return }
        let eightBitHeaders = entities[0].errors.contains(.eightBitHeader)
        for a in attachments {
            emit("\n--"); emit(boundary); emit("\n")
            if attachWhole {
                emit("Content-Type: \(eightBitHeaders ? "message/global" : "message/rfc822")\n")
                emit("Content-Description: Forwarded message\n\n")
            }
            let e = entities[a]
            // The whole message goes out up to its end, final newline included.
            emit(Array(input.bytes[input.mime.clamped(e.startPos, a == 0 ? input.bytes.count : e.endBody)]))
        }
        emit("\n--"); emit(boundary); emit("--\n")
    }
}
