/*
 * main.c - wxsim, the simulator of WeChat's API servers (api.weixin.qq.com)
 * for tests and offline demos: argv, the config, the FastCGI loop, reading
 * each request and writing its answer and log line.
 *
 * One process and one thread on purpose: token hand-overs, quotas and the
 * messages received are exact only when nothing runs concurrently.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "wx/dirhint.h"
#include "wx/query.h"
#include "wx/config.h"
#include "wx/log.h"
#include "wx/net.h"
#include "wxsim.h"

#ifndef WX_VERSION
#define WX_VERSION "0.1.0"
#endif

static const char usage_text[] =
"Usage: wxsim -c FILE [-t]\n"
"       wxsim -h | -V\n"
"\n"
"A simulator of WeChat's API servers (api.weixin.qq.com) for tests and\n"
"offline demos: a FastCGI responder that nginx serves over HTTPS.  It issues\n"
"access tokens with the platform's rules (expiry, the 5-minute overlap of an\n"
"old and a new token, daily quotas, the caller IP whitelist) and keeps what\n"
"the management APIs are given (menus, media, materials, drafts, mass and\n"
"customer-service messages) in memory, so that tests can count it.\n"
"\n"
"Options:\n"
"  -c, --config FILE    the INI config file (required; see wx.ini)\n"
"  -t, --test           check the config, print a summary and exit\n"
"  -h, --help           show this help and exit\n"
"  -V, --version        show the version and exit\n"
"\n"
"Modes:\n"
"  Under spawn-fcgi (fd 0 is a listening socket) wxsim serves that socket;\n"
"  start exactly one process (-F 1): the state is per process.\n"
"      spawn-fcgi -s /run/wxfcgi/wxsim.sock -F 1 -- wxsim -c wx.ini\n"
"  Otherwise it binds [wxsim] listen itself and serves in the foreground.\n"
"\n"
"Config keys read ([wx] token must be present too, as for every program):\n"
"  [wxsim] listen             unix:/path or tcp:host:port\n"
"                             (default unix:/run/wxfcgi/wxsim.sock)\n"
"  [wxsim] appid              the AppID of the simulated account (required)\n"
"  [wxsim] appsecret          its AppSecret (required); or appsecret_file, or\n"
"                             the environment variable WXSIM_APPSECRET (wins)\n"
"  [wxsim] allow_ips          callers allowed to fetch tokens, blank-separated;\n"
"                             empty = any (otherwise 40164)\n"
"  [wxsim] token_ttl          expires_in of a new token, seconds (7200);\n"
"                             stable_token renews in the last 300 s, or in\n"
"                             the last quarter of a ttl under 1200 s\n"
"  [wxsim] token_daily_limit  /cgi-bin/token calls per simulated day (2000)\n"
"  [wxsim] max_upload         largest upload accepted (10m); nginx's\n"
"                             client_max_body_size must be larger\n"
"  [wxsim] data_dir           where uploaded media are kept (created)\n"
"  [wxsim] log, log_level     stderr, syslog or a file; debug..error\n"
"\n"
"Simulated endpoints (PROTOCOL.md 5-7), all under /cgi-bin/:\n"
"  token, stable_token, getcallbackip, get_api_domain_ip,\n"
"  menu/{create,get,delete,addconditional,delconditional,trymatch},\n"
"  get_current_selfmenu_info, media/{upload,get},\n"
"  material/{add_material,get_material,del_material,get_materialcount,\n"
"  batchget_material}, draft/{add,get,delete,count,batchget},\n"
"  freepublish/{submit,get}, message/mass/{sendall,send,preview,get,delete,\n"
"  speed/get,speed/set}, message/custom/send, message/template/send.\n"
"  An unknown path is answered 404 with errcode 40066.\n"
"\n"
"Control interface for tests (JSON in and out, on the same socket):\n"
"  GET  /sim/clock        the simulated clock: now, offset, day\n"
"  POST /sim/clock        {\"advance\":SECONDS}: move the clock forward;\n"
"                         expiry, overlap and quotas all follow it.\n"
"                         {\"freeze\":true} stops it (then only advance\n"
"                         moves it: exact tests), false lets it run on\n"
"  POST /sim/fault        {\"path\":P,\"kind\":K,\"count\":N,\"ms\":M,\"errcode\":E}:\n"
"                         the next N calls (default 1) of path P (\"*\" = any):\n"
"                           busy     answer {\"errcode\":-1,\"errmsg\":\"system error\"}\n"
"                           slow     sleep M ms, then answer normally\n"
"                           drop     no answer: nginx closes the connection\n"
"                                    (X-Accel-Redirect to /__wxsim_drop, 444)\n"
"                           badjson  a truncated JSON answer\n"
"                           errcode  answer errcode E\n"
"                         busy, drop, badjson and errcode do not run the API.\n"
"                         count 0 removes the rule.\n"
"  GET  /sim/fault        the rules pending\n"
"  GET  /sim/stats        calls received per path, tokens issued, counts\n"
"  POST /sim/reset        forget everything (tokens, clock, faults, data)\n"
"  POST /sim/invalidate   every token issued so far stops working now\n"
"  GET  /sim/custom       the customer-service messages received, in order\n"
"  GET  /sim/template     the template messages received, in order\n"
"\n"
"Signals: TERM, INT  finish the request in flight, remove the uploads, exit.\n"
"\n"
"Exit status: 0 on a clean stop, 1 on a config or runtime error,\n"
"2 on a usage error.\n";

static volatile sig_atomic_t sim_stop;
static int sim_sigpipe[2] = { -1, -1 };

long long wxsim_now(const wxsim_t *sim)
{
    /* A frozen clock (tests that need exact seconds) moves only when
     * told to. */
    return (sim->frozen_at ? sim->frozen_at : (long long)time(NULL)) + sim->offset;
}

