/* token.c - the access-token store file and the report client (wx/token.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "wx/dirhint.h"
#include "wx/sign.h"
#include "wx/str.h"
#include "wx/token.h"

#define WX_TOKEN_MAGIC  "wxtoken1"
#define WX_TOKEN_LINE   (WX_TOKEN_MAX + 160)

/* A token travels in a line of text: nothing but printable ASCII without
 * spaces may be in it. */
static int token_ok(const char *t)
{
    size_t n = 0;

    for (; *t; t++, n++)
        if (*t <= ' ' || *t > '~')
            return 0;
    return n > 0 && n <= WX_TOKEN_MAX;
}

static void check_hex(const char *text, size_t len, char hex[WX_SIGN_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    wx_str_t part = { len, text };
    unsigned char md[20];
    int i;

    if (wx_sha1_parts(&part, 1, md) != WX_OK) {
        hex[0] = '\0';
        return;
    }
    for (i = 0; i < 20; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[WX_SIGN_HEX_LEN] = '\0';
}

wx_err_t wx_token_read(const char *path, time_t now, wx_token_t *tok,
                       char *err, size_t errlen)
{
    char line[WX_TOKEN_LINE + 2], hex[WX_SIGN_HEX_LEN + 1], want[WX_SIGN_HEX_LEN + 1];
    char magic[16], token[WX_TOKEN_MAX + 2];
    unsigned long version;
    long long obtained, expires;
    ssize_t n;
    size_t len;
    int fd, end = 0;
    char *sp;

    memset(tok, 0, sizeof(*tok));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "token store %s: %s", path, strerror(errno));
        return errno == ENOENT ? WX_EMISSING : WX_ESYS;
    }
    n = read(fd, line, sizeof(line) - 1);
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "token store %s: %s", path, strerror(errno));
        return WX_ESYS;
    }
    line[n] = '\0';
    len = (size_t)n;
    if (len == 0 || line[len - 1] != '\n' || strlen(line) != len) {
        snprintf(err, errlen, "token store %s is damaged (not one complete line)", path);
        return WX_EINVAL;
    }
    line[--len] = '\0';
    /* The check covers everything before the last space. */
    sp = strrchr(line, ' ');
    if (sp == NULL || strlen(sp + 1) != WX_SIGN_HEX_LEN) {
        snprintf(err, errlen, "token store %s is damaged (no check)", path);
        return WX_EINVAL;
    }
    check_hex(line, (size_t)(sp - line), want);
    memcpy(hex, sp + 1, sizeof(hex));
    if (strcmp(hex, want) != 0) {
        snprintf(err, errlen, "token store %s is damaged (check mismatch)", path);
        return WX_EINVAL;
    }
    *sp = '\0';
    if (sscanf(line, "%15s %lu %lld %lld %513s%n", magic, &version, &obtained, &expires,
               token, &end) != 5 || line[end] != '\0' ||
        strcmp(magic, WX_TOKEN_MAGIC) != 0 || !token_ok(token) || expires <= obtained) {
        snprintf(err, errlen, "token store %s is damaged (bad fields)", path);
        return WX_EINVAL;
    }
    tok->version = version;
    tok->obtained = (time_t)obtained;
    tok->expires = (time_t)expires;
    memcpy(tok->token, token, strlen(token) + 1);
    if (tok->expires <= now) {
        snprintf(err, errlen, "token store %s: the token expired %lld s ago", path,
                 (long long)(now - tok->expires));
        return WX_ESTALE;
    }
    return WX_OK;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

