/* store_redis.c - the redis backend of the state store: leases, buckets,
 * records and record locks in one Redis shared by every host (see
 * wx/state/store.h).
 *
 * Each operation is one round trip: a Lua script run with EVALSHA (sent
 * whole with EVAL when the server does not know it: after a restart or a
 * failover, which also caches it) or a single command.  A claim is first
 * the one command SET KEY hOWNER NX PX TTL GET (Redis >= 7.0), which
 * claims a free key or reads a done one: the first delivery and a replay
 * are one command; only a key found held (a retry that must wait, or a
 * dead owner's) goes on to the claim script, which tells a lease that ended
 * by the key's remaining TTL; and the next claim of the key the last one
 * found held (a retry asking again) goes to the script at once.  A finish may be sent without waiting for
 * its answer (wx_store_finish_nowait), as EVAL: a script the server lost
 * (a restart) cannot fail it unseen.  Kinds of keys:
 *
 *   lease    a string: "h" OWNER while held, with a TTL of the lease plus
 *            LEASE_GRACE (kept past the lease so that the next claimer
 *            can say whose it took over: the lease ended when less than
 *            that grace is left), "d" VALUE when done, with a TTL of
 *            keep_ms;
 *   bucket   a hash {l: level in millionths of a token, t: Redis TIME in
 *            µs}, expiring once it would be full again;
 *   record   a hash {v, o, e, val}: version, obtained, expires, value;
 *   lock     a string: the holder's fencing value, with a TTL of the lease.
 *
 * The connection: opened at open, dropped on any I/O error, timeout or
 * reply of the wrong shape (its state is then unknown), opened again on
 * the next call after a backoff, and in a child after fork(). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/sha.h>

#include "wx/core/proc.h"
#include "store_redis.h"

#define LOCK_POLL_MS    5       /* first wait for a held lock, doubled to */
#define LOCK_POLL_MAX   50

/* The scripts.  Lua 5.1's numbers are doubles: exact to 2^53, so ms and
 * µs since 1970 are; versions are compared as decimal strings. */

/* A held key outlives its lease by this much, to name its dead owner. */
#define LEASE_GRACE_MS  60000U

/* KEYS[1] lease; ARGV owner, lease_ms, LEASE_GRACE_MS.  -> {kind, text}:
 * c (claimed), t (taken, previous owner), h (held, owner), d (done,
 * value).  A held key's lease ended when no more than the grace is left
 * of its TTL: Redis's clock, the same for every host. */
static const char claim_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "local kind, text = 'c', ''\n"
    "if v then\n"
    "  local k = string.sub(v, 1, 1)\n"
    "  if k == 'd' then return {'d', string.sub(v, 2)} end\n"
    "  if k ~= 'h' then return redis.error_reply('ERR not a lease entry') end\n"
    "  text = string.sub(v, 2)\n"
    "  if redis.call('PTTL', KEYS[1]) > tonumber(ARGV[3]) then return {'h', text} end\n"
    "  kind = 't'\n"
    "end\n"
    "redis.call('SET', KEYS[1], 'h' .. ARGV[1], 'PX', tonumber(ARGV[2]) + tonumber(ARGV[3]))\n"
    "return {kind, text}\n";

/* KEYS[1] lease; ARGV owner, value, keep_ms.  -> 1 finished, 0 not ours. */
static const char finish_lua[] =
    "if redis.call('GET', KEYS[1]) ~= 'h' .. ARGV[1] then return 0 end\n"
    "redis.call('SET', KEYS[1], 'd' .. ARGV[2], 'PX', ARGV[3])\n"
    "return 1\n";

/* KEYS[1] bucket; ARGV rate, burst.  -> {granted, retry_ms}.  The same
 * refill as the local table's, on Redis's clock. */
