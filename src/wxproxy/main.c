/*
 * main.c - wxproxy, the API proxy: the only door to the WeChat API for
 * internal callers.
 *
 * Under spawn-fcgi the listening socket is fd 0 and each process is one
 * worker; otherwise wxproxy binds [wxproxy] listen itself and preforks
 * [wxproxy] workers under the supervisor of libwx (wx/server/prefork.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wx/core/cli.h"
#include "wxproxy.h"

static const char usage_text[] =
"Usage: wxproxy -c FILE [-p PIDFILE]\n"
"       wxproxy -t -c FILE\n"
"       wxproxy -h | -V\n"
"\n"
"The WeChat API proxy: a FastCGI responder behind an internal nginx location\n"
"(/wxapi/, nginx/wxproxy.conf).  Internal callers send\n"
"    METHOD /wxapi/<WeChat API path>?<query>   with the header  X-Wx-Key: KEY\n"
"and the proxy, after checking the key, the path and the key's rate limit,\n"
"calls [wxproxy] api + PATH?access_token=TOKEN&QUERY with the caller's\n"
"Content-Type and body (JSON or multipart), using the token wxtoken keeps in\n"
"its store, and returns WeChat's answer unchanged (status, Content-Type,\n"
"Content-Disposition, body; binary for media/get).  An access_token given by\n"
"the caller is dropped.  When WeChat answers errcode 40001, 42001 or 40014\n"
"the token is reported to wxtoken ([wxtoken] listen), which refreshes it\n"
"once however many callers report it, and the call is made once more with\n"
"the new token.  No program but wxtoken holds the AppSecret.\n"
"With several accounts ([account.NAME]) a call names its account with the\n"
"header X-Wx-Account: NAME (default: [wx]; without it, the key's one\n"
"account): it gets that account's token, and the key's rate limit is counted\n"
"per account (the bucket KEY@NAME).\n"
"\n"
"Options:\n"
WX_CLI_HELP_CONFIG WX_CLI_HELP_PIDFILE WX_CLI_HELP_COMMON
"\n"
"Modes:\n"
"  Under spawn-fcgi (fd 0 is a listening socket) every process is one worker:\n"
"      spawn-fcgi -s /run/wxfcgi/wxproxy.sock -F 4 -- wxproxy -c /etc/wxfcgi/wx.ini\n"
"  Otherwise wxproxy binds [wxproxy] listen (unix:/path or tcp:host:port),\n"
"  preforks [wxproxy] workers processes and supervises them in the\n"
"  foreground, restarting one that dies.  The rate limits are shared by\n"
"  every worker of the machine either way (a table in state_dir).\n"
"\n"
"Web pages (PROTOCOL.md 12, 13), answered without the account's token on\n"
"the page's behalf; the key must be allowed the path like any other:\n"
"  GET /wxapi/cgi-bin/ticket/getticket?type=jsapi|wx_card\n"
"      the ticket wxtoken keeps in the store, in WeChat's shape, without\n"
"      calling WeChat (wxtoken fetches one when the store has none: one\n"
"      call however many callers ask)\n"
"  GET /wxapi/jssdk/config?url=URL\n"
"      {\"appId\",\"timestamp\",\"nonceStr\",\"signature\",\"url\"} for wx.config()\n"
"      on the page URL (percent-encoded; its #fragment dropped); [wx] appid\n"
"  GET /wxapi/sns/oauth2/access_token?code=CODE\n"
"      the web-authorization code exchanged by wxtoken (which holds the\n"
"      AppSecret); WeChat's answer as it is (40029, 40163 included)\n"
"  GET /wxapi/sns/userinfo, /sns/auth, /sns/oauth2/refresh_token\n"
"      forwarded with the caller's query, whose access_token is the\n"
"      follower's web token: never the account's, never retried\n"
"\n"
"Config:\n"
"  [wxproxy] listen       unix:/path or tcp:host:port (unix:/run/wxfcgi/wxproxy.sock)\n"
"  [wxproxy] workers      worker processes in standalone mode (2)\n"
"  [wxproxy] api          the API base URL (https://api.weixin.qq.com)\n"
"  [wxproxy] ca_file      an extra CA bundle (a private CA, wxsim's)\n"
"  [wxproxy] proxy        an outbound HTTP(S) proxy URL\n"
"  [wxproxy] timeout_ms   per call to WeChat, connection included (30000)\n"
"  [wxproxy] max_body     the largest request body forwarded (20m)\n"
"  [wxproxy] state_dir    the rate-limit table ratelimit.shm, and bodies over\n"
"                         1 MiB while they are sent (/run/wxfcgi; a tmpfs)\n"
"  [wxproxy] log, log_level  stderr, syslog or a file; debug..error\n"
"  [wxtoken] store, listen   the token store read, and wxtoken's report socket\n"
"  [wx] appid             the AppID /jssdk/config answers\n"
"  [wxproxy.key.NAME]     one internal caller:\n"
"      key        the secret it sends in X-Wx-Key (16 characters or more);\n"
"                 better key_file = PATH\n"
"      paths      the API paths it may call, blank-separated; a trailing *\n"
"                 matches a prefix: /cgi-bin/menu/* /cgi-bin/media/get\n"
"                 (/cgi-bin/token and stable_token are never forwarded)\n"
"      rate       calls a second, for all workers together (10)\n"
"      burst      calls allowed at once after a quiet spell (0 = rate)\n"
"      accounts   the accounts it may act for: default ([wx]) or NAME of\n"
"                 an [account.NAME], blank-separated (default)\n"
"  [account.NAME] appid   another account: its name and AppID\n"
"\n"
"Answers of its own, in the platform's error shape with our HTTP status:\n"
"  {\"errcode\":990000+STATUS,\"errmsg\":TEXT,\"error\":CODE}\n"
"  400 bad_request        not /wxapi/<path>, a bad query or Content-Length\n"
"  401 unknown_key        X-Wx-Key missing or unknown\n"
"  400 account_required   the key acts for several accounts, none named\n"
"  400 unknown_account    X-Wx-Account names no account of the stack\n"
"  403 account_not_allowed  the key's accounts do not list the one named\n"
"  403 path_not_allowed   the key may not call this path\n"
"  405 method_not_allowed only GET and POST are forwarded\n"
"  413 body_too_large     the body is over max_body\n"
"  429 rate_limited       over the key's rate; Retry-After says when to retry\n"
"  502 upstream_failed    no usable answer: connection or TLS error, a\n"
"                         dropped connection, an HTTP 5xx\n"
"  503 no_token           no token in the store and wxtoken not answering\n"
"  503 no_ticket          no JS-SDK ticket in the store and wxtoken gave none\n"
"  503 wxtoken_unavailable  wxtoken, which exchanges OAuth codes, not answering\n"
"  503 no_store           the store of the account named cannot be opened\n"
"  504 upstream_timeout   no answer within timeout_ms\n"
"  500 internal           out of memory, or a body that cannot be stored\n"
"  500 no_appid           /jssdk/config without [wx] appid\n"
"  Anything WeChat answers (errcodes included, malformed JSON too) is passed\n"
"  through unchanged.\n"
"\n"
"Log: one line per call: key=NAME path=PATH status=N errcode=N ms=N; never\n"
"the key, the token or the query string.\n"
"\n"
WX_FCGI_HELP_SIGNALS("calls")
"\n"
"Exit status: 0 on a clean stop, 1 on a config or runtime error,\n"
"2 on a usage error.\n";

/* Check what only a built proxy can (the rate-limit table, libcurl). */
static int probe(const px_conf_t *cfg, char *err, size_t errlen)
{
    px_t *px = px_new(cfg, err, errlen);

    if (px == NULL)
        return -1;
    px_free(px);
    return 0;
}

