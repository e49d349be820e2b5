/*
 * metrics.c - wxctl metrics and wxctl status: a server's metrics or its
 * pool's status page, asked for on its own socket.  wxfcgi and wxproxy
 * are asked as nginx would, with one FastCGI request for [SECTION]
 * metrics_path (REMOTE_ADDR 127.0.0.1: whoever may open the socket may
 * read the page); wxtoken with the line METRICS; wxsim with a request for
 * /sim/metrics on its socket ([wxsim] listen).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wx/core/io.h"
#include "wx/core/net.h"
#include "wx/server/fcgi_call.h"
#include "wxctl.h"

/* One GET of 'path?query' over FastCGI; the answer's body to stdout.
 * 0, or an exit status (the error said). */
static int fcgi_get(const char *listen, const char *path, const char *query)
{
    wx_fcgi_answer_t ans;
    char err[256];

    if (strlen(path) > 200 || strlen(query) > 200)
        return WXCTL_EXIT_USAGE;
    if (wx_fcgi_call(listen, "GET", path, query, NULL, 0, NULL, &ans, err, sizeof(err)) != 0) {
        fprintf(stderr, "wxctl: %s: %s\n", listen, err);
        return WXCTL_EXIT_TRANSPORT;
    }
    if (ans.status != 200) {
        fprintf(stderr, "wxctl: %s%s: status %d%s\n", listen, path, ans.status,
                ans.status == 403 ? " (not in metrics_allow)" : "");
        free(ans.body);
        return WXCTL_EXIT_REFUSED;
    }
    fwrite(ans.body, 1, ans.len, stdout);
    free(ans.body);
    return 0;
}

static int wxtoken_metrics(const wxctl_conf_t *cfg)
{
    const char *sock = wx_token_conf_sock(&cfg->tok);
    char listen[256], buf[4096];
    ssize_t got;
    int fd, any = 0;

    snprintf(listen, sizeof(listen), "unix:%s", sock);
    if ((fd = wx_connect(listen)) < 0) {
        fprintf(stderr, "wxctl: wxtoken %s: %s\n", sock, strerror(errno));
        return WXCTL_EXIT_TRANSPORT;
    }
    if (wx_write_all(fd, "METRICS\n", 8) != 0) {
        close(fd);
        return WXCTL_EXIT_TRANSPORT;
    }
    while ((got = read(fd, buf, sizeof(buf))) > 0) {
        if (!any && strncmp(buf, "ERR ", 4) == 0) {
            fprintf(stderr, "wxctl: wxtoken: %.*s", (int)got, buf);
            close(fd);
            return WXCTL_EXIT_REFUSED;
        }
        fwrite(buf, 1, (size_t)got, stdout);
        any = 1;
    }
    close(fd);
    return any ? 0 : WXCTL_EXIT_TRANSPORT;
}

int wxctl_metrics(const wxctl_conf_t *cfg, int status, int json, int argc, char **argv)
{
    const char *server = argc > 0 ? argv[0] : "wxfcgi";
    const wxctl_server_t *s;

    if (argc > 1)
        return wxctl_usage("%s takes one SERVER at most", status ? "status" : "metrics");
    if (strcmp(server, "wxtoken") == 0) {
        if (status)
            return wxctl_usage("status is the page of a pool: wxfcgi or wxproxy");
        return wxtoken_metrics(cfg);
    }
    if (strcmp(server, "wxsim") == 0) {
        if (status)
            return wxctl_usage("status is the page of a pool: wxfcgi or wxproxy");
        return fcgi_get(cfg->sim.listen, "/sim/metrics", "");
    }
    if (strcmp(server, "wxfcgi") == 0)
        s = &cfg->fcgi;
    else if (strcmp(server, "wxproxy") == 0)
        s = &cfg->proxy;
    else
        return wxctl_usage("unknown server '%s': wxfcgi, wxproxy, wxtoken or wxsim", server);
    if (s->metrics_path == NULL || s->metrics_path[0] == '\0') {
        fprintf(stderr, "wxctl: [%s] metrics_path is empty: %s keeps no metrics\n", server,
                server);
        return WXCTL_EXIT_USAGE;
    }
    return fcgi_get(s->listen, s->metrics_path, !status ? "" : json ? "json" : "status");
}
