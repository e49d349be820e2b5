/* answer.c - one attempt against WeChat with libcurl, and its answer:
 * the first PX_PEEK bytes held back to look for a token error, a larger
 * answer streamed to the caller as it comes (forward.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "wx/core/http.h"
#include "wx/proto/token.h"
#include "wxproxy.h"
#include "forward.h"

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

void px_send_head(px_answer_t *a, int with_length)
{
    char head[3 * PX_HDR_MAX];
    size_t n;

    n = (size_t)snprintf(head, sizeof(head), "Status: %ld %s\r\n", a->status,
                         wx_http_reason(a->status));
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
        px_send_head(a, 0);
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
int px_answer_errcode(const px_answer_t *a, long *errcode)
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

/* Set 'h' up for one call of 'url': our limits, the answer into 'a', a
 * POST's body from 'b' with the caller's Content-Type.  The header list
 * to free after the call. */
static struct curl_slist *prepare(CURL *h, const px_conf_t *cfg, const char *url,
                                  const char *ctype, const char *method, px_body_t *b,
                                  px_answer_t *a, char *errbuf)
{
    struct curl_slist *hdrs = NULL;

    /* A reset handle keeps its connections: nothing of the last call
     * leaks into this one. */
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)cfg->px.timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->px.timeout_ms);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "wxproxy/" WX_VERSION);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (cfg->px.ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, cfg->px.ca_file);
    curl_easy_setopt(h, CURLOPT_PROXY, cfg->px.proxy ? cfg->px.proxy : "");
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
        curl_easy_setopt(h, CURLOPT_READFUNCTION, px_on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, b);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->len);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    return hdrs;
}

/* One attempt with 'token'.  The curl code (CURLE_OK: 'a' holds the
 * answer). */
CURLcode px_attempt(px_t *px, FCGX_Request *rq, const char *path, const char *token,
                    const char *method, px_body_t *b, px_answer_t *a,
                    char *why, size_t whylen)
{
    const px_conf_t *cfg = px->cfg;
    const char *query = FCGX_GetParam("QUERY_STRING", rq->envp);
    struct curl_slist *hdrs;
    char *url, *etok, errbuf[CURL_ERROR_SIZE] = "";
    size_t cap = strlen(cfg->px.api) + strlen(path) + 2 * WX_TOKEN_MAX + PX_QUERY_MAX + 64;
    CURL *h = px->curl;
    CURLcode rc;

    url = malloc(cap);
    etok = token ? curl_easy_escape(h, token, 0) : NULL;
    if (url == NULL || (token && etok == NULL)) {
        free(url);
        curl_free(etok);
        snprintf(why, whylen, "out of memory");
        return CURLE_OUT_OF_MEMORY;
    }
    if (token == NULL) {
        /* The follower's web token is in the caller's query. */
        snprintf(url, cap, "%s%s%s%s", cfg->px.api, path, query && *query ? "?" : "",
                 query ? query : "");
    } else {
        snprintf(url, cap, "%s%s?access_token=%s", cfg->px.api, path, etok);
        curl_free(etok);
        px_append_query(url, cap, query);  /* query_ok, and cap has room for it */
    }

    hdrs = prepare(h, cfg, url, FCGX_GetParam("CONTENT_TYPE", rq->envp), method, b, a,
                   errbuf);
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
