import MailCore

/// The structure listing (no options) and `-i` (spec §4.2, Courier `print_info`).
enum ReformimeInfo {
    static func sectionName(_ id: [Int]) -> String {
        id.map(String.init).joined(separator: ".")
    }

    static func printStructure(_ ctx: ReformimeContext, _ message: MIMEMessage) {
        for s in message.sections() {
            ctx.out.write(sectionName(s.id))
            ctx.out.write(UInt8(ascii: "\n"))
        }
    }

    static func printInfo(_ ctx: ReformimeContext, _ message: MIMEMessage) throws {
        let list = ctx.options.sectionList
        if list.isEmpty {
            for s in message.sections() {
                ctx.out.write("section: \(sectionName(s.id))\n")
                printEntity(ctx, message, s.index)
                ctx.out.write("\n")
            }
            if ctx.options.extraction != nil { try ReformimeExtract.extractAll(ctx, message, from: 0) }
            return
        }
        for name in list {
            guard let index = message.find(name) else { throw ctx.notFound(name) }
            ctx.out.write("section: \(name)\n")
            printEntity(ctx, message, index)
            if ctx.options.extraction != nil { try ReformimeExtract.extractNamed(ctx, message, name) }
        }
    }

    static func printEntity(_ ctx: ReformimeContext, _ message: MIMEMessage, _ index: Int) {
        let out = ctx.out
        let e = message.entities[index]
        let info = message.info(of: index, defaultCharset: Array(ctx.charset.utf8))
        let pos = message.position(of: index)
        out.write("content-type: "); out.write(info.contentType); out.write("\n")
        let name = RFC2231.decodeForDisplay(e.contentTypeParameters, name: "name", targetCharset: ctx.parameterCharset) ?? []
        if !name.isEmpty { out.write("content-name: "); out.write(name); out.write("\n") }
        out.write("content-transfer-encoding: "); out.write(info.transferEncoding); out.write("\n")
        out.write("charset: "); out.write(info.charset); out.write("\n")
        if let d = e.disposition, !d.isEmpty { out.write("content-disposition: "); out.write(d); out.write("\n") }
        let dname = RFC2231.decodeForDisplay(e.dispositionParameters, name: "name", targetCharset: ctx.parameterCharset) ?? []
        let dfile = RFC2231.decodeForDisplay(e.dispositionParameters, name: "filename", targetCharset: ctx.parameterCharset) ?? []
        if !dname.isEmpty { out.write("content-disposition-name: "); out.write(dname); out.write("\n") }
        if !dfile.isEmpty { out.write("content-disposition-filename: "); out.write(dfile); out.write("\n") }
        if let id = e.contentID, !id.isEmpty { out.write("content-id: <"); out.write(id); out.write(">\n") }
        if let d = e.contentDescription, !d.isEmpty {
            out.write("content-description: ")
            RFC2047Decoder.display(d, targetCharset: ctx.charset) { out.write($0) }
            out.write("\n")
        }
        if let l = e.contentLanguage, !l.isEmpty { out.write("content-language: "); out.write(l); out.write("\n") }
        if let m = e.contentMD5, !m.isEmpty { out.write("content-md5: "); out.write(m); out.write("\n") }
        out.write("starting-pos: \(pos.start)\n")
        out.write("starting-pos-body: \(pos.startBody)\n")
        out.write("ending-pos: \(pos.end)\n")
        out.write("line-count: \(pos.lineCount)\n")
        out.write("body-line-count: \(pos.bodyLineCount)\n")
    }
}
