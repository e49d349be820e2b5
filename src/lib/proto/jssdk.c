/* jssdk.c - the JS-SDK's page signature (wx/proto/jssdk.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "wx/proto/jssdk.h"
#include "wx/proto/token.h"

wx_err_t wx_jssdk_url(const char *url, char *out, size_t cap)
{
    size_t len = strcspn(url, "#"), skip, host, i;
    int slash;

    if (strncasecmp(url, "https://", 8) == 0)
        skip = 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        skip = 7;
    else
        return WX_EINVAL;
    if (len > WX_JSSDK_URL_MAX)
        return WX_ETOOBIG;
    for (i = 0; i < len; i++)
        if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] >= 0x7f)
            return WX_EINVAL;
    host = strcspn(url + skip, "/?#");
    if (host == 0)
        return WX_EINVAL;
    /* A browser's location.href always has a path: "/" after a bare host. */
    slash = skip + host == len || url[skip + host] == '?';
    if (len + (size_t)slash + 1 > cap)
        return WX_ETOOBIG;
    memcpy(out, url, skip + host);
    if (slash)
        out[skip + host] = '/';
    memcpy(out + skip + host + slash, url + skip + host, len - skip - host);
    out[len + (size_t)slash] = '\0';
    return WX_OK;
}

wx_err_t wx_jssdk_sign(const char *ticket, const char *nonce, long long timestamp,
                       const char *url, char hex[WX_JSSDK_SIG_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    char s[WX_TOKEN_MAX + WX_JSSDK_URL_MAX + 128];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0, i;
    int n;

    hex[0] = '\0';
    if (ticket[0] == '\0' || nonce[0] == '\0' || strchr(ticket, '&') || strchr(nonce, '&') ||
        strlen(ticket) > WX_TOKEN_MAX || strlen(nonce) > 64)
        return WX_EINVAL;
    /* The keys in ASCII order, the values raw (PROTOCOL.md 13). */
    n = snprintf(s, sizeof(s), "jsapi_ticket=%s&noncestr=%s&timestamp=%lld&url=%s", ticket,
                 nonce, timestamp, url);
    if (n < 0 || (size_t)n >= sizeof(s))
        return WX_EINVAL;
    if (!EVP_Digest(s, (size_t)n, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
        return WX_ECRYPTO;
    for (i = 0; i < mdlen; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * mdlen] = '\0';
    return WX_OK;
}

wx_err_t wx_jssdk_nonce(char nonce[WX_JSSDK_NONCE_LEN + 1])
{
    static const char alnum[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[WX_JSSDK_NONCE_LEN];
    size_t i;

    if (RAND_bytes(r, sizeof(r)) != 1)
        return WX_ECRYPTO;
    /* 62 letters: 256 % 62 leaves a slight bias, harmless for a nonce. */
    for (i = 0; i < sizeof(r); i++)
        nonce[i] = alnum[r[i] % 62];
    nonce[WX_JSSDK_NONCE_LEN] = '\0';
    return WX_OK;
}
