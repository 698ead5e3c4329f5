/// Extracts the address inside a `Content-ID` header (RFC 2045 §7), as Courier does by
/// running its address parser over the header: the first `<...>` address, or the first
/// bare address, printed with RFC 822 spacing rules.
enum MIMEContentID {
    static func firstAddress(_ text: [UInt8], _ tokens: [MIMEHeaderToken]) -> [UInt8]? {
        let lt = UInt8(ascii: "<"), gt = UInt8(ascii: ">")
        let comma = UInt8(ascii: ","), semicolon = UInt8(ascii: ";")
        var i = 0
        while i < tokens.count {
            // Skip separators and empty entries.
            if tokens[i].kind == comma || tokens[i].kind == semicolon { i += 1; continue }
            var end = i
            var bracket: Int?
            while end < tokens.count && tokens[end].kind != comma && tokens[end].kind != semicolon {
                if tokens[end].kind == lt && bracket == nil { bracket = end }
                end += 1
            }
            var addr: ArraySlice<MIMEHeaderToken>
            if let b = bracket {
                var close = b + 1
                while close < end && tokens[close].kind != gt { close += 1 }
                addr = tokens[(b + 1)..<close]
            } else {
                addr = tokens[i..<end]
            }
            let printed = print(text, addr.filter { $0.kind != MIMEHeaderToken.comment })
            if !printed.isEmpty || bracket != nil { return printed }
            i = end
        }
        return nil
    }

    static func print(_ text: [UInt8], _ tokens: [MIMEHeaderToken]) -> [UInt8] {
        var out: [UInt8] = []
        var prevWord = false
        for t in tokens {
            let word = t.kind == 0 || t.kind == MIMEHeaderToken.quoted
            if word && prevWord { out.append(0x20) }
            if t.kind == 0 {
                out.append(contentsOf: text[t.range])
            } else if t.kind == MIMEHeaderToken.quoted {
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: text[t.range])
                out.append(UInt8(ascii: "\""))
            } else {
                out.append(t.kind)
            }
            prevWord = word
        }
        return out
    }
}
