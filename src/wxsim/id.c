/* id.c - the random IDs of the simulator: tokens, media, drafts, articles. */
#include <stdlib.h>

#include <openssl/rand.h>

#include "wxsim.h"

void wxsim_random_id(char *dst, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char r[256];
    size_t i = 0;

    while (i < len) {
        size_t n = len - i < sizeof(r) ? len - i : sizeof(r), j;

        /* 64 symbols: one byte's low 6 bits pick one without bias. */
        if (RAND_bytes(r, (int)n) != 1)
            abort();
        for (j = 0; j < n; j++)
            dst[i++] = alphabet[r[j] & 63];
    }
    /* Never a leading '-' or '_': an ID is a command-line argument in
     * wxctl and in scripts, where "-abc" reads as options. */
    if (len && (dst[0] == '-' || dst[0] == '_'))
        dst[0] = alphabet[(unsigned char)dst[1 % len] % 62];
    dst[len] = '\0';
}
