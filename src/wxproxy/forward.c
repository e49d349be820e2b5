/*
 * forward.c - one call through the proxy.
 *
 *   key (X-Wx-Key, constant time) -> path allowed for the key -> the
 *   key's token bucket (shared by every worker of the machine) -> body
 *   read, up to max_body, into memory (1 MiB) or an unlinked temporary
 *   file -> token from the store (or from wxtoken when the store has
 *   none) -> the call, streamed both ways by libcurl -> on 40001, 42001
 *   or 40014 (PROTOCOL.md 5.3) the token is reported to wxtoken and the
 *   call made once more with the token it hands back.
 *
 * WeChat's answer is returned unchanged: status, Content-Type,
 * Content-Disposition and body.  The first PX_PEEK bytes are held back
 * to look for a token error (such an answer is a few dozen bytes); a
 * larger answer (a media file) is streamed to the caller as it arrives.
 * The proxy's own refusals are JSON {"error":CODE,"message":TEXT}.
 *
 * Nothing secret is logged: not the key (its name is), not the token, not
 * the query string (the path is).
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "wx/dirhint.h"
#include "wx/log.h"
#include "wx/ratelimit.h"
#include "wx/token.h"
#include "wxproxy.h"

#define PX_PREFIX       "/wxapi"
#define PX_PATH_MAX     256
#define PX_KEY_MAX      1024            /* a longer X-Wx-Key is no key */
#define PX_QUERY_MAX    8192
#define PX_MEM_BODY     (1u << 20)      /* bodies above this spool to a file */
#define PX_PEEK         (64u << 10)     /* answer bytes held back for the errcode */
#define PX_HDR_MAX      512             /* Content-Type, Content-Disposition */
#define PX_ASK_MAX_MS   10000           /* the longest wait for wxtoken */

struct px {
    const wx_config_t  *cfg;
    wx_ratelimit_t     *rl;
    CURL               *curl;
    unsigned char     (*key_md)[SHA256_DIGEST_LENGTH];
};

/* The caller's body, replayable for the retry. */
typedef struct px_body {
    char           *mem;
    size_t          len;
    int             fd;             /* spooled: -1 when in memory */
    size_t          off;            /* read position of the current attempt */
} px_body_t;

/* One attempt's answer. */
typedef struct px_answer {
    FCGX_Request   *rq;
    long            status;
    char            ctype[PX_HDR_MAX];
    char            disp[PX_HDR_MAX];
    char           *peek;           /* PX_PEEK bytes */
    size_t          len;
    int             streaming;      /* headers sent; the rest goes straight out */
    int             upstream_5xx;   /* too big to hold and a server error */
    size_t          sent;
} px_answer_t;

/* What the access-log line says. */
typedef struct px_call {
    const char     *key;            /* the key's name, or "-" */
    char            path[PX_PATH_MAX + 8];
    int             status;
    long            errcode;
    int             has_errcode;
    int             retried;
    const char     *error;          /* own error code, or NULL */
} px_call_t;

/* ---- set-up ---------------------------------------------------------------- */

px_t *px_new(const wx_config_t *cfg, char *err, size_t errlen)
{
    static int curl_ready;
    char path[4200];
    px_t *px = calloc(1, sizeof(*px));
    size_t i;

    if (px == NULL)
        goto oom;
    px->cfg = cfg;
    if (mkdir(cfg->px_state_dir, 0700) != 0 && errno != EEXIST) {
        char hint[512];
        int e = errno;

        snprintf(err, errlen, "[wxproxy] state_dir %s: %s%s", cfg->px_state_dir,
                 strerror(e), wx_dir_hint(cfg->px_state_dir, 1, e, hint, sizeof(hint)));
        goto fail;
    }
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(err, errlen, "libcurl initialisation failed");
            goto fail;
        }
        curl_ready = 1;
    }
    px->curl = curl_easy_init();
    if (px->curl == NULL)
        goto oom;
    if (cfg->n_px_keys) {
        px->key_md = calloc(cfg->n_px_keys, sizeof(*px->key_md));
        if (px->key_md == NULL)
            goto oom;
    }
    for (i = 0; i < cfg->n_px_keys; i++)
        SHA256((const unsigned char *)cfg->px_keys[i].key, strlen(cfg->px_keys[i].key),
               px->key_md[i]);
    snprintf(path, sizeof(path), "%s/ratelimit.shm", cfg->px_state_dir);
    px->rl = wx_ratelimit_open(path, err, errlen);
    if (px->rl == NULL)
        goto fail;
    return px;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    px_free(px);
    return NULL;
}

