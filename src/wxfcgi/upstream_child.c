/*
 * upstream_child.c - the process that makes one business call (upstream.h).
 *
 * The child writes its record (a kind byte, 'A' answer or 'E' error, then
 * the body or the reason) to its end of the socketpair and waits for the
 * worker's one-byte acknowledgement.  EOF instead means the worker gave
 * up: the answer is late, and the child delivers it itself
 * (upstream_late.c).  It ignores TERM, INT, HUP and QUIT: a worker that
 * stops leaves it to finish within its own timeouts.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wx/core/dynbuf.h"
#include "wx/core/io.h"
#include "wx/core/log.h"
#include "wx/core/signals.h"
#include "wxfcgi/upstream.h"

/* How long a child waits for the worker's acknowledgement once it has
 * written the answer: the worker decides within its budget, so this only
 * matters if the worker is stopped (SIGSTOP) or wedged. */
#define WX_UP_ACK_WAIT_MS       15000
/* How often a retry's child looks whether the call it waits for is done. */
#define WX_UP_SHARE_POLL_MS     10

/* The child inherits the worker's sockets: the listening one would keep
 * the address busy after the worker is gone, the FastCGI connection is
 * none of its business.  Stream sockets from fd 3 up and any listening
 * socket go (fd 0 under spawn-fcgi becomes /dev/null). */
static void close_inherited(int keep)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        int fd, type = 0, listening = 0;
        socklen_t l = sizeof(type);
        struct stat st;
        char *end;
        long n;

        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        n = strtol(e->d_name, &end, 10);
        fd = (int)n;
        if (*end != '\0' || n > INT_MAX || fd == keep || fd == dirfd(d) || fd == 1 ||
            fd == 2)
            continue;
        if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) ||
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) != 0)
            continue;
        l = sizeof(listening);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l) != 0)
            listening = 0;
        if (fd == 0) {
            int nul = listening ? open("/dev/null", O_RDONLY) : -1;

            if (nul > 0) {
                dup2(nul, 0);
                close(nul);
            }
        } else if (listening || type == SOCK_STREAM) {
            close(fd);
        }
    }
    closedir(d);
}

/* The child of wx_sig_fork() starts with the default handlers, no
 * self-pipe and the signals blocked: the stop signals are ignored before
 * they are unblocked, so one that came in between is dropped, not fatal
 * to the call. */
