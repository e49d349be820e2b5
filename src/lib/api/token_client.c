/* token_client.c - the client of wxtoken's report socket (wx/api/token_client.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "wx/api/token_client.h"
#include "wx/core/clock.h"

/* The longest line either way: a token and its numbers. */
#define WX_TOKEN_LINE   (WX_TOKEN_MAX + 160)

/* Wait until 'fd' is ready for 'events', at most until 'deadline' (ms of
 * CLOCK_MONOTONIC).  0, or -1 on timeout or error. */
static int wait_fd(int fd, short events, long long deadline)
{
    struct pollfd p = { .fd = fd, .events = events };
    long long left;
    int rc;

    for (;;) {
        left = deadline - wx_now_ms();
        if (left <= 0)
            return -1;
        rc = poll(&p, 1, (int)left);
        if (rc > 0)
            return 0;
        if (rc == 0 || errno != EINTR)
            return -1;
    }
}

/* Parse the answer line 'buf' ('got' bytes, NUL-terminated). */
static wx_err_t parse_answer(char *buf, size_t got, const char *sock, wx_token_t *tok,
                             char *err, size_t errlen)
{
    char token[WX_TOKEN_MAX + 2];
    unsigned long version;
    long long expires;
    int end = 0;

    if (got == 0 || buf[got - 1] != '\n') {
        snprintf(err, errlen, "wxtoken at %s: no answer", sock);
        return WX_EUPSTREAM;
    }
    buf[got - 1] = '\0';
    if (strncmp(buf, "ERR ", 4) == 0) {
        snprintf(err, errlen, "%s", buf + 4);
        return WX_EUPSTREAM;
    }
    if (sscanf(buf, "OK %lu %lld %513s%n", &version, &expires, token, &end) != 3 ||
        buf[end] != '\0' || !wx_token_valid(token)) {
        snprintf(err, errlen, "wxtoken at %s: unexpected answer", sock);
        return WX_EUPSTREAM;
    }
    tok->version = version;
    tok->expires = (time_t)expires;
    memcpy(tok->token, token, strlen(token) + 1);
    return WX_OK;
}

wx_err_t wx_token_ask(const char *sock, const char *request, unsigned timeout_ms,
                      wx_token_t *tok, char *err, size_t errlen)
{
    char buf[WX_TOKEN_LINE + 2];
    size_t got = 0;
    wx_err_t rc;

    memset(tok, 0, sizeof(*tok));
    rc = wx_token_ask_line(sock, request, timeout_ms, buf, sizeof(buf), &got, err, errlen);
    if (rc == WX_OK)
        rc = parse_answer(buf, got, sock, tok, err, errlen);
    explicit_bzero(buf, sizeof(buf));
    return rc;
}

wx_err_t wx_token_ask_line(const char *sock, const char *request, unsigned timeout_ms,
                           char *buf, size_t cap, size_t *gotp, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    long long deadline = wx_now_ms() + timeout_ms;
    size_t got = 0, len;
    wx_err_t rc = WX_ESYS;
    int fd;

    *gotp = 0;
    if (cap < WX_TOKEN_MAX + 32 || strlen(sock) >= sizeof(sa.sun_path) ||
        strlen(request) > WX_TOKEN_MAX + 16) {
        snprintf(err, errlen, "wxtoken socket path or request too long");
        return WX_EINVAL;
    }
    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return WX_ESYS;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS &&
        errno != EAGAIN) {
        snprintf(err, errlen, "cannot reach wxtoken at %s: %s", sock, strerror(errno));
        goto out;
    }
    snprintf(buf, cap, "%s\n", request);
    len = strlen(buf);
    while (got < len) {
        ssize_t w;

        if (wait_fd(fd, POLLOUT, deadline) != 0)
            goto timeout;
        w = send(fd, buf + got, len - got, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            snprintf(err, errlen, "wxtoken at %s: %s", sock, strerror(errno));
            goto out;
        }
        if (w > 0)
            got += (size_t)w;
    }
    got = 0;
    for (;;) {
        ssize_t r;

        if (wait_fd(fd, POLLIN, deadline) != 0)
            goto timeout;
        r = recv(fd, buf + got, cap - 1 - got, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
        if (memchr(buf, '\n', got) || got == cap - 1)
            break;
    }
    buf[got] = '\0';
    *gotp = got;
    rc = WX_OK;
    goto out;
timeout:
    snprintf(err, errlen, "wxtoken at %s did not answer within %u ms", sock, timeout_ms);
    rc = WX_ETIMEOUT;
out:
    close(fd);
    return rc;
}
