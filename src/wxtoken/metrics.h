/*
 * metrics.h - wxtoken's counters and its answer to METRICS: the token's
 * version and seconds to expiry, refreshes by result, failures by errcode
 * (-1: transport or an unusable answer), and reports of a rejected token.
 * wxtoken is one process: plain counters, no shared memory.
 */
#ifndef WXTOKEN_METRICS_H
#define WXTOKEN_METRICS_H

#include <time.h>

#include "wx/core/dynbuf.h"

/* A refresh ended: errcode 0 on success. */
void wxt_mx_refreshed(long errcode);
void wxt_mx_reported(void);

/* The Prometheus text into 'out'; 'have' says whether there is a token
 * (its 'version' and 'expires').  0, or -1 when 'out' is full. */
int wxt_mx_write(wx_dynbuf_t *out, int have, unsigned long version, time_t expires);

#endif
