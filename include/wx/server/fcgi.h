/* The signals' part of a FastCGI server's --help; 'WHAT' is what its
 * workers finish on TERM ("requests"). */
#define WX_FCGI_HELP_SIGNALS(WHAT) \
    "Signals (standalone master):\n" \
    "  TERM, INT   stop: workers finish the " WHAT " in flight, then exit\n" \
    "  HUP         reload the config: new workers start, old ones finish and exit\n" \
    "  Under spawn-fcgi, HUP makes each worker reload the config in place.\n"

/*
 * wx/server/fcgi.h - the FastCGI worker loop shared by the servers of the suite
 * (wxfcgi, wxproxy), and the standalone master around it.
 *
 * A worker waits in epoll on the listening socket (EPOLLEXCLUSIVE, so a
 * connection wakes one worker, not all) and on a self-pipe fed by its
 * signal handlers.  Signals therefore never interrupt a request: TERM,
 * INT and QUIT let the request in flight finish, then the worker leaves.
 * The listening socket is made non-blocking, so a worker that loses the
 * race for a connection gets EAGAIN from FCGX_Accept_r and waits again.
 * Under a master (master != 0) a worker leaves when the master is gone
 * and ignores HUP (a reload is a new generation of workers); under
 * spawn-fcgi (master == 0) HUP reloads the config in place, between
 * requests, keeping the old one when the new one is broken.
 *
 * Keep-alive (nginx: fastcgi_keep_conn on, upstream keepalive N): libfcgi
 * keeps a connection open after a request that asked for it, and a worker
 * serves one connection at a time.  So a worker with a kept connection
 * waits on it and on the listening socket together, and gives it up
 * (closes it) as soon as a new connection is waiting, when nginx closes
 * it, or after WX_FCGI_KEEP_IDLE_MS without a request.  A worker never
 * sits on an idle kept connection while a new one waits: any keepalive
 * value and any number of nginx workers are safe with any pool size.  A
 * request nginx sends on a connection the worker has just closed fails on
 * a kept connection, which nginx retries on a new one (nginx/wx.conf).
 * On TERM a worker answers a request already sent on its kept connection,
 * then closes it.
 */
#ifndef WX_FCGI_H
#define WX_FCGI_H

#include <stdint.h>
#include <sys/types.h>
#include <fcgiapp.h>

#include "wx/core/cli.h"
#include "wx/core/config.h"
#include "wx/core/dynbuf.h"
#include "wx/core/log.h"
#include "wx/server/conf.h"

/* A kept connection idle this long is closed by the worker: longer than
 * nginx's keepalive_timeout in nginx/wx.conf (60 s), so that nginx, which
 * knows when it is about to use a connection, is normally the one that
 * closes it. */
#define WX_FCGI_KEEP_IDLE_MS    75000

typedef struct wx_fcgi_app {
    const char *name;           /* for the log: "wxfcgi", "wxproxy" */
    const wx_config_spec_t *spec;   /* what a reload loads */
    size_t      server_off;     /* where the program's config holds its wx_server_conf_t */

    /* The state of one worker for 'cfg' (which outlives it), or NULL with
     * 'err' set. */
    void *(*open)(const wx_config_t *cfg, char *err, size_t errlen);
    void  (*close)(void *state);

    /* Answer one accepted request; the loop finishes it afterwards. */
    void  (*serve)(void *state, FCGX_Request *rq);
    /* After the request was finished (release its memory); or NULL. */
    void  (*done)(void *state);

    /* Collect the ended child processes of a worker's state, return how
     * many still run; or NULL when the app has none (SIGCHLD then keeps
     * its default). */
    unsigned (*reap)(void *state);

    /* Metrics (wx/server/metrics.h): the names' prefix, how many counters
     * the program uses (WX_MX_APP and up) and its families written into
     * 'out' from the pool's sums; NULL prefix: none. */
    const char *mx_prefix;
    unsigned  (*mx_counters)(const wx_config_t *cfg);
    int       (*mx_write)(void *state, wx_dynbuf_t *out, const uint64_t *sums);
} wx_fcgi_app_t;

static inline const wx_server_conf_t *wx_server_conf(const wx_fcgi_app_t *app,
                                                     const wx_config_t *cfg)
{
    return (const wx_server_conf_t *)(const void *)((const char *)cfg + app->server_off);
}

/* HUP, written once for the worker under spawn-fcgi and the master: load
 * cfg->path again, open the app's state on it (kept in '*state', or
 * closed again when 'state' is NULL: the master only checks) and reopen
 * the log.  The new config, or NULL when it is broken (logged: the caller
 * keeps the old one). */
wx_config_t *wx_fcgi_reload(const wx_fcgi_app_t *app, const wx_config_t *cfg, void **state);

/* Serve 'listen_fd' until told to stop.  'cfg' stays the caller's; a
 * config loaded by a reload is the loop's and freed by it.  0 on a clean
 * stop, 1 on an error (logged). */
int wx_fcgi_worker_run(const wx_fcgi_app_t *app, int listen_fd,
                       const wx_config_t *cfg, pid_t master);

/* Answer the request when it is for [section] metrics_path: the
 * metrics, ?status or ?json (403 for a REMOTE_ADDR not in metrics_allow).
 * 1 when answered, 0 when the request is the program's. */
int wx_fcgi_metrics(const wx_fcgi_app_t *app, const wx_config_t *cfg, void *state,
                    FCGX_Request *rq);

/* Run the server: one worker on fd 0 when spawn-fcgi started the process
 * (fd 0 is a listening socket), else the standalone master, which binds
 * the app's listen address, writes 'pidfile' (if not NULL) and keeps the
 * app's workers running under the prefork supervisor (wx/server/prefork.h); on
 * HUP it checks the reloaded config by opening the app's state once
 * before a new generation starts.  'cfg' (malloc'ed) is owned from here
 * on (wx_config_free).  The process exit status. */
int wx_fcgi_run(const wx_fcgi_app_t *app, wx_config_t *cfg, const char *pidfile);

/* The end of a FastCGI server's main(), after wx_cli_start() and its own
 * checks: open the log of the app's server settings, log how it runs
 * ("standalone master" or "worker under spawn-fcgi", then 'what'), and
 * wx_fcgi_run().  'cfg' is owned from here on.  The process exit status. */
int wx_fcgi_main(const wx_fcgi_app_t *app, const wx_cli_t *cli, wx_config_t *cfg,
                 const char *what);

#endif
