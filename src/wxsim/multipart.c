/*
 * multipart.c - the parts of a multipart/form-data body (RFC 7578), as
 * uploads to media/upload and material/add_material send them.
 *
 * The body is already in memory and bounded; parts point into it.  Only
 * what the simulator needs is read from the part headers: the name and the
 * filename of Content-Disposition.  Anything that does not parse cleanly
 * is refused, never guessed at.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "wxsim.h"

#define BOUNDARY_MAX    70          /* RFC 2046 5.1.1 */
#define HEADERS_MAX     4096        /* the headers of one part */

/* The value of parameter 'key' in "a; key=value; ..." (quoted or not),
 * copied into dst.  0 when found, -1 otherwise or when too long. */
static int header_param(const char *s, size_t len, const char *key, char *dst, size_t cap)
{
    size_t klen = strlen(key), i = 0;

    while (i < len) {
        size_t start, n = 0;

        while (i < len && (s[i] == ';' || s[i] == ' ' || s[i] == '\t'))
            i++;
        start = i;
        while (i < len && s[i] != ';' && s[i] != '=')
            i++;
        if (i < len && s[i] == '=' && i - start == klen &&
            strncasecmp(s + start, key, klen) == 0) {
            i++;
            if (i < len && s[i] == '"') {
                for (i++; i < len && s[i] != '"'; i++) {
                    if (n + 1 >= cap)
                        return -1;
                    dst[n++] = s[i];
                }
                if (i >= len)
                    return -1;
            } else {
                for (; i < len && s[i] != ';' && s[i] != ' '; i++) {
                    if (n + 1 >= cap)
                        return -1;
                    dst[n++] = s[i];
                }
            }
            dst[n] = '\0';
            return 0;
        }
        /* Skip this parameter's value, quoted or not. */
        if (i < len && s[i] == '=') {
            i++;
            if (i < len && s[i] == '"') {
                for (i++; i < len && s[i] != '"'; i++)
                    ;
                i++;
            }
            while (i < len && s[i] != ';')
                i++;
        }
    }
    return -1;
}

/* Keep the last path component, and only characters that are safe in a
 * Content-Disposition header and a log line. */
static void clean_filename(char *f)
{
    char *base = strrchr(f, '/'), *bs = strrchr(f, '\\'), *p;

    if (bs && (!base || bs > base))
        base = bs;
    if (base)
        memmove(f, base + 1, strlen(base + 1) + 1);
    for (p = f; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
            *p = '_';
}

static int parse_headers(const char *h, size_t len, wxsim_part_t *part)
{
    static const char cd[] = "content-disposition:";
    const char *p = h, *end = h + len;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);

        if (n && p[n - 1] == '\r')
            n--;
        if (n > sizeof(cd) - 1 && strncasecmp(p, cd, sizeof(cd) - 1) == 0) {
            const char *v = p + sizeof(cd) - 1;
            size_t vlen = n - (sizeof(cd) - 1);

            if (header_param(v, vlen, "name", part->name, sizeof(part->name)) != 0)
                return -1;
            if (header_param(v, vlen, "filename", part->filename, sizeof(part->filename)) == 0) {
                part->has_filename = 1;
                clean_filename(part->filename);
            }
        }
        p = eol ? eol + 1 : end;
    }
    return part->name[0] ? 0 : -1;
}

static int get_boundary(const char *ctype, char *dst, size_t cap)
{
    static const char mp[] = "multipart/form-data";
    const char *semi;

    if (strncasecmp(ctype, mp, sizeof(mp) - 1) != 0)
        return -1;
    semi = strchr(ctype, ';');
    if (semi == NULL || header_param(semi, strlen(semi), "boundary", dst, cap) != 0)
        return -1;
    return dst[0] ? 0 : -1;
}

int wxsim_multipart_parse(const wxsim_req_t *rq, wxsim_part_t *parts, int max)
{
    char boundary[BOUNDARY_MAX + 1], delim[BOUNDARY_MAX + 5];
    const char *p, *end;
    size_t dlen;
    int n = 0;

    if (rq->body_state != WXSIM_BODY_OK ||
        get_boundary(rq->content_type, boundary, sizeof(boundary)) != 0)
        return -1;
    /* Every delimiter but the first follows a CRLF. */
    dlen = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
    p = rq->body;
    end = rq->body + rq->body_len;
    if ((size_t)(end - p) < dlen - 2 || memcmp(p, delim + 2, dlen - 2) != 0) {
        p = memmem(p, (size_t)(end - p), delim, dlen);
        if (p == NULL)
            return -1;
        p += dlen;
    } else {
        p += dlen - 2;
    }
    for (;;) {
        const char *hend, *next;
        wxsim_part_t *part;

        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return n;                           /* the closing delimiter */
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
            p += 2;
        else
            return -1;
        hend = memmem(p, (size_t)(end - p) < HEADERS_MAX ? (size_t)(end - p) : HEADERS_MAX,
                      "\r\n\r\n", 4);
        if (hend == NULL || n >= max)
            return -1;
        part = &parts[n];
        memset(part, 0, sizeof(*part));
        if (parse_headers(p, (size_t)(hend - p), part) != 0)
            return -1;
        p = hend + 4;
        next = memmem(p, (size_t)(end - p), delim, dlen);
        if (next == NULL)
            return -1;
        part->data = p;
        part->len = (size_t)(next - p);
        n++;
        p = next + dlen;
    }
}
