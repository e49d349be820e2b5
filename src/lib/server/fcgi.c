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

#include "wx/server/fcgi.h"

static volatile sig_atomic_t wx_stop, wx_reload, wx_child;
static int wx_sigpipe[2] = { -1, -1 };

static void on_signal(int sig)
{
    int saved = errno;

    if (sig == SIGHUP)
        wx_reload = 1;
    else if (sig == SIGCHLD)
        wx_child = 1;
    else
        wx_stop = 1;
    if (write(wx_sigpipe[1], "", 1) < 0) {
        /* The pipe is full: a wake-up is already pending. */
    }
    errno = saved;
}

static int setup_signals(pid_t master, int children)
{
    struct sigaction sa;

    if (pipe2(wx_sigpipe, O_NONBLOCK | O_CLOEXEC) != 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    /* SA_RESTART: a signal must not break a read or write of a request
     * in flight (libfcgi does not retry on EINTR). */
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    if (children) {
        sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
        sigaction(SIGCHLD, &sa, NULL);
        sa.sa_flags = SA_RESTART;
    } else {
        sa.sa_handler = SIG_DFL;
        sigaction(SIGCHLD, &sa, NULL);
        sa.sa_handler = on_signal;
    }
    /* Under the master a reload is a new generation of workers. */
    if (master != 0)
        sa.sa_handler = SIG_IGN;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    return 0;
}

static void reopen_log(const wx_fcgi_app_t *app, const wx_config_t *cfg)
{
    const char *target;
    wx_log_level_t level;
    size_t buffer;

    app->log_of(cfg, &target, &level, &buffer);
    if (wx_log_open(target, app->name, level) != 0)
        wx_log(WX_LOG_ERROR, "cannot open log %s: %s", target, strerror(errno));
    if (wx_log_buffer(buffer) != 0)
        wx_log(WX_LOG_ERROR, "no memory for a %zu-byte log buffer", buffer);
}

/* Only workers buffer their lines: they flush whenever they go idle. */
static void start_buffer(const wx_fcgi_app_t *app, const wx_config_t *cfg)
{
    const char *target;
    wx_log_level_t level;
    size_t buffer;

    app->log_of(cfg, &target, &level, &buffer);
    if (wx_log_buffer(buffer) != 0)
        wx_log(WX_LOG_ERROR, "no memory for a %zu-byte log buffer", buffer);
}

/* Reload the config in place (spawn-fcgi mode).  On any error the old
 * config and state stay. */
static void reload(const wx_fcgi_app_t *app, wx_config_t **cfgp, int *owned,
                   void **statep)
{
    wx_config_t *ncfg = malloc(sizeof(*ncfg));
    char err[512];
    void *nstate;

    if (ncfg == NULL)
        return;
    if (wx_config_load(ncfg, (*cfgp)->path, err, sizeof(err)) != WX_OK) {
        wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: %s", err);
        free(ncfg);
        return;
    }
    nstate = app->open(ncfg, err, sizeof(err));
    if (nstate == NULL) {
        wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: %s", err);
        wx_config_free(ncfg);
        free(ncfg);
        return;
    }
    reopen_log(app, ncfg);
    app->close(*statep);
    if (*owned) {
        wx_config_free(*cfgp);
        free(*cfgp);
    }
    *cfgp = ncfg;
    *owned = 1;
    *statep = nstate;
    wx_log(WX_LOG_INFO, "config reloaded from %s", ncfg->path);
}

int wx_fcgi_worker_run(const wx_fcgi_app_t *app, int listen_fd,
                       wx_config_t *cfg, pid_t master)
{
    struct epoll_event ev, evs[2];
    unsigned long served = 0, max;
    FCGX_Request rq;
    char err[512];
    void *state;
    unsigned pending;
    int ep = -1, status = 1, fl, owned = 0, req_ready = 0, busy = 0;

    if (master != 0) {
        /* Do not outlive a master killed with SIGKILL. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != master)
            return 0;
    }
    if (setup_signals(master, app->reap != NULL) != 0) {
        wx_log(WX_LOG_ERROR, "worker: cannot set up signals: %s", strerror(errno));
        return 1;
    }
    state = app->open(cfg, err, sizeof(err));
    if (state == NULL) {
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
    ev.data.fd = wx_sigpipe[0];
    if (epoll_ctl(ep, EPOLL_CTL_ADD, wx_sigpipe[0], &ev) != 0)
        goto sys;
    if (FCGX_Init() != 0 || FCGX_InitRequest(&rq, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        wx_log(WX_LOG_ERROR, "worker: libfcgi initialisation failed");
        goto out;
    }
    req_ready = 1;

    start_buffer(app, cfg);
    wx_log(WX_LOG_DEBUG, "worker ready");
    while (!wx_stop) {
        int i, n, ready = busy, rc;

        /* A busy worker tries the next connection at once and sleeps in
         * epoll only when there is none: under load a request costs no
         * epoll_wait. */
        if (!busy) {
            n = epoll_wait(ep, evs, 2, master ? 1000 : -1);
            if (n < 0 && errno != EINTR)
                goto sys;
            if (master && getppid() != master)
                break;
            for (i = 0; i < n; i++) {
                if (evs[i].data.fd == wx_sigpipe[0]) {
                    char drain[64];

                    while (read(wx_sigpipe[0], drain, sizeof(drain)) > 0)
                        ;
                } else {
                    ready = 1;
                }
            }
        }
        if (wx_child) {
            wx_child = 0;
            app->reap(state);
        }
        if (wx_reload) {
            wx_reload = 0;
            reload(app, &cfg, &owned, &state);
        }
        if (!ready || wx_stop)
            continue;

        rc = FCGX_Accept_r(&rq);
        if (rc < 0) {
            /* Idle: buffered log lines go out now. */
            wx_log_flush();
            busy = 0;
            if (rc != -EAGAIN && rc != -EWOULDBLOCK && rc != -EINTR &&
                rc != -ECONNABORTED)
                wx_log(WX_LOG_WARN, "accept failed: %s", strerror(-rc));
            continue;
        }
        busy = 1;
        app->serve(state, &rq);
        FCGX_Finish_r(&rq);
        if (app->done)
            app->done(state);

        max = app->max_requests ? app->max_requests(cfg) : 0;
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
    if (owned) {
        wx_config_free(cfg);
        free(cfg);
    }
    return status;
}
