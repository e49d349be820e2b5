/* clock.c - milliseconds on the monotonic and the wall clock (wx/core/clock.h). */
#include <time.h>

#include "wx/core/clock.h"

static int64_t ms_of(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t wx_now_ms(void)
{
    return ms_of(CLOCK_MONOTONIC);
}

int64_t wx_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t wx_wall_ms(void)
{
    return ms_of(CLOCK_REALTIME);
}
