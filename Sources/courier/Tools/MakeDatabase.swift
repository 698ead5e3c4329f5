#if canImport(Glibc)
import Glibc
#endif

/// Writes a compiled control file (`aliases.dat`, `smtpaccess.dat`) the way Courier's `makedat`
/// does: into a temporary file on the same filesystem, then renamed over the old one, so a
/// reader sees the old or the new database, never half of one.
enum MakeDatabase {
    enum Failure: Error, CustomStringConvertible {
        case cannotWrite(String, Int32)
        var description: String {
            switch self {
            case .cannotWrite(let path, let code): "\(path): \(String(cString: strerror(code)))"
            }
        }
    }

    static func write(_ bytes: [UInt8], to path: String, temporary: String? = nil) throws(Failure) {
        let tmp = temporary ?? path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotWrite(tmp, errno) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                unlink(tmp)
                throw .cannotWrite(tmp, code)
            }
            offset += written
        }
        if fsync(fd) != 0 || close(fd) != 0 {
            let code = errno
            unlink(tmp)
            throw .cannotWrite(tmp, code)
        }
        guard rename(tmp, path) == 0 else {
            let code = errno
            unlink(tmp)
            throw .cannotWrite(path, code)
        }
    }
}

/// Courier's `-name=value` / `-flag` options (makealiases, makedat).
struct DashOptions {
    var values: [String: String] = [:]
    var flags: Set<String> = []
    var operands: [String] = []

    init(_ arguments: ArraySlice<String>) {
        for argument in arguments {
            if argument.hasPrefix("-"), argument.count > 1 {
                let body = argument.dropFirst()
                if let equals = body.firstIndex(of: "=") {
                    values[String(body[..<equals])] = String(body[body.index(after: equals)...])
                } else {
                    flags.insert(String(body))
                }
            } else {
                operands.append(argument)
            }
        }
    }
}
