/*
 * worker.c - one wxproxy worker: accept, forward, answer.
 *
 * As wxfcgi's worker: epoll on the listening socket (EPOLLEXCLUSIVE, so a
 * connection wakes one worker) and on a self-pipe fed by the signal
 * handlers, so that TERM lets the request in flight finish.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "wx/log.h"
#include "wxproxy.h"

static volatile sig_atomic_t px_stop, px_reload;
static int px_sigpipe[2] = { -1, -1 };

static void on_signal(int sig)
{
    int saved = errno;

    if (sig == SIGHUP)
        px_reload = 1;
    else
        px_stop = 1;
    if (write(px_sigpipe[1], "", 1) < 0) {
        /* The pipe is full: a wake-up is already pending. */
    }
    errno = saved;
}

static int setup_signals(pid_t master)
{
    struct sigaction sa;

    if (pipe2(px_sigpipe, O_NONBLOCK | O_CLOEXEC) != 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    /* SA_RESTART: a signal must not break a read or write in flight. */
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    if (master != 0)
        sa.sa_handler = SIG_IGN;    /* under the master a reload is a new generation */
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
    return 0;
}

/* spawn-fcgi mode: reload the config in place; on any error the old one
 * stays. */
static void reload(wx_config_t **cfgp, px_t **pxp)
{
    wx_config_t *ncfg = malloc(sizeof(*ncfg));
    char err[512];
    px_t *npx;

    if (ncfg == NULL)
        return;
    if (wx_config_load(ncfg, (*cfgp)->path, err, sizeof(err)) != WX_OK) {
        wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: %s", err);
        free(ncfg);
        return;
    }
    npx = px_new(ncfg, err, sizeof(err));
    if (npx == NULL) {
        wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: %s", err);
        wx_config_free(ncfg);
        free(ncfg);
        return;
    }
    if (wx_log_open(ncfg->px_log, "wxproxy", ncfg->px_log_level) != 0)
        wx_log(WX_LOG_ERROR, "cannot open log %s: %s", ncfg->px_log, strerror(errno));
    px_free(*pxp);
    wx_config_free(*cfgp);
    free(*cfgp);
    *cfgp = ncfg;
    *pxp = npx;
    wx_log(WX_LOG_INFO, "config reloaded from %s", ncfg->path);
}

int px_worker_run(int listen_fd, wx_config_t *cfg, pid_t master)
{
    struct epoll_event ev, evs[2];
    FCGX_Request rq;
    char err[512];
    px_t *px;
    int ep = -1, status = 1, fl, req_ready = 0;

    if (master != 0) {
        /* Do not outlive a master killed with SIGKILL. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != master)
            return 0;
    }
    if (setup_signals(master) != 0) {
        wx_log(WX_LOG_ERROR, "worker: cannot set up signals: %s", strerror(errno));
        return 1;
    }
    px = px_new(cfg, err, sizeof(err));
    if (px == NULL) {
        wx_log(WX_LOG_ERROR, "worker: %s", err);
        return 1;
    }
    fl = fcntl(listen_fd, F_GETFL);
    if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        wx_log(WX_LOG_ERROR, "worker: fcntl on the listening socket: %s", strerror(errno));
        goto out;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        goto sys;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.fd = listen_fd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev) != 0)
        goto sys;
    ev.events = EPOLLIN;
    ev.data.fd = px_sigpipe[0];
    if (epoll_ctl(ep, EPOLL_CTL_ADD, px_sigpipe[0], &ev) != 0)
        goto sys;
    if (FCGX_Init() != 0 || FCGX_InitRequest(&rq, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        wx_log(WX_LOG_ERROR, "worker: libfcgi initialisation failed");
        goto out;
    }
    req_ready = 1;

    wx_log(WX_LOG_DEBUG, "worker ready");
    while (!px_stop) {
        int i, n, ready = 0, rc;

        n = epoll_wait(ep, evs, 2, master ? 1000 : -1);
        if (n < 0 && errno != EINTR)
            goto sys;
        if (master && getppid() != master)
            break;
        for (i = 0; i < n; i++) {
            if (evs[i].data.fd == px_sigpipe[0]) {
                char drain[64];

                while (read(px_sigpipe[0], drain, sizeof(drain)) > 0)
                    ;
            } else {
                ready = 1;
            }
        }
        if (px_reload) {
            px_reload = 0;
            reload(&cfg, &px);
        }
        if (!ready || px_stop)
            continue;
        rc = FCGX_Accept_r(&rq);
        if (rc < 0) {
            if (rc != -EAGAIN && rc != -EWOULDBLOCK && rc != -EINTR &&
                rc != -ECONNABORTED)
                wx_log(WX_LOG_WARN, "accept failed: %s", strerror(-rc));
            continue;
        }
        px_serve(px, &rq);
        FCGX_Finish_r(&rq);
    }
    status = 0;
    goto out;
sys:
    wx_log(WX_LOG_ERROR, "worker: %s", strerror(errno));
out:
    if (req_ready)
        FCGX_Free(&rq, 0);
    if (ep >= 0)
        close(ep);
    px_free(px);
    wx_config_free(cfg);
    free(cfg);
    return status;
}
