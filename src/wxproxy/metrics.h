/*
 * metrics.h - wxproxy's counters (wx/server/metrics.h): the upstream
 * latency histogram, then the calls by key (the config's keys and "-"),
 * path family and outcome.  Private to src/wxproxy/.
 */
#ifndef WXPROXY_METRICS_H
#define WXPROXY_METRICS_H

#include "wx/server/metrics.h"
#include "forward.h"

#define PX_MX_FAMILIES  8
#define PX_MX_OUTCOMES  12
#define PX_MX_UPSTREAM  WX_MX_APP
#define PX_MX_CALLS     (PX_MX_UPSTREAM + WX_MX_HIST_N + 2)

/* Count one call; 'k' is the key's index, -1 when none was found. */
void px_mx_count(const px_t *px, int k, const px_call_t *c);

unsigned px_mx_counters(const wx_config_t *cfg);
int px_mx_write(void *state, wx_dynbuf_t *out, const uint64_t *sums);

#endif
