/* fcgi.c - the FastCGI worker loop of the servers (wx/server/fcgi.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "wx/core/signals.h"
#include "wx/server/metrics.h"
#include "wx/server/fcgi.h"

static void reopen_log(const wx_fcgi_app_t *app, const wx_server_conf_t *srv)
{
    if (wx_log_open(srv->log, app->name, srv->log_level) != 0)
        wx_log(WX_LOG_ERROR, "cannot open log %s: %s", srv->log, strerror(errno));
}

/* Only workers buffer their lines: they flush whenever they go idle. */
static void start_buffer(const wx_server_conf_t *srv)
{
    if (wx_log_buffer(srv->log_buffer) != 0)
        wx_log(WX_LOG_ERROR, "no memory for a %zu-byte log buffer", srv->log_buffer);
}

wx_config_t *wx_fcgi_reload(const wx_fcgi_app_t *app, const wx_config_t *cfg, void **statep)
{
    wx_config_t *ncfg;
    char err[512];
    void *nstate;

    ncfg = wx_config_load(app->spec, cfg->path, err, sizeof(err));
    if (ncfg == NULL) {
        wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: %s", err);
        return NULL;
    }
    nstate = app->open(ncfg, err, sizeof(err));
    if (nstate == NULL) {
        wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: %s", err);
        wx_config_free(ncfg);
        return NULL;
    }
    if (statep)
        *statep = nstate;
    else
        app->close(nstate);
    reopen_log(app, wx_server_conf(app, ncfg));
    wx_log(WX_LOG_INFO, "config reloaded from %s; changed: %s", ncfg->path,
           wx_config_diff(cfg, ncfg, err, sizeof(err)));
    return ncfg;
}

/* Reload the config in place (spawn-fcgi mode).  On any error the old
 * config and state stay. */
static void reload(const wx_fcgi_app_t *app, const wx_config_t **cfgp, wx_config_t **owned,
                   void **statep)
{
    void *nstate = NULL;
    wx_config_t *ncfg = wx_fcgi_reload(app, *cfgp, &nstate);

    if (ncfg == NULL)
        return;
    app->close(*statep);
    *statep = nstate;
    wx_config_free(*owned);
    *cfgp = *owned = ncfg;
    start_buffer(wx_server_conf(app, ncfg));
}

/* The listening socket, non-blocking, and the signal pipe in one epoll
 * set: the descriptor, or -1 (logged). */
static int open_poll(int listen_fd)
{
    struct epoll_event ev;
    int ep, fl = fcntl(listen_fd, F_GETFL);

    if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        wx_log(WX_LOG_ERROR, "worker: fcntl on the listening socket: %s", strerror(errno));
        return -1;
    }
    if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        goto fail;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.fd = listen_fd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev) != 0)
        goto fail;
    ev.events = EPOLLIN;
    ev.data.fd = wx_sig_fd();
    if (epoll_ctl(ep, EPOLL_CTL_ADD, wx_sig_fd(), &ev) != 0)
        goto fail;
    return ep;
fail:
    wx_log(WX_LOG_ERROR, "worker: epoll: %s", strerror(errno));
    if (ep >= 0)
        close(ep);
    return -1;
}

enum { WAIT_IDLE, WAIT_READY, WAIT_ORPHAN };

/* Sleep until a connection or a signal comes (under a master, a second at
 * most, to notice that it is gone): WAIT_*, or -1 with errno. */
static int wait_ready(int ep, pid_t master)
{
    struct epoll_event evs[2];
    int i, n, ready = WAIT_IDLE;

    n = epoll_wait(ep, evs, 2, master ? 1000 : -1);
    if (n < 0 && errno != EINTR)
        return -1;
    if (master && getppid() != master)
        return WAIT_ORPHAN;
    for (i = 0; i < n; i++) {
        if (evs[i].data.fd == wx_sig_fd())
            wx_sig_drain();
        else
            ready = WAIT_READY;
    }
    return ready;
}

