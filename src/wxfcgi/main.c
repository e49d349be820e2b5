/*
 * main.c - wxfcgi, the FastCGI responder for WeChat's /wx callbacks.
 *
 * Under spawn-fcgi the listening socket is fd 0 and each process is one
 * worker; otherwise wxfcgi binds [wxfcgi] listen itself and runs the
 * prefork master.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wx/core/dirhint.h"
#include "wx/core/cli.h"
#include "wx/proto/parse.h"
#include "wxfcgi/acct.h"
#include "wxfcgi/gateway.h"
#include "wxfcgi/route.h"
#include "wxfcgi.h"

static const char usage_text[] =
"Usage: wxfcgi -c FILE [-p PIDFILE] [-t]\n"
"       wxfcgi -c FILE -r MESSAGE.xml [-a ACCOUNT]\n"
"       wxfcgi -h | -V\n"
"\n"
"The FastCGI responder for WeChat Official Accounts' callback URLs (/wx for\n"
"[wx], /wx/NAME for each [account.NAME]): it verifies each callback's\n"
"signature with its account's token, parses the XML message as it streams in,\n"
"runs the handler and writes the passive reply.\n"
"\n"
"Options:\n"
WX_CLI_HELP_CONFIG WX_CLI_HELP_PIDFILE WX_CLI_HELP_COMMON
"  -r, --route-test MESSAGE.xml\n"
"                       say which route answers the (plaintext) message and\n"
"                       exit; -t also prints the whole route table\n"
"  -a, --account NAME   with -r: the message is account NAME's (an\n"
"                       [account.NAME], or default for [wx], the default)\n"
"\n"
"Routes: [route.NAME] sections answer messages without code (a static\n"
"reply, echo, success or a business service), tried by priority, then in\n"
"file order; what none takes goes to [wxfcgi] handler.  A route's account key\n"
"names the accounts it serves (all without it).  See wx.ini(5).\n"
"\n"
"Modes:\n"
"  Under spawn-fcgi (fd 0 is a listening socket) every process is one worker:\n"
"      spawn-fcgi -s /run/wxfcgi.sock -F 4 -- wxfcgi -c /etc/wxfcgi/wx.ini\n"
"  Otherwise wxfcgi binds [wxfcgi] listen (unix:/path or tcp:host:port),\n"
"  preforks [wxfcgi] workers processes and supervises them in the foreground.\n"
"\n"
WX_FCGI_HELP_SIGNALS("requests")
"\n"
"Secrets: [wx] token may also come from token_file or the WX_TOKEN\n"
"environment variable (which wins); never from the command line.\n"
"\n"
"Exit status: 0 on a clean stop, 1 on a config or runtime error,\n"
"2 on a usage error.\n";

/* -r: the route 'path' (a plaintext message) takes.  An exit status. */
static int route_test(const wxfcgi_conf_t *c, const char *path, const char *account)
{
    int acct = account ? wx_accts_index(c, account, strlen(account)) : 0;
    wx_parse_limits_t lim = WX_PARSE_LIMITS_DEFAULT;
    wx_parser_t *p = NULL;
    wx_router_t *r = NULL;
    wx_pool_t pool = { 0 };
    wx_msg_t msg;
    char err[512], *buf = NULL;
    size_t len = 0;
    int rc = WX_EXIT_FAIL;
    wx_err_t e;
    FILE *f;

    if (acct < 0) {
        fprintf(stderr, "wxfcgi: -a %s: no such account (default, or the NAME of an "
                "[account.NAME])\n", account);
        return WX_EXIT_FAIL;
    }
    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "wxfcgi: %s: %s\n", path, strerror(errno));
        return WX_EXIT_FAIL;
    }
    lim.max_text = c->fcgi.max_body;
    buf = malloc(c->fcgi.max_body + 1);
    if (buf == NULL || (p = wx_parser_new(&lim)) == NULL ||
        wx_pool_init(&pool, 8 * c->fcgi.max_body + (128 << 10)) != WX_OK) {
        fprintf(stderr, "wxfcgi: out of memory\n");
        goto out;
    }
    len = fread(buf, 1, c->fcgi.max_body + 1, f);
    if (len > c->fcgi.max_body) {
        fprintf(stderr, "wxfcgi: %s: larger than [wxfcgi] max_body (%zu)\n", path,
                c->fcgi.max_body);
        goto out;
    }
    if ((e = wx_msg_parse(p, &pool, buf, len, &msg)) != WX_OK ||
        (e = wx_msg_validate(&msg)) != WX_OK) {
        fprintf(stderr, "wxfcgi: %s: not a message: %s (%s)\n", path, wx_strerror(e),
                wx_parser_errmsg(p));
        goto out;
    }
    r = wx_router_new(c, err, sizeof(err));
    if (r == NULL) {
        fprintf(stderr, "wxfcgi: %s\n", err);
        goto out;
    }
    printf("%s\n", wx_router_match_account(r, &msg, (unsigned)acct));
    rc = WX_EXIT_OK;
