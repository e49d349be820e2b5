/*
 * wx/state/store.h - the state store: what the processes of a deployment
 * share, behind one interface with a backend picked once, at open.
 *
 * Three families of operations, for three users:
 *
 *   leases    claim a key for a while, finish it with a value, read it
 *             (the retry table of wxfcgi: one worker answers a message,
 *             its retries wait for the reply or replay it);
 *   buckets   take a token from a token bucket (wxproxy's rate limits);
 *   records   read and replace a versioned record, under a lock held
 *             while the next version is made (the access token: written
 *             by wxtoken, read by wxproxy and wxctl).
 *
 * Nothing above this header knows which backend it has.  Backends:
 *
 *   local     one machine: the leases and the buckets in tables in
 *             file-backed shared mappings (wx/core/shm.h), a record in a
 *             file replaced by rename(2), its lock an flock(2).
 *   redis     many machines: every family in one Redis (or the master a
 *             Sentinel names), each operation one atomic round trip (a
 *             Lua script or a single command); the clock of leases and
 *             buckets is Redis's own, so the hosts' clocks do not matter.
 *             A key is PREFIX NS ':' KEY, a record's lock PREFIX NS
 *             '.lock:' KEY.  The connection is the handle's, opened at
 *             wx_store_open() (a bad address or password fails the open)
 *             and again after an outage or in a forked child, never more
 *             than once a backoff period (WX_ESYS meanwhile, at once);
 *             every call is bounded by timeout_ms; a SIGPIPE left to its
 *             default is ignored from the open on.  The owner of a lease
 *             is the handle (host, pid and a counter): the local backend's
 *             dead-pid check cannot cross hosts, so a dead owner's lease
 *             is taken over when it ends.
 *
 * A backend is one file under src/lib/state/ behind the operations table
 * of store_impl.h; wx_store_open() picks it by conf->backend.
 *
 * Keys are byte strings in a namespace (wx_store_key_t): two users of one
 * store never see each other's keys.  Values are byte strings up to what
 * the backend accepts (the local lease table: its slot size less a small
 * header; a local record: WX_STORE_LOCAL_REC_MAX printable characters
 * without blanks, as it is a line of text).
 *
 * The local lease table is sized by what it holds: 'slots' entries of
 * WX_STORE_LOCAL_ENTRY bytes, each keeping a value of up to that less a
 * small header in place (most replies), and one large slot of
 * 'slot_size' bytes per 16 entries (at least one) for the larger values.
 * Large slots are taken in turn, so a large value gives up the done entry
 * that took its slot longest ago; a held entry never holds one.  The
 * default (8192 entries of 512 bytes, 512 large slots of 4096) maps
 * 6 MiB and 4 KiB.  Times: leases in ms,
 * records' times in Unix seconds, buckets' clock in µs.
 *
 * Errors are wx_err_t, of two kinds that callers keep apart: bad input
 * (WX_EINVAL, WX_ETOOBIG, WX_ESTALE: the caller's request cannot be done
 * as asked; trying again the same way does not help) and the store failing
 * or unavailable (WX_ESYS, WX_ECONFIG when the store was opened without
 * what the operation needs, WX_ENOMEM).  wx_store_error() says more
 * about the last failure.  An operation that fails has no effect; when
 * the store is unavailable (a server down: WX_ESYS) the callers decide:
 * the retry table falls back to the host's own local table, the rate
 * limiter lets the call go, a reader of the token keeps the one it read
 * last until it expires, or asks wxtoken.  A handle serves one
 * thread at a time and is not to be used across fork(): a child opens its
 * own (a connection to a server cannot be shared).  The owner of a lease
 * is the calling process.
 */
#ifndef WX_STORE_H
#define WX_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "wx/core/err.h"
#include "wx/core/str.h"

#define WX_STORE_SLOT_SIZE      4096    /* local lease table: default large slot */
#define WX_STORE_LOCAL_ENTRY    512     /* local lease table: bytes per entry */
#define WX_STORE_LOCAL_REC_MAX  1024    /* local record: longest value */
#define WX_STORE_LOCAL_BUCKETS  256     /* local bucket table: buckets */
#define WX_STORE_REDIS_VALUE_MAX (1U << 20) /* redis: longest lease or record value */
#define WX_STORE_REDIS_KEY_MAX  512     /* redis: longest PREFIX NS ':' KEY */
#define WX_STORE_REDIS_TIMEOUT  200     /* redis: default timeout_ms */

