/*
 * sign.c - WeChat's SHA-1 signatures (PROTOCOL.md 1.2, 4.5).
 *
 * SHA-1 through the low-level API, deprecated for public use since
 * OpenSSL 3.0 but kept in 3.x: its EVP replacement frees and allocates
 * the provider's context on every EVP_DigestInit_ex() and goes through
 * the provider's dispatch on each call, about 650 instructions and a
 * malloc per digest more (callgrind), on a path that takes two to four
 * digests per message.  The API level is declared here, for this file
 * alone, so that the declarations carry no deprecation warning.
 */
#define OPENSSL_API_COMPAT 10101
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>

#include "wx/proto/sign.h"

/* Most signed inputs are short: they are gathered in one buffer and
 * hashed with one update. */
#define WX_SHA1_GATHER  512

/* SHA-1 of n parts, *pp[i] or else p[i], each followed by 'sep' unless
 * it is -1. */
static wx_err_t sha1_of(const wx_str_t *const *pp, const wx_str_t *p, size_t n, int sep,
                        unsigned char md[20])
{
    char buf[WX_SHA1_GATHER];
    SHA_CTX ctx;
    size_t i, len = 0;

    if (!SHA1_Init(&ctx))
        return WX_ECRYPTO;
    for (i = 0; i < n; i++) {
        const wx_str_t *part = pp ? pp[i] : &p[i];

        if (len >= sizeof(buf) || part->len > sizeof(buf) - 1 - len) {
            /* No room left: what is gathered goes, then this part alone. */
            if ((len && !SHA1_Update(&ctx, buf, len)) ||
                !SHA1_Update(&ctx, part->data, part->len))
                return WX_ECRYPTO;
            len = 0;
        } else if (part->len) {
            memcpy(buf + len, part->data, part->len);
            len += part->len;
        }
        if (sep >= 0)
            buf[len++] = (char)sep;
    }
    if ((len && !SHA1_Update(&ctx, buf, len)) || !SHA1_Final(md, &ctx))
        return WX_ECRYPTO;
    return WX_OK;
}

wx_err_t wx_sha1_parts(const wx_str_t *parts, size_t n, unsigned char md[20])
{
    return sha1_of(NULL, parts, n, 0x1f, md);
}

wx_err_t wx_sign(const wx_str_t *parts, size_t n,
                 char hex[WX_SIGN_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    const wx_str_t *sorted[WX_SIGN_MAX_PARTS];
    unsigned char md[20];
    wx_err_t rc;
    size_t i, j;

    if (n == 0 || n > WX_SIGN_MAX_PARTS)
        return WX_EINVAL;

    /* Insertion sort: at most four strings. */
    for (i = 0; i < n; i++) {
        for (j = i; j > 0 && wx_str_cmp(*sorted[j - 1], parts[i]) > 0; j--)
            sorted[j] = sorted[j - 1];
        sorted[j] = &parts[i];
    }
    if ((rc = sha1_of(sorted, NULL, n, -1, md)) != WX_OK)
        return rc;
    for (i = 0; i < 20; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 0x0f];
    }
    hex[WX_SIGN_HEX_LEN] = '\0';
    return WX_OK;
}

wx_err_t wx_sign_verify(const wx_str_t *parts, size_t n, wx_str_t sig)
{
    char hex[WX_SIGN_HEX_LEN + 1];
    wx_err_t rc;

    if (sig.len != WX_SIGN_HEX_LEN)
        return WX_ESIGNATURE;
    rc = wx_sign(parts, n, hex);
    if (rc != WX_OK)
        return rc;
    /* Constant time: a byte-by-byte early exit would leak how much of a
     * forged signature is right. */
    if (CRYPTO_memcmp(hex, sig.data, WX_SIGN_HEX_LEN) != 0)
        return WX_ESIGNATURE;
    return WX_OK;
}

wx_err_t wx_sign_check_time(wx_str_t timestamp, time_t now, unsigned window)
{
    long long ts = 0, diff;
    size_t i;

    if (timestamp.len == 0 || timestamp.len > 19)
        return WX_EINVAL;
    for (i = 0; i < timestamp.len; i++) {
        char c = timestamp.data[i];

        if (c < '0' || c > '9')
            return WX_EINVAL;
        if (ts > (9223372036854775807LL - (c - '0')) / 10)
            return WX_EINVAL;
        ts = ts * 10 + (c - '0');
    }
    if (window == 0)
        return WX_OK;
    diff = ts > (long long)now ? ts - (long long)now : (long long)now - ts;
    return diff > (long long)window ? WX_ESTALE : WX_OK;
}
