#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MailCore
import ToolSupport

/// `-r`, `-r7`, `-r8` (`-rU` is `-r` in 2.9.3): re-emit the message with complete MIME
/// headers (spec §4.4, Courier `rfc2045_ac_check` + `rfc2045_rewrite`).
enum ReformimeRewrite {
    static let appName = "reformime (maildrop 2.9.3)"

    /// Rewrite decisions per entity (Courier's `rfc2045_ac_check`).
    struct Plan {
        var entities: [MIMEEntity]
        var rewriteEncoding: [[UInt8]?]
    }

    static func run(_ ctx: ReformimeContext, _ message: MIMEMessage, mode: ReformimeOptions.RewriteMode) throws {
        var plan = Plan(entities: message.entities, rewriteEncoding: Array(repeating: nil, count: message.entities.count))
        _ = check(&plan, 0, mode: mode, defaultCharset: Array(ctx.charset.utf8))
        let root = BoundaryMaker.make(message, ctx.bytes, plan: plan)
        var writer = RewriteWriter(message: message, bytes: ctx.bytes, out: ctx.out, plan: plan, boundaryRoot: root)
        writer.write(0, detached: true)
        writer.finish()
    }

    static func lower(_ b: [UInt8]?) -> [UInt8]? {
        b.map { $0.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 } }
    }

    /// Fills in missing MIME headers and decides conversions; true if a rewrite is "suggested".
    @discardableResult
    static func check(_ plan: inout Plan, _ i: Int, mode: ReformimeOptions.RewriteMode, defaultCharset: [UInt8]) -> Bool {
        var flag = false
        let hasNon7bitStart = plan.entities[i].has8bitChars
        var hasNon7bit = hasNon7bitStart
        for c in plan.entities[i].children where !plan.entities[c].isPreamble {
            if check(&plan, c, mode: mode, defaultCharset: defaultCharset) { flag = true }
            if let te = plan.entities[c].transferEncoding,
               te != Array("7bit".utf8), te != Array("uuencode".utf8), te != Array("quoted-printable".utf8) {
                hasNon7bit = true
            }
            if plan.entities[c].has8bitChars { plan.entities[i].has8bitChars = true }
        }
        var e = plan.entities[i]
        let mimeDefault = e.mimeVersion == nil || e.isMIME
        let hasChildren = !e.children.isEmpty
        if mimeDefault && e.contentType == nil {
            e.contentType = Array("text/plain".utf8)
            if e.mimeVersion != nil { flag = true }
        }
        if mimeDefault, e.contentTypeParameters["charset"] == nil,
           let t = lower(e.contentType), t.starts(with: Array("text/".utf8)) {
            e.contentTypeParameters.set(Array("charset".utf8), defaultCharset)
            if e.mimeVersion != nil && !hasChildren { flag = true }
        }
        if mimeDefault && e.transferEncoding == nil {
            e.transferEncoding = Array((hasNon7bit ? "8bit" : "7bit").utf8)
            if e.mimeVersion != nil && !hasChildren { flag = true }
        }
        if mimeDefault {
            let te = lower(e.transferEncoding) ?? []
            var is8bit = te != Array("base64".utf8) && te != Array("quoted-printable".utf8)
                && te != Array("uuencode".utf8) && te != Array("7bit".utf8)
            if is8bit && !e.has8bitChars && !e.hasLongLine {
                plan.rewriteEncoding[i] = Array("7bit".utf8)
                flag = true
                is8bit = false
            }
            if mode == .sevenBit && (is8bit || e.hasLongLine) {
                plan.rewriteEncoding[i] = Array("quoted-printable".utf8)
                flag = true
            } else if mode == .eightBit && te == Array("quoted-printable".utf8) && !e.hasLongLine {
                plan.rewriteEncoding[i] = Array((hasNon7bit ? "8bit" : "7bit").utf8)
                flag = true
            }
        }
        if e.mimeVersion == nil { e.mimeVersion = Array("1.0".utf8) }
        plan.entities[i] = e
        return flag
    }
}

/// Emits the rewritten message (Courier `dorw`/`rwmime`), streaming to `out`.
struct RewriteWriter {
    let message: MIMEMessage
    let bytes: UnsafeBufferPointer<UInt8>
    let plan: ReformimeRewrite.Plan
    let boundaryRoot: [UInt8]
    var boundaryCount = 1
    var output: RewriteOutput