typedef struct wx_store wx_store_t;

/* What wx_store_open() needs; the [state] section of a config, with the
 * paths and sizes of the program that opens it.  Local: only the families
 * with a path are available; the others answer WX_ECONFIG.  Redis: every
 * family is. */
typedef struct wx_store_conf {
    const char *backend;        /* "local" (NULL or "" too) or "redis" */
    const char *prefix;         /* shared backends put it before every key (a
                                 * deployment, an account); local: unused, as
                                 * each table is a file of its own */
    struct {
        const char *path;       /* local: the table's file; NULL: no leases */
        const char *name;       /* names it in messages ("dedup table") */
        unsigned    slots;      /* local: entries (1 to 2^24) */
        unsigned    slot_size;  /* local: bytes of a large slot, the largest
                                 * value plus a small header (a multiple of
                                 * 8, WX_STORE_LOCAL_ENTRY to 2^24);
                                 * 0: WX_STORE_SLOT_SIZE */
    } lease;
    struct {
        const char *path;       /* local: the table's file; NULL: no buckets */
    } bucket;
    struct {
        const char *path;       /* local: the file of the record with the
                                 * empty key (KEY's: PATH.KEY, KEY of letters,
                                 * digits, '-' and '_'); its lock is
                                 * PATH.lock; the file is its user's, so the
                                 * namespace is not in its name; NULL: no
                                 * records */
        const char *name;       /* names it in messages ("token store") */
    } record;
    /* redis: the server, "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]" or
     * "unix:/PATH[?db=N]"; or, with 'redis' NULL, the master that the
     * first Sentinel of 'sentinels' that answers names 'sentinel_master'.
     * 'password' (or the URL's) is sent with AUTH and never written to a
     * message. */
    const char *redis;
    const char *password;       /* NULL: the URL's, if any */
    const char *sentinels;      /* "HOST:PORT HOST:PORT ..." */
    const char *sentinel_master;
    unsigned    timeout_ms;     /* connect and each command; 0: WX_STORE_REDIS_TIMEOUT */
} wx_store_conf_t;

/* A key: 'len' bytes at 'data' (any bytes; the local backend keeps keys
 * of up to 20 bytes as they are and longer ones as their SHA-1) in the
 * namespace 'ns' (a short C string naming the user: "dedup"). */
typedef struct wx_store_key {
    const char *ns;
    const void *data;
    size_t      len;
} wx_store_key_t;

/* Open the store 'conf' describes.  NULL with 'err' set: an unknown
 * backend or bad sizes (bad input), or a file that cannot be opened or is
 * not a table of this layout (a table of another size is refused, not
 * resized: it may be in use). */
wx_store_t *wx_store_open(const wx_store_conf_t *conf, char *err, size_t errlen);

/* Close the handle (NULL is harmless).  Leases it holds stay held until
 * they expire; a record lock it holds is released. */
void wx_store_close(wx_store_t *st);

/* The backend's name ("local"), for logs. */
const char *wx_store_backend(const wx_store_t *st);

/* What went wrong in the last operation that failed, never NULL. */
const char *wx_store_error(const wx_store_t *st);

/* The kind of the last failure, for metrics and for deciding what to log:
 * the store unavailable (WX_ESYS) is one of the first five on a backend
 * with a server, or BACKOFF when no command was even tried (the server
 * failed a moment ago: the backend waits a backoff period before it tries
 * again).  Anything else is OTHER. */
typedef enum wx_store_fail {
    WX_STORE_FAIL_CONNECT,      /* the server unreachable, or the connection lost */
    WX_STORE_FAIL_TIMEOUT,      /* no answer within timeout_ms */
    WX_STORE_FAIL_PROTOCOL,     /* an answer that is no Redis reply, or of the wrong shape */
    WX_STORE_FAIL_AUTH,         /* the password refused, or none given */
    WX_STORE_FAIL_READONLY,     /* a replica, not the master (a failover) */
    WX_STORE_FAIL_OTHER,        /* another error reply, or a local failure */
    WX_STORE_FAIL_BACKOFF,      /* not tried: the server failed a moment ago */
    WX_STORE_FAIL_KINDS
} wx_store_fail_t;

