/* net.c - listening sockets for the servers of the suite (wx/core/net.h). */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "wx/core/log.h"
#include "wx/core/net.h"

int wx_listen(const char *where, unsigned mode)
{
    int fd = -1, one = 1;

    if (strncmp(where, "unix:", 5) == 0) {
        struct sockaddr_un sun;
        const char *path = where + 5;
        struct stat st;

        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            goto fail;
        /* A socket file left by a dead master is removed; one that still
         * answers belongs to a live server and is left alone. */
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
            if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
                wx_log(WX_LOG_ERROR, "%s: another server is listening there", path);
                close(fd);
                return -1;
            }
            unlink(path);
        }
        if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
            goto fail;
        if (chmod(path, (mode_t)mode) != 0)
            goto fail;
    } else {
        struct addrinfo hints, *ai = NULL;
        char host[256];
        const char *spec = where + 4, *colon = strrchr(spec, ':');
        size_t hlen = (size_t)(colon - spec);
        int rc;

        if (hlen >= sizeof(host))
            hlen = sizeof(host) - 1;
        memcpy(host, spec, hlen);
        host[hlen] = '\0';
        if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
            memmove(host, host + 1, hlen - 2);
            host[hlen - 2] = '\0';
        }
        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE;
        rc = getaddrinfo(host, colon + 1, &hints, &ai);
        if (rc != 0) {
            wx_log(WX_LOG_ERROR, "listen %s: %s", where, gai_strerror(rc));
            return -1;
        }
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
            bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            freeaddrinfo(ai);
            goto fail;
        }
        freeaddrinfo(ai);
    }
    /* The kernel caps the backlog at net.core.somaxconn. */
    if (listen(fd, 4096) != 0)
        goto fail;
    return fd;
fail:
    wx_log(WX_LOG_ERROR, "listen %s: %s", where, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

int wx_is_listening_socket(int fd)
{
    int v = 0;
    socklen_t len = sizeof(v);

    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v;
}

int wx_listen_valid(const char *l)
{
    const char *colon;
    char *end;
    unsigned long port;

    if (strncmp(l, "unix:", 5) == 0)
        return l[5] == '/' && strlen(l + 5) < 108;
    if (strncmp(l, "tcp:", 4) != 0)
        return 0;
    colon = strrchr(l + 4, ':');
    if (colon == NULL || colon == l + 4 || colon[1] < '0' || colon[1] > '9')
        return 0;
    errno = 0;
    port = strtoul(colon + 1, &end, 10);
    return errno == 0 && *end == '\0' && port > 0 && port <= 65535;
}

int wx_url_is_http(const char *url)
{
    return url != NULL && (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0);
}

int wx_connect(const char *listen)
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
