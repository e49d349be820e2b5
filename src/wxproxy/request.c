/* request.c - what the caller asks of the proxy: its path, its key and
 * its query, checked before anything is forwarded (forward.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "wx/core/http.h"
#include "wxproxy.h"
#include "forward.h"

void px_refuse(FCGX_Request *rq, px_call_t *c, int status, const char *code,
               const char *extra, const char *fmt, ...)
               {
               char msg[512], head[512];
    json_t *j;
    int n;
    char *body;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* PROTOCOL.md 8a: SDKs look only at errcode, so our refusals carry
     * one (PX_ERRCODE_BASE + the status) beside our own reason. */
    j = json_pack("{s:i, s:s, s:s}", "errcode", PX_ERRCODE_BASE + status, "errmsg", msg,
                  "error", code);
    body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    /* snprintf, not FCGX_FPrintF: libfcgi's printf knows no %zu. */
    n = snprintf(head, sizeof(head), "Status: %d %s\r\n"
                 "Content-Type: application/json; encoding=utf-8\r\n"
                 "Content-Length: %zu\r\n"
                 "Cache-Control: no-store\r\n"
                 "%s\r\n", status, wx_http_reason(status), body ? strlen(body) + 1 : 0, extra);
    FCGX_PutStr(head, n, rq->out);
    if (body) {
        FCGX_PutS(body, rq->out);
        FCGX_PutS("\n", rq->out);
    }
    free(body);
    c->status = status;
    c->error = code;
}

/* ---- the request -------------------------------------------------------------- */

/* The WeChat path of the request: DOCUMENT_URI (nginx's $uri: decoded and
 * normalised, so "/a/../b" is already "/b") without the /wxapi prefix.
 * Only the characters API paths use, no "//" and no "..". */
int px_api_path(FCGX_Request *rq, char *out, size_t cap)
{
    const char *uri = FCGX_GetParam("DOCUMENT_URI", rq->envp);
    size_t plen = strlen(PX_PREFIX), len, i;

    if (uri == NULL)
        uri = FCGX_GetParam("SCRIPT_NAME", rq->envp);
    if (uri == NULL || strncmp(uri, PX_PREFIX "/", plen + 1) != 0)
        return -1;
    uri += plen;
    len = strlen(uri);
    if (len < 2 || len >= cap || strstr(uri, "//") || strstr(uri, ".."))
        return -1;
    for (i = 0; i < len; i++) {
        char ch = uri[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '/' || ch == '_' || ch == '-' || ch == '.'))
            return -1;
    }
    memcpy(out, uri, len + 1);
    return 0;
}

/* The key presented, by index; -1 when none matches.  Every configured
 * key is compared, in constant time, whatever the outcome: SHA-256 first,
 * so that the length of a key does not show either. */
int px_find_key(px_t *px, const char *presented)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    size_t i, len;
    int found = -1;

    if (presented == NULL)
        return -1;
    len = strnlen(presented, PX_KEY_MAX + 1);
    if (len == 0 || len > PX_KEY_MAX)
        return -1;
    SHA256((const unsigned char *)presented, len, md);
    for (i = 0; i < px->cfg->keys.n; i++) {
        int eq = CRYPTO_memcmp(md, px->key_md[i], sizeof(md)) == 0;

        /* no branch on a secret: keep the first match, arithmetically */
        found += (found == -1) * eq * ((int)i + 1);
    }
    OPENSSL_cleanse(md, sizeof(md));
    return found;
}

/* 'path' is in the key's list: exactly, or as a prefix when the entry ends in a star. */
int px_path_allowed(const wx_proxy_key_t *k, const char *path)
{
    const char *p = k->paths;

    /* The token APIs take the AppSecret: only wxtoken calls them. */
    if (strcmp(path, "/cgi-bin/token") == 0 || strcmp(path, "/cgi-bin/stable_token") == 0)
        return 0;
    while (*p) {
        size_t n;

        p += strspn(p, " \t");
        n = strcspn(p, " \t");
        if (n == 0)
            break;
        if (p[n - 1] == '*') {
            if (strncmp(path, p, n - 1) == 0)
                return 1;
        } else if (strlen(path) == n && strncmp(path, p, n) == 0) {
            return 1;
        }
        p += n;
    }
    return 0;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Is the parameter [p, p+n) named access_token (percent-decoded)? */
static int is_token_param(const char *p, size_t n)
{
    static const char name[] = "access_token";
    size_t i = 0, k = 0;

    while (i < n && p[i] != '=') {
        char ch = p[i];

        if (ch == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
            ch = (char)(hexval(p[i + 1]) << 4 | hexval(p[i + 2]));
            i += 2;
        }
        if (k >= sizeof(name) - 1 || name[k] != ch)
            return 0;
        k++;
        i++;
    }
    return k == sizeof(name) - 1;
}

/* A query string that can go into a URL as it is (nginx passes it
 * undecoded): not too long, printable ASCII, no blank, no '#'. */
int px_query_ok(const char *query)
{
    const char *p;

    if (query == NULL)
        return 1;
    if (strlen(query) > PX_QUERY_MAX)
        return 0;
    for (p = query; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == '#')
            return 0;
    return 1;
}

/* The caller's query (query_ok) without any access_token, appended to
 * 'url' after '&'.  -1 when 'url' has no room. */
int px_append_query(char *url, size_t cap, const char *query)
{
    size_t len = strlen(url);
    const char *p = query;

    if (query == NULL)
        return 0;
    while (*p) {
        size_t n = strcspn(p, "&");

        if (n && !is_token_param(p, n)) {
            if (len + 1 + n + 1 > cap)
                return -1;
            url[len++] = '&';
            memcpy(url + len, p, n);
            len += n;
            url[len] = '\0';
        }
        p += n;
        if (*p == '&')
            p++;
    }
    return 0;
}
