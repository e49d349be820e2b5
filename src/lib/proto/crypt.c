/* crypt.c - AES-256-CBC with WeChat's 32-byte PKCS#7 (PROTOCOL.md 4). */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>
#include <unistd.h>

#include "wx/core/proc.h"
#include "wx/proto/crypt.h"

/* Fetched and allocated once per process, reused for every message. */
static EVP_CIPHER *wx_aes;

/* The Base64 alphabet, as a table of each character's value plus one (0:
 * not of the alphabet): the decoder checks and decodes every character of
 * a message's ciphertext in one pass, so this is on the hot path. */
#define V(c, v) [c] = (v) + 1
static const unsigned char wx_b64_value[256] = {
    V('A', 0), V('B', 1), V('C', 2), V('D', 3), V('E', 4), V('F', 5), V('G', 6),
    V('H', 7), V('I', 8), V('J', 9), V('K', 10), V('L', 11), V('M', 12), V('N', 13),
    V('O', 14), V('P', 15), V('Q', 16), V('R', 17), V('S', 18), V('T', 19), V('U', 20),
    V('V', 21), V('W', 22), V('X', 23), V('Y', 24), V('Z', 25),
    V('a', 26), V('b', 27), V('c', 28), V('d', 29), V('e', 30), V('f', 31), V('g', 32),
    V('h', 33), V('i', 34), V('j', 35), V('k', 36), V('l', 37), V('m', 38), V('n', 39),
    V('o', 40), V('p', 41), V('q', 42), V('r', 43), V('s', 44), V('t', 45), V('u', 46),
    V('v', 47), V('w', 48), V('x', 49), V('y', 50), V('z', 51),
    V('0', 52), V('1', 53), V('2', 54), V('3', 55), V('4', 56), V('5', 57), V('6', 58),
    V('7', 59), V('8', 60), V('9', 61), V('+', 62), V('/', 63),
};
#undef V

static int b64_char(unsigned char c)
{
    return wx_b64_value[c] != 0;
}

/* Strict: the alphabet only, '=' only as the last one or two characters
 * of a length that is a multiple of 4 (no spaces, no "Q===").  OpenSSL's
 * EVP_DecodeBlock is lenient and needs a check of its own first: a pass
 * of ours does both. */
long wx_base64_decode(unsigned char *dst, const char *src, size_t len)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i, pad = 0, o = 0, rest;
    unsigned long v = 0;

    if (len == 0 || len % 4 != 0 || len > (size_t)1 << 30)
        return -1;
    if (src[len - 1] == '=')
        pad = src[len - 2] == '=' ? 2 : 1;
    for (i = 0; i + 4 <= len - pad; i += 4) {
        unsigned a = wx_b64_value[s[i]], b = wx_b64_value[s[i + 1]];
        unsigned c = wx_b64_value[s[i + 2]], d = wx_b64_value[s[i + 3]];

        /* One branch for the usual all-good quad. */
        if (!(a && b && c && d))
            return -1;
        v = (unsigned long)(a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6 | (d - 1);
        dst[o] = (unsigned char)(v >> 16);
        dst[o + 1] = (unsigned char)(v >> 8);
        dst[o + 2] = (unsigned char)v;
        o += 3;
    }
    /* The padded quad: 4 - pad characters, 3 - pad bytes. */
    if ((rest = len - pad - i) > 0) {
        v = 0;
        for (; i < len - pad; i++) {
            if (!wx_b64_value[s[i]])
                return -1;
            v = v << 6 | (wx_b64_value[s[i]] - 1u);
        }
        v <<= 6 * (4 - rest);
        dst[o++] = (unsigned char)(v >> 16);
        if (rest == 3)
            dst[o++] = (unsigned char)(v >> 8);
    }
    return (long)o;
}

