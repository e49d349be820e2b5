/* query.c - the query string of a WeChat callback (PROTOCOL.md 1.3). */
#include <stddef.h>
#include <string.h>

#include "wx/proto/query.h"

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long wx_url_decode(char *dst, const char *src, size_t len)
{
    size_t i = 0, o = 0;

    while (i < len) {
        size_t run = i;
        unsigned char c;

        /* Signatures, timestamps and nonces have nothing to decode: a run
         * of plain bytes is copied at once. */
        while (run < len && src[run] != '%' && src[run] != '+' && src[run] != '\0')
            run++;
        memcpy(dst + o, src + i, run - i);
        o += run - i;
        if ((i = run) == len)
            break;
        c = (unsigned char)src[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi, lo;

            if (len - i < 3)
                return -1;
            hi = hexval((unsigned char)src[i + 1]);
            lo = hexval((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0')
            return -1;
        dst[o++] = (char)c;
        i++;
    }
    return (long)o;
}

#define P(name, member) { name, sizeof(name) - 1, offsetof(wx_query_t, member) }
static const struct {
    const char *name;
    size_t      len;
    size_t      off;
} wx_query_params[] = {
    P("signature", signature),
    P("timestamp", timestamp),
    P("nonce", nonce),
    P("echostr", echostr),
    P("openid", openid),
    P("encrypt_type", encrypt_type),
    P("msg_signature", msg_signature),
};
#undef P

wx_err_t wx_query_parse(const char *qs, size_t len, wx_pool_t *pool,
                        wx_query_t *q)
{
    const char *p = qs, *end = qs + len;

    memset(q, 0, sizeof(*q));
    if (len > WX_QUERY_MAX)
        return WX_EINVAL;

    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        const char *kend = eq ? eq : pe;
        size_t i, klen = (size_t)(kend - p);

        for (i = 0; i < sizeof(wx_query_params) / sizeof(wx_query_params[0]); i++) {
            wx_str_t *slot;
            const char *v;
            size_t vlen;
            char *dst;
            long dlen;

            if (wx_query_params[i].len != klen ||
                memcmp(wx_query_params[i].name, p, klen) != 0)
                continue;
            slot = (wx_str_t *)((char *)q + wx_query_params[i].off);
            if (slot->data != NULL)
                return WX_EINVAL;           /* given twice */
            v = eq ? eq + 1 : pe;
            vlen = (size_t)(pe - v);
            dst = wx_pool_alloc(pool, vlen + 1);
            if (dst == NULL)
                return WX_ENOMEM;
            dlen = wx_url_decode(dst, v, vlen);
            if (dlen < 0)
                return WX_EINVAL;
            dst[dlen] = '\0';
            slot->data = dst;
            slot->len = (size_t)dlen;
            break;
        }
        p = amp ? amp + 1 : end;
    }
    return WX_OK;
}

long long wx_content_length(const char *s)
{
    long long v = 0;

    if (s == NULL || *s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (1LL << 50))
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

long wx_query_get(const char *qs, const char *name, char *dst, size_t cap)
{
    size_t nlen = strlen(name);
    const char *p = qs;

    while (p && *p) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            const char *v = p + nlen + 1;
            size_t vlen = len - nlen - 1;
            long n;

            /* Decoding never grows a value. */
            if (vlen >= cap)
                return -2;
            n = wx_url_decode(dst, v, vlen);
            if (n < 0)
                return -2;
            dst[n] = '\0';
            return n;
        }
        if (len == nlen && strncmp(p, name, nlen) == 0) {
            if (cap == 0)
                return -2;
            dst[0] = '\0';
            return 0;
        }
        p = end ? end + 1 : NULL;
    }
    return -1;
}
