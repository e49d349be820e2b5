/* store_local.c - the local backend of the state store: leases and buckets
 * in tables in file-backed shared mappings, shared by every process of
 * the machine (see wx/state/store.h; records are in store_local_rec.c). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wx/core/clock.h"
#include "wx/core/proc.h"
#include "wx/proto/sign.h"
#include "store_local.h"

/* The tables keep the magic of the tables they grew out of (the retry
 * table's "wxdd", the rate limiter's "wxrt") with a new version: a file
 * left by an earlier release is initialised again, not refused. */
#define LEASE_MAGIC     0x77786464U
#define LEASE_VERSION   4U          /* 4: small entries and large slots */
#define LEASE_HDR_SIZE  4096
#define LEASE_PROBE     16          /* slots searched per key */
/* The table is sized by what it holds: most replies are a few hundred
 * bytes and stay in their entry; a larger one takes a large slot of
 * slot_size bytes, of which there is one per LEASE_LARGE_RATIO entries. */
#define LEASE_ENTRY     WX_STORE_LOCAL_ENTRY
#define LEASE_LARGE_RATIO 16
#define BUCKET_MAGIC    0x77787274U
#define BUCKET_VERSION  2U          /* 2: keys in namespaces */
#define BUCKET_HDR_SIZE 256
#define BUCKET_SLOTS    WX_STORE_LOCAL_BUCKETS
#define BUCKET_UNIT     1000000LL   /* a token, in millionths */
/* How far apart two callers' readings of the clock may be: each reads it
 * before it takes the lock. */
#define BUCKET_RACE_US  (10 * 1000000LL)

#define KEY_DIGEST      0xffff      /* a key longer than 20 bytes: its SHA-1 */

/* A key as the tables keep it: 20 bytes and the namespace's hash. */
typedef struct lkey {
    uint32_t        ns;
    uint32_t        hash;           /* where its probe starts */
    uint16_t        len;
    unsigned char   b[20];
} lkey_t;

enum { SLOT_EMPTY = 0, SLOT_BUSY, SLOT_DONE };

typedef struct lease_hdr {
    wx_shm_hdr_t    shm;            /* magic, version, layout, lock */
    uint64_t        early_evictions;
    uint32_t        large_next;     /* the large slot to be taken next */
} lease_hdr_t;

typedef struct lease_slot {
    unsigned char   key[20];
    uint32_t        ns;
    uint16_t        state;
    uint16_t        klen;
    int32_t         pid;            /* BUSY: the owner */
    uint32_t        len;
    uint32_t        large;          /* DONE: 1 + its large slot; 0: in 'value' */
    int64_t         since_ms;       /* claimed or finished; CLOCK_REALTIME, */
    int64_t         until_ms;       /* the lease's end, or kept until: shared */
    char            value[];        /* up to LEASE_ENTRY less this header */
} lease_slot_t;

/* A large slot belongs to the done entry it names, as long as that entry
 * names it back: either side may be reused without telling the other. */
typedef struct lease_large {
    uint32_t        entry;          /* 1 + the entry holding it; 0: free */
    uint32_t        pad;
    char            value[];
} lease_large_t;

typedef struct bucket_slot {
    unsigned char   key[20];
    uint32_t        ns;
    uint16_t        used;
    uint16_t        klen;
    int64_t         level;          /* tokens, in millionths */
    int64_t         last_us;        /* when 'level' was computed */
    int64_t         touched_us;     /* last take: for eviction */
} bucket_slot_t;

_Static_assert(sizeof(lease_hdr_t) <= LEASE_HDR_SIZE, "lease header too large");
_Static_assert(sizeof(lease_slot_t) % 8 == 0 && sizeof(lease_slot_t) < LEASE_ENTRY / 2,
               "lease entry header too large");
_Static_assert(sizeof(wx_shm_hdr_t) <= BUCKET_HDR_SIZE, "bucket header too large");

static uint32_t fnv1a(uint32_t h, const void *data, size_t n)
{
    const unsigned char *p = data;

    while (n--) {
        h ^= *p++;
        h *= 16777619U;
    }
    return h;
}

