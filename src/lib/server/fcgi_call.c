/* fcgi_call.c - one FastCGI request to a responder's socket (see
 * wx/server/fcgi_call.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wx/core/io.h"
#include "wx/core/net.h"
#include "wx/server/fcgi_call.h"

#define FCGI_BEGIN      1
#define FCGI_END        3
#define FCGI_PARAMS     4
#define FCGI_STDIN      5
#define FCGI_STDOUT     6
#define FCGI_STDERR     7
#define FCGI_CHUNK      65535       /* a record's content, at most */
#define URI_MAX         200
#define BODY_MAX        (1u << 20)

/* Read exactly 'len' bytes: 0, or -1 at an early end or an error. */
static int read_full(int fd, void *p, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t r = read(fd, (char *)p + got, len - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Send one record of request id 1: 0, or -1. */
static int send_record(int fd, int type, const void *body, size_t len)
{
    unsigned char h[8] = { 1, (unsigned char)type, 0, 1, (unsigned char)(len >> 8),
                           (unsigned char)len, 0, 0 };

    return wx_write_all(fd, h, 8) != 0 || (len && wx_write_all(fd, body, len) != 0) ? -1 : 0;
}

/* A name-value pair of at most 127 + 255 bytes into p: its length. */
static size_t param(unsigned char *p, const char *name, const char *value)
{
    size_t n = strlen(name), v = strlen(value);

    p[0] = (unsigned char)n;
    p[1] = (unsigned char)v;
    memcpy(p + 2, name, n);
    memcpy(p + 2 + n, value, v);
    return 2 + n + v;
}

static void say(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

static int send_request(int fd, const char *method, const char *path, const char *query,
                        const char *body, size_t body_len, const char *ctype)
{
    static const unsigned char begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };   /* responder */
    unsigned char params[2048];
    char cl[24];
    size_t pn = 0, off = 0;

    pn += param(params + pn, "REQUEST_METHOD", method);
    pn += param(params + pn, "DOCUMENT_URI", path);
    pn += param(params + pn, "SCRIPT_NAME", path);
    pn += param(params + pn, "QUERY_STRING", query);
    pn += param(params + pn, "REMOTE_ADDR", "127.0.0.1");
    if (body) {
        snprintf(cl, sizeof(cl), "%zu", body_len);
        pn += param(params + pn, "CONTENT_LENGTH", cl);
        pn += param(params + pn, "CONTENT_TYPE", ctype ? ctype : "application/json");
    }
    if (send_record(fd, FCGI_BEGIN, begin, sizeof(begin)) != 0 ||
        send_record(fd, FCGI_PARAMS, params, pn) != 0 ||
        send_record(fd, FCGI_PARAMS, NULL, 0) != 0)
        return -1;
    while (body && off < body_len) {
        size_t n = body_len - off > FCGI_CHUNK ? FCGI_CHUNK : body_len - off;

        if (send_record(fd, FCGI_STDIN, body + off, n) != 0)
            return -1;
        off += n;
    }
    return send_record(fd, FCGI_STDIN, NULL, 0);
}

/* The records of the answer until FCGI_END: stdout into 'out'.  0, or -1. */
static int read_answer(int fd, char **out, size_t *outlen, char *err, size_t cap)
{
    unsigned char hdr[8], *rec = malloc(FCGI_CHUNK + 256);
    int rc = -1;

    if (rec == NULL) {
        say(err, cap, "out of memory");
        return -1;
    }
    while (read_full(fd, hdr, 8) == 0) {
        size_t len = (size_t)hdr[4] << 8 | hdr[5], total = len + hdr[6];
        char *grown;

        if (read_full(fd, rec, total) != 0)
            break;
        if (hdr[1] == FCGI_END) {
            rc = 0;
            break;
        }
        if (hdr[1] == FCGI_STDERR && len) {
            fwrite(rec, 1, len, stderr);
        } else if (hdr[1] == FCGI_STDOUT && len) {
            if (*outlen + len > WX_FCGI_CALL_MAX) {
                say(err, cap, "the answer passes %u bytes", WX_FCGI_CALL_MAX);
                goto out;
            }
            if ((grown = realloc(*out, *outlen + len + 1)) == NULL) {
                say(err, cap, "out of memory");
                goto out;
            }
            *out = grown;
            memcpy(*out + *outlen, rec, len);
            *outlen += len;
            (*out)[*outlen] = '\0';
        }
    }
    if (rc != 0)
        say(err, cap, "the answer broke off");
out:
    free(rec);
    return rc;
}

int wx_fcgi_call(const char *listen, const char *method, const char *path, const char *query,
                 const char *body, size_t body_len, const char *ctype, wx_fcgi_answer_t *ans,
                 char *err, size_t errcap)
{
    char *out = NULL, *sep;
    size_t outlen = 0;
    int fd, rc = -1;

    memset(ans, 0, sizeof(*ans));
    if (strlen(method) > 16 || strlen(path) > URI_MAX || strlen(query) > URI_MAX ||
        (ctype && strlen(ctype) > URI_MAX) || body_len > BODY_MAX) {
        say(err, errcap, "request too long");
        return -1;
    }
    if ((fd = wx_connect(listen)) < 0) {
        say(err, errcap, "%s", strerror(errno));
        return -1;
    }
    if (send_request(fd, method, path, query, body, body_len, ctype) != 0) {
        say(err, errcap, "cannot send: %s", strerror(errno));
        goto out;
    }
    if (read_answer(fd, &out, &outlen, err, errcap) != 0)
        goto out;
    if (out == NULL || (sep = strstr(out, "\r\n\r\n")) == NULL) {
        say(err, errcap, "an answer without headers");
        goto out;
    }
    ans->status = strncmp(out, "Status: ", 8) == 0 ? (int)strtol(out + 8, NULL, 10) : 200;
    ans->len = outlen - (size_t)(sep + 4 - out);
    memmove(out, sep + 4, ans->len + 1);
    ans->body = out;
    out = NULL;
    rc = 0;
out:
    free(out);
    close(fd);
    return rc;
}