static const char take_lua[] =
    "local rate, full = tonumber(ARGV[1]), tonumber(ARGV[2]) * 1000000\n"
    "local t = redis.call('TIME')\n"
    "local now = t[1] * 1000000 + t[2]\n"
    "local b = redis.call('HMGET', KEYS[1], 'l', 't')\n"
    "local level, last = tonumber(b[1]), tonumber(b[2])\n"
    "if not level or not last then level, last = full, now end\n"
    "local dt = now - last\n"
    "if dt < 0 then dt = 0 end\n"
    "if dt >= math.floor(full / rate) + 1 then level = full\n"
    "else level = level + dt * rate end\n"
    "if level > full then level = full end\n"
    "if now > last then last = now end\n"
    "local granted, retry = 0, 0\n"
    "if level >= 1000000 then granted, level = 1, level - 1000000\n"
    "else retry = math.ceil(math.ceil((1000000 - level) / rate) / 1000) end\n"
    "redis.call('HSET', KEYS[1], 'l', string.format('%.0f', level),"
    " 't', string.format('%.0f', last))\n"
    "redis.call('PEXPIRE', KEYS[1], math.ceil(full / rate / 1000) + 1000)\n"
    "return {granted, retry}\n";

/* KEYS[1] record, KEYS[2] its lock; ARGV version, obtained, expires,
 * value, fencing value ("": no lock to check).  -> 1 written; 0 stale
 * version; -1 the lock is no longer ours. */
static const char replace_lua[] =
    "if ARGV[5] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[5] then return -1 end\n"
    "local cur = redis.call('HMGET', KEYS[1], 'v', 'val')\n"
    "local s = cur[1]\n"
    "if not s or not cur[2] or not string.match(s, '^%d+$') then s = nil\n"
    "else s = string.gsub(s, '^0+(%d)', '%1') end\n"
    "local v = ARGV[1]\n"
    "local c\n"
    "if not s then c = (v == '0') and 0 or 1\n"
    "elseif #v ~= #s then c = (#v < #s) and -1 or 1\n"
    "elseif v == s then c = 0 else c = (v < s) and -1 or 1 end\n"
    "if c < 0 or (c == 0 and (not s or cur[2] ~= ARGV[4])) then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'v', v, 'o', ARGV[2], 'e', ARGV[3], 'val', ARGV[4])\n"
    "return 1\n";

/* KEYS[1] lock; ARGV fencing value.  -> 1 released, 0 not ours. */
static const char unlock_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

static const char *const scripts[S_COUNT] = {
    claim_lua, finish_lua, take_lua, replace_lua, unlock_lua
};

static redisReply *eval(wx_store_t *st, int s, int nkeys, int nargs, const char **args,
                        const size_t *alens)
{
    wx_store_redis_t *r = st->be;

    return wx_redis_eval(st, scripts[s], r->sha[s], nkeys, nargs, args, alens);
}

/* ---- leases -------------------------------------------------------------- */

/* Fill 'c' from a claim's answer: kind 'k' (c, t, h or d) and 'len'
 * bytes of text (an owner or a value). */
static wx_err_t claimed(wx_store_t *st, char k, const char *text, size_t len, wx_pool_t *pool,
                        wx_store_claim_t *c)
{
    wx_store_redis_t *r = st->be;
    const char *colon;

    switch (k) {
    case 'c':
        c->state = WX_STORE_CLAIMED;
        return WX_OK;
    case 'd':
        c->state = WX_STORE_DONE;
        c->value.data = wx_pool_strndup(pool, text, len);
        if (c->value.data == NULL)
            return wx_store_fail(st, WX_ENOMEM, "%s: no room in the pool for a %zu-byte value",
                                 r->lease_name, len);
        c->value.len = len;
        return WX_OK;
    default:
        c->state = k == 'h' ? WX_STORE_HELD : WX_STORE_TAKEN;
        /* host:pid:counter; the host may hold colons, the rest not */
        colon = memrchr(text, ':', len);
        while (colon && colon > text && colon[-1] != ':')
            colon--;
        c->owner = colon ? strtol(colon, NULL, 10) : 0;
        return WX_OK;
    }
}

/* SET KEY hOWNER NX PX TTL GET: 1 with 'c' filled (claimed, or done), 0
 * when the key is held (the script decides), -1 on a failure (st->error;
 * WX_ESYS in *rc). */