wx_store_fail_t wx_store_fail_kind(const wx_store_t *st);

/* ---- leases -------------------------------------------------------------
 *
 * A key is free, held by an owner (the process that claimed it: the local
 * backend keeps its pid) until its lease ends, or done with a value.
 * Each operation is atomic with respect to every other process of the
 * store.  A caller that dies holding a lease leaves the key held until
 * the lease ends or, on the local backend, until a claimer sees that no
 * process has the owner's pid; the next claim then takes it over.  A
 * done value is kept 'keep_ms' while there is room, and no longer: a
 * claim after that finds the key free (a retry of a message that old is
 * not replayed an old reply); the local
 * table, when full around a key, gives up the oldest done entry first
 * (counted as an early eviction when before its time) and never a held
 * one, and a large value gives up the done entry of the large slot it
 * takes (above). */

typedef enum wx_store_state {
    WX_STORE_CLAIMED,   /* the caller holds the key now: it was free */
    WX_STORE_TAKEN,     /* the caller holds it, taken over from an owner that
                         * died or whose lease ended ('owner') */
    WX_STORE_HELD,      /* a live owner holds it ('owner'): try again later */
    WX_STORE_DONE,      /* finished: 'value' holds its value */
    WX_STORE_NOROOM     /* no room to record the claim: nobody holds it */
} wx_store_state_t;

typedef struct wx_store_claim {
    wx_store_state_t    state;
    long                owner;  /* TAKEN, HELD: the owner, for logs (a pid) */
    wx_str_t            value;  /* DONE: a copy in the caller's pool */
} wx_store_claim_t;

/* Claim 'key' for 'lease_ms', or say who holds it, or read its value
 * (copied into 'pool', NUL-terminated).  WX_OK with c->state set;
 * WX_ENOMEM with c->state WX_STORE_DONE and an empty value when the pool
 * cannot hold the copy; WX_EINVAL, WX_ECONFIG or WX_ESYS (the store is
 * unavailable: nothing is claimed).  No allocation, no system call on
 * the local backend unless the key is held (then one kill(pid, 0)). */
wx_err_t wx_store_claim(wx_store_t *st, const wx_store_key_t *key, unsigned lease_ms,
                        wx_pool_t *pool, wx_store_claim_t *c);

/* Finish the caller's claim of 'key' with 'value', kept at least
 * 'keep_ms'.  WX_OK; WX_ESTALE when the claim is no longer the caller's
 * (taken over after its lease, or never made): nothing is stored;
 * WX_ETOOBIG when the value is larger than the backend takes: nothing is
 * stored and the claim is still held, so the caller may finish it with
 * less; WX_EINVAL, WX_ECONFIG, WX_ESYS. */
wx_err_t wx_store_finish(wx_store_t *st, const wx_store_key_t *key, wx_str_t value,
                         unsigned keep_ms);

/* Like wx_store_finish(), but a backend that talks to a server may send
 * the finish and return without its answer (redis): the caller's one
 * blocking round trip a message is then its claim.  WX_OK means sent
 * (local: done); what is found before sending is returned as by
 * wx_store_finish() (WX_ETOOBIG with the claim still held, WX_ESYS when the
 * server is down).  The answer is read before the handle's next command,
 * and a finish that failed there (not a claim taken over meanwhile: that is
 * no failure, its new owner answers) is counted in wx_store_lost().  Safe
 * when nothing but a log line would follow the answer: the claim ends
 * with its lease anyway. */
wx_err_t wx_store_finish_nowait(wx_store_t *st, const wx_store_key_t *key, wx_str_t value,
                                unsigned keep_ms);

/* Finishes sent by wx_store_finish_nowait() that failed, since the open. */
unsigned long wx_store_lost(const wx_store_t *st);

/* Done entries this handle gave up before their time to make room (the
 * local table; redis: 0, as Redis evicts by its own policy), since the
 * open: a per-process count, for metrics. */
unsigned long wx_store_evictions(const wx_store_t *st);

