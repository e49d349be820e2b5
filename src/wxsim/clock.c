/*
 * clock.c - the simulator's clock: the wall clock moved by /sim/clock
 * (an offset, or frozen at a second), which every part of wxsim reads.
 */
#include <time.h>

#include "wxsim.h"

long long wxsim_now(const wxsim_t *sim)
{
    /* A frozen clock (tests that need exact seconds) moves only when
     * told to. */
    return (sim->frozen_at ? sim->frozen_at : (long long)time(NULL)) + sim->offset;
}

long long wxsim_day(const wxsim_t *sim)
{
    /* Quotas reset at midnight Beijing time, UTC+8. */
    return (wxsim_now(sim) + 8 * 3600) / 86400;
}
