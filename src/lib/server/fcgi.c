/* fcgi.c - the FastCGI worker loop of the servers (wx/server/fcgi.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wx/core/clock.h"
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

/* The tags of the poll set's entries: the listening socket, the signal
 * pipe, and (above 2^32) a kept connection. */
#define KEY_LISTEN      1u
#define KEY_SIGNALS     2u

/* The connection nginx keeps open between requests (fastcgi_keep_conn
 * on).  While the worker waits it is in the poll set beside the listening
 * socket, under a tag of its own: libfcgi may close it (an error, or a
 * request without the keep flag) and the next connection may get the same
 * number, so an event with an old tag is ignored.  'since' is when it
 * went idle (0: not yet measured). */
typedef struct keep {
    int         ep;
    int         fd;         /* registered kept connection, or -1 */
    uint32_t    tag;
    int64_t     since;
} keep_t;

static uint64_t keep_key(const keep_t *k)
{
    return (uint64_t)k->tag << 32 | (uint32_t)k->fd;
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
    ev.data.u64 = KEY_LISTEN;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev) != 0)
        goto fail;
    ev.events = EPOLLIN;
    ev.data.u64 = KEY_SIGNALS;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, wx_sig_fd(), &ev) != 0)
        goto fail;
    return ep;
fail:
    wx_log(WX_LOG_ERROR, "worker: epoll: %s", strerror(errno));
    if (ep >= 0)
        close(ep);
    return -1;
}

/* After a request: watch the connection libfcgi kept open, unless it is
 * the one already watched; forget it when libfcgi closed it.  Under a
 * steady keep-alive the same connection serves request after request and
 * this costs nothing. */
static void keep_track(keep_t *k, const FCGX_Request *rq)
{
    struct epoll_event ev;

    k->since = 0;
    if (rq->ipcFd == k->fd)
        return;
    k->fd = -1;
    if (rq->ipcFd < 0)
        return;
    memset(&ev, 0, sizeof(ev));
    k->tag = k->tag == UINT32_MAX ? 1 : k->tag + 1;
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = (uint64_t)k->tag << 32 | (uint32_t)rq->ipcFd;
    if (epoll_ctl(k->ep, EPOLL_CTL_ADD, rq->ipcFd, &ev) == 0)
        k->fd = rq->ipcFd;
    else
        wx_log(WX_LOG_WARN, "worker: epoll on a kept connection: %s", strerror(errno));
}

/* Give the kept connection up (a new one is waiting, it idled too long,
 * nginx closed it, or the worker leaves).  A plain close: nginx sees the
 * end of an idle connection and drops it from its cache; a request it had
 * sent already fails on a kept connection, which nginx retries on a new
 * one (nginx/wx.conf). */
static void keep_drop(keep_t *k, FCGX_Request *rq)
{
    if (rq->ipcFd < 0)
        return;
    /* Out of the poll set first: a child process forked by the app may
     * still hold the descriptor for a moment. */
    if (k->fd == rq->ipcFd)
        epoll_ctl(k->ep, EPOLL_CTL_DEL, k->fd, NULL);
    close(rq->ipcFd);
    rq->ipcFd = -1;
    k->fd = -1;
}

enum { WAIT_LISTEN = 1, WAIT_KEPT = 2, WAIT_DROP = 4, WAIT_ORPHAN = 8 };

/* How long the next wait may sleep: under a master a second at most, to
 * notice that it is gone; with a kept connection no longer than its idle
 * time left (0: give it up now). */
static int wait_timeout(keep_t *k, pid_t master)
{
    int64_t now, left;
    int timeout = master ? 1000 : -1;

    if (k->fd < 0)
        return timeout;
    now = wx_now_ms();
    if (k->since == 0)
        k->since = now;
    left = k->since + WX_FCGI_KEEP_IDLE_MS - now;
    if (left <= 0)
        return 0;
    return timeout < 0 || left < timeout ? (int)left : timeout;
}