static int claim_set(wx_store_t *st, unsigned lease_ms, wx_pool_t *pool, wx_store_claim_t *c,
                     wx_err_t *rc)
{
    wx_store_redis_t *r = st->be;
    char val[sizeof(r->owner) + 1], px[24];
    const char *argv[7] = { "SET", r->k1, val, "NX", "PX", px, "GET" };
    size_t lens[7] = { 3, r->k1len, 0, 2, 2, 0, 3 };
    redisReply *rep;
    int out = 0;

    lens[2] = (size_t)snprintf(val, sizeof(val), "h%s", r->owner);
    lens[5] = (size_t)snprintf(px, sizeof(px), "%lu", (unsigned long)lease_ms + LEASE_GRACE_MS);
    if ((rep = wx_redis_call(st, 7, argv, lens)) == NULL) {
        /* Before 7.0, NX and GET together are a syntax error: the script
         * alone then, from now on. */
        if (strstr(st->error, "syntax error") != NULL) {
            r->no_setget = 1;
            return 0;
        }
        *rc = WX_ESYS;
        return -1;
    }
    if (rep->type == REDIS_REPLY_NIL) {
        *rc = claimed(st, 'c', "", 0, pool, c);
        out = 1;
    } else if (rep->type == REDIS_REPLY_STRING && rep->len > 0 && rep->str[0] == 'd') {
        *rc = claimed(st, 'd', rep->str + 1, rep->len - 1, pool, c);
        out = 1;
    } else if (rep->type != REDIS_REPLY_STRING) {
        *rc = wx_redis_bad_reply(st, rep, "a claim answered with a reply of the wrong shape");
        return -1;
    }
    freeReplyObject(rep);
    return out;
}

static wx_err_t redis_claim(wx_store_t *st, const wx_store_key_t *key, unsigned lease_ms,
                            wx_pool_t *pool, wx_store_claim_t *c)
{
    wx_store_redis_t *r = st->be;
    char lease[24], grace[24];
    const char *args[3];
    size_t lens[3];
    redisReply *rep, *k, *t;
    wx_err_t rc = WX_OK;

    if ((rc = wx_redis_key1(st, key, ":")) != WX_OK)
        return rc;
    if (!r->no_setget && !(r->held_len == r->k1len && memcmp(r->held, r->k1, r->k1len) == 0)) {
        int got = claim_set(st, lease_ms, pool, c, &rc);

        if (got != 0)
            return rc;
    }
    r->held_len = 0;
    snprintf(lease, sizeof(lease), "%u", lease_ms);
    snprintf(grace, sizeof(grace), "%u", LEASE_GRACE_MS);
    args[0] = r->owner, lens[0] = strlen(r->owner);
    args[1] = lease, lens[1] = strlen(lease);
    args[2] = grace, lens[2] = strlen(grace);
    if ((rep = eval(st, S_CLAIM, 1, 3, args, lens)) == NULL)
        return WX_ESYS;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        (k = rep->element[0])->type != REDIS_REPLY_STRING || k->len != 1 ||
        (t = rep->element[1])->type != REDIS_REPLY_STRING)
        return wx_redis_bad_reply(st, rep, "a claim answered with a reply of the wrong shape");
    rc = claimed(st, k->str[0], t->str, t->len, pool, c);
    if (rc == WX_OK && c->state == WX_STORE_HELD) {
        memcpy(r->held, r->k1, r->k1len);
        r->held_len = r->k1len;
    }
    freeReplyObject(rep);
    return rc;
}

static wx_err_t redis_finish(wx_store_t *st, const wx_store_key_t *key, wx_str_t value,
                             unsigned keep_ms, int nowait)
{
    wx_store_redis_t *r = st->be;
    char keep[24];
    const char *args[3];
    size_t lens[3];
    redisReply *rep;
    wx_err_t rc;

    if (value.len > WX_STORE_REDIS_VALUE_MAX)
        return wx_store_fail(st, WX_ETOOBIG, "%s: a %zu-byte value is over %u bytes",
                             r->lease_name, value.len, WX_STORE_REDIS_VALUE_MAX);
    if ((rc = wx_redis_key1(st, key, ":")) != WX_OK || (rc = wx_redis_conn(st)) != WX_OK)
        return rc;
    snprintf(keep, sizeof(keep), "%u", keep_ms ? keep_ms : 1);
    args[0] = r->owner, lens[0] = strlen(r->owner);
    args[1] = value.len ? value.data : "", lens[1] = value.len;
    args[2] = keep, lens[2] = strlen(keep);
    if (nowait) {
        const char *argv[7] = { "EVAL", finish_lua, "1", r->k1, args[0], args[1], args[2] };
        size_t alens[7] = { 4, sizeof(finish_lua) - 1, 1, r->k1len, lens[0], lens[1], lens[2] };

        return wx_redis_send(st, 7, argv, alens);
    }
    if ((rep = eval(st, S_FINISH, 1, 3, args, lens)) == NULL)
        return WX_ESYS;
    if (rep->type != REDIS_REPLY_INTEGER)
        return wx_redis_bad_reply(st, rep, "a finish answered with a reply of the wrong shape");
    rc = rep->integer == 1 ? WX_OK
         : wx_store_fail(st, WX_ESTALE, "%s: the claim is no longer this process's",
                         r->lease_name);
    freeReplyObject(rep);
    return rc;
}

