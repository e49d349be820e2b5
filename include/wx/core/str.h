/*
 * wx/core/str.h - counted strings and the per-request arena.
 *
 * Every string that libwx hands out is a wx_str_t: a length and a pointer.
 * Strings copied into an arena are also NUL-terminated (not counted in len),
 * so they can be printed, but code must not rely on that for strings that
 * point into caller memory.
 *
 * The arena (wx_pool_t) is one block allocated when a worker starts and
 * reset after each request: allocation is a pointer bump, release is
 * wx_pool_reset().  Nothing allocated from it survives a reset.
 */
#ifndef WX_STR_H
#define WX_STR_H

#include <stddef.h>
#include <string.h>

typedef struct wx_str {
    size_t      len;
    const char *data;
} wx_str_t;

#define WX_STR(lit)     ((wx_str_t){ sizeof(lit) - 1, (lit) })
#define WX_NULL_STR     ((wx_str_t){ 0, NULL })

static inline wx_str_t wx_str_c(const char *s)
{
    return (wx_str_t){ s ? strlen(s) : 0, s };
}

/* Byte-wise equality of a counted string and a C string. */
static inline int wx_str_eq(wx_str_t a, const char *b)
{
    size_t n = strlen(b);
    return a.len == n && (n == 0 || memcmp(a.data, b, n) == 0);
}

/* Byte-wise order, shorter first on a common prefix (as strcmp). */
int wx_str_cmp(wx_str_t a, wx_str_t b);

/* Characters of the UTF-8 string 's' (bytes that do not continue a
 * sequence): the unit in which WeChat states its length limits. */
size_t wx_utf8_chars(const char *s);

typedef struct wx_pool {
    char   *base;
    size_t  size;       /* bytes in base */
    size_t  used;       /* bytes handed out since the last reset */
    size_t  peak;       /* highest 'used' seen, for sizing reports */
} wx_pool_t;

/* Allocate the arena's block of 'size' bytes.  WX_OK or WX_ENOMEM. */
int wx_pool_init(wx_pool_t *pool, size_t size);

/* Release the block.  The pool may be initialised again. */
void wx_pool_free(wx_pool_t *pool);

/* 'n' bytes aligned for any scalar, or NULL when the arena is full. */
void *wx_pool_alloc(wx_pool_t *pool, size_t n);

/* A NUL-terminated copy of 'len' bytes, or NULL when the arena is full. */
char *wx_pool_strndup(wx_pool_t *pool, const char *s, size_t len);

/* Bytes still free. */
static inline size_t wx_pool_avail(const wx_pool_t *pool)
{
    return pool->size - pool->used;
}

static inline void wx_pool_reset(wx_pool_t *pool)
{
    if (pool->used > pool->peak)
        pool->peak = pool->used;
    pool->used = 0;
}

/*
 * An output buffer of fixed capacity.  Appends past the capacity set a
 * sticky 'overflow' flag instead of growing, so a writer can append freely
 * and check once at the end.
 */
typedef struct wx_buf {
    char   *data;
    size_t  len;
    size_t  cap;
    int     overflow;
} wx_buf_t;

/* Use 'mem' (cap bytes, owned by the caller) as the buffer's storage. */
void wx_buf_init(wx_buf_t *b, char *mem, size_t cap);

/* Take the rest of the arena (at most 'max' bytes) as the buffer's storage.
 * Commit what was written with wx_buf_commit() before the next allocation. */
int wx_buf_from_pool(wx_buf_t *b, wx_pool_t *pool, size_t max);
void wx_buf_commit(wx_buf_t *b, wx_pool_t *pool);

void wx_buf_add(wx_buf_t *b, const void *p, size_t n);
void wx_buf_addstr(wx_buf_t *b, wx_str_t s);
void wx_buf_adds(wx_buf_t *b, const char *s);
void wx_buf_addu64(wx_buf_t *b, unsigned long long v);
void wx_buf_addi64(wx_buf_t *b, long long v);
/* A string literal, its length known at compile time (no strlen): for
 * the fixed parts of what a request's path writes. */
#define wx_buf_addlit(b, lit) wx_buf_add((b), "" lit, sizeof(lit) - 1)

static inline wx_str_t wx_buf_str(const wx_buf_t *b)
{
    return (wx_str_t){ b->len, b->data };
}

#endif