void px_free(px_t *px)
{
    if (px == NULL)
        return;
    if (px->curl)
        curl_easy_cleanup(px->curl);
    if (px->key_md) {
        OPENSSL_cleanse(px->key_md, px->cfg->n_px_keys * sizeof(*px->key_md));
        free(px->key_md);
    }
    wx_ratelimit_close(px->rl);
    free(px);
}

/* ---- answers of our own ------------------------------------------------------ */

static const char *reason(long status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default:  return status < 400 ? "OK" : "Error";
    }
}

/* Refuse: status and {"error":code,"message":text}; 'extra' is more
 * header lines ("Retry-After: 1\r\n") or "". */
static void refuse(FCGX_Request *rq, px_call_t *c, int status, const char *code,
                   const char *extra, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void refuse(FCGX_Request *rq, px_call_t *c, int status, const char *code,
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
    j = json_pack("{s:s, s:s}", "error", code, "message", msg);
    body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    /* snprintf, not FCGX_FPrintF: libfcgi's printf knows no %zu. */
    n = snprintf(head, sizeof(head), "Status: %d %s\r\n"
                 "Content-Type: application/json; charset=utf-8\r\n"
                 "Content-Length: %zu\r\n"
                 "Cache-Control: no-store\r\n"
                 "%s\r\n", status, reason(status), body ? strlen(body) + 1 : 0, extra);
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
static int api_path(FCGX_Request *rq, char *out, size_t cap)
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
static int find_key(px_t *px, const char *presented)
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
    for (i = 0; i < px->cfg->n_px_keys; i++) {
        int eq = CRYPTO_memcmp(md, px->key_md[i], sizeof(md)) == 0;

        /* no branch on a secret: keep the first match, arithmetically */
        found += (found == -1) * eq * ((int)i + 1);
    }
    OPENSSL_cleanse(md, sizeof(md));
    return found;
}

/* 'path' is in the key's list: exactly, or as a prefix when the entry ends in a star. */
static int path_allowed(const wx_proxy_key_t *k, const char *path)
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
static int query_ok(const char *query)
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
static int append_query(char *url, size_t cap, const char *query)
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

/* ---- the body --------------------------------------------------------------- */

static int spool_open(const char *dir)
{
    char tmpl[4200];
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
    /* No O_TMPFILE on this filesystem: a named file, unlinked at once. */
    snprintf(tmpl, sizeof(tmpl), "%s/body.XXXXXX", dir);
    fd = mkostemp(tmpl, O_CLOEXEC);
    if (fd >= 0)
        unlink(tmpl);
    return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read the caller's body.  0, or the status to refuse with (after
 * 'refuse' has been called). */
static int read_body(px_t *px, FCGX_Request *rq, px_call_t *c, px_body_t *b)
{
    const char *cl = FCGX_GetParam("CONTENT_LENGTH", rq->envp);
    size_t max = px->cfg->px_max_body, want = 0, cap;
    char chunk[65536];
    int have_cl = 0;

    if (cl && *cl) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(cl, &end, 10);
        if (errno || *end || *cl == '-') {
            refuse(rq, c, 400, "bad_request", "", "bad Content-Length");
            return 400;
        }
        if (v > max) {
            refuse(rq, c, 413, "body_too_large", "",
                   "the body is over %zu bytes ([wxproxy] max_body)", max);
            return 413;
        }
        want = (size_t)v;
        have_cl = 1;
    }
    cap = have_cl && want < PX_MEM_BODY ? want : PX_MEM_BODY;
    b->mem = malloc(cap ? cap : 1);
    if (b->mem == NULL) {
        refuse(rq, c, 500, "internal", "", "out of memory");
        return 500;
    }
    for (;;) {
        int n = FCGX_GetStr(chunk, (int)sizeof(chunk), rq->in);

        if (n <= 0)
            break;
        if (b->len + (size_t)n > max) {
            refuse(rq, c, 413, "body_too_large", "",
                   "the body is over %zu bytes ([wxproxy] max_body)", max);
            return 413;
        }
        if (b->fd < 0 && b->len + (size_t)n > cap) {
            /* Over what memory holds: the rest, and what came so far, to
             * an unlinked file in state_dir. */
            b->fd = spool_open(px->cfg->px_state_dir);
            if (b->fd < 0 || write_all(b->fd, b->mem, b->len) != 0) {
                wx_log(WX_LOG_ERROR, "cannot spool a body in %s: %s",
                       px->cfg->px_state_dir, strerror(errno));
                refuse(rq, c, 500, "internal", "", "cannot store the body");
                return 500;
            }
        }
        if (b->fd >= 0) {
            if (write_all(b->fd, chunk, (size_t)n) != 0) {
                wx_log(WX_LOG_ERROR, "cannot spool a body in %s: %s",
                       px->cfg->px_state_dir, strerror(errno));
                refuse(rq, c, 500, "internal", "", "cannot store the body");
                return 500;
            }
        } else {
            memcpy(b->mem + b->len, chunk, (size_t)n);
        }
        b->len += (size_t)n;
    }
    if (have_cl && b->len != want) {
        refuse(rq, c, 400, "bad_request", "", "the body is shorter than its Content-Length");
        return 400;
    }
    return 0;
}

