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
#include "wxfcgi/gateway.h"
#include "wxfcgi.h"

static const char usage_text[] =
"Usage: wxfcgi -c FILE [-p PIDFILE] [-t]\n"
"       wxfcgi -h | -V\n"
"\n"
"The FastCGI responder for a WeChat Official Account's /wx URL: it verifies\n"
"each callback's signature, parses the XML message as it streams in, runs the\n"
"handler and writes the passive reply.\n"
"\n"
"Options:\n"
WX_CLI_HELP_CONFIG WX_CLI_HELP_PIDFILE WX_CLI_HELP_COMMON
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

int main(int argc, char **argv)
{
    wx_cli_t cli = { "wxfcgi", usage_text, &wxfcgi_spec, 1, NULL, NULL, 0 };
    const wxfcgi_conf_t *c;
    wx_config_t *cfg;
    char err[512];
    int rc;
    wx_gw_t *probe;

    if ((rc = wx_cli_start(&cli, argc, argv, &cfg)) >= 0)
        return rc;
    c = wxfcgi_conf(cfg);
    rc = WX_EXIT_FAIL;
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