static wx_err_t redis_lease_stats(wx_store_t *st, unsigned *used, unsigned long *early)
{
    (void)used;
    (void)early;
    return wx_store_fail(st, WX_ECONFIG, "redis: leases are not counted");
}

/* ---- buckets ------------------------------------------------------------- */

static wx_err_t redis_take(wx_store_t *st, const wx_store_key_t *key, unsigned rate,
                           unsigned burst, int64_t now_us, int *granted, unsigned *retry_ms)
{
    char a[24], b[24];
    const char *args[2] = { a, b };
    size_t lens[2];
    redisReply *rep;
    wx_err_t rc;

    (void)now_us;       /* Redis's clock: the same for every host */
    if ((rc = wx_redis_key1(st, key, ":")) != WX_OK || (rc = wx_redis_conn(st)) != WX_OK)
        return rc;
    lens[0] = (size_t)snprintf(a, sizeof(a), "%u", rate);
    lens[1] = (size_t)snprintf(b, sizeof(b), "%u", burst ? burst : rate);
    if ((rep = eval(st, S_TAKE, 1, 2, args, lens)) == NULL)
        return WX_ESYS;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_INTEGER ||
        rep->element[1]->type != REDIS_REPLY_INTEGER)
        return wx_redis_bad_reply(st, rep, "a take answered with a reply of the wrong shape");
    *granted = rep->element[0]->integer == 1;
    if (!*granted) {
        long long ms = rep->element[1]->integer;

        *retry_ms = ms < 1 ? 1 : ms > 3600000 ? 3600000 : (unsigned)ms;
    }
    freeReplyObject(rep);
    return WX_OK;
}

static wx_err_t redis_level(wx_store_t *st, const wx_store_key_t *key, int64_t *level)
{
    wx_store_redis_t *r = st->be;
    const char *argv[3] = { "HGET", r->k1, "l" };
    size_t lens[3] = { 4, 0, 1 };
    redisReply *rep;
    wx_err_t rc;
    char *end;

    if ((rc = wx_redis_key1(st, key, ":")) != WX_OK)
        return rc;
    lens[1] = r->k1len;
    if ((rep = wx_redis_call(st, 3, argv, lens)) == NULL)
        return WX_ESYS;
    if (rep->type == REDIS_REPLY_NIL) {
        freeReplyObject(rep);
        return wx_store_fail(st, WX_EMISSING, "state store: no such bucket");
    }
    if (rep->type != REDIS_REPLY_STRING)
        return wx_redis_bad_reply(st, rep, "a bucket's level is not a string");
    *level = strtoll(rep->str, &end, 10);
    rc = *end ? wx_store_fail(st, WX_EINVAL, "redis: a damaged bucket") : WX_OK;
    freeReplyObject(rep);
    return rc;
}

/* ---- records ------------------------------------------------------------- */

static int field_num(const redisReply *e, long long *v)
{
    char *end;

    if (e->type != REDIS_REPLY_STRING || e->len == 0)
        return -1;
    errno = 0;
    *v = strtoll(e->str, &end, 10);
    return *end || errno ? -1 : 0;
}

