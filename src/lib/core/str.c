/* str.c - counted strings, the request arena and fixed-capacity buffers. */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wx/core/err.h"
#include "wx/core/str.h"

/* What malloc promises: any scalar, long double included. */
#define WX_ALIGN    alignof(max_align_t)

int wx_str_cmp(wx_str_t a, wx_str_t b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.data, b.data, n) : 0;

    if (c != 0)
        return c;
    return (a.len > b.len) - (a.len < b.len);
}

size_t wx_utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

int wx_pool_init(wx_pool_t *pool, size_t size)
{
    memset(pool, 0, sizeof(*pool));
    pool->base = malloc(size);
    if (pool->base == NULL)
        return WX_ENOMEM;
    pool->size = size;
    return WX_OK;
}

void wx_pool_free(wx_pool_t *pool)
{
    free(pool->base);
    memset(pool, 0, sizeof(*pool));
}

void *wx_pool_alloc(wx_pool_t *pool, size_t n)
{
    size_t start = (pool->used + WX_ALIGN - 1) & ~(WX_ALIGN - 1);

    if (start > pool->size || n > pool->size - start)
        return NULL;
    pool->used = start + n;
    return pool->base + start;
}

char *wx_pool_strndup(wx_pool_t *pool, const char *s, size_t len)
{
    char *p;

    if (len == SIZE_MAX)
        return NULL;
    /* Strings need no alignment: pack them. */
    if (len + 1 > pool->size - pool->used)
        return NULL;
    p = pool->base + pool->used;
    pool->used += len + 1;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void wx_buf_init(wx_buf_t *b, char *mem, size_t cap)
{
    b->data = mem;
    b->len = 0;
    b->cap = cap;
    b->overflow = 0;
}

int wx_buf_from_pool(wx_buf_t *b, wx_pool_t *pool, size_t max)
{
    size_t avail = wx_pool_avail(pool);

    if (avail == 0)
        return WX_ENOMEM;
    wx_buf_init(b, pool->base + pool->used, avail < max ? avail : max);
    return WX_OK;
}

void wx_buf_commit(wx_buf_t *b, wx_pool_t *pool)
{
    pool->used += b->len;
}

void wx_buf_add(wx_buf_t *b, const void *p, size_t n)
{
    if (b->overflow)
        return;
    if (n > b->cap - b->len) {
        b->overflow = 1;
        return;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

void wx_buf_addstr(wx_buf_t *b, wx_str_t s)
{
    wx_buf_add(b, s.data, s.len);
}

void wx_buf_adds(wx_buf_t *b, const char *s)
{
    wx_buf_add(b, s, strlen(s));
}

void wx_buf_addu64(wx_buf_t *b, unsigned long long v)
{
    char tmp[24];
    size_t i = sizeof(tmp);

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    wx_buf_add(b, tmp + i, sizeof(tmp) - i);
}

void wx_buf_addi64(wx_buf_t *b, long long v)
{
    if (v < 0) {
        wx_buf_add(b, "-", 1);
        wx_buf_addu64(b, 0ULL - (unsigned long long)v);
    } else {
        wx_buf_addu64(b, (unsigned long long)v);
    }
}
