/*
 * wx/state/ratelimit.h - token buckets shared by every process of the machine
 * (the API proxy's per-key rate limits).
 *
 * One bucket per name (a [wxproxy.key.NAME]), in a table in a file-backed
 * shared mapping (wx/core/shm.h), so that every worker of every wxproxy on the
 * machine, under its own master or under spawn-fcgi, draws from the same
 * bucket: N workers let 'rate' calls a second through, not N times that.
 *
 * A bucket holds up to 'burst' tokens and gains 'rate' tokens a second,
 * continuously (kept in millionths of a token, so a rate of 1/s refills
 * smoothly).  A call takes one token or is refused with the time until one
 * will be there.  A new bucket starts full.  Time is CLOCK_MONOTONIC (the
 * same for every process of the machine; a step of the wall clock changes
 * nothing); a table left by an earlier boot is noticed by a time that went
 * backwards, and that bucket starts full again.
 *
 * Rate and burst are given with each call, so a reload that changes them
 * takes effect at once (a bucket above its new burst is cut down to it).
 * The table has WX_RATELIMIT_SLOTS buckets; when a new name finds it full,
 * the bucket used least recently is given up.
 */
#ifndef WX_RATELIMIT_H
#define WX_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include "wx/core/err.h"

#define WX_RATELIMIT_SLOTS  256

typedef struct wx_ratelimit wx_ratelimit_t;

/* Open (creating if needed) the table at 'path'.  NULL with 'err' set. */
wx_ratelimit_t *wx_ratelimit_open(const char *path, char *err, size_t errlen);
void wx_ratelimit_close(wx_ratelimit_t *rl);

/* The clock of the buckets, in microseconds (CLOCK_MONOTONIC). */
int64_t wx_ratelimit_now(void);

/* Take one token from the bucket of 'name' (rate tokens a second, at most
 * 'burst'; burst 0 means 'rate') at time 'now_us'.  1 when the call may
 * go; 0 when it may not, with *retry_ms the wait until a token will be
 * there (at least 1).  A rate of 0 refuses everything (*retry_ms 1000). */
int wx_ratelimit_take(wx_ratelimit_t *rl, const char *name, unsigned rate,
                      unsigned burst, int64_t now_us, unsigned *retry_ms);

/* The tokens left in the bucket of 'name' after its last call, in
 * millionths; -1 when there is no such bucket.  For reports and tests. */
int64_t wx_ratelimit_level(wx_ratelimit_t *rl, const char *name);

#endif
