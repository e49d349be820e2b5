/*
 * wx/state/ratelimit.h - the API proxy's per-key rate limits, as token
 * buckets of the state store (wx/state/store.h): every worker of every
 * wxproxy sharing the store draws from the same bucket, so N workers let
 * 'rate' calls a second through, not N times that.
 *
 * One bucket per name (a [wxproxy.key.NAME]) in the namespace
 * "ratelimit".  A bucket holds up to 'burst' tokens and gains 'rate'
 * tokens a second, continuously (kept in millionths of a token, so a rate
 * of 1/s refills smoothly).  A call takes one token or is refused with the
 * time until one will be there.  A new bucket starts full.  Time is
 * CLOCK_MONOTONIC (a step of the wall clock changes nothing).  Rate and
 * burst are given with each call, so a reload that changes them takes
 * effect at once.  The local store keeps WX_RATELIMIT_SLOTS buckets.
 */
#ifndef WX_RATELIMIT_H
#define WX_RATELIMIT_H

#include <stdint.h>
#include "wx/state/store.h"

#define WX_RATELIMIT_SLOTS  WX_STORE_LOCAL_BUCKETS

/* The clock of the buckets, in microseconds (CLOCK_MONOTONIC). */
int64_t wx_ratelimit_now(void);

/* Take one token from the bucket of 'name' (rate tokens a second, at most
 * 'burst'; burst 0 means 'rate') at time 'now_us'.  1 when the call may
 * go; 0 when it may not, with *retry_ms the wait until a token will be
 * there (at least 1).  A rate of 0 refuses everything (*retry_ms 1000).
 * A store that fails lets the call go (logged): a rate limit is no
 * reason to stop the API. */
int wx_ratelimit_take(wx_store_t *st, const char *name, unsigned rate,
                      unsigned burst, int64_t now_us, unsigned *retry_ms);

/* The tokens left in the bucket of 'name' after its last call, in
 * millionths; -1 when there is no such bucket.  For reports and tests. */
int64_t wx_ratelimit_level(wx_store_t *st, const char *name);

#endif
