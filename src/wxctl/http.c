/*
 * http.c - wxctl's client of wxproxy: JSON calls, streamed multipart
 * uploads and binary downloads over one libcurl handle.
 *
 * wxproxy answers in two voices: WeChat's answer passed through unchanged
 * (any status, usually 200 with {"errcode":...} or the bytes of a file),
 * and its own refusals, an HTTP status with {"errcode":990000+STATUS,
 * "errmsg":...,"error":CODE}.
 * Both are told apart here and turned into one exit status and one line on
 * stderr, so that each command only handles success.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "wx/core/dynbuf.h"
#include "wx/core/net.h"
#include "wxctl.h"

/* A JSON answer larger than this is not one WeChat sends. */
#define WXCTL_MAX_ANSWER    (8u << 20)
#define WXCTL_KEY_HEADER    "X-Wx-Key: "

struct wxctl_http {
    CURL               *curl;
    struct curl_slist  *headers;    /* the key, "Expect:" */
    struct curl_slist  *json_headers;   /* the same and the JSON Content-Type */
    char               *base;       /* [wxctl] proxy without a trailing '/' */
    char               *url;
    size_t              urlcap;
    char                errbuf[CURL_ERROR_SIZE];
};

/* One response as it arrives. */
typedef struct {
    char        ctype[128];
    char        disposition[256];
    char        retry_after[32];
    wx_dynbuf_t body;               /* buffered (JSON) answer */
    FILE       *sink;               /* where the bytes of a file go, or NULL */
    int         mode;               /* 0 undecided, 1 buffer, 2 sink */
    size_t      sunk;
    int         write_failed;
    const char *what;               /* progress bar label, or NULL */
    int         upload;
    CURL       *curl;               /* for the status, in on_data() */
} wxctl_resp_t;

wxctl_http_t *wxctl_http_new(const wxctl_conf_t *cfg, const char *account)
{
    static int global_done;
    const char *key = cfg->ctl.proxy_key;
    wxctl_http_t *ctl;
    char *line = NULL;
    size_t n;

    if (key == NULL || key[0] == '\0') {
        fprintf(stderr, "wxctl: %s: no key for wxproxy: set [wxctl] proxy_key_file, "
                "proxy_key or the environment variable WX_PROXY_KEY\n", cfg->base.path);
        return NULL;
    }
    if (strpbrk(key, "\r\n") != NULL) {
        fprintf(stderr, "wxctl: %s: [wxctl] proxy_key holds a line break\n", cfg->base.path);
        return NULL;
    }
    if (!wx_url_is_http(cfg->ctl.proxy)) {
        fprintf(stderr, "wxctl: %s: [wxctl] proxy must be an http:// or https:// URL\n",
                cfg->base.path);
        return NULL;
    }
    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            fputs("wxctl: libcurl initialisation failed\n", stderr);
            return NULL;
        }
        global_done = 1;
    }
    ctl = calloc(1, sizeof(*ctl));
    if (ctl == NULL)
        goto nomem;
    ctl->base = strdup(cfg->ctl.proxy);
    n = strlen(WXCTL_KEY_HEADER) + strlen(key) + 1;
    line = malloc(n);
    if (ctl->base == NULL || line == NULL || (ctl->curl = curl_easy_init()) == NULL)
        goto nomem;
    n = strlen(ctl->base);
    while (n > 0 && ctl->base[n - 1] == '/')
        ctl->base[--n] = '\0';
    snprintf(line, strlen(WXCTL_KEY_HEADER) + strlen(key) + 1, "%s%s", WXCTL_KEY_HEADER, key);
    ctl->headers = curl_slist_append(NULL, line);
    ctl->json_headers = curl_slist_append(NULL, line);
    explicit_bzero(line, strlen(line));
    free(line);
    line = NULL;
    /* An upload waits for no "100 Continue": wxproxy reads it at once. */
    if (ctl->headers == NULL || ctl->json_headers == NULL ||
        curl_slist_append(ctl->headers, "Expect:") == NULL ||
        curl_slist_append(ctl->json_headers,
                          "Content-Type: application/json; charset=utf-8") == NULL)
        goto nomem;
    if (account != NULL) {
        /* The account the calls act for (wxproxy: X-Wx-Account). */
        char hdr[32 + WX_ACCOUNT_NAME_MAX];

        snprintf(hdr, sizeof(hdr), "X-Wx-Account: %s", account);
        if (curl_slist_append(ctl->headers, hdr) == NULL ||
            curl_slist_append(ctl->json_headers, hdr) == NULL)
            goto nomem;
    }
    return ctl;
