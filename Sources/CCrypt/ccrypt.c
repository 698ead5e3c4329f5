// A small reentrant wrapper over libxcrypt: crypt_gensalt_rn + crypt_r.
#include "ccrypt.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

int ccrypt_hash(const char *phrase, const char *prefix, char *out, size_t outlen) {
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    if (crypt_gensalt_rn(prefix, 0, NULL, 0, salt, (int)sizeof salt) == NULL) {
        return -1;
    }
    struct crypt_data *data = calloc(1, sizeof *data);
    if (data == NULL) {
        return -1;
    }
    int status = -1;
    const char *hash = crypt_r(phrase, salt, data);
    if (hash != NULL && hash[0] != '*') {
        size_t length = strlen(hash);
        if (length < outlen) {
            memcpy(out, hash, length + 1);
            status = 0;
        }
    }
    explicit_bzero(data, sizeof *data);
    free(data);
    return status;
}

int ccrypt_verify(const char *phrase, const char *hash) {
    struct crypt_data *data = calloc(1, sizeof *data);
    if (data == NULL) {
        return 0;
    }
    int match = 0;
    const char *computed = crypt_r(phrase, hash, data);
    if (computed != NULL && computed[0] != '*') {
        size_t a = strlen(computed), b = strlen(hash);
        if (a == b) {
            unsigned char diff = 0;
            for (size_t i = 0; i < a; i++) {
                diff |= (unsigned char)(computed[i] ^ hash[i]);
            }
            match = diff == 0;
        }
    }
    explicit_bzero(data, sizeof *data);
    free(data);
    return match;
}
