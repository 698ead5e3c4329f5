#ifndef CNONBLOCKINGFILE_H
#define CNONBLOCKINGFILE_H

#include <stddef.h>
#include <sys/types.h>

/// Opens `path` read-only (O_CLOEXEC, O_NOFOLLOW) only if every component of the path is in
/// the kernel's lookup cache (openat2 with RESOLVE_CACHED, Linux 5.12): the open never waits
/// for the disk. Returns the descriptor, or -1 with errno (EAGAIN: not cached; ENOSYS: no
/// openat2; ELOOP: a symbolic link; ENOENT…).
int cnbf_open_cached(const char *path);

/// pread that never waits for the disk (preadv2 with RWF_NOWAIT): the count read, or -1 with
/// errno (EAGAIN: the data is not in the page cache; EOPNOTSUPP: the file system cannot).
ssize_t cnbf_pread_nowait(int fd, void *buffer, size_t count, off_t offset);

#endif
