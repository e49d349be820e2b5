/*
 * metrics.h - wxproxy's counters (wx/server/metrics.h): the upstream
 * latency histogram, the calls by account ("-" before one is known, then
 * default and each [account.NAME]: room for WX_ACCOUNT_MAX, so that a
 * reload adding one finds it; by position in the config, as the keys) and
 * class of outcome, then the calls by key (the
 * config's keys and "-"), path family and outcome: last, as their number
 * is the pool's.  Private to src/wxproxy/.
 */
#ifndef WXPROXY_METRICS_H
#define WXPROXY_METRICS_H

#include "wx/server/metrics.h"
#include "forward.h"

#define PX_MX_FAMILIES  8
#define PX_MX_OUTCOMES  19
#define PX_MX_CLASSES   4           /* of an account's calls: ok, api_error, refused, failed */
#define PX_MX_ACCOUNTS  (WX_ACCOUNT_MAX + 2)
#define PX_MX_UPSTREAM  WX_MX_APP
#define PX_MX_ACCT      (PX_MX_UPSTREAM + WX_MX_HIST_N + 2)
#define PX_MX_CALLS     (PX_MX_ACCT + PX_MX_ACCOUNTS * PX_MX_CLASSES)

/* Count one call; 'k' is the key's index, -1 when none was found. */
void px_mx_count(const px_t *px, int k, const px_call_t *c);

unsigned px_mx_counters(const wx_config_t *cfg);
int px_mx_write(void *state, wx_dynbuf_t *out, const uint64_t *sums);

#endif