wx_err_t wx_crypt_init(wx_crypt_t *c, const char *encoding_aes_key,
                       const char *appid)
{
    char b64[WX_AES_KEY_B64_LEN + 2];
    unsigned char key[33];
    size_t i;

    memset(c, 0, sizeof(*c));
    if (encoding_aes_key == NULL || strlen(encoding_aes_key) != WX_AES_KEY_B64_LEN)
        return WX_EINVAL;
    for (i = 0; i < WX_AES_KEY_B64_LEN; i++)
        if (!b64_char((unsigned char)encoding_aes_key[i]))
            return WX_EINVAL;
    if (appid == NULL || (c->appid_len = strlen(appid)) == 0 || c->appid_len > WX_APPID_MAX)
        return WX_EINVAL;
    memcpy(b64, encoding_aes_key, WX_AES_KEY_B64_LEN);
    b64[WX_AES_KEY_B64_LEN] = '=';
    b64[WX_AES_KEY_B64_LEN + 1] = '\0';
    if (wx_base64_decode(key, b64, WX_AES_KEY_B64_LEN + 1) != 32) {
        OPENSSL_cleanse(key, sizeof(key));
        return WX_EINVAL;
    }
    memcpy(c->key, key, 32);
    OPENSSL_cleanse(key, sizeof(key));
    memcpy(c->appid, appid, c->appid_len + 1);
    return WX_OK;
}

void wx_crypt_clear(wx_crypt_t *c)
{
    OPENSSL_cleanse(c, sizeof(*c));
}

/* One context per direction, keyed once: the IV is fixed by the key
 * (PROTOCOL.md 4.2), so a message only needs the CBC state reset, and the
 * key schedule is not redone for every message. */
typedef struct {
    EVP_CIPHER_CTX *ctx;
    unsigned char   key[32];
    int             keyed;
} wx_aes_state_t;

static wx_aes_state_t wx_aes_state[2];

static EVP_CIPHER_CTX *aes_ctx(const wx_crypt_t *c, int enc)
{
    wx_aes_state_t *st = &wx_aes_state[enc != 0];

    if (wx_aes == NULL && (wx_aes = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL)) == NULL)
        return NULL;
    if (st->ctx == NULL && (st->ctx = EVP_CIPHER_CTX_new()) == NULL)
        return NULL;
    if (st->keyed && CRYPTO_memcmp(st->key, c->key, 32) == 0) {
        if (!EVP_CipherInit_ex(st->ctx, NULL, NULL, NULL, c->key, enc))
            return NULL;
        return st->ctx;
    }
    st->keyed = 0;
    /* IV = the first 16 bytes of the key. */
    if (!EVP_CipherInit_ex(st->ctx, wx_aes, NULL, c->key, c->key, enc) ||
        !EVP_CIPHER_CTX_set_padding(st->ctx, 0))
        return NULL;
    memcpy(st->key, c->key, 32);
    st->keyed = 1;
    return st->ctx;
}

/* Run AES-256-CBC over 'len' bytes (a multiple of 32) without padding. */
static wx_err_t aes(const wx_crypt_t *c, int enc, const unsigned char *in,
                    size_t len, unsigned char *out)
{
    EVP_CIPHER_CTX *ctx;
    int n = 0, fin = 0;

    if (len > (size_t)1 << 30 || (ctx = aes_ctx(c, enc)) == NULL)
        return WX_ECRYPTO;
    if (!EVP_CipherUpdate(ctx, out, &n, in, (int)len) ||
        !EVP_CipherFinal_ex(ctx, out + n, &fin) || (size_t)(n + fin) != len) {
        wx_aes_state[enc != 0].keyed = 0;
        return WX_ECRYPTO;
    }
    return WX_OK;
}

/* 16 random bytes for a message's prefix.  They only make equal replies
 * encrypt differently, so they are taken from a per-process buffer
 * refilled from the CSPRNG, not one RAND_bytes call a message; the pid
 * check keeps forked workers from sharing a buffer. */
static int random_prefix(unsigned char *dst)
{
    static unsigned char buf[4096];
    static size_t off = sizeof(buf);
    static pid_t owner;
    pid_t pid = wx_pid();

    if (off == sizeof(buf) || owner != pid) {
        if (RAND_bytes(buf, sizeof(buf)) != 1)
            return -1;
        off = 0;
        owner = pid;
    }
    memcpy(dst, buf + off, WX_CRYPT_RANDOM_LEN);
    OPENSSL_cleanse(buf + off, WX_CRYPT_RANDOM_LEN);
    off += WX_CRYPT_RANDOM_LEN;
    return 0;
}

