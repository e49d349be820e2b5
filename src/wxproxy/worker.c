/*
 * worker.c - one wxproxy worker: the forwarder on the shared FastCGI loop
 * (wx/server/fcgi.h).
 */
#include "wx/server/fcgi.h"
#include "wxproxy.h"

static void *px_open(const wx_config_t *cfg, char *err, size_t errlen)
{
    return px_new(cfg, err, errlen);
}

static void px_close(void *state)
{
    px_free(state);
}

static void px_serve_one(void *state, FCGX_Request *rq)
{
    px_serve(state, rq);
}

static void log_of(const wx_config_t *cfg, const char **target, wx_log_level_t *level,
                   size_t *buffer)
{
    *target = cfg->px_log;
    *level = cfg->px_log_level;
    *buffer = 0;
}

static void listen_of(const wx_config_t *cfg, const char **listen, unsigned *mode)
{
    *listen = cfg->px_listen;
    *mode = cfg->px_socket_mode;
}

static unsigned workers(const wx_config_t *cfg)
{
    return cfg->px_workers;
}

static unsigned shutdown_timeout(const wx_config_t *cfg)
{
    /* A call may take two attempts and a token report. */
    return 2 * cfg->px_timeout_ms / 1000 + 12;
}

const wx_fcgi_app_t wxproxy_app = {
    .name = "wxproxy",
    .open = px_open,
    .close = px_close,
    .serve = px_serve_one,
    .log_of = log_of,
    .listen_of = listen_of,
    .workers = workers,
    .shutdown_timeout = shutdown_timeout,
};
