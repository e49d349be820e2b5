/*
 * wx/core/clock.h - milliseconds, the two clocks.
 *
 * wx_now_ms() counts on CLOCK_MONOTONIC: for timeouts, deadlines and
 * durations, which must not jump when the wall clock is set.  wx_wall_ms()
 * is CLOCK_REALTIME: for times that are stored or compared across
 * processes and restarts (expiry of a token, age of a record).
 */
#ifndef WX_CLOCK_H
#define WX_CLOCK_H

#include <stdint.h>

/* Milliseconds on the monotonic clock (an arbitrary origin). */
int64_t wx_now_ms(void);
/* Microseconds on the same clock, for short durations. */
int64_t wx_now_us(void);

/* Milliseconds since the Epoch. */
int64_t wx_wall_ms(void);

#endif
