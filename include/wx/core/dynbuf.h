/*
 * wx/core/dynbuf.h - a growing byte buffer with a hard maximum.
 *
 * For bodies that arrive in pieces of unknown total size (the write
 * callback of libcurl): the buffer grows as bytes come, never beyond
 * 'max', and a piece that would pass 'max' is refused whole and marks the
 * buffer too_big, so the caller can tell "too large" from "out of memory".
 * The bytes are always NUL-terminated (not counted in len) once anything
 * was added, so a text body can be handed to a parser as a C string.
 *
 *   wx_dynbuf_t b;
 *   wx_dynbuf_init(&b, 64 << 10);
 *   ... wx_dynbuf_add(&b, p, n) from the sink ...
 *   use b.data[0..b.len) (b.data may be NULL when nothing was added)
 *   wx_dynbuf_free(&b);
 *
 * The buffer owns 'data'; wx_dynbuf_take() hands it to the caller.
 */
#ifndef WX_DYNBUF_H
#define WX_DYNBUF_H

#include <stddef.h>

typedef struct wx_dynbuf {
    char   *data;           /* malloc'ed, or NULL before the first add */
    size_t  len;
    size_t  cap;            /* bytes allocated in data */
    size_t  max;            /* len never exceeds it */
    int     too_big;        /* an add was refused for passing max */
} wx_dynbuf_t;

/* An empty buffer that will hold at most 'max' bytes.  Allocates nothing. */
void wx_dynbuf_init(wx_dynbuf_t *b, size_t max);

/* Room for 'max' bytes at once, for a caller that must not allocate
 * later (0 or -1 on ENOMEM). */
int wx_dynbuf_reserve(wx_dynbuf_t *b);

/* Append 'n' bytes: 0, or -1 when they would pass the maximum (too_big
 * set, nothing added) or on ENOMEM (nothing added). */
int wx_dynbuf_add(wx_dynbuf_t *b, const void *p, size_t n);

/* A libcurl CURLOPT_WRITEFUNCTION over a wx_dynbuf_t (CURLOPT_WRITEDATA):
 * what it took, or 0 to make libcurl stop with CURLE_WRITE_ERROR. */
size_t wx_dynbuf_curl_sink(char *p, size_t size, size_t n, void *b);

/* Hand the bytes to the caller (free() them); the buffer is empty again. */
char *wx_dynbuf_take(wx_dynbuf_t *b);

/* Release the bytes; the buffer is empty and may be used again. */
void wx_dynbuf_free(wx_dynbuf_t *b);

#endif
