/* log.c - one write(2) per line to stderr, a file or syslog; or, when a
 * buffer is set, info lines in batches (wx_log_buffer). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "wx/core/io.h"
#include "wx/core/proc.h"
#include "wx/core/log.h"

wx_log_level_t wx_log_threshold = WX_LOG_INFO;

static int wx_log_fd = STDERR_FILENO;
static int wx_log_syslog;
static char wx_log_ident[32] = "wx";

/* Buffered info lines (wx_log_buffer): written when the buffer is full,
 * when a line is a second old, on wx_log_flush() and before any warning
 * or error, so that the order of lines is kept. */
static char    *wx_log_buf;
static size_t   wx_log_buf_cap, wx_log_buf_len;
static time_t   wx_log_buf_since;

static const char *const wx_level_names[WX_LOG__MAX] = {
    "debug", "info", "warn", "error"
};

int wx_log_level_parse(const char *s)
{
    int i;

    for (i = 0; i < WX_LOG__MAX; i++)
        if (strcmp(s, wx_level_names[i]) == 0)
            return i;
    return -1;
}

int wx_log_open(const char *target, const char *ident, wx_log_level_t level)
{
    int fd;

    snprintf(wx_log_ident, sizeof(wx_log_ident), "%s", ident ? ident : "wx");
    wx_log_threshold = level;
    if (target == NULL || strcmp(target, "stderr") == 0) {
        wx_log_close();
        return 0;
    }
    if (strcmp(target, "syslog") == 0) {
        wx_log_close();
        openlog(wx_log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
        wx_log_syslog = 1;
        return 0;
    }
    /* Open first, so that a failed reopen keeps the old target. */
    fd = open(target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    wx_log_close();
    wx_log_fd = fd;
    return 0;
}

void wx_log_flush(void)
{
    if (wx_log_buf_len) {
        (void)wx_write_all(wx_log_fd, wx_log_buf, wx_log_buf_len);
        wx_log_buf_len = 0;
    }
}

int wx_log_buffer(size_t bytes)
{
    char *nb = NULL;

    wx_log_flush();
    if (bytes) {
        nb = realloc(wx_log_buf, bytes);
        if (nb == NULL)
            return -1;
    } else {
        free(wx_log_buf);
    }
    wx_log_buf = nb;
    wx_log_buf_cap = bytes;
    return 0;
}

void wx_log_close(void)
{
    wx_log_flush();
    if (wx_log_syslog) {
        closelog();
        wx_log_syslog = 0;
    }
    if (wx_log_fd != STDERR_FILENO) {
        close(wx_log_fd);
        wx_log_fd = STDERR_FILENO;
    }
}

/* The line's prefix, "2024-01-02T03:04:05.678Z ident[pid] level: ", into
 * 'b'.  A line a request: the date and time are formatted once a second,
 * the rest without printf. */
static void log_prefix(wx_buf_t *b, wx_log_level_t level)
{
    static time_t sec = (time_t)-1;
    static char stamp[32];
    static size_t stamp_len;
    struct timespec ts;
    long ms;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != sec) {
        struct tm tm;

        gmtime_r(&ts.tv_sec, &tm);
        stamp_len = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
        sec = ts.tv_sec;
    }
    ms = ts.tv_nsec / 1000000L;
    wx_buf_add(b, stamp, stamp_len);
    wx_buf_add(b, (char[]){ '.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10),
                           (char)('0' + ms % 10), 'Z', ' ' }, 6);
    wx_buf_adds(b, wx_log_ident);
    wx_buf_add(b, "[", 1);
    wx_buf_addi64(b, (long long)wx_pid());
    wx_buf_add(b, "] ", 2);
    wx_buf_adds(b, wx_level_names[level]);
    wx_buf_add(b, ": ", 2);
}

/* Send the 'n' bytes of 'line' (room for one more) to the log. */
static void log_emit(wx_log_level_t level, char *line, size_t n)
{
    static const int prio[WX_LOG__MAX] = {
        LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR
    };

    if (wx_log_syslog) {
        line[n] = '\0';
        syslog(prio[level], "%s", line);
        return;
    }
    line[n++] = '\n';
    if (wx_log_buf_cap && level <= WX_LOG_INFO && n <= wx_log_buf_cap) {
        time_t now = time(NULL);

        if (wx_log_buf_len + n > wx_log_buf_cap)
            wx_log_flush();
        if (wx_log_buf_len == 0)
            wx_log_buf_since = now;
        memcpy(wx_log_buf + wx_log_buf_len, line, n);
        wx_log_buf_len += n;
        if (now - wx_log_buf_since >= 1)
            wx_log_flush();
        return;
    }
    wx_log_flush();
    /* A failed log write has nowhere to be reported; the request goes on. */
    (void)wx_write_all(wx_log_fd, line, n);
}

void wx_log_write(wx_log_level_t level, const char *fmt, ...)
{
    char line[1024];
    wx_buf_t b;
    va_list ap;
    int rc;

    if ((unsigned)level >= WX_LOG__MAX)
        level = WX_LOG_ERROR;
    /* The last byte is kept for the newline or the NUL. */
    wx_buf_init(&b, line, sizeof(line) - 1);
    if (!wx_log_syslog)
        log_prefix(&b, level);
    va_start(ap, fmt);
    rc = vsnprintf(line + b.len, sizeof(line) - b.len, fmt, ap);
    va_end(ap);
    if (rc > 0)
        b.len += (size_t)rc < sizeof(line) - 1 - b.len ? (size_t)rc : sizeof(line) - 1 - b.len;
    log_emit(level, line, b.len);
}

void wx_log_text(wx_log_level_t level, const char *text, size_t len)
{
    char line[1024];
    wx_buf_t b;

    if ((unsigned)level >= WX_LOG__MAX)
        level = WX_LOG_ERROR;
    wx_buf_init(&b, line, sizeof(line) - 1);
    if (!wx_log_syslog)
        log_prefix(&b, level);
    wx_buf_add(&b, text, len < sizeof(line) - 1 - b.len ? len : sizeof(line) - 1 - b.len);
    log_emit(level, line, b.len);
}

/* The bytes 'c' takes once cleaned. */
static size_t clean_width(unsigned char c)
{
    return (c >= 0x20 && c < 0x7f && c != '\\') ? 1 : 4;
}

char *wx_log_clean(char *dst, size_t cap, wx_str_t s)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, o = 0, whole = 0, room;

    if (cap == 0)
        return dst;
    for (i = 0; i < s.len; i++)
        whole += clean_width((unsigned char)s.data[i]);
    /* When it all fits it is written whole; otherwise it is cut where
     * "..." still fits after it. */
    room = whole < cap ? cap - 1 : (cap > 4 ? cap - 4 : 0);
    for (i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.data[i];
        size_t need = clean_width(c);

        if (o + need > room)
            break;
        if (need == 1) {
            dst[o++] = (char)c;
        } else {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        }
    }
    if (i < s.len && cap > 4) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
    return dst;
}

char *wx_log_openid(char *dst, size_t cap, wx_str_t openid)
{
    char head[24], tail[16];

    if (openid.len == 0) {
        snprintf(dst, cap, "-");
    } else if (openid.len <= 8) {
        /* Too short to shorten and still hide: show its length only. */
        snprintf(dst, cap, "(%zu chars)", openid.len);
    } else {
        wx_buf_t b;

        wx_log_clean(head, sizeof(head), (wx_str_t){ 4, openid.data });
        wx_log_clean(tail, sizeof(tail),
                     (wx_str_t){ 2, openid.data + openid.len - 2 });
        wx_buf_init(&b, dst, cap - 1);
        wx_buf_adds(&b, head);
        wx_buf_add(&b, "..", 2);
        wx_buf_adds(&b, tail);
        dst[b.len] = '\0';
    }
    return dst;
}