long long wxsim_day(const wxsim_t *sim)
{
    /* Quotas reset at midnight Beijing time, UTC+8. */
    return (wxsim_now(sim) + 8 * 3600) / 86400;
}

static void on_signal(int sig)
{
    int saved = errno;

    (void)sig;
    sim_stop = 1;
    if (write(sim_sigpipe[1], "", 1) < 0) {
        /* Full: a wake-up is pending already. */
    }
    errno = saved;
}

static int setup_signals(void)
{
    struct sigaction sa;

    if (pipe2(sim_sigpipe, O_NONBLOCK | O_CLOEXEC) != 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    /* A signal must not break the read or write of a request. */
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    return 0;
}

/* mkdir -p, for data_dir. */
static int make_dirs(const char *path)
{
    char tmp[4096], *p;

    if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static void drain(FCGX_Request *fr)
{
    char sink[16384];

    while (FCGX_GetStr(sink, sizeof(sink), fr->in) > 0)
        ;
}

/* A body without CONTENT_LENGTH (a chunked upload that nginx passes on
 * as it comes): read to the end, growing up to 'max' bytes. */
static void read_unsized(FCGX_Request *fr, wxsim_req_t *rq, size_t max)
{
    size_t cap = 0, got = 0;
    char *buf = NULL;

    for (;;) {
        int n;

        if (got == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *nb;

            if (cap > max) {
                free(buf);
                rq->body_state = WXSIM_BODY_TOOBIG;
                drain(fr);
                return;
            }
            nb = realloc(buf, ncap + 1);
            if (nb == NULL) {
                free(buf);
                rq->body_state = WXSIM_BODY_TOOBIG;
                drain(fr);
                return;
            }
            buf = nb;
            cap = ncap;
        }
        n = FCGX_GetStr(buf + got, (int)(cap - got), fr->in);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got > max) {
        free(buf);
        rq->body_state = WXSIM_BODY_TOOBIG;
        return;
    }
    buf[got] = '\0';
    rq->body = buf;
    rq->body_len = got;
    rq->body_state = got ? WXSIM_BODY_OK : WXSIM_BODY_NONE;
}

/* Read the body, never more than 'max' bytes into memory.  A larger one
 * is drained through a small buffer, so that nginx is not cut off while it
 * still sends and the client gets our answer instead of a 502. */
static void read_body(FCGX_Request *fr, wxsim_req_t *rq, size_t max)
{
    const char *clp = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
    long long cl = wx_content_length(clp);
    size_t got = 0;

    if (clp == NULL || *clp == '\0') {
        read_unsized(fr, rq, max);
        return;
    }
    if (cl <= 0) {
        rq->body_state = WXSIM_BODY_NONE;
        return;
    }
    if ((unsigned long long)cl > max) {
        rq->body_state = WXSIM_BODY_TOOBIG;
        drain(fr);
        return;
    }
    rq->body = malloc((size_t)cl + 1);
    if (rq->body == NULL) {
        rq->body_state = WXSIM_BODY_TOOBIG;
        drain(fr);
        return;
    }
    while (got < (size_t)cl) {
        size_t want = (size_t)cl - got;
        int n = FCGX_GetStr(rq->body + got, want > (1u << 30) ? 1 << 30 : (int)want, fr->in);

        if (n <= 0)
            break;
        got += (size_t)n;
    }
    rq->body[got] = '\0';
    rq->body_len = got;
    rq->body_state = got == (size_t)cl ? WXSIM_BODY_OK : WXSIM_BODY_SHORT;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    default:  return "Internal Server Error";
    }
}

static void respond(FCGX_Request *fr, const wxsim_req_t *rq)
{
    if (rq->drop) {
        /* FastCGI cannot reset the client's connection itself: nginx does
         * it for us in the internal location of nginx/wxsim.conf.in. */
        FCGX_PutS("Status: 200 OK\r\nX-Accel-Redirect: /__wxsim_drop\r\n\r\n", fr->out);
        return;
    }
    FCGX_FPrintF(fr->out, "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %lu\r\n%s\r\n",
                 rq->status, reason(rq->status), rq->ctype ? rq->ctype : "text/plain",
                 (unsigned long)rq->out_len, rq->headers);
    if (rq->out_len)
        FCGX_PutStr(rq->out, (int)rq->out_len, fr->out);
}

static long elapsed_us(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000000L + (t1.tv_nsec - t0->tv_nsec) / 1000L;
}

/* One line per request; the query (which carries tokens and secrets) is
 * never logged, and the path is cleaned. */
static void log_request(const wxsim_req_t *rq, long us)
{
    char path[160], method[24], ec[16];

    wx_log_clean(path, sizeof(path), wx_str_c(rq->path));
    wx_log_clean(method, sizeof(method), wx_str_c(rq->method));
    if (rq->drop || rq->errcode == -2)
        snprintf(ec, sizeof(ec), "-");
    else
        snprintf(ec, sizeof(ec), "%d", rq->errcode);
    wx_log(WX_LOG_INFO, "%s %s errcode=%s status=%d us=%ld%s%s", method, path, ec,
           rq->drop ? 0 : rq->status, us, rq->note[0] ? " " : "", rq->note);
}

static const char *param(FCGX_Request *fr, const char *name, const char *def)
{
    const char *v = FCGX_GetParam(name, fr->envp);

    return v ? v : def;
}

static void serve_one(wxsim_t *sim, FCGX_Request *fr)
{
    wxsim_req_t rq;
    struct timespec t0;
    char pathbuf[1024];
    const char *uri;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&rq, 0, sizeof(rq));
    rq.status = 200;
    rq.method = param(fr, "REQUEST_METHOD", "GET");
    rq.query = param(fr, "QUERY_STRING", "");
    rq.remote_addr = param(fr, "REMOTE_ADDR", "");
    rq.content_type = param(fr, "CONTENT_TYPE", "");
    /* nginx's DOCUMENT_URI is decoded and normalised; without nginx the
     * path part of REQUEST_URI is the best there is. */
    uri = FCGX_GetParam("DOCUMENT_URI", fr->envp);
    if (uri == NULL) {
        const char *ru = param(fr, "REQUEST_URI", "/");

        snprintf(pathbuf, sizeof(pathbuf), "%.*s", (int)strcspn(ru, "?"), ru);
        uri = pathbuf;
    }
    rq.path = uri;

    read_body(fr, &rq, wxsim_api_body_max(sim, rq.path));
    wxsim_api_handle(sim, &rq);
    respond(fr, &rq);
    log_request(&rq, elapsed_us(&t0));
    free(rq.body);
    free(rq.out);
}