static wx_err_t norm_key(wx_store_t *st, const wx_store_key_t *key, lkey_t *k)
{
    memset(k->b, 0, sizeof(k->b));
    k->ns = fnv1a(2166136261U, key->ns, strlen(key->ns));
    if (key->len <= sizeof(k->b)) {
        if (key->len)
            memcpy(k->b, key->data, key->len);
        k->len = (uint16_t)key->len;
    } else {
        wx_str_t part = { key->len, key->data };

        if (wx_sha1_parts(&part, 1, k->b) != WX_OK)
            return wx_store_fail(st, WX_ESYS, "state store: cannot digest a key");
        k->len = KEY_DIGEST;
    }
    k->hash = fnv1a(k->ns, k->b, sizeof(k->b));
    return WX_OK;
}

static int key_eq(const unsigned char b[20], uint32_t ns, uint16_t len, const lkey_t *k)
{
    return ns == k->ns && len == k->len && memcmp(b, k->b, sizeof(k->b)) == 0;
}

static wx_err_t no_table(wx_store_t *st, const char *what)
{
    return wx_store_fail(st, WX_ECONFIG, "state store: opened without a %s table", what);
}

/* ---- leases ------------------------------------------------------------ */

static lease_slot_t *lease_at(wx_store_local_t *l, unsigned i)
{
    return (lease_slot_t *)(l->lease.map + LEASE_HDR_SIZE + (size_t)i * LEASE_ENTRY);
}

static lease_large_t *large_at(wx_store_local_t *l, unsigned i)
{
    return (lease_large_t *)(l->lease.map + LEASE_HDR_SIZE + (size_t)l->slots * LEASE_ENTRY +
                             (size_t)i * l->slot_size);
}

static const char *lease_value(wx_store_local_t *l, const lease_slot_t *s)
{
    return s->large ? large_at(l, s->large - 1)->value : s->value;
}

/* Give up the large slot of 's', if any: the entry is about to change. */
static void lease_drop_large(wx_store_local_t *l, lease_slot_t *s)
{
    if (s->large) {
        lease_large_t *g = large_at(l, s->large - 1);

        if (g->entry == (uint32_t)(((char *)s - (char *)lease_at(l, 0)) / LEASE_ENTRY) + 1)
            g->entry = 0;
        s->large = 0;
    }
}

/* A large slot for the entry 's': the next one in turn, so that the one
 * taken is the one filled longest ago (every value is kept about as
 * long); the done entry holding it is given up (an early eviction when
 * before its time).  Held entries never hold one.  Called with the lock
 * held. */
static lease_large_t *lease_take_large(wx_store_t *st, lease_slot_t *s, int64_t now)
{
    wx_store_local_t *l = st->be;
    lease_hdr_t *h = (lease_hdr_t *)l->lease.map;
    unsigned i = h->large_next % l->large;
    lease_large_t *g = large_at(l, i);

    h->large_next = (i + 1) % l->large;
    if (g->entry && g->entry <= l->slots) {
        lease_slot_t *old = lease_at(l, g->entry - 1);

        if (old->state == SLOT_DONE && old->large == i + 1) {
            if (now < old->until_ms) {
                h->early_evictions++;
                st->evictions++;
            }
            old->state = SLOT_EMPTY;
            old->large = 0;
        }
    }
    g->entry = (uint32_t)(((char *)s - (char *)lease_at(l, 0)) / LEASE_ENTRY) + 1;
    s->large = i + 1;
    return g;
}

/* Find the slot of 'k', or choose one for it: an empty slot, else the
 * oldest finished one near it.  NULL when all of those are held.  Called
 * with the lock held. */
static lease_slot_t *lease_find(wx_store_local_t *l, const lkey_t *k, int *found)
{
    lease_slot_t *victim = NULL;
    unsigned i;

    *found = 0;
    for (i = 0; i < LEASE_PROBE; i++) {
        lease_slot_t *s = lease_at(l, (k->hash + i) % l->slots);

        if (s->state != SLOT_EMPTY && key_eq(s->key, s->ns, s->klen, k)) {
            *found = 1;
            return s;
        }
        if (s->state == SLOT_EMPTY) {
            if (victim == NULL || victim->state != SLOT_EMPTY)
                victim = s;
        } else if (s->state == SLOT_DONE &&
                   (victim == NULL ||
                    (victim->state == SLOT_DONE && s->since_ms < victim->since_ms))) {
            victim = s;
        }
    }
    return victim;
}

static void lease_set(wx_store_local_t *l, lease_slot_t *s, const lkey_t *k, int64_t now,
                      unsigned lease_ms)
{
    lease_drop_large(l, s);
    memcpy(s->key, k->b, sizeof(s->key));
    s->ns = k->ns;
    s->klen = k->len;
    s->state = SLOT_BUSY;
    s->pid = (int32_t)wx_pid();
    s->since_ms = now;
    s->until_ms = now + lease_ms;
    s->len = 0;
}

