/*
 * wx/server/prefork.h - the prefork supervisor of a standalone server (wxfcgi,
 * wxproxy): N worker processes on one listening socket.
 *
 * The master's signals are flags and a self-pipe (wx/core/signals.h); its
 * loop polls that pipe and acts:
 *   - it reaps with waitpid(WNOHANG) until nothing is left; a worker that
 *     died within 1 s of its start is restarted with a backoff doubling
 *     from 100 ms to 10 s (a crash loop), one that had run longer (killed
 *     from outside) is replaced at once and its slot's backoff reset; a
 *     worker that exits with status 0 (recycled) is replaced at once;
 *   - TERM, INT, QUIT: forwards TERM, waits up to the shutdown timeout for
 *     the workers to finish the requests in flight, then KILLs the rest;
 *   - HUP: asks the program for a reloaded config; when it gives one, a
 *     new generation of workers starts on it before the old one is told
 *     (TERM) to finish and leave, so that the listening socket is never
 *     without a worker.
 * Workers are forked with the signals blocked (wx_sig_fork), so a TERM
 * sent right after the fork is never lost.
 * A worker should exit when its master is gone (PR_SET_PDEATHSIG and a
 * getppid() check: see wxfcgi's worker).
 */
#ifndef WX_PREFORK_H
#define WX_PREFORK_H

#include <sys/types.h>

#include "wx/core/config.h"
#include "wx/server/conf.h"

typedef struct wx_prefork wx_prefork_t;

struct wx_prefork {
    /* In the child: serve 'listen_fd' until told to stop; the return
     * value is the child's exit status.  'master' is the master's pid.
     * The child starts with default handlers and the signals blocked
     * (wx_sig_fork): it calls wx_sig_init() or wx_sig_unblock(). */
    int           (*worker)(const wx_prefork_t *pf, int listen_fd,
                            const wx_config_t *cfg, pid_t master);
    /* In the master, on HUP: the config of the next generation, or NULL
     * to keep the current one (the callback logs why). */
    wx_config_t  *(*reload)(const wx_prefork_t *pf, const wx_config_t *cfg);
    /* Where a config holds its wx_server_conf_t: the supervisor reads
     * workers and shutdown_timeout there. */
    size_t          server_off;
    void           *arg;            /* the caller's, for the callbacks */
    struct wx_mx_pool *mx;          /* the workers' counters (wx/server/metrics.h), or NULL */
};

/* Run the workers of 'cfg' on 'listen_fd' until told to stop.  'cfg' is
 * owned from here on: freed before the return, as is every config a
 * reload made.  Returns 0 after a clean stop, 1 when the master could not
 * start. */
int wx_prefork_run(const wx_prefork_t *pf, int listen_fd, wx_config_t *cfg);

#endif