out:
    wx_router_free(r);
    wx_parser_free(p);
    wx_pool_free(&pool);
    free(buf);
    fclose(f);
    return rc;
}

/* -t: the accounts and their callback URLs. */
static void print_accounts(const wxfcgi_conf_t *c)
{
    const wx_account_t *a = c->accounts.v;
    size_t i;

    printf("accounts:\n  default  /wx  mode %s\n", wx_mode_name(c->wx.mode));
    for (i = 0; i < c->accounts.n; i++)
        printf("  %-8s /wx/%s  mode %s%s%s\n", a[i].name, a[i].name,
               wx_mode_name(a[i].wx.mode), a[i].original_id ? "  original_id " : "",
               a[i].original_id ? a[i].original_id : "");
}

/* -t: the route table, in the order it is tried. */
static int print_routes(const wxfcgi_conf_t *c)
{
    char err[512];
    wx_router_t *r = wx_router_new(c, err, sizeof(err));

    if (r == NULL) {
        fprintf(stderr, "wxfcgi: %s\n", err);
        return -1;
    }
    printf("routes, tried in this order:\n");
    wx_router_print(r, stdout);
    wx_router_free(r);
    return 0;
}

int main(int argc, char **argv)
{
    wx_cli_t cli = { "wxfcgi", usage_text, &wxfcgi_spec, 1, NULL, NULL, 0 };
    wx_cli_opt_t opts[] = {
        { "route-test", 'r', NULL }, { "account", 'a', NULL }, { NULL, 0, NULL }
    };
    const wxfcgi_conf_t *c;
    wx_config_t *cfg;
    char err[512];
    int rc;
    wx_gw_t *probe;

    if ((rc = wx_cli_start_opt(&cli, argc, argv, &cfg, opts)) >= 0)
        return rc;
    c = wxfcgi_conf(cfg);
    rc = WX_EXIT_FAIL;
    if (opts[1].arg && opts[0].arg == NULL) {
        fprintf(stderr, "wxfcgi: -a names the account of -r MESSAGE.xml: give -r too\n");
        rc = WX_EXIT_USAGE;
        goto done;
    }
    if (opts[0].arg) {
        if (cli.test && print_routes(c) != 0)
            goto done;
        rc = route_test(c, opts[0].arg, opts[1].arg);
        goto done;
    }
    if (c->fcgi.dedup_slots && mkdir(c->fcgi.state_dir, 0700) != 0 && errno != EEXIST) {
        char hint[512];
        int e = errno;

        fprintf(stderr, "wxfcgi: %s: [wxfcgi] state_dir %s: %s%s\n", cli.path,
                c->fcgi.state_dir, strerror(e),
                wx_dir_hint(c->fcgi.state_dir, 1, e, hint, sizeof(hint)));
        goto done;
    }
    /* Catch what only a built gateway can (unknown handler, the state
     * directory) before any socket is bound or worker forked. */
    probe = wx_gw_new(c, err, sizeof(err));
    if (probe == NULL) {
        fprintf(stderr, "wxfcgi: %s: %s\n", cli.path, err);
        goto done;
    }
    wx_gw_free(probe);
    if (cli.test) {
        printf("wxfcgi: %s is valid: mode %s, handler %s, listen %s, %u workers, "
               "max_body %zu, timestamp_window %u\n", cli.path, wx_mode_name(c->wx.mode),
               c->fcgi.handler, c->fcgi.srv.listen, c->fcgi.srv.workers, c->fcgi.max_body,
               c->fcgi.timestamp_window);
        print_accounts(c);
        if (print_routes(c) != 0)
            goto done;
        rc = WX_EXIT_OK;
        goto done;
    }
    snprintf(err, sizeof(err), " (mode %s, handler %s)", wx_mode_name(c->wx.mode),
             c->fcgi.handler);
    return wx_fcgi_main(&wxfcgi_app, &cli, cfg, err);

done:
    wx_config_free(cfg);
    return rc;
}