    init(message: MIMEMessage, bytes: UnsafeBufferPointer<UInt8>, out: FDOutput, plan: ReformimeRewrite.Plan, boundaryRoot: [UInt8]) {
        self.message = message
        self.bytes = bytes
        self.plan = plan
        self.boundaryRoot = boundaryRoot
        self.output = RewriteOutput(out: out)
    }

    mutating func add(_ s: String) { output.append(contentsOf: s.utf8) }

    /// Courier ends the output with a line break if it does not already end with one.
    mutating func finish() {
        if let last = output.last, last != 0x0A { output.append(0x0A) }
    }

    func isMIMEDefault(_ i: Int) -> Bool {
        let v = plan.entities[i].mimeVersion
        return v == nil || MIMEEntity.isMIMEVersion1(v)
    }

    func transferEncoding(_ i: Int) -> [UInt8]? {
        plan.rewriteEncoding[i] ?? plan.entities[i].transferEncoding
    }

    /// A parameter value, quoted unless it is only letters, digits and `-`.
    mutating func addValue(_ v: [UInt8]) {
        let plain = v.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == UInt8(ascii: "-") }
        if plain { output.append(contentsOf: v); return }
        output.append(UInt8(ascii: "\""))
        for c in v {
            if c == UInt8(ascii: "\\") || c == UInt8(ascii: "\"") { output.append(UInt8(ascii: "\\")) }
            output.append(c)
        }
        output.append(UInt8(ascii: "\""))
    }

    mutating func mimeHeaders(_ i: Int, detached: Bool) {
        let e = plan.entities[i]
        if detached { add("Mime-Version: 1.0\n") }
        if let t = e.contentType {
            add("Content-Type: ")
            output.append(contentsOf: t)
            for item in e.contentTypeParameters.items where item.name != Array("boundary".utf8) {
                add("; ")
                output.append(contentsOf: item.name)
                add("=")
                addValue(item.value)
            }
        }
        if e.children.count > 1 {
            boundaryCount += 1
            add("; boundary=\"")
            output.append(contentsOf: boundaryRoot)
            add("-\(boundaryCount)\"")
        }
        add("\n")
        if let te = transferEncoding(i), e.children.isEmpty {
            add("Content-Transfer-Encoding: ")
            output.append(contentsOf: te)
            add("\n")
        }
    }

    mutating func write(_ i: Int, detached: Bool) {
        let e = plan.entities[i]
        let pos = message.position(of: i)
        if !detached, let parent = e.parent,
           ReformimeRewrite.lower(plan.entities[parent].contentType) == Array("multipart/signed".utf8),
           plan.entities[parent].children.last != i {
            // The signed part of multipart/signed is copied untouched (RFC 1847 §2.1).
            copy(pos.start, e.endBody)
            return
        }
        var seenMIME = false
        if !detached {
            seenMIME = true
            mimeHeaders(i, detached: false)
        }
        let mimeDefault = isMIMEDefault(i)
        for field in MIMEHeaderReader.fields(message, bytes, i, asTopLevel: detached) {
            if mimeDefault && MIMEHeaderReader.nameEquals(field.name, "mime-version") && !seenMIME {
                seenMIME = true
                mimeHeaders(i, detached: detached)
                continue
            }
            if !mimeDefault || !(MIMEHeaderReader.nameEquals(field.name, "mime-version")
                || MIMEHeaderReader.nameEquals(field.name, "content-type")
                || MIMEHeaderReader.nameEquals(field.name, "content-transfer-encoding")) {
                output.append(contentsOf: field.name)
                add(": ")
                output.append(contentsOf: field.value)
                add("\n")
            }
        }
        if mimeDefault {
            if !seenMIME { mimeHeaders(i, detached: detached) }
            if e.children.isEmpty, let rw = plan.rewriteEncoding[i] {
                add("X-Mime-Autoconverted: from ")
                output.append(contentsOf: e.transferEncoding ?? [])
                add(" to ")
                output.append(contentsOf: rw)
                add(" by \(ReformimeRewrite.appName)\n")
            }
        }
        add("\n")
        if e.children.isEmpty {
            body(i, from: e.startBody, to: e.endBody)
            return
        }
        let myCount = boundaryCount
        if e.children.count == 1 {
            write(e.children[0], detached: true)
            return
        }
        add(ReformimeDigest.preamble)
        let b = String(decoding: boundaryRoot, as: UTF8.self)
        for c in e.children where !plan.entities[c].isPreamble {
            add("\n--\(b)-\(myCount)\n")
            write(c, detached: false)
        }
        add("\n--\(b)-\(myCount)--\n")
    }

    mutating func copy(_ from: Int, _ to: Int) {
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[message.clamped(from, to)]))
    }

    mutating func body(_ i: Int, from: Int, to: Int) {
        guard let rw = plan.rewriteEncoding[i] else {
            copy(from, to)
            return
        }
        let range = message.clamped(from, to)
        let original = plan.entities[i].transferEncoding
        var sink = output
        if ReformimeRewrite.lower(rw) == Array("quoted-printable".utf8) {
            var encoder = QuotedPrintableEncoder()
            var encoded: [UInt8] = []
            _ = TransferDecoder.decode(bytes, range: range, encoding: original) { chunk in
                encoder.encode(chunk, into: &encoded)
                sink.append(contentsOf: encoded)
                encoded.removeAll(keepingCapacity: true)
                return true
            }
            encoder.finish(into: &encoded)
            sink.append(contentsOf: encoded)
        } else {
            _ = TransferDecoder.decode(bytes, range: range, encoding: original) { chunk in
                sink.append(contentsOf: chunk)
                return true
            }
        }
        output = sink
    }
}