/* The owner of a held slot may still finish it: its lease has not ended
 * and a process with its pid exists (the lease's end covers a pid that
 * was reused). */
static int owner_alive(const lease_slot_t *s, int64_t now)
{
    if (now >= s->until_ms)
        return 0;
    return kill((pid_t)s->pid, 0) == 0 || errno != ESRCH;
}

static wx_err_t local_claim(wx_store_t *st, const wx_store_key_t *key, unsigned lease_ms,
                            wx_pool_t *pool, wx_store_claim_t *c)
{
    wx_store_local_t *l = st->be;
    wx_err_t rc;
    lease_slot_t *s;
    int64_t now;
    lkey_t k;
    int found;

    if (l->lease.map == NULL)
        return no_table(st, "lease");
    if ((rc = norm_key(st, key, &k)) != WX_OK)
        return rc;
    now = wx_wall_ms();
    wx_shm_lock(&l->lease);
    s = lease_find(l, &k, &found);
    if (s == NULL) {
        c->state = WX_STORE_NOROOM;
    } else if (!found || (s->state == SLOT_DONE && now >= s->until_ms)) {
        /* A done value past its keep_ms is gone: never replayed. */
        if (!found && s->state == SLOT_DONE && now < s->until_ms) {
            ((lease_hdr_t *)l->lease.map)->early_evictions++;
            st->evictions++;
        }
        lease_set(l, s, &k, now, lease_ms);
        c->state = WX_STORE_CLAIMED;
    } else if (s->state == SLOT_DONE) {
        char *copy = wx_pool_strndup(pool, lease_value(l, s), s->len);

        c->state = WX_STORE_DONE;
        if (copy != NULL)
            c->value = (wx_str_t){ s->len, copy };
        else
            rc = wx_store_fail(st, WX_ENOMEM, "%s: no room in the pool for a %u-byte value",
                               l->lease_name, (unsigned)s->len);
    } else {
        c->owner = s->pid;
        if (owner_alive(s, now)) {
            c->state = WX_STORE_HELD;
        } else {
            lease_set(l, s, &k, now, lease_ms);
            c->state = WX_STORE_TAKEN;
        }
    }
    wx_shm_unlock(&l->lease);
    return rc;
}

static wx_err_t local_finish(wx_store_t *st, const wx_store_key_t *key, wx_str_t value,
                             unsigned keep_ms, int nowait)
{
    wx_store_local_t *l = st->be;
    wx_err_t rc;
    lease_slot_t *s;
    lkey_t k;
    int found;

    (void)nowait;               /* no server: done at once */
    if (l->lease.map == NULL)
        return no_table(st, "lease");
    if (value.len > l->slot_size - sizeof(lease_slot_t))
        return wx_store_fail(st, WX_ETOOBIG, "%s: a %zu-byte value is larger than an entry",
                             l->lease_name, value.len);
    if ((rc = norm_key(st, key, &k)) != WX_OK)
        return rc;
    wx_shm_lock(&l->lease);
    s = lease_find(l, &k, &found);
    /* Only the caller's own claim is finished: it may have been taken over. */
    if (s && found && s->state == SLOT_BUSY && s->pid == (int32_t)wx_pid()) {
        int64_t now = wx_wall_ms();
        char *dst = s->value;

        lease_drop_large(l, s);
        if (value.len > LEASE_ENTRY - sizeof(lease_slot_t))
            dst = lease_take_large(st, s, now)->value;
        if (value.len)
            memcpy(dst, value.data, value.len);
        s->len = (uint32_t)value.len;
        s->since_ms = now;
        s->until_ms = s->since_ms + keep_ms;
        s->state = SLOT_DONE;
    } else {
        rc = wx_store_fail(st, WX_ESTALE, "%s: the claim is no longer this process's",
                           l->lease_name);
    }
    wx_shm_unlock(&l->lease);
    return rc;
}

static wx_err_t local_lease_stats(wx_store_t *st, unsigned *used, unsigned long *early)
{
    wx_store_local_t *l = st->be;
    unsigned i, n = 0;

    if (l->lease.map == NULL)
        return no_table(st, "lease");
    wx_shm_lock(&l->lease);
    for (i = 0; i < l->slots; i++)
        n += lease_at(l, i)->state != SLOT_EMPTY;
    *early = (unsigned long)((lease_hdr_t *)l->lease.map)->early_evictions;
    wx_shm_unlock(&l->lease);
    *used = n;
    return WX_OK;
}