/* Accept and answer the next request: 1, or 0 when none was waiting. */
static int serve_next(const wx_fcgi_app_t *app, const wx_config_t *cfg, FCGX_Request *rq,
                      void *state)
{
    int rc = FCGX_Accept_r(rq);
    uint64_t t0;
    int scrape;

    if (rc < 0) {
        /* Idle: buffered log lines go out now. */
        wx_log_flush();
        if (rc != -EAGAIN && rc != -EWOULDBLOCK && rc != -EINTR && rc != -ECONNABORTED)
            wx_log(WX_LOG_WARN, "accept failed: %s", strerror(-rc));
        return 0;
    }
    t0 = wx_mx_busy();
    /* A scrape is not the program's work: not timed. */
    scrape = wx_fcgi_metrics(app, cfg, state, rq);
    if (!scrape)
        app->serve(state, rq);
    FCGX_Finish_r(rq);
    if (app->done)
        app->done(state);
    wx_mx_idle(t0, !scrape);
    return 1;
}

/* A worker's signals: TERM and INT stop it, QUIT too; HUP reloads it
 * under spawn-fcgi (under the master a reload is a new generation of
 * workers); SIGCHLD wakes it when the app has children.  1 to go on; 0
 * when the master is already gone; -1 on an error (logged). */
static int worker_signals(const wx_fcgi_app_t *app, pid_t master)
{
    if (master != 0) {
        /* Do not outlive a master killed with SIGKILL. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != master)
            return 0;
    }
    if (wx_sig_init(WX_SIG_STOP | WX_SIG_QUIT | (master ? WX_SIG_NOHUP : WX_SIG_RELOAD) |
                    (app->reap ? WX_SIG_CHILD : 0)) != 0) {
        wx_log(WX_LOG_ERROR, "worker: cannot set up signals: %s", strerror(errno));
        return -1;
    }
    return 1;
}

int wx_fcgi_worker_run(const wx_fcgi_app_t *app, int listen_fd,
                       const wx_config_t *cfg, pid_t master)
{
    unsigned long served = 0, max;
    wx_config_t *owned = NULL;
    FCGX_Request rq;
    char err[512];
    void *state;
    unsigned pending;
    wx_mx_pool_t *mx = NULL;
    int ep = -1, status = 1, req_ready = 0, busy = 0, rc;

    if ((rc = worker_signals(app, master)) <= 0)
        return -rc;
    /* Under spawn-fcgi no master made a pool: this worker's own. */
    if (master == 0 && app->mx_prefix && wx_mx_pool() == NULL &&
        (mx = wx_mx_pool_new(1, app->mx_counters(cfg))) != NULL)
        wx_mx_enter(mx, wx_mx_claim(mx));
    state = app->open(cfg, err, sizeof(err));
    if (state == NULL) {
        wx_log(WX_LOG_ERROR, "worker: %s", err);
        return 1;
    }
    if ((ep = open_poll(listen_fd)) < 0)
        goto out;
    if (FCGX_Init() != 0 || FCGX_InitRequest(&rq, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        wx_log(WX_LOG_ERROR, "worker: libfcgi initialisation failed");
        goto out;
    }
    req_ready = 1;

    start_buffer(wx_server_conf(app, cfg));
    wx_log(WX_LOG_DEBUG, "worker ready");
    while (!wx_sig_stopping()) {
        int ready = busy;

        /* A busy worker tries the next connection at once and sleeps in
         * epoll only when there is none: under load a request costs no
         * epoll_wait. */
        if (!busy) {
            if ((rc = wait_ready(ep, master)) < 0)
                goto sys;
            if (rc == WAIT_ORPHAN)
                break;
            ready = rc == WAIT_READY;
        }
        if (wx_sig_take(WX_SIG_CHILD))
            app->reap(state);
        if (wx_sig_take(WX_SIG_RELOAD))
            reload(app, &cfg, &owned, &state);
        if (!ready || wx_sig_stopping())
            continue;

        if (!(busy = serve_next(app, cfg, &rq, state)))
            continue;
        max = wx_server_conf(app, cfg)->max_requests;
        if (max && ++served >= max) {
            wx_log(WX_LOG_INFO, "worker recycled after %lu requests", served);
            break;
        }
    }
    status = 0;
    goto out;
sys:
    wx_log(WX_LOG_ERROR, "worker: %s", strerror(errno));
out:
    wx_log_flush();
    if (app->reap && (pending = app->reap(state)) > 0)
        wx_log(WX_LOG_INFO, "worker leaves %u child processes to finish", pending);
    if (req_ready)
        FCGX_Free(&rq, 0);
    if (ep >= 0)
        close(ep);
    app->close(state);
    wx_config_free(owned);
    wx_mx_pool_free(mx);
    return status;
}
