/*
 * metrics.c - wxctl metrics and wxctl status: a server's metrics or its
 * pool's status page, asked for on its own socket.  wxfcgi and wxproxy
 * are asked as nginx would, with one FastCGI request for [SECTION]
 * metrics_path (REMOTE_ADDR 127.0.0.1: whoever may open the socket may
 * read the page); wxtoken with the line METRICS.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "wx/core/io.h"
#include "wxctl.h"

#define FCGI_BEGIN  1
#define FCGI_END    3
#define FCGI_PARAMS 4
#define FCGI_STDIN  5
#define FCGI_STDOUT 6
#define FCGI_STDERR 7

static int dial(const char *listen)
{
    int fd = -1;

    if (strncmp(listen, "unix:", 5) == 0) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (strlen(listen + 5) >= sizeof(sa.sun_path)) {
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(sa.sun_path, listen + 5, strlen(listen + 5) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
            close(fd);
            fd = -1;
        }
    } else if (strncmp(listen, "tcp:", 4) == 0) {
        char host[256];
        const char *colon = strrchr(listen + 4, ':');
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;

        if (colon == NULL || (size_t)(colon - listen - 4) >= sizeof(host)) {
            errno = EINVAL;
            return -1;
        }
        snprintf(host, sizeof(host), "%.*s", (int)(colon - listen - 4), listen + 4);
        if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) {
            errno = EHOSTUNREACH;
            return -1;
        }
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
        freeaddrinfo(ai);
    } else {
        errno = EINVAL;
    }
    return fd;
}

/* Read exactly 'len' bytes: 0, or -1 at an early end or an error. */
static int read_full(int fd, void *p, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t r = read(fd, (char *)p + got, len - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static size_t record(unsigned char *p, int type, const void *body, size_t len)
{
    p[0] = 1;
    p[1] = (unsigned char)type;
    p[2] = 0;
    p[3] = 1;                       /* request id 1 */
    p[4] = (unsigned char)(len >> 8);
    p[5] = (unsigned char)len;
    p[6] = p[7] = 0;
    if (len)
        memcpy(p + 8, body, len);
    return 8 + len;
}

static size_t param(unsigned char *p, const char *name, const char *value)
{
    size_t n = strlen(name), v = strlen(value);

    p[0] = (unsigned char)n;
    p[1] = (unsigned char)v;
    memcpy(p + 2, name, n);
    memcpy(p + 2 + n, value, v);
    return 2 + n + v;
}

/* One GET of 'path?query' over FastCGI; the answer's body to stdout.
 * 0, or an exit status (the error said). */
static int fcgi_get(const char *listen, const char *path, const char *query)
{
    static const unsigned char begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };   /* responder */
    unsigned char req[2048], params[1024], hdr[8], body[65536 + 256];
    size_t n = 0, pn = 0;
    char *out = NULL;
    size_t outlen = 0;
    int fd, rc = WXCTL_EXIT_TRANSPORT, done = 0;

    if (strlen(path) > 200 || strlen(query) > 200)
        return WXCTL_EXIT_USAGE;
    pn += param(params + pn, "REQUEST_METHOD", "GET");
    pn += param(params + pn, "DOCUMENT_URI", path);
    pn += param(params + pn, "SCRIPT_NAME", path);
    pn += param(params + pn, "QUERY_STRING", query);
    pn += param(params + pn, "REMOTE_ADDR", "127.0.0.1");
    n += record(req + n, FCGI_BEGIN, begin, sizeof(begin));
    n += record(req + n, FCGI_PARAMS, params, pn);
    n += record(req + n, FCGI_PARAMS, NULL, 0);
    n += record(req + n, FCGI_STDIN, NULL, 0);
    if ((fd = dial(listen)) < 0) {
        fprintf(stderr, "wxctl: %s: %s\n", listen, strerror(errno));
        return WXCTL_EXIT_TRANSPORT;
    }
    if (wx_write_all(fd, req, n) != 0)
        goto out;
    while (!done && read_full(fd, hdr, 8) == 0) {
        size_t len = (size_t)hdr[4] << 8 | hdr[5], total = len + hdr[6];

        if (read_full(fd, body, total) != 0)
            break;
        if (hdr[1] == FCGI_STDOUT && len) {
            char *grown = realloc(out, outlen + len + 1);

            if (grown == NULL)
                break;
            out = grown;
            memcpy(out + outlen, body, len);
            outlen += len;
            out[outlen] = '\0';
        } else if (hdr[1] == FCGI_STDERR && len) {
            fwrite(body, 1, len, stderr);
        } else if (hdr[1] == FCGI_END) {
            done = 1;
        }
    }
    if (!done || out == NULL) {
        fprintf(stderr, "wxctl: %s: the answer broke off\n", listen);
        goto out;
    }
    {
        char *sep = strstr(out, "\r\n\r\n");
        int status = 200;

        if (strncmp(out, "Status: ", 8) == 0)
            status = (int)strtol(out + 8, NULL, 10);
        if (sep == NULL || status != 200) {
            fprintf(stderr, "wxctl: %s%s: status %d%s\n", listen, path, status,
                    status == 403 ? " (not in metrics_allow)" : "");
            rc = WXCTL_EXIT_REFUSED;
            goto out;
        }
        fwrite(sep + 4, 1, outlen - (size_t)(sep + 4 - out), stdout);
    }
    rc = 0;
out:
    free(out);
    close(fd);
    return rc;
}

static int wxtoken_metrics(const wxctl_conf_t *cfg)
{
    const char *sock = wx_token_conf_sock(&cfg->tok);
    char listen[256], buf[4096];
    ssize_t got;
    int fd, any = 0;

    snprintf(listen, sizeof(listen), "unix:%s", sock);
    if ((fd = dial(listen)) < 0) {
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
    if (strcmp(server, "wxfcgi") == 0)
        s = &cfg->fcgi;
    else if (strcmp(server, "wxproxy") == 0)
        s = &cfg->proxy;
    else
        return wxctl_usage("unknown server '%s': wxfcgi, wxproxy or wxtoken", server);
    if (s->metrics_path == NULL || s->metrics_path[0] == '\0') {
        fprintf(stderr, "wxctl: [%s] metrics_path is empty: %s keeps no metrics\n", server,
                server);
        return WXCTL_EXIT_USAGE;
    }
    return fcgi_get(s->listen, s->metrics_path, !status ? "" : json ? "json" : "status");
}
