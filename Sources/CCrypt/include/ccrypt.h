#ifndef CCRYPT_H
#define CCRYPT_H

#include <stddef.h>

/// Hashes `phrase` with a fresh random salt for the crypt(3) method named by
/// `prefix` ("$6$", "$y$", "$5$", "$1$"), writing the NUL-terminated hash to `out`.
/// Returns 0 on success, -1 on failure (unknown method, buffer too small, no memory).
int ccrypt_hash(const char *phrase, const char *prefix, char *out, size_t outlen);

/// Returns 1 when `phrase` hashes to `hash` (any method libcrypt knows), else 0.
int ccrypt_verify(const char *phrase, const char *hash);

#endif