/// Chooses the rewrite boundary root `=_<host>-<pid>-<time>-<nnnn>` so that no decoded
/// line of any non-base64 leaf starts with `--<root>` (Courier `rfc2045_mk_boundary`).
enum BoundaryMaker {
    nonisolated(unsafe) static var counter = 0

    static func make(_ message: MIMEMessage, _ bytes: UnsafeBufferPointer<UInt8>, plan: ReformimeRewrite.Plan) -> [UInt8] {
        var host = [CChar](repeating: 0, count: 256)
        if gethostname(&host, 255) != 0 { host[0] = 0 }
        let hostBytes = Array(host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }.prefix(30))
        let prefix = "=_" + String(decoding: hostBytes, as: UTF8.self) + "-\(getpid())-\(time(nil))-"
        while true {
            counter += 1
            var n = String(counter)
            while n.utf8.count < 4 { n = "0" + n }
            let candidate = Array((prefix + n).utf8)
            if !occurs(candidate, message, bytes, plan) { return candidate }
        }
    }

    static func occurs(_ b: [UInt8], _ message: MIMEMessage, _ bytes: UnsafeBufferPointer<UInt8>, _ plan: ReformimeRewrite.Plan) -> Bool {
        for i in message.entities.indices where message.entities[i].children.isEmpty {
            let te = plan.entities[i].transferEncoding
            if te == Array("base64".utf8) { continue }
            let e = message.entities[i]
            let lowered = b.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }
            var line: [UInt8] = []
            var found = false
            let check = { (line: [UInt8]) -> Bool in
                ReformimeDigest.startsWithDelimiter(line[...], lowered)
            }
            _ = TransferDecoder.decode(bytes, range: message.clamped(e.startBody, e.endBody), encoding: te, chunkSize: 512) { chunk in
                for c in chunk {
                    if c == 0x0A {
                        if check(line) { found = true; return false }
                        line.removeAll(keepingCapacity: true)
                    } else if line.count < lowered.count + 20 {
                        line.append(c)
                    }
                }
                return true
            }
            if found || check(line) { return true }
        }
        return false
    }
}

/// The rewrite output: streamed to the descriptor, remembering the last byte written.
struct RewriteOutput {
    let out: FDOutput
    private(set) var last: UInt8?

    init(out: FDOutput) { self.out = out }

    mutating func append(_ b: UInt8) {
        out.write(b)
        last = b
    }

    mutating func append<C: BidirectionalCollection>(contentsOf bytes: C) where C.Element == UInt8 {
        guard let l = bytes.last else { return }
        out.write(bytes)
        last = l
    }
}
