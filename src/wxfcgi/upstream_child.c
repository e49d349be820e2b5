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

void wx_up_child_run(const wx_up_t *up, int fd, const char *json, const wx_msg_t *msg,
                     wx_pool_t *pool, time_t arrived, const char *what)
{
    wx_dynbuf_t b;
    char why[256];
    int ok;

    child_signals();
    prctl(PR_SET_NAME, "wxfcgi-upstream", 0, 0, 0);
    close_inherited(fd);
    /* SIGPIPE is ignored from here: a worker gone makes a write fail. */
    wx_dynbuf_init(&b, WX_UP_MAX_ANSWER);
    if (wx_dynbuf_reserve(&b) != 0) {
        snprintf(why, sizeof(why), "out of memory");
        ok = 0;
    } else {
        ok = wx_up_call(&up->cfg->up, json, &b, why, sizeof(why)) == 0;
    }
    if (wx_write_all(fd, ok ? "A" : "E", 1) == 0 &&
        wx_write_all(fd, ok ? b.data : why, ok ? b.len : strlen(why)) == 0 &&
        shutdown(fd, SHUT_WR) == 0 && acknowledged(fd))
        _exit(0);               /* the worker answered with it */
    if (ok)
        wx_up_deliver_late(up, b.data, b.len, msg, pool, arrived, what);
    else
        wx_log(WX_LOG_ERROR, "upstream: business call for %s failed after the budget: %s",
               what, why);
    _exit(0);
}