nomem:
    fputs("wxctl: out of memory\n", stderr);
    free(line);
    wxctl_http_free(ctl);
    return NULL;
}

void wxctl_http_free(wxctl_http_t *ctl)
{
    struct curl_slist *h;

    if (ctl == NULL)
        return;
    if (ctl->curl)
        curl_easy_cleanup(ctl->curl);
    /* The first header of each list carries the key. */
    for (h = ctl->headers; h; h = h->next)
        explicit_bzero(h->data, strlen(h->data));
    for (h = ctl->json_headers; h; h = h->next)
        explicit_bzero(h->data, strlen(h->data));
    curl_slist_free_all(ctl->headers);
    curl_slist_free_all(ctl->json_headers);
    free(ctl->base);
    free(ctl->url);
    free(ctl);
}

/* -------------------------------------------------------- callbacks -- */

static void copy_value(char *dst, size_t cap, const char *v, size_t len)
{
    while (len > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
        len--;
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *user)
{
    wxctl_resp_t *r = user;
    size_t len = size * n;
    static const struct {
        const char *name;
        size_t      off, cap;
    } keep[] = {
        { "content-type:", offsetof(wxctl_resp_t, ctype), sizeof(((wxctl_resp_t *)0)->ctype) },
        { "content-disposition:", offsetof(wxctl_resp_t, disposition),
          sizeof(((wxctl_resp_t *)0)->disposition) },
        { "retry-after:", offsetof(wxctl_resp_t, retry_after),
          sizeof(((wxctl_resp_t *)0)->retry_after) },
    };
    size_t i;

    /* A new status line (after "100 Continue"): forget the last one's. */
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        r->ctype[0] = r->disposition[0] = r->retry_after[0] = '\0';
        return len;
    }
    for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        size_t k = strlen(keep[i].name);

        if (len > k && strncasecmp(p, keep[i].name, k) == 0)
            copy_value((char *)r + keep[i].off, keep[i].cap, p + k, len - k);
    }
    return len;
}

/* WeChat sends JSON as application/json or text/plain; anything else is
 * the bytes of a file. */
static int is_json_type(const char *ctype)
{
    return ctype[0] == '\0' || strcasestr(ctype, "json") != NULL ||
           strncasecmp(ctype, "text/plain", 10) == 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
    wxctl_resp_t *r = user;
    size_t len = size * n;

    if (r->mode == 0) {
        long status = 0;

        /* Only a 200 that is not JSON is a file: an error page is not. */
        curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
        r->mode = r->sink && status == 200 && !is_json_type(r->ctype) ? 2 : 1;
    }
    if (r->mode == 2) {
        if (fwrite(p, 1, len, r->sink) != len) {
            r->write_failed = errno ? errno : EIO;
            return 0;
        }
        r->sunk += len;
        return len;
    }
    return wx_dynbuf_add(&r->body, p, len) == 0 ? len : 0;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    wxctl_resp_t *r = user;

    if (r->upload && ultotal > 0)
        wxctl_progress(r->what, (double)ulnow, (double)ultotal);
    else if (!r->upload && r->mode == 2)
        wxctl_progress(r->what, (double)dlnow, (double)dltotal);
    return 0;
}

/* ---------------------------------------------------------- a call -- */