static void child_signals(void)
{
    static const int ignored[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGPIPE };
    struct sigaction sa;
    size_t i;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
        sigaction(ignored[i], &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
    wx_sig_unblock();
}

/* Whether the worker took the record: its one-byte acknowledgement, rather
 * than EOF (it gave up: the answer is late). */
static int acknowledged(int fd)
{
    struct pollfd pfd = { fd, POLLIN, 0 };
    char c;
    int rc;

    do
        rc = poll(&pfd, 1, WX_UP_ACK_WAIT_MS);
    while (rc < 0 && errno == EINTR);
    return rc > 0 && read(fd, &c, 1) == 1 && c == 'k';
}

/* Hand the record to the worker: whether it took it. */
static int hand_over(int fd, const char *rec, size_t len)
{
    return wx_write_all(fd, rec, len) == 0 && shutdown(fd, SHUT_WR) == 0 && acknowledged(fd);
}

/* Another child of this message is calling (its worker died, this is the
 * retry): wait for its record.  1 with it in 'rec'; 0 when that child died
 * too (the call is ours now); -1 when our worker gave up waiting (EOF):
 * the other child delivers. */
static int await_first(wx_up_share_t *sh, int fd, wx_pool_t *pool, wx_str_t *rec)
{
    for (;;) {
        struct pollfd pfd = { fd, POLLIN, 0 };

        if (poll(&pfd, 1, WX_UP_SHARE_POLL_MS) > 0)
            return -1;
        switch (wx_up_share_begin(sh, pool, rec)) {
        case WX_UP_SHARE_DONE:
            return 1;
        case WX_UP_SHARE_CALL:
            return 0;
        case WX_UP_SHARE_WAIT:
            break;
        }
    }
}

/* The record of another child of this message: its answer is ours to give
 * only if that child has not delivered it (nor will). */
static void adopt(const wx_up_t *up, int fd, wx_up_share_t *sh, wx_str_t rec,
                  const wx_up_job_t *job)
{
    if (rec.len == 0 || rec.data[0] != 'A') {
        hand_over(fd, rec.len ? rec.data : "S", rec.len ? rec.len : 1);
        return;
    }
    if (!wx_up_share_deliver(sh, job->pool)) {
        hand_over(fd, "S", 1);
        return;
    }
    wx_log(WX_LOG_INFO, "upstream: %s answered by the business call of a dead worker's "
           "delivery", job->what);
    if (!hand_over(fd, rec.data, rec.len))
        wx_up_deliver_late(up, rec.data + 1, rec.len - 1, job);
}

/* Call the business service; share the record, hand it over, deliver it
 * late when the worker did not take it. */
static void call(const wx_up_t *up, int fd, wx_up_share_t *sh, const char *json,
                 const wx_up_job_t *job)
{
    wx_dynbuf_t b;
    char why[256], *rec = NULL;
    size_t len = 0;
    int ok;

    wx_dynbuf_init(&b, WX_UP_MAX_ANSWER);
    if (wx_dynbuf_reserve(&b) != 0) {
        snprintf(why, sizeof(why), "out of memory");
        ok = 0;
    } else {
        ok = wx_up_call(&up->cfg->up, job->account_name, json, &b, why, sizeof(why)) == 0;
    }
    /* One contiguous record: the kind byte, then the answer or reason. */
    if ((rec = malloc((ok ? b.len : strlen(why)) + 1)) != NULL) {
        rec[0] = ok ? 'A' : 'E';
        memcpy(rec + 1, ok ? b.data : why, ok ? b.len : strlen(why));
        len = (ok ? b.len : strlen(why)) + 1;
    }
    if (sh && rec)
        wx_up_share_finish(sh, rec, len);
    if (rec == NULL)
        ok = 0;
    else if (ok && sh && !wx_up_share_deliver(sh, job->pool))
        ok = 0, rec[0] = 'S', len = 1;      /* a retry's child adopted it */
    if (rec && hand_over(fd, rec, len))
        ok = 0;                 /* the worker answered with it */
    if (ok)
        wx_up_deliver_late(up, b.data, b.len, job);
    else if (rec && rec[0] == 'E')
        wx_log(WX_LOG_ERROR, "upstream: business call for %s failed after the budget: %s",
               job->what, why);
    free(rec);
}

void wx_up_child_run(const wx_up_t *up, int fd, const char *json, const wx_up_job_t *job)
{
    wx_up_share_state_t st = WX_UP_SHARE_CALL;
    wx_str_t rec = WX_NULL_STR;
    wx_up_share_t *sh;

    child_signals();
    prctl(PR_SET_NAME, "wxfcgi-upstream", 0, 0, 0);
    close_inherited(fd);
    /* SIGPIPE is ignored from here: a worker gone makes a write fail. */
    sh = wx_up_share_open(up->cfg, job->msg, job->account);
    if (sh)
        st = wx_up_share_begin(sh, job->pool, &rec);
    if (st == WX_UP_SHARE_WAIT) {
        int r = await_first(sh, fd, job->pool, &rec);

        if (r < 0) {
            /* A shared store cannot tell a call on a dead host from a
             * slow one: say what may have happened. */
            wx_log(WX_LOG_WARN, "upstream: %s: the business call of an earlier delivery has "
                   "not answered yet; it answers when it can, and if its host died the "
                   "message is lost", job->what);
            _exit(0);
        }
        st = r ? WX_UP_SHARE_DONE : WX_UP_SHARE_CALL;
    }
    if (st == WX_UP_SHARE_DONE)
        adopt(up, fd, sh, rec, job);
    else
        call(up, fd, sh, json, job);
    _exit(0);
}
