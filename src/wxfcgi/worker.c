/*
 * worker.c - one FastCGI worker: accept, run the gateway, answer.
 *
 * The worker waits in epoll on the listening socket (EPOLLEXCLUSIVE, so a
 * connection wakes one worker, not all) and on a self-pipe fed by its
 * signal handlers.  Signals therefore never interrupt a request: TERM lets
 * the request in flight finish, then the worker leaves.  The listening
 * socket is non-blocking, so a worker that loses the race for a connection
 * gets EAGAIN from FCGX_Accept_r and simply waits again.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "wx/query.h"
#include "wx/gateway.h"
#include "wx/log.h"
#include "wx/upstream.h"
#include "wxfcgi.h"

static volatile sig_atomic_t wx_stop, wx_reload, wx_child;
static int wx_sigpipe[2] = { -1, -1 };

static void on_signal(int sig)
{
    int saved = errno;

    if (sig == SIGHUP)
        wx_reload = 1;
    else if (sig == SIGCHLD)
        wx_child = 1;       /* a business call of the upstream handler ended */
    else
        wx_stop = 1;
    if (write(wx_sigpipe[1], "", 1) < 0) {
        /* The pipe is full: a wake-up is already pending. */
    }
    errno = saved;
}

static int setup_signals(pid_t master)
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
    if (master == 0) {
        sigaction(SIGHUP, &sa, NULL);
    } else {
        /* Under the master a reload is a new generation of workers. */
        sa.sa_handler = SIG_IGN;
        sigaction(SIGHUP, &sa, NULL);
    }
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sa.sa_handler = on_signal;
    sigaction(SIGCHLD, &sa, NULL);
    return 0;
}

typedef struct {
    FCGX_Stream *in;
} wx_fcgi_body_t;

static long fcgi_read(void *ctx, char *buf, size_t len)
{
    wx_fcgi_body_t *b = ctx;
    int n = FCGX_GetStr(buf, len > 1 << 30 ? 1 << 30 : (int)len, b->in);

    if (n == 0 && FCGX_GetError(b->in) != 0)
        return -1;
    return n;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 502: return "Bad Gateway";
    case 504: return "Gateway Timeout";
    default:  return "Internal Server Error";
    }
}

static void respond(FCGX_Request *rq, const wx_response_t *resp)
{
    char head[256];
    int n;

    n = snprintf(head, sizeof(head),
                 "Status: %d %s\r\n"
                 "Content-Type: %s\r\n"
                 "Content-Length: %zu\r\n"
                 "%s"
                 "\r\n",
                 resp->status, reason(resp->status), resp->content_type, resp->body.len,
                 resp->status == 405 ? "Allow: GET, POST\r\n" : "");
    FCGX_PutStr(head, n, rq->out);
    if (resp->body.len)
        FCGX_PutStr(resp->body.data, (int)resp->body.len, rq->out);
}

static long elapsed_us(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000000L + (t1.tv_nsec - t0->tv_nsec) / 1000L;
}

static void serve_one(wx_gw_t *gw, FCGX_Request *rq)
{
    const char *method = FCGX_GetParam("REQUEST_METHOD", rq->envp);
    const char *query = FCGX_GetParam("QUERY_STRING", rq->envp);
    wx_fcgi_body_t body = { rq->in };
    wx_request_t req;
    wx_response_t resp;
    struct timespec t0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    wx_upstream_request_start(&t0);     /* the reply budget counts from here */
    req.method = wx_str_c(method ? method : "");
    req.query = wx_str_c(query ? query : "");
    req.content_length = wx_content_length(FCGX_GetParam("CONTENT_LENGTH", rq->envp));
    req.read = fcgi_read;
    req.read_ctx = &body;

    wx_gw_handle(gw, &req, time(NULL), &resp);
    respond(rq, &resp);
    wx_gw_log(&req, &resp, elapsed_us(&t0));
}

/* Reload the config in place (spawn-fcgi mode).  On any error the old
 * config and gateway stay. */
static void reload(wx_config_t **cfgp, wx_gw_t **gwp)
{
    wx_config_t *ncfg = malloc(sizeof(*ncfg));
    char err[512];
    wx_gw_t *ngw;

    if (ncfg == NULL)
        return;
    if (wx_config_load(ncfg, (*cfgp)->path, err, sizeof(err)) != WX_OK) {
        wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: %s", err);
        free(ncfg);
        return;
    }
    ngw = wx_gw_new(ncfg, err, sizeof(err));
    if (ngw == NULL) {
        wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: %s", err);
        wx_config_free(ncfg);
        free(ncfg);
        return;
    }
    if (wx_log_open(ncfg->log, "wxfcgi", ncfg->log_level) != 0)
        wx_log(WX_LOG_ERROR, "cannot open log %s: %s", ncfg->log, strerror(errno));
    wx_gw_free(*gwp);
    wx_config_free(*cfgp);
    free(*cfgp);
    *cfgp = ncfg;
    *gwp = ngw;
    wx_log(WX_LOG_INFO, "config reloaded from %s", ncfg->path);
}

int wxfcgi_worker_run(int listen_fd, wx_config_t *cfg, pid_t master)
{
    struct epoll_event ev, evs[2];
    unsigned long served = 0;
    unsigned pending;
    FCGX_Request rq;
    char err[512];
    wx_gw_t *gw;
    int ep = -1, status = 1, fl;

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
    gw = wx_gw_new(cfg, err, sizeof(err));
    if (gw == NULL) {
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

    wx_log(WX_LOG_DEBUG, "worker ready");
    while (!wx_stop) {
        int i, n, ready = 0, rc;

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
        if (wx_child) {
            wx_child = 0;
            wx_upstream_reap();
        }
        if (wx_reload) {
            wx_reload = 0;
            reload(&cfg, &gw);
        }
        if (!ready || wx_stop)
            continue;

        rc = FCGX_Accept_r(&rq);
        if (rc < 0) {
            if (rc != -EAGAIN && rc != -EWOULDBLOCK && rc != -EINTR &&
                rc != -ECONNABORTED)
                wx_log(WX_LOG_WARN, "accept failed: %s", strerror(-rc));
            continue;
        }
        serve_one(gw, &rq);
        FCGX_Finish_r(&rq);
        wx_gw_done(gw);

        if (cfg->max_requests && ++served >= cfg->max_requests) {
            wx_log(WX_LOG_INFO, "worker recycled after %lu requests", served);
            break;
        }
    }
    status = 0;
    goto out;
sys:
    wx_log(WX_LOG_ERROR, "worker: %s", strerror(errno));
out:
    /* Business calls still running finish on their own (upstream.c). */
    pending = wx_upstream_reap();
    if (pending > 0)
        wx_log(WX_LOG_INFO, "worker leaves %u business calls to finish", pending);
    if (ep >= 0)
        close(ep);
    wx_gw_free(gw);
    return status;
}