/* epoll_wait on the set.  With a kept connection the worker goes idle
 * without an accept that finds nothing, where the log is flushed
 * otherwise: its buffered lines go out once no request came for
 * FLUSH_MS (under load they wait for a full buffer). */
#define FLUSH_MS 20
static int poll_wait(keep_t *k, struct epoll_event *evs, int nevs, int timeout)
{
    int n;

    if (k->fd >= 0 && (timeout < 0 || timeout > FLUSH_MS)) {
        if ((n = epoll_wait(k->ep, evs, nevs, FLUSH_MS)) != 0)
            return n;
        wx_log_flush();
        if (timeout > 0)
            timeout -= FLUSH_MS;
    }
    return epoll_wait(k->ep, evs, nevs, timeout);
}

/* Sleep until a connection, a request on the kept connection or a signal
 * comes: WAIT_* bits, or -1 with errno.  WAIT_DROP: the kept connection
 * ended or idled out. */
static int wait_ready(keep_t *k, pid_t master)
{
    struct epoll_event evs[3];
    int i, n, timeout = wait_timeout(k, master), ready = 0;

    if (timeout == 0)
        return WAIT_DROP;
    n = poll_wait(k, evs, 3, timeout);
    if (n < 0 && errno != EINTR)
        return -1;
    /* The master's death also sends TERM (PR_SET_PDEATHSIG): this only
     * closes the window before prctl. */
    if (master && n == 0 && getppid() != master)
        return WAIT_ORPHAN;
    for (i = 0; i < n; i++) {
        uint64_t key = evs[i].data.u64;

        if (key == KEY_SIGNALS)
            wx_sig_drain();
        else if (key == KEY_LISTEN)
            ready |= WAIT_LISTEN;
        else if (k->fd >= 0 && key == keep_key(k))
            ready |= evs[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR) ? WAIT_DROP : WAIT_KEPT;
        /* else: a connection libfcgi has closed since */
    }
    return ready;
}

/* Accept and answer the next request: 1, or 0 when none was waiting.
 * 'listen_fd' -1 reads the next request of the kept connection only: when
 * that connection has ended, libfcgi's accept on -1 fails instead of
 * taking a new connection another worker may have been woken for. */