/* ---- buckets ------------------------------------------------------------ */

static bucket_slot_t *bucket_at(wx_store_local_t *l, unsigned i)
{
    return (bucket_slot_t *)(l->bucket.map + BUCKET_HDR_SIZE) + i;
}

/* The bucket of 'k', or when 'create', a free one, else the least
 * recently used (started full).  Called with the lock held. */
static bucket_slot_t *bucket_find(wx_store_local_t *l, const lkey_t *k, int create,
                                  int64_t full, int64_t now)
{
    bucket_slot_t *victim = NULL;
    unsigned i;

    for (i = 0; i < BUCKET_SLOTS; i++) {
        bucket_slot_t *s = bucket_at(l, (k->hash + i) % BUCKET_SLOTS);

        if (s->used && key_eq(s->key, s->ns, s->klen, k))
            return s;
        if (!s->used) {
            /* Keys are never removed, so the probe ends at a free slot. */
            victim = s;
            break;
        }
        if (victim == NULL || s->touched_us < victim->touched_us)
            victim = s;
    }
    if (!create)
        return NULL;
    memcpy(victim->key, k->b, sizeof(victim->key));
    victim->ns = k->ns;
    victim->klen = k->len;
    victim->used = 1;
    victim->level = full;
    victim->last_us = now;
    victim->touched_us = now;
    return victim;
}

/* Bring the bucket's level up to 'now'. */
static void refill(bucket_slot_t *s, unsigned rate, int64_t full, int64_t now)
{
    int64_t dt = now - s->last_us;

    if (dt < 0 && dt > -BUCKET_RACE_US) {
        /* Another process read the clock after us but took the lock
         * first: no time has passed for this bucket. */
        dt = 0;
    }
    if (dt < 0) {
        /* The clock went far backwards: a table from an earlier boot. */
        s->level = full;
        s->last_us = now;
        return;
    }
    /* rate tokens/s = rate millionths/us.  Cap dt first, against
     * overflow: past the time to fill the bucket, it is full. */
    if (dt >= full / rate + 1)
        s->level = full;
    else
        s->level += dt * (int64_t)rate;
    if (s->level > full)
        s->level = full;
    if (now > s->last_us)
        s->last_us = now;
}

/* The bucket table, locked, and the key of 'key' in it; WX_OK, or an
 * error with the table not locked. */
static wx_err_t bucket_enter(wx_store_t *st, const wx_store_key_t *key, lkey_t *k)
{
    wx_store_local_t *l = st->be;
    wx_err_t rc;

    if (l->bucket.map == NULL)
        return no_table(st, "bucket");
    if ((rc = norm_key(st, key, k)) != WX_OK)
        return rc;
    wx_shm_lock(&l->bucket);
    return WX_OK;
}

static wx_err_t local_take(wx_store_t *st, const wx_store_key_t *key, unsigned rate,
                           unsigned burst, int64_t now_us, int *granted, unsigned *retry_ms)
{
    wx_store_local_t *l = st->be;
    int64_t full = (int64_t)(burst ? burst : rate) * BUCKET_UNIT;
    bucket_slot_t *s;
    wx_err_t rc;
    lkey_t k;

    if ((rc = bucket_enter(st, key, &k)) != WX_OK)
        return rc;
    s = bucket_find(l, &k, 1, full, now_us);
    refill(s, rate, full, now_us);
    s->touched_us = now_us;
    *granted = s->level >= BUCKET_UNIT;
    if (*granted) {
        s->level -= BUCKET_UNIT;
    } else {
        int64_t need = BUCKET_UNIT - s->level;             /* millionths */
        int64_t us = (need + rate - 1) / rate;              /* microseconds */
        int64_t ms = (us + 999) / 1000;

        *retry_ms = ms < 1 ? 1 : ms > 3600000 ? 3600000 : (unsigned)ms;
    }
    wx_shm_unlock(&l->bucket);
    return WX_OK;
}

static wx_err_t local_level(wx_store_t *st, const wx_store_key_t *key, int64_t *level)
{
    wx_store_local_t *l = st->be;
    bucket_slot_t *s;
    wx_err_t rc;
    lkey_t k;

    if ((rc = bucket_enter(st, key, &k)) != WX_OK)
        return rc;
    s = bucket_find(l, &k, 0, 0, 0);
    if (s)
        *level = s->level;
    wx_shm_unlock(&l->bucket);
    return s ? WX_OK : wx_store_fail(st, WX_EMISSING, "state store: no such bucket");
}

