#if canImport(Glibc)
import Glibc
#endif

/// The owner lock of the queue log (`var/queue/lock`, flock): one writer process at a time.
enum QueueLock {
    static func acquire(_ path: String, wait: Bool) throws(FileIO.Failure) -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        if fd < 0 { throw FileIO.fail("open", path) }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            if errno == EINTR { continue }
            let failure = FileIO.fail("lock", path)
            _ = Glibc.close(fd)
            throw failure
        }
        return fd
    }
}
