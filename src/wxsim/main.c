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
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "wx/core/dirhint.h"
#include "wx/proto/query.h"
#include "wx/core/cli.h"
#include "wx/core/http.h"
#include "wx/core/signals.h"
#include "wx/core/log.h"
#include "wx/core/net.h"
#include "wxsim.h"

static const char usage_text[] =
"Usage: wxsim -c FILE [-t]\n"
"       wxsim push -c FILE --url URL ...   (WeChat pushing: wxsim push --help)\n"
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
WX_CLI_HELP_CONFIG WX_CLI_HELP_COMMON
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
"  [wxsim.account.NAME] appid, appsecret (or appsecret_file)\n"
"                             another account simulated at once, with its own\n"
"                             state (tokens, users, menus, materials, clock,\n"
"                             faults; media under data_dir/NAME): a token call\n"
"                             goes to the account of its appid, an API call to\n"
"                             the one that issued its access_token; the /sim/\n"
"                             endpoints below take ?account=NAME\n"
"\n"
"Simulated endpoints (PROTOCOL.md 5-7), all under /cgi-bin/:\n"
"  token, stable_token, getcallbackip, get_api_domain_ip,\n"
"  menu/{create,get,delete,addconditional,delconditional,trymatch},\n"
"  get_current_selfmenu_info, media/{upload,get},\n"
"  material/{add_material,get_material,del_material,get_materialcount,\n"
"  batchget_material}, draft/{add,get,delete,count,batchget},\n"
"  freepublish/{submit,get}, message/mass/{sendall,send,preview,get,delete,\n"
"  speed/get,speed/set}, message/custom/send, message/template/send,\n"
"  ticket/getticket (type jsapi or wx_card: a new ticket each call, valid\n"
"  7200 s or token_ttl when shorter).\n"
"OAuth web authorization (PROTOCOL.md 12), the browser's page first:\n"
"  /connect/oauth2/authorize  signs in a simulated follower (sim_openid=ID,\n"
"                             else one per start) and answers 302 to\n"
"                             redirect_uri?code=CODE&state=STATE; the code\n"
"                             is valid 5 minutes and once; snsapi_userinfo\n"
"                             is consented unless sim_consent=deny\n"
"  /sns/oauth2/access_token (40029 unknown or expired code, 40163 reused),\n"
"  /sns/oauth2/refresh_token (30 days, else 40030), /sns/userinfo (48001\n"
"  with snsapi_base), /sns/auth (40003 for another openid): the web token\n"
"  only, never the account's access_token (40001).\n"
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
"  POST /sim/followers    {\"count\":N[,\"tagid\":T]} adds N followers oSIM0...1,\n"
"                         {\"openid\":X} follows X, {\"unfollow\":X}; GET: how many\n"
"  POST /sim/kf           {\"kf_account\":A,\"online\":B,\"bound\":B}: the agent's side\n"
"  POST /sim/subscribe    {\"openid\":X,\"template_id\":T}: one opt-in; GET: sent\n"
"  POST /sim/scan         {\"ticket\":T[,\"openid\":X]}: X (else someone new)\n"
"                         scans QR code T: the event WeChat would push, subscribe\n"
"                         (X now follows) or SCAN; 40097 (HTTP 400) when T is\n"
"                         unknown or expired\n"
"  GET  /sim/metrics      Prometheus text: API calls by family and errcode,\n"
"                         their duration, tokens issued, messages received\n"
"                         (since the start: /sim/reset keeps them)\n"
"\n"
"Pushing (WeChat's side of the callback; wxsim push --help says more):\n"
"  wxsim push -c FILE --url URL [--account NAME] [--mode M] [--retries N]\n"
"             [--timeout-ms MS] [--json] [--from OPENID] [--to GH_ID]\n"
"             FIXTURE.xml... | --scenario NAME\n"
"  wxsim push -c FILE --url URL [--account NAME] --scan TICKET [--from OPENID]\n"
"  wxsim push -c FILE --url URL --followers N --rate R --duration S\n"
"             [--mix LIST] [--kill-every MS --kill-pids FILE]\n"
"             [--report FILE.json] [--plot FILE.png] [--quiet]\n"
"\n"
"Signals: TERM, INT  finish the request in flight, remove the uploads, exit.\n"
"\n"
"Exit status: 0 on a clean stop, 1 on a config or runtime error,\n"
"2 on a usage error.\n";

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