static wx_err_t redis_rec_read(wx_store_t *st, const wx_store_key_t *key,
                               wx_store_rec_t *rec, char *buf, size_t cap)
{
    wx_store_redis_t *r = st->be;
    const char *argv[6] = { "HMGET", r->k1, "v", "o", "e", "val" };
    size_t lens[6] = { 5, 0, 1, 1, 1, 3 };
    redisReply *rep, *val;
    long long v, o, e;
    wx_err_t rc;
    unsigned i, nils = 0;

    if ((rc = wx_redis_key1(st, key, ":")) != WX_OK)
        return rc;
    lens[1] = r->k1len;
    if ((rep = wx_redis_call(st, 6, argv, lens)) == NULL)
        return WX_ESYS;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 4)
        return wx_redis_bad_reply(st, rep, "a record read answered with a reply of the wrong shape");
    for (i = 0; i < 4; i++)
        nils += rep->element[i]->type == REDIS_REPLY_NIL;
    val = rep->element[3];
    if (nils == 4)
        rc = wx_store_fail(st, WX_EMISSING, "%s: none yet", r->rec_name);
    else if (field_num(rep->element[0], &v) || v < 0 || field_num(rep->element[1], &o) ||
             field_num(rep->element[2], &e) || val->type != REDIS_REPLY_STRING)
        rc = wx_store_fail(st, WX_EINVAL, "%s is damaged (bad fields)", r->rec_name);
    else if (val->len >= cap)
        rc = wx_store_fail(st, WX_ETOOBIG, "%s: a %zu-byte value", r->rec_name, val->len);
    if (rc == WX_OK) {
        memcpy(buf, val->str, val->len);
        buf[val->len] = '\0';
        rec->version = (unsigned long)v;
        rec->obtained = (time_t)o;
        rec->expires = (time_t)e;
        rec->value = (wx_str_t){ val->len, buf };
    }
    freeReplyObject(rep);
    return rc;
}

static wx_err_t redis_rec_replace(wx_store_t *st, const wx_store_key_t *key,
                                  const wx_store_rec_t *rec)
{
    wx_store_redis_t *r = st->be;
    char v[24], o[24], e[24];
    const char *args[5] = { v, o, e, rec->value.len ? rec->value.data : "", "" };
    size_t lens[5] = { 0, 0, 0, rec->value.len, 0 };
    redisReply *rep;
    wx_err_t rc;

    if (rec->value.len > WX_STORE_REDIS_VALUE_MAX)
        return wx_store_fail(st, WX_EINVAL, "%s: a %zu-byte value is over %u bytes",
                             r->rec_name, rec->value.len, WX_STORE_REDIS_VALUE_MAX);
    if ((rc = wx_redis_key1(st, key, ":")) != WX_OK)
        return rc;
    r->k2len = wx_redis_make_key(r, key, ".lock:", r->k2);
    if (r->k2len == 0)
        return wx_store_fail(st, WX_EINVAL, "redis: a key of %zu bytes is too long", key->len);
    /* Under our lock of this record: written only while it is still ours. */
    if (r->lock_klen == r->k2len && memcmp(r->lock_key, r->k2, r->k2len) == 0)
        args[4] = r->fence, lens[4] = strlen(r->fence);
    lens[0] = (size_t)snprintf(v, sizeof(v), "%lu", rec->version);
    lens[1] = (size_t)snprintf(o, sizeof(o), "%lld", (long long)rec->obtained);
    lens[2] = (size_t)snprintf(e, sizeof(e), "%lld", (long long)rec->expires);
    if ((rep = eval(st, S_REPLACE, 2, 5, args, lens)) == NULL)
        return WX_ESYS;
    if (rep->type != REDIS_REPLY_INTEGER)
        return wx_redis_bad_reply(st, rep, "a replace answered with a reply of the wrong shape");
    if (rep->integer == 1)
        rc = WX_OK;
    else if (rep->integer == 0)
        rc = wx_store_fail(st, WX_ESTALE, "%s: version %lu is not next", r->rec_name,
                           rec->version);
    else
        rc = wx_store_fail(st, WX_ESTALE, "%s: the lock ran out and another holds it: "
                           "version %lu not written", r->rec_name, rec->version);
    freeReplyObject(rep);
    return rc;
}

