/* notify.c - readiness and the watchdog for systemd (see wx/core/notify.h). */
#include <stdint.h>
#include <systemd/sd-daemon.h>

#include "wx/core/clock.h"
#include "wx/core/notify.h"

void wx_notify(const char *state)
{
    sd_notify(0, state);
}

int wx_notify_poll(int timeout_ms)
{
    static int64_t last_ms, every_ms = -1;
    int64_t now, left;
    uint64_t usec;

    if (every_ms < 0)
        every_ms = sd_watchdog_enabled(0, &usec) > 0 ? (int64_t)(usec / 2000) : 0;
    if (every_ms == 0)
        return timeout_ms;
    now = wx_now_ms();
    if (now - last_ms >= every_ms) {
        sd_notify(0, "WATCHDOG=1");
        last_ms = now;
    }
    left = last_ms + every_ms - now;
    return timeout_ms < 0 || timeout_ms > left ? (int)left : timeout_ms;
}
