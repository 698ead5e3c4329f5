#define _GNU_SOURCE
#include "cnonblockingfile.h"

#include <errno.h>

#if defined(__linux__)
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#endif

int cnbf_open_cached(const char *path) {
#if defined(__linux__) && defined(SYS_openat2)
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW;
    how.resolve = RESOLVE_CACHED;
    return (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
#else
    (void)path;
    errno = ENOSYS;
    return -1;
#endif
}

ssize_t cnbf_pread_nowait(int fd, void *buffer, size_t count, off_t offset) {
#if defined(__linux__) && defined(RWF_NOWAIT)
    struct iovec iov;
    iov.iov_base = buffer;
    iov.iov_len = count;
    return preadv2(fd, &iov, 1, offset, RWF_NOWAIT);
#else
    (void)fd; (void)buffer; (void)count; (void)offset;
    errno = EOPNOTSUPP;
    return -1;
#endif
}