static int serve_next(const wx_fcgi_app_t *app, const wx_config_t *cfg, FCGX_Request *rq,
                      void *state, int listen_fd)
{
    uint64_t t0;
    int rc, scrape;

    rq->listen_sock = listen_fd;
    rc = FCGX_Accept_r(rq);
    if (rc < 0) {
        /* Idle: buffered log lines go out now. */
        wx_log_flush();
        if (listen_fd >= 0 && rc != -EAGAIN && rc != -EWOULDBLOCK && rc != -EINTR &&
            rc != -ECONNABORTED)
            wx_log(WX_LOG_WARN, "accept failed: %s", strerror(-rc));
        return 0;
    }
    if (!wx_server_metrics_on(wx_server_conf(app, cfg))) {
        /* Metrics off: not a clock read, not a look at the path. */
        app->serve(state, rq);
        FCGX_Finish_r(rq);
        if (app->done)
            app->done(state);
        return 1;
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

/* Answer what the wait found: the kept connection's next request first,
 * else a new connection, for which an idle kept one is given up.  1 when
 * a request was answered. */
static int serve_ready(const wx_fcgi_app_t *app, const wx_config_t *cfg, keep_t *k,
                       FCGX_Request *rq, void *state, int ready, int listen_fd)
{
    int served;

    if (ready & WAIT_DROP)
        keep_drop(k, rq);
    if ((ready & WAIT_KEPT) && rq->ipcFd >= 0) {
        served = serve_next(app, cfg, rq, state, -1);
    } else if (ready & WAIT_LISTEN) {
        keep_drop(k, rq);
        served = serve_next(app, cfg, rq, state, listen_fd);
    } else {
        return 0;
    }
    keep_track(k, rq);
    return served;
}

/* Leaving: a request nginx has already sent on the kept connection is
 * answered, then the connection is closed. */
static void keep_leave(const wx_fcgi_app_t *app, const wx_config_t *cfg, keep_t *k,
                       FCGX_Request *rq, void *state)
{
    char c;

    if (rq->ipcFd >= 0 && recv(rq->ipcFd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 1)
        serve_next(app, cfg, rq, state, -1);
    keep_drop(k, rq);
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

/* The worker's end: its kept connection and request ('rq' NULL: never
 * set up) and its epoll set. */
static void keep_close(keep_t *k, FCGX_Request *rq)
{
    if (rq) {
        keep_drop(k, rq);
        FCGX_Free(rq, 0);
    }
    if (k->ep >= 0)
        close(k->ep);
}

/* Under spawn-fcgi no master made a pool: this worker's own (NULL when
 * there is one, or the app keeps no metrics). */
static wx_mx_pool_t *own_pool(const wx_fcgi_app_t *app, const wx_config_t *cfg, pid_t master)
{
    wx_mx_pool_t *mx;

    if (master != 0 || app->mx_prefix == NULL || wx_mx_pool() != NULL ||
        !wx_server_metrics_on(wx_server_conf(app, cfg)))
        return NULL;
    if ((mx = wx_mx_pool_new(1, app->mx_counters(cfg))) != NULL)
        wx_mx_enter(mx, wx_mx_claim(mx));
    return mx;
}

int wx_fcgi_worker_run(const wx_fcgi_app_t *app, int listen_fd,
                       const wx_config_t *cfg, pid_t master)
{
    unsigned long served = 0, max;
    wx_config_t *owned = NULL;
    keep_t keep = { -1, -1, 0, 0 };
    FCGX_Request rq;
    char err[512];
    void *state;
    unsigned pending;
    wx_mx_pool_t *mx = NULL;
    int status = 1, req_ready = 0, busy = 0, rc;

    if ((rc = worker_signals(app, master)) <= 0)
        return -rc;
    mx = own_pool(app, cfg, master);
    state = app->open(cfg, err, sizeof(err));
    if (state == NULL) {
        wx_log(WX_LOG_ERROR, "worker: %s", err);
        return 1;
    }
    if ((keep.ep = open_poll(listen_fd)) < 0)
        goto out;
    if (FCGX_Init() != 0 || FCGX_InitRequest(&rq, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        wx_log(WX_LOG_ERROR, "worker: libfcgi initialisation failed");
        goto out;
    }
    req_ready = 1;

    start_buffer(wx_server_conf(app, cfg));
    wx_log(WX_LOG_DEBUG, "worker ready");
    while (!wx_sig_stopping()) {
        int ready = busy ? WAIT_LISTEN : 0;

        /* A busy worker without a kept connection tries the next
         * connection at once and sleeps in epoll only when there is
         * none: under load a request costs no epoll_wait.  With a kept
         * connection it waits on that and on the listening socket
         * together, and a new connection wins over an idle kept one: a
         * worker never sits on an idle connection while another waits. */
        if (!busy) {
            if ((rc = wait_ready(&keep, master)) < 0)
                goto sys;
            if (rc & WAIT_ORPHAN)
                break;
            ready = rc;
        }
        if (wx_sig_take(WX_SIG_CHILD))
            app->reap(state);
        if (wx_sig_take(WX_SIG_RELOAD))
            reload(app, &cfg, &owned, &state);
        if (wx_sig_stopping())
            break;
        if (!(busy = serve_ready(app, cfg, &keep, &rq, state, ready, listen_fd)))
            continue;
        busy = rq.ipcFd < 0;
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
    if (req_ready && status == 0)
        keep_leave(app, cfg, &keep, &rq, state);
    wx_log_flush();
    if (app->reap && (pending = app->reap(state)) > 0)
        wx_log(WX_LOG_INFO, "worker leaves %u child processes to finish", pending);
    keep_close(&keep, req_ready ? &rq : NULL);
    app->close(state);
    wx_config_free(owned);
    wx_mx_pool_free(mx);
    return status;
}