static wx_err_t redis_lock(wx_store_t *st, const wx_store_key_t *key, unsigned lease_ms)
{
    wx_store_redis_t *r = st->be;
    char px[24];
    const char *argv[6] = { "SET", r->k1, r->fence, "NX", "PX", px };
    size_t lens[6] = { 3, 0, 0, 2, 2, 0 };
    unsigned nap = LOCK_POLL_MS;
    redisReply *rep;
    wx_err_t rc;
    int got;

    if (r->lock_klen)
        return wx_store_fail(st, WX_EINVAL, "%s: a lock is held already", r->rec_name);
    if ((rc = wx_redis_key1(st, key, ".lock:")) != WX_OK || (rc = wx_redis_conn(st)) != WX_OK)
        return rc;
    /* A fencing value of its own for each acquisition. */
    snprintf(r->fence, sizeof(r->fence), "%s:%lu", r->owner, ++r->fences);
    lens[1] = r->k1len;
    lens[2] = strlen(r->fence);
    lens[5] = (size_t)snprintf(px, sizeof(px), "%u", lease_ms ? lease_ms : 1);
    for (;;) {
        struct timespec ts = { 0, (long)nap * 1000000L };

        if ((rep = wx_redis_call(st, 6, argv, lens)) == NULL)
            return WX_ESYS;
        got = rep->type == REDIS_REPLY_STATUS;
        if (!got && rep->type != REDIS_REPLY_NIL)
            return wx_redis_bad_reply(st, rep, "a lock answered with a reply of the wrong shape");
        freeReplyObject(rep);
        if (got)
            break;
        nanosleep(&ts, NULL);
        nap = nap * 2 > LOCK_POLL_MAX ? LOCK_POLL_MAX : nap * 2;
    }
    memcpy(r->lock_key, r->k1, r->k1len);
    r->lock_klen = r->k1len;
    return WX_OK;
}

static void redis_unlock(wx_store_t *st, const wx_store_key_t *key)
{
    wx_store_redis_t *r = st->be;
    const char *args[1] = { r->fence };
    size_t lens[1] = { strlen(r->fence) };
    redisReply *rep;

    (void)key;
    if (r->lock_klen == 0)
        return;
    memcpy(r->k1, r->lock_key, r->lock_klen);
    r->k1len = r->lock_klen;
    r->lock_klen = 0;
    /* Not deleted when it ran out and another holds it; on a failure it
     * ends with its lease. */
    if ((rep = eval(st, S_UNLOCK, 1, 1, args, lens)) != NULL)
        freeReplyObject(rep);
}

static void redis_close(wx_store_t *st)
{
    wx_store_redis_t *r = st->be;

    if (r == NULL)
        return;
    if (r->pid == wx_pid()) {
        wx_redis_settle(st);
        redis_unlock(st, NULL);
        wx_redis_drop(r);
    } else if (r->c) {
        redisFree(r->c);        /* the parent's: our copy of its socket */
    }
    memset(r->password, 0, sizeof(r->password));
    free(r);
    st->be = NULL;
}

static wx_err_t redis_open(wx_store_t *st, const wx_store_conf_t *conf, char *err,
                           size_t errlen)
{
    wx_store_redis_t *r = calloc(1, sizeof(*r));
    struct sigaction sa;
    wx_err_t rc;
    int i;

    if (r == NULL) {
        snprintf(err, errlen, "state store: out of memory");
        return WX_ENOMEM;
    }
    st->be = r;
    if ((rc = wx_redis_conf(r, conf, err, errlen)) != WX_OK)
        goto out;
    for (i = 0; i < S_COUNT; i++) {
        unsigned char md[SHA_DIGEST_LENGTH];
        int j;

        /* The plain SHA-1 of the script's text, as Redis names it: with
         * another digest every EVALSHA would miss and send the script. */
        SHA1((const unsigned char *)scripts[i], strlen(scripts[i]), md);
        for (j = 0; j < SHA_DIGEST_LENGTH; j++)
            snprintf(r->sha[i] + 2 * j, 3, "%02x", md[j]);
    }
    wx_redis_set_owner(r);
    /* A write to a server that went away must fail, not kill the
     * process: a default SIGPIPE is ignored (a handler set is kept). */
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
    }
    /* Connect now: a bad address or password is told at start. */
    if ((rc = wx_redis_conn(st)) != WX_OK) {
        snprintf(err, errlen, "%s", st->error);
        goto out;
    }
out:
    if (rc != WX_OK)
        redis_close(st);
    return rc;
}

const wx_store_ops_t wx_store_redis = {
    .name = "redis",
    .open = redis_open,
    .close = redis_close,
    .claim = redis_claim,
    .finish = redis_finish,
    .lease_stats = redis_lease_stats,
    .take = redis_take,
    .level = redis_level,
    .rec_read = redis_rec_read,
    .rec_replace = redis_rec_replace,
    .lock = redis_lock,
    .unlock = redis_unlock,
};
