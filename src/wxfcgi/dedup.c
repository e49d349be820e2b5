/* dedup.c - the retry table shared by all workers (see wxfcgi/dedup.h). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wx/core/proc.h"
#include "wxfcgi/dedup.h"
#include "wx/core/log.h"
#include "wx/core/shm.h"
#include "wx/proto/sign.h"

#define WX_DEDUP_MAGIC      0x77786464U     /* "wxdd" */
/* 2: the header of wx/core/shm.h (1 had slot_size beside the slot count) */
#define WX_DEDUP_VERSION    2U
#define WX_DEDUP_PROBE      16              /* slots searched per key */
#define WX_DEDUP_POLL_MS    5
/* An entry in progress for longer than this is taken over even if a
 * process with its pid exists (the pid may have been reused). */
#define WX_DEDUP_STUCK_MS   60000

enum { SLOT_EMPTY = 0, SLOT_BUSY, SLOT_DONE };

typedef struct wx_dedup_hdr {
    wx_shm_hdr_t        shm;            /* magic, version, slot count, lock */
    uint64_t            early_evictions;
} wx_dedup_hdr_t;

typedef struct wx_dedup_slot {
    unsigned char       key[20];
    uint32_t            state;
    int32_t             pid;
    uint32_t            reply_len;
    int64_t             since_ms;       /* CLOCK_REALTIME: shared by processes */
    char                reply[];
} wx_dedup_slot_t;

#define WX_DEDUP_REPLY_MAX  (WX_DEDUP_SLOT_SIZE - sizeof(wx_dedup_slot_t))
#define WX_DEDUP_HDR_SIZE   4096
_Static_assert(sizeof(wx_dedup_hdr_t) <= WX_DEDUP_HDR_SIZE, "dedup header too large");

