/*
 * wx/core/log.h - logging to stderr, a file or syslog.
 *
 * One write(2) per line, so lines from several workers appending to one
 * file do not interleave.  Below the configured level the arguments are not
 * even formatted.  Text that came from the network must pass through
 * wx_log_clean() first; an OpenID through wx_log_openid(): no log line ever
 * carries a secret or a whole OpenID.
 */
#ifndef WX_LOG_H
#define WX_LOG_H

#include <stddef.h>
#include "wx/core/str.h"

typedef enum wx_log_level {
    WX_LOG_DEBUG,
    WX_LOG_INFO,
    WX_LOG_WARN,
    WX_LOG_ERROR,
    WX_LOG__MAX
} wx_log_level_t;

extern wx_log_level_t wx_log_threshold;

/* 'target' is "stderr", "syslog" or a file path (opened for append).
 * 0 on success, -1 with errno set when the file cannot be opened. */
int wx_log_open(const char *target, const char *ident, wx_log_level_t level);
void wx_log_close(void);

/* Keep info and debug lines in a buffer of 'bytes' (0: write each line
 * at once, the default) and write them in one go: when it is full, when
 * its oldest line is a second old, before a warning or an error, and on
 * wx_log_flush(), which a server calls when it goes idle.  Not for
 * syslog.  0, or -1 when out of memory. */
int wx_log_buffer(size_t bytes);
void wx_log_flush(void);

/* Parse "debug", "info", "warn" or "error"; -1 when unknown. */
int wx_log_level_parse(const char *s);

void wx_log_write(wx_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The same for a message already made: 'len' bytes of 'text' (cleaned
 * as above), cut to what a line holds.  For the line of every request:
 * no printf. */
void wx_log_text(wx_log_level_t level, const char *text, size_t len);

#define wx_log(level, ...)                                  \
    do {                                                    \
        if ((level) >= wx_log_threshold)                    \
            wx_log_write((level), __VA_ARGS__);             \
    } while (0)

/* Copy at most cap-1 bytes of 's' into 'dst', each byte outside printable
 * ASCII written as \xHH, and truncated with "..." when too long.  Returns
 * dst, always NUL-terminated (cap >= 8). */
char *wx_log_clean(char *dst, size_t cap, wx_str_t s);

/* A shortened OpenID: its first 4 and last 2 characters ("oAbc..yz"), or
 * "-" when absent.  Returns dst (cap >= 16). */
char *wx_log_openid(char *dst, size_t cap, wx_str_t openid);

#endif
