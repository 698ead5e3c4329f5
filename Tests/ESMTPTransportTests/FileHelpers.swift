#if canImport(Glibc)
import Glibc
#endif

struct WriteError: Error {}

func mkdirAll(_ path: String) -> Bool { mkdir(path, 0o700) == 0 }

func write(_ path: String, _ text: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { throw WriteError() }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else { throw WriteError() }
}

func removeAll(_ dir: String) {
    for name in ["esmtproutes", "esmtpauthclient", "esmtphelo", "ipout", "ip6out", "esmtpdelay", "esmtptimeoutconnect", "module.esmtp", "esmtptimeoutkeepalive", "esmtptimeoutkeepaliveping", "backuprelay"] {
        unlink(dir + "/" + name)
    }
    rmdir(dir)
}
