/* ratelimit.c - the API proxy's rate limits over the store's buckets
 * (see wx/state/ratelimit.h). */
#include <string.h>
#include <time.h>

#include "wx/core/log.h"
#include "wx/state/ratelimit.h"

#define WX_RL_NS    "ratelimit"

int64_t wx_ratelimit_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int wx_ratelimit_take(wx_store_t *st, const char *name, unsigned rate,
                      unsigned burst, int64_t now_us, unsigned *retry_ms)
{
    wx_store_key_t key = { WX_RL_NS, name, strlen(name) };
    int granted;

    if (wx_store_take(st, &key, rate, burst, now_us, &granted, retry_ms) != WX_OK) {
        wx_log(WX_LOG_ERROR, "rate limit of %s not applied: %s", name, wx_store_error(st));
        *retry_ms = 0;
        return 1;
    }
    return granted;
}

int64_t wx_ratelimit_level(wx_store_t *st, const char *name)
{
    wx_store_key_t key = { WX_RL_NS, name, strlen(name) };
    int64_t level;

    return wx_store_level(st, &key, &level) == WX_OK ? level : -1;
}
