/* store.c - the state store's interface: picks a backend at open and
 * calls through its operations (see wx/state/store.h, store_impl.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

/* Every backend, by the name [state] store gives it. */
static const wx_store_ops_t *const backends[] = {
    &wx_store_local,
    &wx_store_redis,
};

wx_err_t wx_store_fail(wx_store_t *st, wx_err_t rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(st->error, sizeof(st->error), fmt, ap);
    va_end(ap);
    st->kind = WX_STORE_FAIL_OTHER;
    return rc;
}

wx_store_t *wx_store_open(const wx_store_conf_t *conf, char *err, size_t errlen)
{
    const char *name = conf->backend && conf->backend[0] ? conf->backend : "local";
    const wx_store_ops_t *ops = NULL;
    wx_store_t *st;
    size_t i;

    for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (strcmp(backends[i]->name, name) == 0)
            ops = backends[i];
    if (ops == NULL) {
        snprintf(err, errlen, "[state] store: no backend \"%s\" (local, redis)", name);
        return NULL;
    }
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        snprintf(err, errlen, "state store: out of memory");
        return NULL;
    }
    st->ops = ops;
    if (ops->open(st, conf, err, errlen) != WX_OK) {
        free(st);
        return NULL;
    }
    return st;
}

void wx_store_close(wx_store_t *st)
{
    if (st == NULL)
        return;
    st->ops->close(st);
    free(st);
}

const char *wx_store_backend(const wx_store_t *st)
{
    return st->ops->name;
}

const char *wx_store_error(const wx_store_t *st)
{
    return st->error;
}

/* Bad input, the same for every backend. */
static int bad_key(wx_store_t *st, const wx_store_key_t *key)
{
    if (key->ns == NULL || key->ns[0] == '\0' || (key->data == NULL && key->len)) {
        wx_store_fail(st, WX_EINVAL, "state store: a key without a namespace or data");
        return 1;
    }
    return 0;
}

wx_err_t wx_store_claim(wx_store_t *st, const wx_store_key_t *key, unsigned lease_ms,
                        wx_pool_t *pool, wx_store_claim_t *c)
{
    memset(c, 0, sizeof(*c));
    if (bad_key(st, key))
        return WX_EINVAL;
    return st->ops->claim(st, key, lease_ms, pool, c);
}

wx_err_t wx_store_finish(wx_store_t *st, const wx_store_key_t *key, wx_str_t value,
                         unsigned keep_ms)
{
    if (bad_key(st, key) || (value.data == NULL && value.len))
        return wx_store_fail(st, WX_EINVAL, "state store: bad key or value");
    return st->ops->finish(st, key, value, keep_ms, 0);
}

wx_err_t wx_store_finish_nowait(wx_store_t *st, const wx_store_key_t *key, wx_str_t value,
                                unsigned keep_ms)
{
    if (bad_key(st, key) || (value.data == NULL && value.len))
        return wx_store_fail(st, WX_EINVAL, "state store: bad key or value");
    return st->ops->finish(st, key, value, keep_ms, 1);
}

unsigned long wx_store_lost(const wx_store_t *st)
{
    return st->lost;
}

unsigned long wx_store_evictions(const wx_store_t *st)
{
    return st->evictions;
}

wx_store_fail_t wx_store_fail_kind(const wx_store_t *st)
{
    return st->kind;
}

wx_err_t wx_store_lease_stats(wx_store_t *st, unsigned *used, unsigned long *early)
{
    *used = 0;
    *early = 0;
    return st->ops->lease_stats(st, used, early);
}

wx_err_t wx_store_take(wx_store_t *st, const wx_store_key_t *key, unsigned rate,
                       unsigned burst, int64_t now_us, int *granted, unsigned *retry_ms)
{
    *granted = 0;
    *retry_ms = 0;
    if (bad_key(st, key))
        return WX_EINVAL;
    if (rate == 0) {
        *retry_ms = 1000;
        return WX_OK;
    }
    return st->ops->take(st, key, rate, burst, now_us, granted, retry_ms);
}

wx_err_t wx_store_level(wx_store_t *st, const wx_store_key_t *key, int64_t *level)
{
    *level = -1;
    if (bad_key(st, key))
        return WX_EINVAL;
    return st->ops->level(st, key, level);
}

wx_err_t wx_store_rec_read(wx_store_t *st, const wx_store_key_t *key,
                           wx_store_rec_t *rec, char *buf, size_t cap)
{
    memset(rec, 0, sizeof(*rec));
    if (bad_key(st, key))
        return WX_EINVAL;
    if (cap == 0)
        return wx_store_fail(st, WX_ETOOBIG, "state store: no room for a record");
    buf[0] = '\0';
    return st->ops->rec_read(st, key, rec, buf, cap);
}

wx_err_t wx_store_rec_replace(wx_store_t *st, const wx_store_key_t *key,
                              const wx_store_rec_t *rec)
{
    if (bad_key(st, key) || (rec->value.data == NULL && rec->value.len))
        return wx_store_fail(st, WX_EINVAL, "state store: bad key or value");
    return st->ops->rec_replace(st, key, rec);
}

wx_err_t wx_store_lock(wx_store_t *st, const wx_store_key_t *key, unsigned lease_ms)
{
    if (bad_key(st, key))
        return WX_EINVAL;
    return st->ops->lock(st, key, lease_ms);
}

void wx_store_unlock(wx_store_t *st, const wx_store_key_t *key)
{
    st->ops->unlock(st, key);
}
