/*
 * store_impl.h - what a backend of the state store (wx/state/store.h)
 * provides: one table of operations, filled in by one file a backend.
 * Private to src/lib/state/.
 *
 * store.c checks the arguments every backend would check (bad input) and
 * calls through the table; a backend keeps its own state in st->be and
 * says what failed with wx_store_fail().
 */
#ifndef WX_STORE_IMPL_H
#define WX_STORE_IMPL_H

#include "wx/state/store.h"

typedef struct wx_store_ops {
    const char *name;
    /* Fill st->be; WX_OK, or an error with 'err' set. */
    wx_err_t (*open)(wx_store_t *st, const wx_store_conf_t *conf, char *err,
                     size_t errlen);
    void     (*close)(wx_store_t *st);
    wx_err_t (*claim)(wx_store_t *st, const wx_store_key_t *key, unsigned lease_ms,
                      wx_pool_t *pool, wx_store_claim_t *c);
    wx_err_t (*finish)(wx_store_t *st, const wx_store_key_t *key, wx_str_t value,
                       unsigned keep_ms, int nowait);
    wx_err_t (*lease_stats)(wx_store_t *st, unsigned *used, unsigned long *early);
    wx_err_t (*take)(wx_store_t *st, const wx_store_key_t *key, unsigned rate,
                     unsigned burst, int64_t now_us, int *granted, unsigned *retry_ms);
    wx_err_t (*level)(wx_store_t *st, const wx_store_key_t *key, int64_t *level);
    wx_err_t (*rec_read)(wx_store_t *st, const wx_store_key_t *key,
                         wx_store_rec_t *rec, char *buf, size_t cap);
    wx_err_t (*rec_replace)(wx_store_t *st, const wx_store_key_t *key,
                            const wx_store_rec_t *rec);
    wx_err_t (*lock)(wx_store_t *st, const wx_store_key_t *key, unsigned lease_ms);
    void     (*unlock)(wx_store_t *st, const wx_store_key_t *key);
} wx_store_ops_t;

struct wx_store {
    const wx_store_ops_t   *ops;
    void                   *be;         /* the backend's state */
    char                    error[512]; /* the last failure */
    wx_store_fail_t         kind;       /* ... and its kind */
    unsigned long           lost;       /* nowait finishes that failed */
    unsigned long           evictions;  /* done entries given up early */
};

/* Record what failed (its kind OTHER; a backend with a server sets
 * st->kind after); returns 'rc' for "return wx_store_fail(...)". */
wx_err_t wx_store_fail(wx_store_t *st, wx_err_t rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

extern const wx_store_ops_t wx_store_local;
extern const wx_store_ops_t wx_store_redis;

#endif
