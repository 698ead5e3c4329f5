#if canImport(Glibc)
import Glibc
#endif
import MaildirCore

/// A scratch directory for one test, removed when the value goes away.
final class Scratch {
    let path: String

    init() {
        var template = Array("/tmp/maildir-store-test.XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = p.map { String(cString: $0) } ?? "/tmp/maildir-store-test-fallback"
    }

    deinit { try? SystemCall.removeTree(path) }

    /// Creates a maildir inside and returns its path.
    func maildir() throws -> String {
        let p = path + "/Maildir"
        try Maildir.create(at: p)
        return p
    }
}

func writeFile(_ path: String, _ text: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if fd >= 0 {
        _ = try? SystemCall.writeAll(fd, Array(text.utf8), path: path)
        close(fd)
    }
}

func readText(_ path: String) -> String? {
    (try? SystemCall.readFile(path)).flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) }
}

/// Delivers `text` into `new/` of `folder`, as deliverquota does.
@discardableResult
func deliver(_ text: String, to folder: String) throws -> DeliveredMessage {
    let m = try PendingMessage(folderPath: folder)
    try m.write(Array(text.utf8))
    return try m.commit(quota: .enforce())
}

func writeBytes(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if fd >= 0 {
        _ = try? SystemCall.writeAll(fd, bytes, path: path)
        close(fd)
    }
}