static void print_summary(const char *path, const px_conf_t *c)
{
    size_t i;

    printf("wxproxy: %s is valid: listen %s, %u workers, api %s, timeout_ms %u, "
           "max_body %zu, %zu keys\n", path, c->px.srv.listen, c->px.srv.workers,
           c->px.api, c->px.timeout_ms, c->px.max_body, c->keys.n);
    for (i = 0; i < c->keys.n; i++) {
        const wx_proxy_key_t *k = px_key(c, i);

        printf("  key %s: rate %u/s, burst %u, paths %s%s%s\n", k->name, k->rate,
               k->burst ? k->burst : k->rate, k->paths, k->accounts ? ", accounts " : "",
               k->accounts ? k->accounts : "");
    }
}

int main(int argc, char **argv)
{
    wx_cli_t cli = { "wxproxy", usage_text, &px_spec, 1, NULL, NULL, 0 };
    const px_conf_t *c;
    wx_config_t *cfg;
    char err[512];
    int rc;

    if ((rc = wx_cli_start(&cli, argc, argv, &cfg)) >= 0)
        return rc;
    c = px_conf(cfg);
    rc = WX_EXIT_FAIL;
    if (c->keys.n == 0)
        fprintf(stderr, "wxproxy: %s: warning: no [wxproxy.key.NAME] section: "
                "every call will be refused\n", cli.path);
    if (probe(c, err, sizeof(err)) != 0) {
        fprintf(stderr, "wxproxy: %s: %s\n", cli.path, err);
        goto done;
    }
    if (cli.test) {
        print_summary(cli.path, c);
        rc = WX_EXIT_OK;
        goto done;
    }
    snprintf(err, sizeof(err), ", forwarding to %s", c->px.api);
    return wx_fcgi_main(&wxproxy_app, &cli, cfg, err);

done:
    wx_config_free(cfg);
    return rc;
}
