/*
 * wx/proto/jssdk.h - the JS-SDK's page signature (PROTOCOL.md 13).
 *
 *   string1   = "jsapi_ticket=T&noncestr=N&timestamp=TS&url=U"
 *               (the keys in ASCII order, the raw values, no escaping)
 *   signature = lowercase hex(SHA1(string1))
 *
 * U is the page's URL as the browser knows it: without '#' and what
 * follows, and with the '/' a browser adds after a bare host.  wxproxy
 * answers /jssdk/config with it and wxctl checks a page URL with it
 * before asking.  No allocation: everything fits in the caller's buffers.
 */
#ifndef WX_PROTO_JSSDK_H
#define WX_PROTO_JSSDK_H

#include <stddef.h>
#include "wx/core/err.h"

#define WX_JSSDK_URL_MAX    2048    /* the longest page URL signed */
#define WX_JSSDK_NONCE_LEN  16      /* nonceStr: letters and digits */
#define WX_JSSDK_SIG_LEN    40      /* hex SHA-1 */

/* The URL to sign for the page 'url': its fragment dropped, a '/' after
 * a bare host ("http://qq.com" and "http://qq.com?a=1" become
 * "http://qq.com/" and "http://qq.com/?a=1").  Written to 'out' ('cap'
 * bytes, NUL-terminated).  WX_OK; WX_EINVAL when 'url' is not an
 * http(s):// URL with a host, of printable ASCII without blanks;
 * WX_ETOOBIG when it is over WX_JSSDK_URL_MAX or 'out' has no room. */
wx_err_t wx_jssdk_url(const char *url, char *out, size_t cap);

/* The signature of (ticket, nonce, timestamp, url) into 'hex' (NUL-
 * terminated).  'url' is signed as given (wx_jssdk_url() first).
 * WX_OK; WX_EINVAL for an empty ticket or nonce, a value with '&' in the
 * ticket or nonce, or a part too long; WX_ECRYPTO. */
wx_err_t wx_jssdk_sign(const char *ticket, const char *nonce, long long timestamp,
                       const char *url, char hex[WX_JSSDK_SIG_LEN + 1]);

/* A fresh nonceStr of WX_JSSDK_NONCE_LEN letters and digits (OpenSSL's
 * RAND_bytes).  WX_OK or WX_ECRYPTO. */
wx_err_t wx_jssdk_nonce(char nonce[WX_JSSDK_NONCE_LEN + 1]);

#endif