wx_err_t wx_token_write(const char *path, const wx_token_t *tok,
                        char *err, size_t errlen)
{
    char line[WX_TOKEN_LINE + 64], hex[WX_SIGN_HEX_LEN + 1], tmp[4096], dir[4096];
    int fd = -1, dfd, n;

    if (!token_ok(tok->token)) {
        snprintf(err, errlen, "refusing to store a token with blanks or controls in it");
        return WX_EINVAL;
    }
    n = snprintf(line, sizeof(line), "%s %lu %lld %lld %s", WX_TOKEN_MAGIC, tok->version,
                 (long long)tok->obtained, (long long)tok->expires, tok->token);
    check_hex(line, (size_t)n, hex);
    n += snprintf(line + n, sizeof(line) - (size_t)n, " %s\n", hex);
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp)) {
        snprintf(err, errlen, "token store path too long");
        return WX_EINVAL;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        char hint[512];
        int e = errno;

        snprintf(err, errlen, "token store %s: %s%s", tmp, strerror(e),
                 wx_dir_hint(path, 0, e, hint, sizeof(hint)));
        return WX_ESYS;
    }
    if (fchmod(fd, 0640) != 0 || write_all(fd, line, (size_t)n) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "token store %s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        snprintf(err, errlen, "token store %s: %s", tmp, strerror(errno));
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "token store %s: rename: %s", path, strerror(errno));
        goto fail;
    }
    /* The rename itself is durable once the directory is. */
    snprintf(dir, sizeof(dir), "%s", path);
    dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return WX_OK;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return WX_ESYS;
}

char *wx_token_brief(char *dst, size_t cap, const char *token)
{
    size_t n = strlen(token);

    snprintf(dst, cap, "%.6s...(%zu chars)", n > 12 ? token : "", n);
    return dst;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until 'fd' is ready for 'events', at most until 'deadline' (ms of
 * CLOCK_MONOTONIC).  0, or -1 on timeout or error. */
static int wait_fd(int fd, short events, long long deadline)
{
    struct pollfd p = { .fd = fd, .events = events };
    long long left;
    int rc;

    for (;;) {
        left = deadline - now_ms();
        if (left <= 0)
            return -1;
        rc = poll(&p, 1, (int)left);
        if (rc > 0)
            return 0;
        if (rc == 0 || errno != EINTR)
            return -1;
    }
}

wx_err_t wx_token_ask(const char *sock, const char *request, unsigned timeout_ms,
                      wx_token_t *tok, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    long long deadline = now_ms() + timeout_ms;
    char buf[WX_TOKEN_LINE + 2], token[WX_TOKEN_MAX + 2];
    unsigned long version;
    long long expires;
    size_t got = 0, len;
    wx_err_t rc = WX_ESYS;
    int fd, end = 0;

    memset(tok, 0, sizeof(*tok));
    if (strlen(sock) >= sizeof(sa.sun_path) || strlen(request) > WX_TOKEN_MAX + 16) {
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
    snprintf(buf, sizeof(buf), "%s\n", request);
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
        r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
        if (memchr(buf, '\n', got) || got == sizeof(buf) - 1)
            break;
    }
    buf[got] = '\0';
    if (got == 0 || buf[got - 1] != '\n') {
        snprintf(err, errlen, "wxtoken at %s: no answer", sock);
        rc = WX_EUPSTREAM;
        goto out;
    }
    buf[got - 1] = '\0';
    if (strncmp(buf, "ERR ", 4) == 0) {
        snprintf(err, errlen, "%s", buf + 4);
        rc = WX_EUPSTREAM;
        goto out;
    }
    if (sscanf(buf, "OK %lu %lld %513s%n", &version, &expires, token, &end) != 3 ||
        buf[end] != '\0' || !token_ok(token)) {
        snprintf(err, errlen, "wxtoken at %s: unexpected answer", sock);
        rc = WX_EUPSTREAM;
        goto out;
    }
    tok->version = version;
    tok->expires = (time_t)expires;
    memcpy(tok->token, token, strlen(token) + 1);
    rc = WX_OK;
    goto out;
timeout:
    snprintf(err, errlen, "wxtoken at %s did not answer within %u ms", sock, timeout_ms);
    rc = WX_ETIMEOUT;
out:
    close(fd);
    return rc;
}
