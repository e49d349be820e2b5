/*
 * wx/core/notify.h - telling systemd how a daemon is doing (sd_notify(3)
 * of libsystemd): ready, reloading, stopping, and alive for the watchdog.
 * Without $NOTIFY_SOCKET (not started by a Type=notify unit) every call
 * does nothing, so the programs run the same by hand.
 */
#ifndef WX_NOTIFY_H
#define WX_NOTIFY_H

/* Send 'state' ("READY=1", "RELOADING=1", "STOPPING=1", ...). */
void wx_notify(const char *state);

/* For a poll loop: send WATCHDOG=1 when half the unit's WatchdogSec has
 * passed since the last one, and return 'timeout_ms' shortened so that
 * the loop wakes for the next (-1: no limit).  Without a watchdog,
 * 'timeout_ms' unchanged. */
int wx_notify_poll(int timeout_ms);

#endif