struct wx_dedup {
    wx_shm_t            shm;
    char               *map;
    wx_dedup_hdr_t     *hdr;
    unsigned            slots;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static wx_dedup_slot_t *slot_at(wx_dedup_t *d, unsigned i)
{
    return (wx_dedup_slot_t *)(d->map + WX_DEDUP_HDR_SIZE + (size_t)i * WX_DEDUP_SLOT_SIZE);
}

static void lock(wx_dedup_t *d)
{
    wx_shm_lock(&d->shm);
}

static void unlock(wx_dedup_t *d)
{
    wx_shm_unlock(&d->shm);
}

wx_dedup_t *wx_dedup_open(const char *path, unsigned slots, char *err,
                          size_t errlen)
{
    wx_dedup_t *d;
    wx_shm_spec_t spec = {
        .what = "dedup table",
        .size_hint = "remove it, or give each dedup_slots its own state_dir",
        .magic = WX_DEDUP_MAGIC,
        .version = WX_DEDUP_VERSION,
        .param = slots,
        .size = WX_DEDUP_HDR_SIZE + (size_t)slots * WX_DEDUP_SLOT_SIZE,
    };

    if (slots == 0) {
        snprintf(err, errlen, "dedup: no slots");
        return NULL;
    }
    d = calloc(1, sizeof(*d));
    if (d == NULL) {
        snprintf(err, errlen, "dedup: out of memory");
        return NULL;
    }
    if (wx_shm_open(&d->shm, path, &spec, err, errlen) != WX_OK) {
        free(d);
        return NULL;
    }
    d->map = d->shm.map;
    d->hdr = (wx_dedup_hdr_t *)d->map;
    d->slots = slots;
    return d;
}

void wx_dedup_close(wx_dedup_t *d)
{
    if (d == NULL)
        return;
    wx_shm_close(&d->shm);
    free(d);
}

wx_err_t wx_dedup_key(const wx_msg_t *msg, unsigned char key[20])
{
    wx_str_t parts[5];

    /* PROTOCOL.md 3.1: messages by MsgId, events by sender and time (and,
     * as two events can share a second, their name and key). */
    if (msg->type != WX_MSG_EVENT && msg->has_msg_id) {
        parts[0] = WX_STR("m");
        parts[1] = msg->msg_id_s;
        return wx_sha1_parts(parts, 2, key);
    }
    parts[0] = WX_STR("e");
    parts[1] = msg->from_user;
    parts[2] = msg->create_time_s;
    parts[3] = msg->event_name;
    parts[4] = msg->event_key;
    return wx_sha1_parts(parts, 5, key);
}

static int owner_alive(const wx_dedup_slot_t *s, int64_t now)
{
    if (now - s->since_ms > WX_DEDUP_STUCK_MS)
        return 0;
    return kill((pid_t)s->pid, 0) == 0 || errno != ESRCH;
}

/* Find the slot of 'key', or choose one for it: an empty slot, else the
 * oldest finished one in the neighbourhood.  NULL when all of it is in
 * progress.  Called with the lock held. */
static wx_dedup_slot_t *find(wx_dedup_t *d, const unsigned char key[20],
                             int *found)
{
    uint32_t h;
    wx_dedup_slot_t *victim = NULL;
    unsigned i;

    memcpy(&h, key, sizeof(h));
    *found = 0;
    for (i = 0; i < WX_DEDUP_PROBE; i++) {
        wx_dedup_slot_t *s = slot_at(d, (h + i) % d->slots);

        if (s->state != SLOT_EMPTY && memcmp(s->key, key, 20) == 0) {
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

static void claim(wx_dedup_slot_t *s, const unsigned char key[20], int64_t now)
{
    memcpy(s->key, key, 20);
    s->state = SLOT_BUSY;
    s->pid = (int32_t)wx_pid();
    s->since_ms = now;
    s->reply_len = 0;
}

wx_dedup_state_t wx_dedup_begin(wx_dedup_t *d, const unsigned char key[20],
                                unsigned budget_ms, wx_pool_t *pool,
                                wx_str_t *reply)
{
    struct timespec t0, nap = { 0, WX_DEDUP_POLL_MS * 1000000L };
    wx_dedup_slot_t *s;
    int64_t now, waited;
    int found;

    /* The budget is measured on the monotonic clock: a step of the wall
     * clock must not stretch or cut a wait. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        now = now_ms();
        lock(d);
        s = find(d, key, &found);
        if (s == NULL) {
            unlock(d);
            /* Every nearby entry is in progress: de-duplication cannot
             * help this one, but the message is still answered. */
            wx_log(WX_LOG_WARN, "dedup table crowded: raise dedup_slots");
            return WX_DEDUP_CLAIMED;
        }
        if (!found) {
            if (s->state == SLOT_DONE && now - s->since_ms < WX_DEDUP_TTL * 1000)
                d->hdr->early_evictions++;
            claim(s, key, now);
            unlock(d);
            return WX_DEDUP_CLAIMED;
        }
        if (s->state == SLOT_DONE) {
            size_t len = s->reply_len;
            char *copy = wx_pool_strndup(pool, s->reply, len);

            unlock(d);
            if (copy == NULL)
                *reply = WX_STR("success");
            else
                *reply = (wx_str_t){ len, copy };
            return WX_DEDUP_REPLAY;
        }
        /* In progress.  Its worker died (killed mid-request)?  Take over. */
        if (!owner_alive(s, now)) {
            wx_log(WX_LOG_WARN, "dedup: worker %ld died in a request; its retry takes over",
                   (long)s->pid);
            claim(s, key, now);
            unlock(d);
            return WX_DEDUP_CLAIMED;
        }
        unlock(d);
        {
            struct timespec t1;

            clock_gettime(CLOCK_MONOTONIC, &t1);
            waited = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000 +
                     (t1.tv_nsec - t0.tv_nsec) / 1000000;
        }
        if (waited >= (int64_t)budget_ms)
            return WX_DEDUP_TIMEOUT;
        nanosleep(&nap, NULL);
    }
}

void wx_dedup_finish(wx_dedup_t *d, const unsigned char key[20],
                     wx_str_t reply)
{
    wx_dedup_slot_t *s;
    int found;

    if (reply.len > WX_DEDUP_REPLY_MAX) {
        wx_log(WX_LOG_WARN, "dedup: a %zu-byte reply is too large to store; "
               "a retry of it gets success", reply.len);
        reply = WX_STR("success");
    }
    lock(d);
    s = find(d, key, &found);
    /* Only our own claim is completed: it may have been taken over. */
    if (s && found && s->state == SLOT_BUSY && s->pid == (int32_t)wx_pid()) {
        if (reply.len)
            memcpy(s->reply, reply.data, reply.len);
        s->reply_len = (uint32_t)reply.len;
        s->since_ms = now_ms();
        s->state = SLOT_DONE;
    }
    unlock(d);
}

void wx_dedup_stats(wx_dedup_t *d, unsigned *used, unsigned long *early)
{
    unsigned i, n = 0;

    lock(d);
    for (i = 0; i < d->slots; i++)
        n += slot_at(d, i)->state != SLOT_EMPTY;
    *early = (unsigned long)d->hdr->early_evictions;
    unlock(d);
    *used = n;
}