static void respond(FCGX_Request *fr, const wxsim_req_t *rq)
{
    if (rq->drop) {
        /* FastCGI cannot reset the client's connection itself: nginx does
         * it for us in the internal location of nginx/wxsim.conf.in. */
        FCGX_PutS("Status: 200 OK\r\nX-Accel-Redirect: /__wxsim_drop\r\n\r\n", fr->out);
        return;
    }
    FCGX_FPrintF(fr->out, "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %lu\r\n%s\r\n",
                 rq->status, wx_http_reason(rq->status), rq->ctype ? rq->ctype : "text/plain",
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
    if ((sim = wxsim_account_pick(sim, &rq)) == NULL)
        ;   /* answered: an unknown account */
    else if (strncmp(rq.path, "/sim/", 5) == 0)
        wxsim_ctl_handle(sim, &rq);
    else
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
    pfd[1].fd = wx_sig_fd();
    pfd[1].events = POLLIN;
    while (!wx_sig_stopping()) {
        int rc;

        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            wx_log(WX_LOG_ERROR, "poll: %s", strerror(errno));
            return 1;
        }
        if (pfd[1].revents & POLLIN)
            wx_sig_drain();
        if (wx_sig_stopping() || !(pfd[0].revents & POLLIN))
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

static int run(const wxsim_conf_t *cfg)
{
    wxsim_t sim;
    int fd, own = 0, rc;

    if (make_dirs(cfg->sim.data_dir) != 0) {
        char hint[512];
        int e = errno;

        wx_log(WX_LOG_ERROR, "data_dir %s: %s%s", cfg->sim.data_dir, strerror(e),
               wx_dir_hint(cfg->sim.data_dir, 1, e, hint, sizeof(hint)));
        return 1;
    }
    if (wx_sig_init(WX_SIG_STOP) != 0) {
        wx_log(WX_LOG_ERROR, "cannot set up signals: %s", strerror(errno));
        return 1;
    }
    if (wx_is_listening_socket(0)) {
        fd = 0;
        wx_log(WX_LOG_INFO, "serving under spawn-fcgi (appid %s)", cfg->sim.appid);
    } else {
        fd = wx_listen(cfg->sim.listen, 0660);
        if (fd < 0)
            return 1;
        own = 1;
        wx_log(WX_LOG_INFO, "listening on %s (appid %s)", cfg->sim.listen, cfg->sim.appid);
    }
    if (wxsim_state_init(&sim, cfg, wxsim_api_n_routes()) != 0 ||
        wxsim_accounts_init(&sim, wxsim_api_n_routes()) != 0) {
        wx_log(WX_LOG_ERROR, "out of memory");
        rc = 1;
        goto out;
    }
    rc = serve(&sim, fd);
    wxsim_accounts_free(&sim);
    wxsim_state_free(&sim);
    wx_log(WX_LOG_INFO, "stopped");
out:
    if (own) {
        close(fd);
        if (strncmp(cfg->sim.listen, "unix:", 5) == 0)
            unlink(cfg->sim.listen + 5);
    }
    return rc;
}

int main(int argc, char **argv)
{
    wx_cli_t cli = { "wxsim", usage_text, &wxsim_spec, 0, NULL, NULL, 0 };
    const wxsim_conf_t *c;
    wx_config_t *cfg;
    int rc;

    /* The pushing side of WeChat is a mode of its own (push.c). */
    if (argc > 1 && strcmp(argv[1], "push") == 0)
        return wxsim_push_main(argc - 1, argv + 1);
    if ((rc = wx_cli_start(&cli, argc, argv, &cfg)) >= 0)
        return rc;
    c = (const wxsim_conf_t *)(const void *)cfg;
    rc = WX_EXIT_FAIL;
    if (cli.test) {
        printf("wxsim: %s is valid: listen %s, appid %s, token_ttl %u, "
               "token_daily_limit %u, max_upload %zu, data_dir %s\n", cli.path, c->sim.listen,
               c->sim.appid, c->sim.token_ttl, c->sim.token_daily_limit,
               c->sim.max_upload, c->sim.data_dir);
        rc = WX_EXIT_OK;
        goto out;
    }
    if (wx_cli_log(&cli, c->sim.log, c->sim.log_level) != 0)
        goto out;
    rc = run(c);
    wx_log_close();
out:
    wx_config_free(cfg);
    return rc;
}
