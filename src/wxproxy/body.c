/* body.c - the caller's body, held for a retry: in memory up to
 * PX_MEM_BODY, beyond it in an unlinked file of state_dir (forward.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wx/core/io.h"
#include "wx/core/log.h"
#include "wxproxy.h"
#include "forward.h"

/* ---- the body --------------------------------------------------------------- */

static int spool_open(const char *dir)
{
    char tmpl[4200];
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
    /* No O_TMPFILE on this filesystem: a named file, unlinked at once. */
    snprintf(tmpl, sizeof(tmpl), "%s/body.XXXXXX", dir);
    fd = mkostemp(tmpl, O_CLOEXEC);
    if (fd >= 0)
        unlink(tmpl);
    return fd;
}

/* Read the caller's body.  0, or the status to refuse with (after
 * 'refuse' has been called). */
int px_read_body(px_t *px, FCGX_Request *rq, px_call_t *c, px_body_t *b)
{
    const char *cl = FCGX_GetParam("CONTENT_LENGTH", rq->envp);
    size_t max = px->cfg->px.max_body, want = 0, cap;
    char chunk[65536];
    int have_cl = 0;

    if (cl && *cl) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(cl, &end, 10);
        if (errno || *end || *cl == '-') {
            px_refuse(rq, c, 400, "bad_request", "", "bad Content-Length");
            return 400;
        }
        if (v > max) {
            px_refuse(rq, c, 413, "body_too_large", "",
                      "the body is over %zu bytes ([wxproxy] max_body)", max);
            return 413;
        }
        want = (size_t)v;
        have_cl = 1;
    }
    cap = have_cl && want < PX_MEM_BODY ? want : PX_MEM_BODY;
    b->mem = malloc(cap ? cap : 1);
    if (b->mem == NULL) {
        px_refuse(rq, c, 500, "internal", "", "out of memory");
        return 500;
    }
    for (;;) {
        int n = FCGX_GetStr(chunk, (int)sizeof(chunk), rq->in);

        if (n <= 0)
            break;
        if (b->len + (size_t)n > max) {
            px_refuse(rq, c, 413, "body_too_large", "",
                      "the body is over %zu bytes ([wxproxy] max_body)", max);
            return 413;
        }
        if (b->fd < 0 && b->len + (size_t)n > cap) {
            /* Over what memory holds: the rest, and what came so far, to
             * an unlinked file in state_dir. */
            b->fd = spool_open(px->cfg->px.state_dir);
            if (b->fd < 0 || wx_write_all(b->fd, b->mem, b->len) != 0) {
                wx_log(WX_LOG_ERROR, "cannot spool a body in %s: %s",
                       px->cfg->px.state_dir, strerror(errno));
                px_refuse(rq, c, 500, "internal", "", "cannot store the body");
                return 500;
            }
        }
        if (b->fd >= 0) {
            if (wx_write_all(b->fd, chunk, (size_t)n) != 0) {
                wx_log(WX_LOG_ERROR, "cannot spool a body in %s: %s",
                       px->cfg->px.state_dir, strerror(errno));
                px_refuse(rq, c, 500, "internal", "", "cannot store the body");
                return 500;
            }
        } else {
            memcpy(b->mem + b->len, chunk, (size_t)n);
        }
        b->len += (size_t)n;
    }
    if (have_cl && b->len != want) {
        px_refuse(rq, c, 400, "bad_request", "", "the body is shorter than its Content-Length");
        return 400;
    }
    return 0;
}

size_t px_on_read(char *buf, size_t size, size_t n, void *user)
{
    px_body_t *b = user;
    size_t want = size * n, left = b->len - b->off;

    if (want > left)
        want = left;
    if (want == 0)
        return 0;
    if (b->fd >= 0) {
        ssize_t r = pread(b->fd, buf, want, (off_t)b->off);

        if (r < 0)
            return CURL_READFUNC_ABORT;
        want = (size_t)r;
    } else {
        memcpy(buf, b->mem + b->off, want);
    }
    b->off += want;
    return want;
}
