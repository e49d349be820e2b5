/*
 * main.c - wxfcgi, the FastCGI responder for WeChat's /wx callbacks.
 *
 * Under spawn-fcgi the listening socket is fd 0 and each process is one
 * worker; otherwise wxfcgi binds [wxfcgi] listen itself and runs the
 * prefork master.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wx/dirhint.h"
#include "wx/config.h"
#include "wx/gateway.h"
#include "wx/log.h"
#include "wx/net.h"
#include "wxfcgi.h"

#ifndef WX_VERSION
#define WX_VERSION "0.1.0"
#endif

static const char usage_text[] =
"Usage: wxfcgi -c FILE [-p PIDFILE] [-t]\n"
"       wxfcgi -h | -V\n"
"\n"
"The FastCGI responder for a WeChat Official Account's /wx URL: it verifies\n"
"each callback's signature, parses the XML message as it streams in, runs the\n"
"handler and writes the passive reply.\n"
"\n"
"Options:\n"
"  -c, --config FILE    the INI config file (required; see wx.ini)\n"
"  -p, --pidfile FILE   standalone mode: write the master's pid to FILE\n"
"  -t, --test           check the config, print a summary and exit\n"
"  -h, --help           show this help and exit\n"
"  -V, --version        show the version and exit\n"
"\n"
"Modes:\n"
"  Under spawn-fcgi (fd 0 is a listening socket) every process is one worker:\n"
"      spawn-fcgi -s /run/wxfcgi.sock -F 4 -- wxfcgi -c /etc/wxfcgi/wx.ini\n"
"  Otherwise wxfcgi binds [wxfcgi] listen (unix:/path or tcp:host:port),\n"
"  preforks [wxfcgi] workers processes and supervises them in the foreground.\n"
"\n"
"Signals (standalone master):\n"
"  TERM, INT   stop: workers finish the requests in flight, then exit\n"
"  HUP         reload the config: new workers start, old ones finish and exit\n"
"  Under spawn-fcgi, HUP makes each worker reload the config in place.\n"
"\n"
"Secrets: [wx] token may also come from token_file or the WX_TOKEN\n"
"environment variable (which wins); never from the command line.\n"
"\n"
"Exit status: 0 on a clean stop, 1 on a config or runtime error,\n"
"2 on a usage error.\n";

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config",  required_argument, NULL, 'c' },
        { "pidfile", required_argument, NULL, 'p' },
        { "test",    no_argument,       NULL, 't' },
        { "help",    no_argument,       NULL, 'h' },
        { "version", no_argument,       NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    const char *path = NULL, *pidfile = NULL;
    wx_config_t *cfg;
    char err[512];
    int opt, test = 0, rc;
    wx_gw_t *probe;

    while ((opt = getopt_long(argc, argv, "c:p:thV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 'p': pidfile = optarg; break;
        case 't': test = 1; break;
        case 'h': fputs(usage_text, stdout); return 0;
        case 'V': printf("wxfcgi %s\n", WX_VERSION); return 0;
        default:
            fputs("Try 'wxfcgi --help' for more information.\n", stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "wxfcgi: unexpected argument '%s'\n"
                "Try 'wxfcgi --help' for more information.\n", argv[optind]);
        return 2;
    }
    if (path == NULL) {
        fputs("wxfcgi: no config file: use -c FILE\n"
              "Try 'wxfcgi --help' for more information.\n", stderr);
        return 2;
    }

    cfg = malloc(sizeof(*cfg));
    if (cfg == NULL) {
        fputs("wxfcgi: out of memory\n", stderr);
        return 1;
    }
    if (wx_config_load(cfg, path, err, sizeof(err)) != WX_OK) {
        fprintf(stderr, "wxfcgi: %s\n", err);
        free(cfg);
        return 1;
    }
    if (cfg->dedup_slots && mkdir(cfg->state_dir, 0700) != 0 && errno != EEXIST) {
        char hint[512];
        int e = errno;

        fprintf(stderr, "wxfcgi: %s: [wxfcgi] state_dir %s: %s%s\n", path,
                cfg->state_dir, strerror(e), wx_dir_hint(cfg->state_dir, 1, e, hint, sizeof(hint)));
        rc = 1;
        goto done;
    }
    /* Catch what only a built gateway can (unknown handler, the state
     * directory) before any socket is bound or worker forked. */
    probe = wx_gw_new(cfg, err, sizeof(err));
    if (probe == NULL) {
        fprintf(stderr, "wxfcgi: %s: %s\n", path, err);
        rc = 1;
        goto done;
    }
    wx_gw_free(probe);
    if (test) {
        printf("wxfcgi: %s is valid: mode %s, handler %s, listen %s, %u workers, "
               "max_body %zu, timestamp_window %u\n", path, wx_mode_name(cfg->mode),
               cfg->handler, cfg->listen, cfg->workers, cfg->max_body,
               cfg->timestamp_window);
        rc = 0;
        goto done;
    }
    if (wx_log_open(cfg->log, "wxfcgi", cfg->log_level) != 0) {
        fprintf(stderr, "wxfcgi: cannot open log %s: %s\n", cfg->log, strerror(errno));
        rc = 1;
        goto done;
    }

    wx_log(WX_LOG_INFO, "%s (mode %s, handler %s)",
           wx_is_listening_socket(0) ? "worker under spawn-fcgi" : "standalone master",
           wx_mode_name(cfg->mode), cfg->handler);
    rc = wx_fcgi_run(&wxfcgi_app, cfg, pidfile);
    wx_log_close();
    return rc;

done:
    wx_config_free(cfg);
    free(cfg);
    return rc;
}