wx_err_t wx_crypt_decrypt(const wx_crypt_t *c, wx_str_t b64, wx_pool_t *pool,
                          wx_str_t *msg)
{
    unsigned char *ct, *pt;
    size_t ctlen, padn, plen, mlen, i;
    long n;
    wx_err_t rc;

    if (b64.len == 0 || b64.len % 4 != 0)
        return b64.len == 0 ? WX_ECIPHERLEN : WX_EBASE64;
    ct = wx_pool_alloc(pool, b64.len / 4 * 3);
    if (ct == NULL)
        return WX_ENOMEM;
    n = wx_base64_decode(ct, b64.data, b64.len);
    if (n < 0)
        return WX_EBASE64;
    ctlen = (size_t)n;
    /* PROTOCOL.md 4.4: a non-zero multiple of 32. */
    if (ctlen == 0 || ctlen % 32 != 0)
        return WX_ECIPHERLEN;
    pt = wx_pool_alloc(pool, ctlen + 1);
    if (pt == NULL)
        return WX_ENOMEM;
    rc = aes(c, 0, ct, ctlen, pt);
    if (rc != WX_OK)
        return rc;

    padn = pt[ctlen - 1];
    if (padn < 1 || padn > 32)
        return WX_EPADDING;
    for (i = ctlen - padn; i < ctlen; i++)
        if (pt[i] != padn)
            return WX_EPADDING;
    plen = ctlen - padn;
    if (plen < WX_CRYPT_RANDOM_LEN + 4)
        return WX_EMSGLEN;
    mlen = (size_t)pt[16] << 24 | (size_t)pt[17] << 16 | (size_t)pt[18] << 8 | pt[19];
    if (mlen > plen - WX_CRYPT_RANDOM_LEN - 4)
        return WX_EMSGLEN;
    if (plen - WX_CRYPT_RANDOM_LEN - 4 - mlen != c->appid_len ||
        CRYPTO_memcmp(pt + 20 + mlen, c->appid, c->appid_len) != 0)
        return WX_EAPPID;
    /* NUL-terminate the message where the AppID began: the parser and the
     * logs may treat it as a C string. */
    pt[20 + mlen] = '\0';
    msg->data = (const char *)pt + 20;
    msg->len = mlen;
    return WX_OK;
}

wx_err_t wx_crypt_encrypt(const wx_crypt_t *c, wx_str_t msg,
                          const unsigned char *random16, wx_pool_t *pool,
                          wx_buf_t *out)
{
    static const char alnum[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t full, padded, i, b64len;
    unsigned char *pt, *ct, padn;
    wx_err_t rc;

    if (msg.len > 0xffffffffUL - 64 || msg.len > (size_t)1 << 28)
        return WX_ETOOBIG;
    full = WX_CRYPT_RANDOM_LEN + 4 + msg.len + c->appid_len;
    padn = (unsigned char)(32 - full % 32);
    padded = full + padn;
    pt = wx_pool_alloc(pool, padded);
    ct = wx_pool_alloc(pool, padded);
    if (pt == NULL || ct == NULL)
        return WX_ENOMEM;
    if (random16) {
        memcpy(pt, random16, WX_CRYPT_RANDOM_LEN);
    } else {
        /* Letters and digits, as Tencent's samples use (PROTOCOL.md 4.3). */
        if (random_prefix(pt) != 0)
            return WX_ECRYPTO;
        for (i = 0; i < WX_CRYPT_RANDOM_LEN; i++)
            pt[i] = (unsigned char)alnum[pt[i] % (sizeof(alnum) - 1)];
    }
    pt[16] = (unsigned char)(msg.len >> 24);
    pt[17] = (unsigned char)(msg.len >> 16);
    pt[18] = (unsigned char)(msg.len >> 8);
    pt[19] = (unsigned char)msg.len;
    if (msg.len)
        memcpy(pt + 20, msg.data, msg.len);
    memcpy(pt + 20 + msg.len, c->appid, c->appid_len);
    memset(pt + full, padn, padn);

    rc = aes(c, 1, pt, padded, ct);
    OPENSSL_cleanse(pt, padded);
    if (rc != WX_OK)
        return rc;
    b64len = 4 * ((padded + 2) / 3);
    if (b64len + 1 > out->cap - out->len) {
        out->overflow = 1;
        return WX_ENOMEM;
    }
    /* EVP_EncodeBlock writes one line, no newlines, and a NUL. */
    if ((size_t)EVP_EncodeBlock((unsigned char *)out->data + out->len, ct, (int)padded) != b64len)
        return WX_ECRYPTO;
    out->len += b64len;
    return WX_OK;
}
