/*
 * worker.c - one wxproxy worker: the forwarder on the shared FastCGI loop
 * (wx/server/fcgi.h).
 */
#include <stddef.h>

#include "wx/server/fcgi.h"
#include "wxproxy.h"
#include "metrics.h"

static void *px_open(const wx_config_t *cfg, char *err, size_t errlen)
{
    return px_new(px_conf(cfg), err, errlen);
}

static void px_close(void *state)
{
    px_free(state);
}

static void px_serve_one(void *state, FCGX_Request *rq)
{
    px_serve(state, rq);
}

const wx_fcgi_app_t wxproxy_app = {
    .name = "wxproxy",
    .spec = &px_spec,
    .server_off = offsetof(px_conf_t, px.srv),
    .open = px_open,
    .close = px_close,
    .serve = px_serve_one,
    .mx_prefix = "wxproxy",
    .mx_counters = px_mx_counters,
    .mx_write = px_mx_write,
};
