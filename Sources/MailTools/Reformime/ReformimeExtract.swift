#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MailCore
import ToolSupport

/// `-e` (decode to stdout), `-x` (extract to files, or interactively via /dev/tty) and
/// `-X` (pipe to a program) — spec §4.3, Courier `do_print_section`/`extract_file`/`extract_pipe`.
enum ReformimeExtract {
    /// `-e -s a,b`: each section's decoded body in turn.
    static func decodeSections(_ ctx: ReformimeContext, _ message: MIMEMessage) throws {
        let list = ctx.options.sectionList
        guard !list.isEmpty else {
            throw ReformimeContext.Failure(message: ReformimeOptions.usageText)
        }
        for name in list {
            guard let index = message.find(name) else { throw ctx.notFound(name) }
            writeDecoded(ctx, message, index) { ctx.out.write($0) }
        }
    }

    /// Decodes entity `index`'s body in Courier's 8 KiB reads.
    static func writeDecoded(_ ctx: ReformimeContext, _ message: MIMEMessage, _ index: Int, _ sink: ([UInt8]) -> Void) {
        let e = message.entities[index]
        _ = TransferDecoder.decode(ctx.bytes, range: message.bodyRange(of: index), encoding: e.transferEncoding) { chunk in
            sink(chunk)
            return true
        }
    }

    /// `-x`/`-X` without `-i`: the `-s` sections, or every leaf.
    static func extractSections(_ ctx: ReformimeContext, _ message: MIMEMessage) throws {
        let list = ctx.options.sectionList
        if list.isEmpty {
            try extractAll(ctx, message, from: 0)
            return
        }
        for name in list { try extractNamed(ctx, message, name) }
    }

    static func extractNamed(_ ctx: ReformimeContext, _ message: MIMEMessage, _ name: String) throws {
        guard let index = message.find(name) else { throw ctx.notFound(name) }
        if !message.entities[index].children.isEmpty {
            throw ReformimeContext.Failure(message: "reformime: MIME section \(name) is a compound section.\n")
        }
        try extractOne(ctx, message, index)
    }

    /// Every leaf below `index` (preambles excluded), depth first.
    static func extractAll(_ ctx: ReformimeContext, _ message: MIMEMessage, from index: Int) throws {
        var stack = [index]
        while let i = stack.popLast() {
            let e = message.entities[i]
            if !e.children.isEmpty {
                stack.append(contentsOf: e.children.reversed())
            } else if !e.isPreamble {
                try extractOne(ctx, message, i)
            }
        }
    }

    static func extractOne(_ ctx: ReformimeContext, _ message: MIMEMessage, _ index: Int) throws {
        switch ctx.options.extraction {
        case .toProgram: try ReformimePipe.run(ctx, message, index)
        case .toFiles: try extractFile(ctx, message, index)
        case nil: break
        }
    }

    static func extractFile(_ ctx: ReformimeContext, _ message: MIMEMessage, _ index: Int) throws {
        var renaming = false
        while true {
            let namer = ReformimeFileNames(ctx: ctx, message: message, index: index)
            guard let path = try namer.suitableName(prefix: ctx.options.extractPrefix, renaming: renaming) else { return }
            let fd = ReformimeFileNames.cPath(path) { open($0, O_WRONLY | O_CREAT | O_EXCL, 0o666) }
            if fd < 0 {
                let err = errno
                if err == EEXIST {
                    ctx.out.write(path)
                    ctx.out.write(" exists.\n")
                    renaming = true
                    continue
                }
                throw ReformimeContext.Failure(message: "\(String(decoding: path, as: UTF8.self)): \(String(cString: strerror(err)))\n")
            }
            let file = FDOutput(fd: fd)
            writeDecoded(ctx, message, index) { file.write($0) }
            let ok = file.flush()
            close(fd)
            if !ok { throw ReformimeContext.Failure(message: "write: \(String(cString: strerror(errno)))\n") }
            return
        }
    }
}