static int serve(wxsim_t *sim, int fd)
{
    struct pollfd pfd[2];
    FCGX_Request fr;
    int fl;

    fl = fcntl(fd, F_GETFL);
    /* Non-blocking: after poll says "ready", a connection another
     * process took makes FCGX_Accept_r return EAGAIN, not hang. */
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        wx_log(WX_LOG_ERROR, "fcntl on the listening socket: %s", strerror(errno));
        return 1;
    }
    if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, fd, 0) != 0) {
        wx_log(WX_LOG_ERROR, "libfcgi initialisation failed");
        return 1;
    }
    pfd[0].fd = fd;
    pfd[0].events = POLLIN;
    pfd[1].fd = sim_sigpipe[0];
    pfd[1].events = POLLIN;
    while (!sim_stop) {
        int rc;

        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            wx_log(WX_LOG_ERROR, "poll: %s", strerror(errno));
            return 1;
        }
        if (sim_stop || !(pfd[0].revents & POLLIN))
            continue;
        rc = FCGX_Accept_r(&fr);
        if (rc < 0) {
            if (rc != -EAGAIN && rc != -EWOULDBLOCK && rc != -EINTR && rc != -ECONNABORTED)
                wx_log(WX_LOG_WARN, "accept failed: %s", strerror(-rc));
            continue;
        }
        serve_one(sim, &fr);
        FCGX_Finish_r(&fr);
    }
    FCGX_Free(&fr, 1);
    return 0;
}