static size_t on_read(char *buf, size_t size, size_t n, void *user)
{
    px_body_t *b = user;
    size_t want = size * n, left = b->len - b->off;

    if (want > left)
        want = left;
    if (want == 0)
        return 0;
    if (b->fd >= 0) {
        ssize_t r = pread(b->fd, buf, want, (off_t)b->off);

        if (r < 0)
            return CURL_READFUNC_ABORT;
        want = (size_t)r;
    } else {
        memcpy(buf, b->mem + b->off, want);
    }
    b->off += want;
    return want;
}

/* ---- the answer -------------------------------------------------------------- */

/* A header value without surrounding blanks, if it is printable. */
static void header_value(char *dst, const char *line, size_t len, size_t name_len)
{
    const char *v = line + name_len;
    size_t n = len - name_len, i;

    while (n && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    dst[0] = '\0';
    if (n >= PX_HDR_MAX)
        return;
    for (i = 0; i < n; i++)
        if ((unsigned char)v[i] < ' ' || v[i] == 0x7f)
            return;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static size_t on_header(char *line, size_t size, size_t n, void *user)
{
    px_answer_t *a = user;
    size_t len = size * n;

    if (len > 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* A new response (after a 1xx): forget the earlier headers. */
        const char *sp = memchr(line, ' ', len);

        a->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        a->ctype[0] = a->disp[0] = '\0';
    } else if (len > 13 && strncasecmp(line, "Content-Type:", 13) == 0) {
        header_value(a->ctype, line, len, 13);
    } else if (len > 20 && strncasecmp(line, "Content-Disposition:", 20) == 0) {
        header_value(a->disp, line, len, 20);
    }
    return len;
}

static void send_head(px_answer_t *a, int with_length)
{
    char head[3 * PX_HDR_MAX];
    size_t n;

    n = (size_t)snprintf(head, sizeof(head), "Status: %ld %s\r\n", a->status,
                         reason(a->status));
    if (a->ctype[0])
        n += (size_t)snprintf(head + n, sizeof(head) - n, "Content-Type: %s\r\n", a->ctype);
    if (a->disp[0])
        n += (size_t)snprintf(head + n, sizeof(head) - n, "Content-Disposition: %s\r\n",
                              a->disp);
    if (with_length)
        n += (size_t)snprintf(head + n, sizeof(head) - n, "Content-Length: %zu\r\n", a->len);
    n += (size_t)snprintf(head + n, sizeof(head) - n, "\r\n");
    FCGX_PutStr(head, (int)n, a->rq->out);
}

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
    px_answer_t *a = user;
    size_t len = size * n;

    if (!a->streaming && a->len + len <= PX_PEEK) {
        memcpy(a->peek + a->len, p, len);
        a->len += len;
        return len;
    }
    if (!a->streaming) {
        /* Too big to be a token error: from here it is passed through as
         * it comes, unless it is a server error (then ours is sent). */
        if (a->status >= 500 || a->status < 100) {
            a->upstream_5xx = 1;
            return 0;
        }
        send_head(a, 0);
        if (FCGX_PutStr(a->peek, (int)a->len, a->rq->out) < 0)
            return 0;
        a->sent = a->len;
        a->streaming = 1;
    }
    if (FCGX_PutStr(p, (int)len, a->rq->out) < 0)
        return 0;       /* the caller went away: stop */
    a->sent += len;
    return len;
}

/* The errcode of a held-back JSON answer; 0 when it has none. */
static int answer_errcode(const px_answer_t *a, long *errcode)
{
    json_t *j, *e;
    int ok = 0;

    if (a->streaming || a->len == 0 || a->peek[0] != '{')
        return 0;
    j = json_loadb(a->peek, a->len, 0, NULL);
    e = json_is_object(j) ? json_object_get(j, "errcode") : NULL;
    if (json_is_integer(e)) {
        *errcode = (long)json_integer_value(e);
        ok = 1;
    } else if (j != NULL) {
        *errcode = 0;
        ok = 1;
    }
    json_decref(j);
    return ok;
}

/* ---- the call ----------------------------------------------------------------- */

/* One attempt with 'token'.  The curl code (CURLE_OK: 'a' holds the
 * answer). */
static CURLcode attempt(px_t *px, FCGX_Request *rq, const char *path, const char *token,
                        const char *method, px_body_t *b, px_answer_t *a,
                        char *why, size_t whylen)
{
    const wx_config_t *cfg = px->cfg;
    const char *query = FCGX_GetParam("QUERY_STRING", rq->envp);
    const char *ctype = FCGX_GetParam("CONTENT_TYPE", rq->envp);
    struct curl_slist *hdrs = NULL;
    char *url, *etok, errbuf[CURL_ERROR_SIZE] = "";
    size_t cap = strlen(cfg->px_api) + strlen(path) + 2 * WX_TOKEN_MAX + PX_QUERY_MAX + 64;
    CURL *h = px->curl;
    CURLcode rc;

    url = malloc(cap);
    etok = curl_easy_escape(h, token, 0);
    if (url == NULL || etok == NULL) {
        free(url);
        curl_free(etok);
        snprintf(why, whylen, "out of memory");
        return CURLE_OUT_OF_MEMORY;
    }
    snprintf(url, cap, "%s%s?access_token=%s", cfg->px_api, path, etok);
    curl_free(etok);
    append_query(url, cap, query);      /* query_ok, and cap has room for it */

    /* A reset handle keeps its connections: nothing of the last call
     * leaks into this one. */
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)cfg->px_timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->px_timeout_ms);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "wxproxy/" WX_VERSION);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (cfg->px_ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, cfg->px_ca_file);
    curl_easy_setopt(h, CURLOPT_PROXY, cfg->px_proxy ? cfg->px_proxy : "");
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    /* No "Expect: 100-continue" wait before a large body. */
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (strcmp(method, "POST") == 0) {
        if (ctype && *ctype && strlen(ctype) < PX_HDR_MAX && !strpbrk(ctype, "\r\n")) {
            char line[PX_HDR_MAX + 16];

            snprintf(line, sizeof(line), "Content-Type: %s", ctype);
            hdrs = curl_slist_append(hdrs, line);
        }
        b->off = 0;
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, b);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->len);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

    a->status = 0;
    a->len = a->sent = 0;
    a->ctype[0] = a->disp[0] = '\0';
    a->streaming = a->upstream_5xx = 0;
    rc = curl_easy_perform(h);
    if (rc == CURLE_OK) {
        long code = 0;

        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        a->status = code;
    } else {
        /* curl's message names the host, never the URL's query. */
        snprintf(why, whylen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(hdrs);
    free(url);
    return rc;
}

static int retry_code(long errcode)
{
    /* PROTOCOL.md 5.3: the token is invalid, not the latest, or expired. */
    return errcode == 40001 || errcode == 42001 || errcode == 40014;
}

static unsigned ask_timeout(const wx_config_t *cfg)
{
    return cfg->px_timeout_ms < PX_ASK_MAX_MS ? cfg->px_timeout_ms : PX_ASK_MAX_MS;
}

/* The token to call with: the store's, else whatever wxtoken answers. */
static int get_token(px_t *px, wx_token_t *tok, char *err, size_t errlen)
{
    const wx_config_t *cfg = px->cfg;
    wx_err_t rc = wx_token_read(cfg->tok_store, time(NULL), tok, err, errlen);

    if (rc == WX_OK)
        return 0;
    if (rc != WX_EMISSING && rc != WX_ESTALE)
        wx_log(WX_LOG_WARN, "token store: %s", err);
    rc = wx_token_ask(cfg->tok_listen + 5, "STATUS", ask_timeout(cfg), tok, err, errlen);
    return rc == WX_OK && tok->token[0] ? 0 : -1;
}

static void forward(px_t *px, FCGX_Request *rq, px_call_t *c, const char *method,
                    px_body_t *b)
{
    const wx_config_t *cfg = px->cfg;
    char err[512], why[CURL_ERROR_SIZE + 64], brief[64], req[WX_TOKEN_MAX + 16];
    px_answer_t a;
    wx_token_t tok, fresh;
    CURLcode rc;
    int tries;

    memset(&a, 0, sizeof(a));
    a.rq = rq;
    a.peek = malloc(PX_PEEK);
    if (a.peek == NULL) {
        refuse(rq, c, 500, "internal", "", "out of memory");
        return;
    }
    if (get_token(px, &tok, err, sizeof(err)) != 0) {
        wx_log(WX_LOG_ERROR, "no token: the store has none and wxtoken did not answer: %s",
               err);
        refuse(rq, c, 503, "no_token", "Retry-After: 1\r\n",
               "no access token: the store has none and wxtoken is not answering");
        goto out;
    }
    for (tries = 0;; tries++) {
        rc = attempt(px, rq, c->path, tok.token, method, b, &a, why, sizeof(why));
        if (a.streaming) {
            /* Passed through already. */
            if (rc != CURLE_OK)
                wx_log(WX_LOG_WARN, "%s: the answer broke off after %zu bytes: %s",
                       c->path, a.sent, why);
            c->status = (int)a.status;
            break;
        }
        if (rc == CURLE_OPERATION_TIMEDOUT) {
            wx_log(WX_LOG_WARN, "%s: upstream timeout: %s", c->path, why);
            refuse(rq, c, 504, "upstream_timeout", "",
                   "WeChat did not answer within %u ms", cfg->px_timeout_ms);
            break;
        }
        if (rc != CURLE_OK || a.upstream_5xx || a.status >= 500 || a.status < 100) {
            if (rc == CURLE_OK || a.upstream_5xx)
                snprintf(why, sizeof(why), "HTTP status %ld", a.status);
            wx_log(WX_LOG_WARN, "%s: upstream failed: %s", c->path, why);
            refuse(rq, c, 502, "upstream_failed", "", "WeChat's answer is not usable: %s",
                   why);
            break;
        }
        c->has_errcode = answer_errcode(&a, &c->errcode);
        if (tries == 0 && c->has_errcode && retry_code(c->errcode)) {
            /* Report the token; wxtoken refreshes it once however many
             * workers report it, and hands back the current one. */
            wx_token_brief(brief, sizeof(brief), tok.token);
            snprintf(req, sizeof(req), "REJECTED %s", tok.token);
            if (wx_token_ask(cfg->tok_listen + 5, req, ask_timeout(cfg), &fresh,
                             err, sizeof(err)) != WX_OK) {
                wx_log(WX_LOG_WARN, "%s: errcode %ld for token %s, and wxtoken gave no "
                       "other: %s", c->path, c->errcode, brief, err);
            } else if (strcmp(fresh.token, tok.token) == 0) {
                wx_log(WX_LOG_WARN, "%s: errcode %ld for token %s, which wxtoken still "
                       "holds current", c->path, c->errcode, brief);
            } else {
                wx_log(WX_LOG_INFO, "%s: errcode %ld for token %s: retrying with version %lu",
                       c->path, c->errcode, brief, fresh.version);
                tok = fresh;
                c->retried = 1;
                continue;
            }
        }
        /* WeChat's answer, unchanged. */
        send_head(&a, 1);
        if (a.len)
            FCGX_PutStr(a.peek, (int)a.len, rq->out);
        c->status = (int)a.status;
        break;
    }
out:
    OPENSSL_cleanse(&tok, sizeof(tok));
    OPENSSL_cleanse(req, sizeof(req));
    free(a.peek);
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000L + (t1.tv_nsec - t0->tv_nsec) / 1000000L;
}

void px_serve(px_t *px, FCGX_Request *rq)
{
    const wx_config_t *cfg = px->cfg;
    const char *method = FCGX_GetParam("REQUEST_METHOD", rq->envp);
    px_body_t body = { NULL, 0, -1, 0 };
    px_call_t c;
    struct timespec t0;
    char errcode[24] = "-";
    unsigned retry_ms;
    int k;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&c, 0, sizeof(c));
    c.key = "-";
    strcpy(c.path, "-");

    if (method == NULL || (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)) {
        refuse(rq, &c, 405, "method_not_allowed", "Allow: GET, POST\r\n",
               "only GET and POST are forwarded");
        goto log;
    }
    if (api_path(rq, c.path, sizeof(c.path)) != 0) {
        strcpy(c.path, "-");
        refuse(rq, &c, 400, "bad_request", "", "not an API path: /wxapi/cgi-bin/...");
        goto log;
    }
    k = find_key(px, FCGX_GetParam("HTTP_X_WX_KEY", rq->envp));
    if (k < 0) {
        refuse(rq, &c, 401, "unknown_key", "", "missing or unknown X-Wx-Key");
        goto log;
    }
    c.key = cfg->px_keys[k].name;
    if (!path_allowed(&cfg->px_keys[k], c.path)) {
        refuse(rq, &c, 403, "path_not_allowed", "", "key %s may not call %s", c.key, c.path);
        goto log;
    }
    if (!query_ok(FCGX_GetParam("QUERY_STRING", rq->envp))) {
        refuse(rq, &c, 400, "bad_request", "", "malformed query string");
        goto log;
    }
    if (!wx_ratelimit_take(px->rl, c.key, cfg->px_keys[k].rate, cfg->px_keys[k].burst,
                           wx_ratelimit_now(), &retry_ms)) {
        char hdr[48];
        unsigned secs = (retry_ms + 999) / 1000;

        snprintf(hdr, sizeof(hdr), "Retry-After: %u\r\n", secs ? secs : 1);
        refuse(rq, &c, 429, "rate_limited", hdr, "key %s is over %u calls a second",
               c.key, cfg->px_keys[k].rate);
        goto log;
    }
    if (strcmp(method, "POST") == 0 && read_body(px, rq, &c, &body) != 0)
        goto log;
    forward(px, rq, &c, method, &body);
log:
    if (c.has_errcode)
        snprintf(errcode, sizeof(errcode), "%ld", c.errcode);
    wx_log(WX_LOG_INFO, "key=%s path=%s status=%d errcode=%s%s%s ms=%ld%s", c.key, c.path,
           c.status, errcode, c.error ? " error=" : "", c.error ? c.error : "",
           elapsed_ms(&t0), c.retried ? " retried=1" : "");
    if (body.fd >= 0)
        close(body.fd);
    free(body.mem);
}
