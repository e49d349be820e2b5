/* ratelimit.c - token buckets in a shared table (see wx/state/ratelimit.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wx/state/ratelimit.h"
#include "wx/core/shm.h"
#include "wx/proto/sign.h"

#define WX_RL_MAGIC     0x77787274U     /* "wxrt" */
#define WX_RL_VERSION   1U
#define WX_RL_HDR_SIZE  256
#define WX_RL_UNIT      1000000LL       /* a token, in millionths */

typedef struct wx_rl_hdr {
    wx_shm_hdr_t    shm;
} wx_rl_hdr_t;

typedef struct wx_rl_slot {
    unsigned char   key[20];        /* SHA-1 of the name; all zero: free */
    uint32_t        used;
    int64_t         level;          /* tokens, in millionths */
    int64_t         last_us;        /* when 'level' was computed */
    int64_t         touched_us;     /* last call: for eviction */
} wx_rl_slot_t;

_Static_assert(sizeof(wx_rl_hdr_t) <= WX_RL_HDR_SIZE, "ratelimit header too large");

struct wx_ratelimit {
    wx_shm_t        shm;
};

static wx_rl_slot_t *slot_at(wx_ratelimit_t *rl, unsigned i)
{
    return (wx_rl_slot_t *)(rl->shm.map + WX_RL_HDR_SIZE) + i;
}

wx_ratelimit_t *wx_ratelimit_open(const char *path, char *err, size_t errlen)
{
    wx_ratelimit_t *rl = calloc(1, sizeof(*rl));
    wx_shm_spec_t spec = {
        .what = "rate-limit table",
        .size_hint = "remove it (it holds nothing that lasts)",
        .magic = WX_RL_MAGIC,
        .version = WX_RL_VERSION,
        .param = WX_RATELIMIT_SLOTS,
        .size = WX_RL_HDR_SIZE + WX_RATELIMIT_SLOTS * sizeof(wx_rl_slot_t),
    };

    if (rl == NULL) {
        snprintf(err, errlen, "rate-limit table: out of memory");
        return NULL;
    }
    if (wx_shm_open(&rl->shm, path, &spec, err, errlen) != WX_OK) {
        free(rl);
        return NULL;
    }
    return rl;
}

void wx_ratelimit_close(wx_ratelimit_t *rl)
{
    if (rl == NULL)
        return;
    wx_shm_close(&rl->shm);
    free(rl);
}

int64_t wx_ratelimit_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void name_key(const char *name, unsigned char key[20])
{
    wx_str_t part = wx_str_c(name);

    wx_sha1_parts(&part, 1, key);
    /* All zero marks a free slot: no name may hash to it. */
    key[0] |= 1;
}

/* The slot of 'key', or when 'create', a free one, else the least
 * recently used (started full).  Called with the lock held. */
static wx_rl_slot_t *find(wx_ratelimit_t *rl, const unsigned char key[20], int create,
                          int64_t full, int64_t now)
{
    wx_rl_slot_t *victim = NULL;
    uint32_t h;
    unsigned i;

    memcpy(&h, key, sizeof(h));
    for (i = 0; i < WX_RATELIMIT_SLOTS; i++) {
        wx_rl_slot_t *s = slot_at(rl, (h + i) % WX_RATELIMIT_SLOTS);

        if (s->used && memcmp(s->key, key, 20) == 0)
            return s;
        if (!s->used) {
            /* Names are never removed, so the probe ends at a free slot. */
            victim = s;
            break;
        }
        if (victim == NULL || s->touched_us < victim->touched_us)
            victim = s;
    }
    if (!create)
        return NULL;
    memcpy(victim->key, key, 20);
    victim->used = 1;
    victim->level = full;
    victim->last_us = now;
    victim->touched_us = now;
    return victim;
}

/* Bring the bucket's level up to 'now'. */
/* How far apart two callers' readings of the clock may be: each reads it
 * before it takes the lock. */
#define WX_RL_RACE_US   (10 * 1000000LL)

static void refill(wx_rl_slot_t *s, unsigned rate, int64_t full, int64_t now)
{
    int64_t dt = now - s->last_us;

    if (dt < 0 && dt > -WX_RL_RACE_US) {
        /* Another worker read the clock after us but took the lock
         * first: no time has passed for this bucket. */
        dt = 0;
    }
    if (dt < 0) {
        /* The clock went far backwards: a table from an earlier boot. */
        s->level = full;
        s->last_us = now;
        return;
    } else if (rate > 0) {
        /* rate tokens/s = rate millionths/us.  Cap dt first, against
         * overflow: past the time to fill the bucket, it is full. */
        if (dt >= full / rate + 1)
            s->level = full;
        else
            s->level += dt * (int64_t)rate;
    }
    if (s->level > full)
        s->level = full;
    if (now > s->last_us)
        s->last_us = now;
}

int wx_ratelimit_take(wx_ratelimit_t *rl, const char *name, unsigned rate,
                      unsigned burst, int64_t now_us, unsigned *retry_ms)
{
    unsigned char key[20];
    int64_t full = (int64_t)(burst ? burst : rate) * WX_RL_UNIT;
    wx_rl_slot_t *s;
    int ok;

    *retry_ms = 0;
    if (rate == 0 || full == 0) {
        *retry_ms = 1000;
        return 0;
    }
    name_key(name, key);
    wx_shm_lock(&rl->shm);
    s = find(rl, key, 1, full, now_us);
    refill(s, rate, full, now_us);
    s->touched_us = now_us;
    ok = s->level >= WX_RL_UNIT;
    if (ok) {
        s->level -= WX_RL_UNIT;
    } else {
        int64_t need = WX_RL_UNIT - s->level;               /* millionths */
        int64_t us = (need + rate - 1) / rate;              /* microseconds */
        int64_t ms = (us + 999) / 1000;

        *retry_ms = ms < 1 ? 1 : ms > 3600000 ? 3600000 : (unsigned)ms;
    }
    wx_shm_unlock(&rl->shm);
    return ok;
}

int64_t wx_ratelimit_level(wx_ratelimit_t *rl, const char *name)
{
    unsigned char key[20];
    wx_rl_slot_t *s;
    int64_t level = -1;

    name_key(name, key);
    wx_shm_lock(&rl->shm);
    s = find(rl, key, 0, 0, 0);
    if (s)
        level = s->level;
    wx_shm_unlock(&rl->shm);
    return level;
}