/* ---- open and close ---------------------------------------------------- */

static void local_close(wx_store_t *st)
{
    wx_store_local_t *l = st->be;

    if (l == NULL)
        return;
    if (l->lock_fd >= 0)
        close(l->lock_fd);
    wx_shm_close(&l->lease);
    wx_shm_close(&l->bucket);
    free(l);
    st->be = NULL;
}

static wx_err_t open_leases(wx_store_local_t *l, const wx_store_conf_t *conf,
                            char *err, size_t errlen)
{
    wx_shm_spec_t spec = {
        .what = l->lease_name,
        .size_hint = "remove it, or give each size a file of its own",
        .magic = LEASE_MAGIC,
        .version = LEASE_VERSION,
    };

    l->slots = conf->lease.slots;
    l->slot_size = conf->lease.slot_size ? conf->lease.slot_size : WX_STORE_SLOT_SIZE;
    if (l->slots == 0 || l->slots > (1U << 24)) {
        snprintf(err, errlen, "%s: %u slots", l->lease_name, l->slots);
        return WX_EINVAL;
    }
    if (l->slot_size < LEASE_ENTRY || l->slot_size > (1U << 24) || l->slot_size % 8 != 0) {
        snprintf(err, errlen, "%s: a slot size of %u bytes (%u to %u, a multiple of 8)",
                 l->lease_name, l->slot_size, (unsigned)LEASE_ENTRY, 1U << 24);
        return WX_EINVAL;
    }
    l->large = l->slots / LEASE_LARGE_RATIO ? l->slots / LEASE_LARGE_RATIO : 1;
    spec.param = (uint64_t)l->slot_size << 32 | l->slots;
    spec.size = LEASE_HDR_SIZE + (size_t)l->slots * LEASE_ENTRY +
                (size_t)l->large * l->slot_size;
    return wx_shm_open(&l->lease, conf->lease.path, &spec, err, errlen);
}

static wx_err_t local_open(wx_store_t *st, const wx_store_conf_t *conf, char *err,
                           size_t errlen)
{
    wx_shm_spec_t bucket = {
        .what = "rate-limit table",
        .size_hint = "remove it (it holds nothing that lasts)",
        .magic = BUCKET_MAGIC,
        .version = BUCKET_VERSION,
        .param = BUCKET_SLOTS,
        .size = BUCKET_HDR_SIZE + BUCKET_SLOTS * sizeof(bucket_slot_t),
    };
    wx_store_local_t *l = calloc(1, sizeof(*l));
    wx_err_t rc = WX_ENOMEM;

    if (l == NULL) {
        snprintf(err, errlen, "state store: out of memory");
        return rc;
    }
    l->lock_fd = -1;
    st->be = l;
    snprintf(l->lease_name, sizeof(l->lease_name), "%s",
             conf->lease.name ? conf->lease.name : "lease table");
    snprintf(l->rec_name, sizeof(l->rec_name), "%s",
             conf->record.name ? conf->record.name : "record");
    if (conf->lease.path && (rc = open_leases(l, conf, err, errlen)) != WX_OK)
        goto out;
    if (conf->bucket.path &&
        (rc = wx_shm_open(&l->bucket, conf->bucket.path, &bucket, err, errlen)) != WX_OK)
        goto out;
    if (conf->record.path) {
        /* Room for ".KEY.lock" and mkstemp's suffix after it. */
        if (strlen(conf->record.path) + 64 >= sizeof(l->rec_path)) {
            snprintf(err, errlen, "%s path too long", l->rec_name);
            rc = WX_EINVAL;
            goto out;
        }
        memcpy(l->rec_path, conf->record.path, strlen(conf->record.path) + 1);
    }
    rc = WX_OK;
out:
    if (rc != WX_OK)
        local_close(st);
    return rc;
}

const wx_store_ops_t wx_store_local = {
    .name = "local",
    .open = local_open,
    .close = local_close,
    .claim = local_claim,
    .finish = local_finish,
    .lease_stats = local_lease_stats,
    .take = local_take,
    .level = local_level,
    .rec_read = wx_local_rec_read,
    .rec_replace = wx_local_rec_replace,
    .lock = wx_local_lock,
    .unlock = wx_local_unlock,
};
