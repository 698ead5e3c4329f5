import Glibc

/// A fresh Maildir (cur/, new/, tmp/) under /tmp for one test.
func makeTestMaildir() -> String {
    var template = Array("/tmp/pop3test.XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    for sub in ["cur", "new", "tmp"] { mkdir(path + "/" + sub, 0o700) }
    return path
}

/// Writes `text` to `path`, replacing what was there.
func writeTestFile(_ path: String, _ text: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
    close(fd)
}
