/* wxproxy.h - the parts of the wxproxy program: worker and forwarder. */
#ifndef WXPROXY_H
#define WXPROXY_H

#include <sys/types.h>
#include <fcgiapp.h>
#include "wx/core/config.h"
#include "wx/server/fcgi.h"

/* What one worker process keeps between requests: the config, the shared
 * rate-limit table, the libcurl handle (its connection to the API stays
 * open) and the digests of the keys. */
typedef struct px px_t;

/* NULL with 'err' set when the rate-limit table or libcurl cannot be set
 * up.  'cfg' stays the caller's. */
px_t *px_new(const wx_config_t *cfg, char *err, size_t errlen);
void px_free(px_t *px);

/* Answer one request: check the key, the path and the rate, forward it
 * with the current token, retry once after a token rejection, and write
 * the answer and the access-log line. */
void px_serve(px_t *px, FCGX_Request *rq);

/* The proxy as a FastCGI app (worker.c), run by wx_fcgi_run(). */
extern const wx_fcgi_app_t wxproxy_app;

#endif