/* Set up the handle for path_query; -1 when out of memory. */
static int prepare(wxctl_t *ctl, const char *path_query, wxctl_resp_t *r)
{
    size_t need = strlen(ctl->http->base) + strlen(path_query) + 1;

    wx_dynbuf_init(&r->body, WXCTL_MAX_ANSWER);
    if (need > ctl->http->urlcap) {
        char *nu = realloc(ctl->http->url, need);

        if (nu == NULL)
            return -1;
        ctl->http->url = nu;
        ctl->http->urlcap = need;
    }
    snprintf(ctl->http->url, ctl->http->urlcap, "%s%s", ctl->http->base, path_query);
    r->curl = ctl->http->curl;
    curl_easy_reset(ctl->http->curl);
    curl_easy_setopt(ctl->http->curl, CURLOPT_URL, ctl->http->url);
    curl_easy_setopt(ctl->http->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(ctl->http->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(ctl->http->curl, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(ctl->http->curl, CURLOPT_TIMEOUT_MS, (long)ctl->cfg->ctl.timeout_ms);
    curl_easy_setopt(ctl->http->curl, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(ctl->cfg->ctl.timeout_ms < 10000 ? ctl->cfg->ctl.timeout_ms : 10000));
    curl_easy_setopt(ctl->http->curl, CURLOPT_USERAGENT, "wxctl/" WX_VERSION);
    curl_easy_setopt(ctl->http->curl, CURLOPT_ERRORBUFFER, ctl->http->errbuf);
    curl_easy_setopt(ctl->http->curl, CURLOPT_HTTPHEADER, ctl->http->headers);
    curl_easy_setopt(ctl->http->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(ctl->http->curl, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(ctl->http->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(ctl->http->curl, CURLOPT_WRITEDATA, r);
    /* wxproxy is the only way out: no proxy from the environment. */
    curl_easy_setopt(ctl->http->curl, CURLOPT_PROXY, "");
    if (r->what && wxctl_progress_on(ctl)) {
        curl_easy_setopt(ctl->http->curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(ctl->http->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(ctl->http->curl, CURLOPT_XFERINFODATA, r);
    }
    ctl->http->errbuf[0] = '\0';
    return 0;
}

/* Print text from the network without its control characters. */
static void put_clean(FILE *f, const char *s)
{
    for (; s && *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, f);
}

/* The path without its query, for messages. */
static void put_path(FILE *f, const char *path_query)
{
    fprintf(f, "%.*s", (int)strcspn(path_query, "?"), path_query);
}

static const char *proxy_hint(const char *code)
{
    static const struct {
        const char *code, *hint;
    } hints[] = {
        { "unknown_key", "the key of [wxctl] proxy_key (or WX_PROXY_KEY) is not one of "
                         "wxproxy's [wxproxy.key.NAME] sections" },
        { "path_not_allowed", "add the path to 'paths' of this key's [wxproxy.key.NAME] "
                              "section in wxproxy's config" },
        { "rate_limited", "this key's 'rate' and 'burst' in wxproxy's config; wait and retry" },
        { "body_too_large", "the request is over wxproxy's [wxproxy] max_body" },
        { "no_token", "wxproxy has no access token: is wxtoken running? (wxctl token)" },
        { "upstream_failed", "wxproxy could not reach the WeChat API" },
        { "upstream_timeout", "the WeChat API did not answer in time" },
    };
    size_t i;

    for (i = 0; code && i < sizeof(hints) / sizeof(hints[0]); i++)
        if (strcmp(code, hints[i].code) == 0)
            return hints[i].hint;
    return NULL;
}

/* Print wxproxy's own refusal (JSON 'j' with its "error" 'perr'); the
 * exit status. */
static int proxy_refused(long status, const char *perr, const json_t *j,
                         const wxctl_resp_t *r)
{
    int transport = status >= 500;
    const char *hint;

    fprintf(stderr, "wxctl: wxproxy %s: ", transport ? "failed" : "refused");
    put_clean(stderr, perr);
    fputs(" (", stderr);
    put_clean(stderr, wxctl_str(j, "errmsg") ? wxctl_str(j, "errmsg") : "");
    fprintf(stderr, "; HTTP %ld", status);
    if (r->retry_after[0]) {
        fputs("; retry after ", stderr);
        put_clean(stderr, r->retry_after);
        fputs(" s", stderr);
    }
    fputc(')', stderr);
    if ((hint = proxy_hint(perr)) != NULL)
        fprintf(stderr, " (hint: %s)", hint);
    fputc('\n', stderr);
    return transport ? WXCTL_EXIT_TRANSPORT : WXCTL_EXIT_REFUSED;
}

/* Turn a finished transfer into an exit status, printing the failure.
 * On success with a JSON answer, *answer holds it (NULL for bytes). */
static int judge(wxctl_t *ctl, const char *path_query, CURLcode cc, wxctl_resp_t *r,
                 int quiet, json_t **answer)
{
    json_error_t jerr;
    json_t *j = NULL, *code;
    long status = 0;
    const char *perr, *hint;

    *answer = NULL;
    curl_easy_getinfo(ctl->http->curl, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        if (r->write_failed) {
            fprintf(stderr, "wxctl: cannot write the download: %s\n", strerror(r->write_failed));
            return WXCTL_EXIT_USAGE;
        }
        fprintf(stderr, "wxctl: cannot reach wxproxy at %s (", ctl->http->base);
        put_path(stderr, path_query);
        if (cc == CURLE_OPERATION_TIMEDOUT)
            fprintf(stderr, "): no answer within %u ms ([wxctl] timeout_ms)\n",
                    ctl->cfg->ctl.timeout_ms);
        else
            fprintf(stderr, "): %s\n", r->body.too_big ? "answer too large" :
                    ctl->http->errbuf[0] ? ctl->http->errbuf : curl_easy_strerror(cc));
        return WXCTL_EXIT_TRANSPORT;
    }
    if (r->mode == 2 && status == 200)
        return WXCTL_EXIT_OK;           /* the bytes of a file, in the sink */
    if (r->body.len > 0)
        j = json_loadb(r->body.data, r->body.len, 0, &jerr);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    if (j != NULL && ctl->o.json && !quiet)
        wxctl_print_json(j);
    perr = wxctl_str(j, "error");
    /* wxproxy's own refusals: its status, its reason, and an errcode of
     * its range (990000 + the status). */
    if (status != 200 && perr != NULL) {
        int rc = proxy_refused(status, perr, j, r);

        json_decref(j);
        return rc;
    }
    code = json_object_get(j, "errcode");
    if (j == NULL || (status != 200 && !json_is_integer(code))) {
        fprintf(stderr, "wxctl: ");
        put_path(stderr, path_query);
        if (status != 200)
            fprintf(stderr, ": HTTP %ld from %s, not an answer of WeChat or wxproxy\n",
                    status, ctl->http->base);
        else
            fprintf(stderr, ": the answer is not a JSON object (%s)\n",
                    r->body.len == 0 ? "empty" : j == NULL ? jerr.text : "another JSON value");
        json_decref(j);
        return WXCTL_EXIT_TRANSPORT;
    }
    if (code != NULL && (!json_is_integer(code) || json_integer_value(code) != 0)) {
        long ec = json_is_integer(code) ? (long)json_integer_value(code) : -1;

        fprintf(stderr, "wxctl: WeChat error %ld: ", ec);
        put_clean(stderr, wxctl_str(j, "errmsg") ? wxctl_str(j, "errmsg") : "");
        if ((hint = wxctl_hint(ec)) != NULL)
            fprintf(stderr, " (hint: %s)", hint);
        fputc('\n', stderr);
        json_decref(j);
        return WXCTL_EXIT_REFUSED;
    }
    *answer = j;
    return WXCTL_EXIT_OK;
}

int wxctl_call(wxctl_t *ctl, const char *path_query, const json_t *body, int quiet,
               json_t **answer)
{
    wxctl_resp_t r = { 0 };
    char *text = NULL;
    CURLcode cc;
    int rc;

    *answer = NULL;
    if (prepare(ctl, path_query, &r) != 0)
        goto nomem;
    if (body != NULL) {
        /* Raw UTF-8, not \uXXXX: the draft API asks for it (6). */
        text = json_dumps(body, JSON_COMPACT);
        if (text == NULL)
            goto nomem;
        curl_easy_setopt(ctl->http->curl, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(ctl->http->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
        curl_easy_setopt(ctl->http->curl, CURLOPT_HTTPHEADER, ctl->http->json_headers);
    }
    cc = curl_easy_perform(ctl->http->curl);
    rc = judge(ctl, path_query, cc, &r, quiet, answer);
    wx_dynbuf_free(&r.body);
    free(text);
    return rc;
nomem:
    fputs("wxctl: out of memory\n", stderr);
    free(text);
    return WXCTL_EXIT_TRANSPORT;
}

static const char *mime_type_of(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" }, { "png", "image/png" },
        { "gif", "image/gif" }, { "bmp", "image/bmp" }, { "amr", "audio/amr" },
        { "mp3", "audio/mpeg" }, { "wav", "audio/wav" }, { "wma", "audio/x-ms-wma" },
        { "mp4", "video/mp4" },
    };
    const char *dot = strrchr(path, '.');
    size_t i;

    for (i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(dot + 1, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

int wxctl_upload(wxctl_t *ctl, const char *path_query, const char *path,
                 const wxctl_field_t *extra, json_t **answer)
{
    wxctl_resp_t r = { 0 };
    curl_mime *mime = NULL;
    curl_mimepart *part;
    const char *base = strrchr(path, '/');
    CURLcode cc;
    int rc;

    *answer = NULL;
    r.what = base ? base + 1 : path;
    r.upload = 1;
    if (prepare(ctl, path_query, &r) != 0 || (mime = curl_mime_init(ctl->http->curl)) == NULL ||
        (part = curl_mime_addpart(mime)) == NULL)
        goto nomem;
    /* Streamed from the file as it is sent, never read whole. */
    curl_mime_name(part, "media");
    if (curl_mime_filedata(part, path) != CURLE_OK) {
        fprintf(stderr, "wxctl: %s: cannot read it\n", path);
        curl_mime_free(mime);
        return WXCTL_EXIT_USAGE;
    }
    curl_mime_type(part, mime_type_of(path));
    for (; extra && extra->name; extra++) {
        if ((part = curl_mime_addpart(mime)) == NULL)
            goto nomem;
        curl_mime_name(part, extra->name);
        curl_mime_data(part, extra->value, CURL_ZERO_TERMINATED);
    }
    curl_easy_setopt(ctl->http->curl, CURLOPT_MIMEPOST, mime);
    cc = curl_easy_perform(ctl->http->curl);
    if (r.what && wxctl_progress_on(ctl))
        wxctl_progress_end();
    rc = judge(ctl, path_query, cc, &r, 0, answer);
    curl_easy_setopt(ctl->http->curl, CURLOPT_MIMEPOST, NULL);
    curl_mime_free(mime);
    wx_dynbuf_free(&r.body);
    return rc;
nomem:
    fputs("wxctl: out of memory\n", stderr);
    curl_mime_free(mime);
    return WXCTL_EXIT_TRANSPORT;
}

/* The filename="..." of a Content-Disposition, without any directory. */
static void disposition_name(const char *disp, char *dst, size_t cap)
{
    const char *p = strcasestr(disp, "filename=");
    size_t len;

    dst[0] = '\0';
    if (p == NULL || cap == 0)
        return;
    p += 9;
    if (*p == '"')
        p++;
    len = strcspn(p, "\";");
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, p, len);
    dst[len] = '\0';
    for (p = dst; *p; p++)
        if (*p == '/' || (unsigned char)*p < 0x20)
            ((char *)p)[0] = '_';
}

int wxctl_download(wxctl_t *ctl, const char *path_query, const json_t *body,
                   const char *out, json_t **answer, char *filename, size_t namelen,
                   size_t *got)
{
    wxctl_resp_t r = { 0 };
    char *text = NULL, *part = NULL;
    int to_stdout = strcmp(out, "-") == 0, rc;
    CURLcode cc;

    *answer = NULL;
    *got = 0;
    if (namelen)
        filename[0] = '\0';
    if (to_stdout) {
        r.sink = stdout;
    } else {
        size_t n = strlen(out) + sizeof(".part");

        if ((part = malloc(n)) == NULL)
            goto nomem;
        snprintf(part, n, "%s.part", out);
        r.sink = fopen(part, "wb");
        if (r.sink == NULL) {
            fprintf(stderr, "wxctl: %s: %s\n", part, strerror(errno));
            free(part);
            return WXCTL_EXIT_USAGE;
        }
        r.what = out;
    }
    if (prepare(ctl, path_query, &r) != 0)
        goto nomem;
    if (body != NULL) {
        if ((text = json_dumps(body, JSON_COMPACT)) == NULL)
            goto nomem;
        curl_easy_setopt(ctl->http->curl, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(ctl->http->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
        curl_easy_setopt(ctl->http->curl, CURLOPT_HTTPHEADER, ctl->http->json_headers);
    }
    cc = curl_easy_perform(ctl->http->curl);
    if (r.what && wxctl_progress_on(ctl) && r.mode == 2)
        wxctl_progress_end();
    rc = judge(ctl, path_query, cc, &r, 0, answer);
    if (rc == WXCTL_EXIT_OK && r.mode == 2) {
        *got = r.sunk;
        disposition_name(r.disposition, filename, namelen);
    }
    if (!to_stdout) {
        if (fclose(r.sink) != 0 && rc == WXCTL_EXIT_OK) {
            fprintf(stderr, "wxctl: %s: %s\n", part, strerror(errno));
            rc = WXCTL_EXIT_USAGE;
        }
        if (rc == WXCTL_EXIT_OK && r.mode == 2) {
            if (rename(part, out) != 0) {
                fprintf(stderr, "wxctl: %s: %s\n", out, strerror(errno));
                rc = WXCTL_EXIT_USAGE;
            }
        } else {
            unlink(part);
        }
    } else if (fflush(stdout) != 0 && rc == WXCTL_EXIT_OK) {
        fprintf(stderr, "wxctl: standard output: %s\n", strerror(errno));
        rc = WXCTL_EXIT_USAGE;
    }
    wx_dynbuf_free(&r.body);
    free(text);
    free(part);
    return rc;
nomem:
    fputs("wxctl: out of memory\n", stderr);
    if (r.sink && !to_stdout) {
        fclose(r.sink);
        unlink(part);
    }
    free(text);
    free(part);
    return WXCTL_EXIT_TRANSPORT;
}

/* ---------------------------------------------------------- listings -- */

#define WXCTL_PAGE_MAX  20      /* count 1-20 (6.4, 6.5) */

int wxctl_list(wxctl_t *ctl, const char *path, json_t *body, const char *what,
               json_t **answer)
{
    long offset = ctl->o.offset, count = ctl->o.count < 0 ? WXCTL_PAGE_MAX : ctl->o.count;
    json_t *items = json_array(), *page = NULL;
    json_int_t total = 0;
    int rc = WXCTL_EXIT_OK, bar = ctl->o.all && wxctl_progress_on(ctl);

    *answer = NULL;
    if (count < 1 || count > WXCTL_PAGE_MAX) {
        json_decref(items);
        return wxctl_usage("--count must be 1 to %d", WXCTL_PAGE_MAX);
    }
    if (items == NULL)
        return WXCTL_EXIT_TRANSPORT;
    for (;;) {
        json_t *got;
        size_t n;

        json_object_set_new(body, "offset", json_integer(offset));
        json_object_set_new(body, "count", json_integer(count));
        rc = wxctl_call(ctl, path, body, 1, &page);
        if (rc != WXCTL_EXIT_OK)
            break;
        total = json_integer_value(json_object_get(page, "total_count"));
        got = json_object_get(page, "item");
        n = json_array_size(got);
        json_array_extend(items, got);
        json_decref(page);
        page = NULL;
        offset += (long)n;
        if (bar)
            wxctl_progress(what, (double)json_array_size(items),
                           (double)(total > ctl->o.offset ? total - ctl->o.offset : 1));
        /* Stop at the end, or on an empty page (the list shrank meanwhile). */
        if (!ctl->o.all || n == 0 || offset >= total)
            break;
    }
    if (bar)
        wxctl_progress_end();
    if (rc == WXCTL_EXIT_OK) {
        *answer = json_pack("{s:I,s:I,s:O}", "total_count", total, "item_count",
                            (json_int_t)json_array_size(items), "item", items);
        if (ctl->o.json)
            wxctl_print_json(*answer);
    }
    json_decref(items);
    return rc;
}

char *wxctl_escape(wxctl_t *ctl, const char *s)
{
    return curl_easy_escape(ctl->http->curl, s, 0);
}