/* Keys held or done, and done entries given up before their time (the
 * local table; for reports and tests).  WX_OK or WX_ECONFIG (redis: not
 * counted, as a count would scan the keys of every host). */
wx_err_t wx_store_lease_stats(wx_store_t *st, unsigned *used, unsigned long *early);

/* ---- buckets ------------------------------------------------------------
 *
 * A bucket holds up to 'burst' tokens (0: 'rate') and gains 'rate' tokens
 * a second, continuously; a new bucket starts full.  Rate and burst come
 * with each call: a change takes effect at once (a bucket above its new
 * burst is cut down to it).  A take is atomic: however many processes
 * take at once, no more than burst + rate * elapsed tokens are ever
 * taken.  A caller that dies leaves nothing behind.  'now_us' is the
 * caller's reading of CLOCK_MONOTONIC (shared backends may use their own
 * clock); readings a little out of order between processes are taken as
 * no time passing, and a clock far behind the bucket's (a table from an
 * earlier boot) refills the bucket.  The local table keeps a fixed number
 * of buckets and gives up the least recently used one for a new key. */

/* Take one token from the bucket of 'key'.  WX_OK with *granted 1, or 0
 * and *retry_ms the wait until a token will be there (>= 1).  A rate of
 * 0 grants nothing (*retry_ms 1000).  WX_EINVAL, WX_ECONFIG or WX_ESYS
 * (nothing taken). */
wx_err_t wx_store_take(wx_store_t *st, const wx_store_key_t *key, unsigned rate,
                       unsigned burst, int64_t now_us, int *granted, unsigned *retry_ms);

/* The tokens left in the bucket of 'key' after its last take, in
 * millionths.  WX_OK; WX_EMISSING when there is no such bucket. */
wx_err_t wx_store_level(wx_store_t *st, const wx_store_key_t *key, int64_t *level);

/* ---- records ------------------------------------------------------------
 *
 * A record is a value with a version and two times.  A reader sees the
 * old record or the new one, never a mix; a damaged record is reported,
 * never served.  Versions only grow: a replace writes version V over the
 * stored version S only when V > S (S + 1 as a rule; a missing or
 * damaged record counts as 0) or V == S with the same value (new times
 * for the same value).  The check and the write are one atomic step, so
 * of two writers of the same next version exactly one wins.  A caller
 * that dies mid-replace leaves the old record (local: and perhaps a
 * temporary file beside it).  The lock is advisory: it keeps makers of
 * the next version (two wxtoken processes) apart; readers ignore it. */

typedef struct wx_store_rec {
    unsigned long   version;
    time_t          obtained;   /* Unix seconds: the caller's meaning */
    time_t          expires;
    wx_str_t        value;
} wx_store_rec_t;

/* Read the record of 'key'; its value is copied into 'buf' ('cap' bytes,
 * NUL-terminated) and rec->value points there.  WX_OK; WX_EMISSING when
 * there is none yet; WX_EINVAL when it is damaged; WX_ETOOBIG when its
 * value does not fit in 'cap'; WX_ECONFIG, WX_ESYS. */
wx_err_t wx_store_rec_read(wx_store_t *st, const wx_store_key_t *key,
                           wx_store_rec_t *rec, char *buf, size_t cap);

/* Replace the record of 'key' with 'rec', durably, by the rule above.
 * WX_OK; WX_ESTALE when the stored version forbids it (nothing written);
 * WX_EINVAL when the backend cannot hold the value; WX_ECONFIG, WX_ESYS.
 * The check and the write take a short lock of their own (local: an
 * flock of the directory), not the one of wx_store_lock(), which the
 * caller may hold. */
wx_err_t wx_store_rec_replace(wx_store_t *st, const wx_store_key_t *key,
                              const wx_store_rec_t *rec);

/* Take the lock of the record of 'key', waiting as long as it takes, for
 * at most 'lease_ms' (local: until unlocked or the holder dies, whatever
 * 'lease_ms' says).  One lock a handle at a time (WX_EINVAL for a second
 * one).  WX_OK, WX_ECONFIG, WX_ESYS. */
wx_err_t wx_store_lock(wx_store_t *st, const wx_store_key_t *key, unsigned lease_ms);
void wx_store_unlock(wx_store_t *st, const wx_store_key_t *key);

#endif