static int check_config(const wx_config_t *cfg, const char *path)
{
    if (cfg->sim_appid == NULL || cfg->sim_appid[0] == '\0') {
        fprintf(stderr, "wxsim: %s: [wxsim] appid is missing\n", path);
        return -1;
    }
    if (cfg->sim_appsecret == NULL || cfg->sim_appsecret[0] == '\0') {
        fprintf(stderr, "wxsim: %s: [wxsim] appsecret is missing: set appsecret, "
                        "appsecret_file or the environment variable WXSIM_APPSECRET\n", path);
        return -1;
    }
    if (cfg->sim_data_dir[0] != '/') {
        fprintf(stderr, "wxsim: %s: [wxsim] data_dir '%s' is not an absolute path\n",
                path, cfg->sim_data_dir);
        return -1;
    }
    return 0;
}

static int run(wx_config_t *cfg)
{
    wxsim_t sim;
    int fd, own = 0, rc;

    if (make_dirs(cfg->sim_data_dir) != 0) {
        char hint[512];
        int e = errno;

        wx_log(WX_LOG_ERROR, "data_dir %s: %s%s", cfg->sim_data_dir, strerror(e),
               wx_dir_hint(cfg->sim_data_dir, 1, e, hint, sizeof(hint)));
        return 1;
    }
    if (setup_signals() != 0) {
        wx_log(WX_LOG_ERROR, "cannot set up signals: %s", strerror(errno));
        return 1;
    }
    if (wx_is_listening_socket(0)) {
        fd = 0;
        wx_log(WX_LOG_INFO, "serving under spawn-fcgi (appid %s)", cfg->sim_appid);
    } else {
        fd = wx_listen(cfg->sim_listen, 0660);
        if (fd < 0)
            return 1;
        own = 1;
        wx_log(WX_LOG_INFO, "listening on %s (appid %s)", cfg->sim_listen, cfg->sim_appid);
    }
    if (wxsim_state_init(&sim, cfg, wxsim_api_n_routes()) != 0) {
        wx_log(WX_LOG_ERROR, "out of memory");
        rc = 1;
        goto out;
    }
    rc = serve(&sim, fd);
    wxsim_state_free(&sim);
    wx_log(WX_LOG_INFO, "stopped");
out:
    if (own) {
        close(fd);
        if (strncmp(cfg->sim_listen, "unix:", 5) == 0)
            unlink(cfg->sim_listen + 5);
    }
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config",  required_argument, NULL, 'c' },
        { "test",    no_argument,       NULL, 't' },
        { "help",    no_argument,       NULL, 'h' },
        { "version", no_argument,       NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    const char *path = NULL;
    wx_config_t cfg;
    char err[512];
    int opt, test = 0, rc;

    while ((opt = getopt_long(argc, argv, "c:thV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 't': test = 1; break;
        case 'h': fputs(usage_text, stdout); return 0;
        case 'V': printf("wxsim %s\n", WX_VERSION); return 0;
        default:
            fputs("Try 'wxsim --help' for more information.\n", stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "wxsim: unexpected argument '%s'\n"
                "Try 'wxsim --help' for more information.\n", argv[optind]);
        return 2;
    }
    if (path == NULL) {
        fputs("wxsim: no config file: use -c FILE\n"
              "Try 'wxsim --help' for more information.\n", stderr);
        return 2;
    }
    if (wx_config_load(&cfg, path, err, sizeof(err)) != WX_OK) {
        fprintf(stderr, "wxsim: %s\n", err);
        return 1;
    }
    if (check_config(&cfg, path) != 0) {
        rc = 1;
        goto out;
    }
    if (test) {
        printf("wxsim: %s is valid: listen %s, appid %s, token_ttl %u, "
               "token_daily_limit %u, max_upload %zu, data_dir %s\n", path, cfg.sim_listen,
               cfg.sim_appid, cfg.sim_token_ttl, cfg.sim_token_daily_limit,
               cfg.sim_max_upload, cfg.sim_data_dir);
        rc = 0;
        goto out;
    }
    if (wx_log_open(cfg.sim_log, "wxsim", cfg.sim_log_level) != 0) {
        fprintf(stderr, "wxsim: cannot open log %s: %s\n", cfg.sim_log, strerror(errno));
        rc = 1;
        goto out;
    }
    rc = run(&cfg);
    wx_log_close();
out:
    wx_config_free(&cfg);
    return rc;
}
