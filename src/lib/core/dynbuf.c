/* dynbuf.c - a growing byte buffer with a hard maximum (wx/core/dynbuf.h). */
#include <stdlib.h>
#include <string.h>

#include "wx/core/dynbuf.h"

#define WX_DYNBUF_MIN   256

void wx_dynbuf_init(wx_dynbuf_t *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

/* Room for 'need' bytes and the NUL; never over max + 1. */
static int grow(wx_dynbuf_t *b, size_t need)
{
    size_t cap = b->cap ? b->cap : WX_DYNBUF_MIN;
    char *nd;

    if (need + 1 <= b->cap)
        return 0;
    while (cap < need + 1)
        cap = cap > b->max / 2 ? b->max + 1 : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    nd = realloc(b->data, cap);
    if (nd == NULL)
        return -1;
    b->data = nd;
    b->cap = cap;
    return 0;
}

int wx_dynbuf_reserve(wx_dynbuf_t *b)
{
    if (grow(b, b->max) != 0)
        return -1;
    b->data[b->len] = '\0';
    return 0;
}

int wx_dynbuf_add(wx_dynbuf_t *b, const void *p, size_t n)
{
    /* Checked as a subtraction: len + n may not overflow. */
    if (n > b->max - b->len) {
        b->too_big = 1;
        return -1;
    }
    if (grow(b, b->len + n) != 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

size_t wx_dynbuf_curl_sink(char *p, size_t size, size_t n, void *b)
{
    /* libcurl gives size 1; the product is checked all the same. */
    if (size != 0 && n > (size_t)-1 / size)
        return 0;
    return wx_dynbuf_add(b, p, size * n) == 0 ? size * n : 0;
}

char *wx_dynbuf_take(wx_dynbuf_t *b)
{
    char *d = b->data;

    b->data = NULL;
    b->len = b->cap = 0;
    b->too_big = 0;
    return d;
}

void wx_dynbuf_free(wx_dynbuf_t *b)
{
    free(wx_dynbuf_take(b));
}
