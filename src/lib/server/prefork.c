/* prefork.c - the prefork supervisor (see wx/server/prefork.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wx/core/log.h"
#include "wx/server/prefork.h"

#define BACKOFF_MIN_MS  100
#define BACKOFF_MAX_MS  10000
#define STABLE_SECS     30      /* a worker that lived this long resets its backoff */

typedef struct wx_slot {
    pid_t       pid;            /* 0: not running */
    unsigned    fails;          /* crashes in a row */
    long long   start_at_ms;    /* when to (re)start it; 0 = now */
    long long   started_ms;
} wx_slot_t;

static volatile sig_atomic_t m_stop, m_reload, m_child;
static int m_pipe[2] = { -1, -1 };

static void m_signal(int sig)
{
    int saved = errno;

    if (sig == SIGHUP)
        m_reload = 1;
    else if (sig == SIGCHLD)
        m_child = 1;
    else
        m_stop = 1;
    if (write(m_pipe[1], "", 1) < 0) {
        /* full: a wake-up is pending anyway */
    }
    errno = saved;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct wx_master {
    const wx_prefork_ops_t *ops;
    void           *ctx;
    int             listen_fd;
    wx_slot_t      *slots;          /* the current generation */
    unsigned        n_slots;
    pid_t          *old;            /* workers of earlier generations */
    unsigned        n_old, cap_old;
} wx_master_t;

static void spawn(wx_master_t *m, wx_slot_t *s)
{
    pid_t master = getpid(), pid;

    pid = fork();
    if (pid < 0) {
        wx_log(WX_LOG_ERROR, "fork: %s", strerror(errno));
        s->start_at_ms = now_ms() + BACKOFF_MAX_MS;
        return;
    }
    if (pid == 0) {
        int rc;

        close(m_pipe[0]);
        close(m_pipe[1]);
        rc = m->ops->worker(m->listen_fd, m->ctx, master);
        _exit(rc);
    }
    s->pid = pid;
    s->started_ms = now_ms();
    s->start_at_ms = 0;
}

static int track_old(wx_master_t *m, pid_t pid)
{
    if (m->n_old == m->cap_old) {
        unsigned cap = m->cap_old ? 2 * m->cap_old : 16;
        pid_t *n = realloc(m->old, cap * sizeof(*n));

        if (n == NULL)
            return -1;
        m->old = n;
        m->cap_old = cap;
    }
    m->old[m->n_old++] = pid;
    return 0;
}

static void describe_exit(char *buf, size_t len, int st)
{
    if (WIFSIGNALED(st))
        snprintf(buf, len, "killed by signal %d%s", WTERMSIG(st),
                 WCOREDUMP(st) ? " (core dumped)" : "");
    else
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
}

static void reap(wx_master_t *m, int stopping)
{
    char how[64];
    pid_t pid;
    int st;
    unsigned i;

    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (i = 0; i < m->n_old; i++) {
            if (m->old[i] == pid) {
                m->old[i] = m->old[--m->n_old];
                break;
            }
        }
        for (i = 0; i < m->n_slots; i++) {
            wx_slot_t *s = &m->slots[i];
            long long lived;

            if (s->pid != pid)
                continue;
            s->pid = 0;
            describe_exit(how, sizeof(how), st);
            if (stopping)
                break;
            lived = now_ms() - s->started_ms;
            if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
                /* Recycled after max_requests: replace at once. */
                s->fails = 0;
                s->start_at_ms = 0;
                wx_log(WX_LOG_DEBUG, "worker %ld %s", (long)pid, how);
                break;
            }
            if (lived >= STABLE_SECS * 1000)
                s->fails = 0;
            s->fails++;
            {
                long long delay = BACKOFF_MIN_MS;
                unsigned k;

                for (k = 1; k < s->fails && delay < BACKOFF_MAX_MS; k++)
                    delay *= 2;
                if (delay > BACKOFF_MAX_MS)
                    delay = BACKOFF_MAX_MS;
                s->start_at_ms = now_ms() + delay;
                wx_log(WX_LOG_WARN, "worker %ld %s; restarting in %lld ms",
                       (long)pid, how, delay);
            }
            break;
        }
    }
}

static unsigned running(const wx_master_t *m)
{
    unsigned i, n = m->n_old;

    for (i = 0; i < m->n_slots; i++)
        n += m->slots[i].pid != 0;
    return n;
}

static void signal_all(wx_master_t *m, int sig)
{
    unsigned i;

    for (i = 0; i < m->n_slots; i++)
        if (m->slots[i].pid)
            kill(m->slots[i].pid, sig);
    for (i = 0; i < m->n_old; i++)
        kill(m->old[i], sig);
}

/* HUP: a new generation on the new context, then the old one is told to
 * finish what it has and leave.  The socket stays open throughout. */
static void reload(wx_master_t *m)
{
    void *nctx = m->ops->reload ? m->ops->reload(m->ctx) : NULL;
    unsigned n = nctx ? m->ops->workers(nctx) : 0, i;
    wx_slot_t *nslots;

    if (nctx == NULL)
        return;
    nslots = calloc(n, sizeof(*nslots));
    if (nslots == NULL) {
        wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: out of memory");
        if (m->ops->release)
            m->ops->release(nctx);
        return;
    }
    for (i = 0; i < m->n_slots; i++) {
        if (m->slots[i].pid && track_old(m, m->slots[i].pid) != 0) {
            /* Cannot track it: stop it now rather than lose it. */
            kill(m->slots[i].pid, SIGTERM);
        }
    }
    /* The old workers have their own copy of the old context (fork). */
    if (m->ops->release)
        m->ops->release(m->ctx);
    free(m->slots);
    m->ctx = nctx;
    m->slots = nslots;
    m->n_slots = n;
    for (i = 0; i < m->n_slots; i++)
        spawn(m, &m->slots[i]);
    for (i = 0; i < m->n_old; i++)
        kill(m->old[i], SIGTERM);
    wx_log(WX_LOG_INFO, "reloaded: %u workers, %u finishing", m->n_slots, m->n_old);
}

int wx_prefork_run(int listen_fd, const wx_prefork_ops_t *ops, void *ctx)
{
    wx_master_t m;
    struct sigaction sa;
    long long deadline = 0;
    int status = 1;
    unsigned i;

    memset(&m, 0, sizeof(m));
    m.ops = ops;
    m.ctx = ctx;
    m.listen_fd = listen_fd;
    m_stop = m_reload = m_child = 0;
    if (pipe2(m_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        wx_log(WX_LOG_ERROR, "pipe: %s", strerror(errno));
        goto out;
    }
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sa.sa_handler = m_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    m.n_slots = ops->workers(m.ctx);
    m.slots = calloc(m.n_slots, sizeof(*m.slots));
    if (m.slots == NULL)
        goto out;
    for (i = 0; i < m.n_slots; i++)
        spawn(&m, &m.slots[i]);

    for (;;) {
        struct pollfd pfd = { m_pipe[0], POLLIN, 0 };
        long long now = now_ms(), next = -1;
        int timeout;

        if (!m_stop) {
            for (i = 0; i < m.n_slots; i++) {
                wx_slot_t *s = &m.slots[i];

                if (s->pid || s->start_at_ms == -1)
                    continue;
                if (s->start_at_ms <= now)
                    spawn(&m, s);
                else if (next < 0 || s->start_at_ms < next)
                    next = s->start_at_ms;
            }
        }
        timeout = next < 0 ? -1 : (int)(next - now);
        if (m_stop)
            timeout = 100;
        if (poll(&pfd, 1, timeout) > 0) {
            char drain[64];

            while (read(m_pipe[0], drain, sizeof(drain)) > 0)
                ;
        }
        if (m_child) {
            m_child = 0;
            reap(&m, m_stop);
        }
        if (m_stop) {
            if (deadline == 0) {
                wx_log(WX_LOG_INFO, "stopping: letting %u workers finish", running(&m));
                signal_all(&m, SIGTERM);
                deadline = now_ms() + (long long)ops->shutdown_timeout(m.ctx) * 1000;
            }
            reap(&m, 1);
            if (running(&m) == 0)
                break;
            if (now_ms() >= deadline) {
                wx_log(WX_LOG_WARN, "shutdown_timeout passed: killing %u workers",
                       running(&m));
                signal_all(&m, SIGKILL);
                deadline = now_ms() + 60 * 1000;
            }
            continue;
        }
        if (m_reload) {
            m_reload = 0;
            reload(&m);
        }
    }
    status = 0;
    wx_log(WX_LOG_INFO, "stopped");
out:
    if (m_pipe[0] >= 0) {
        close(m_pipe[0]);
        close(m_pipe[1]);
        m_pipe[0] = m_pipe[1] = -1;
    }
    free(m.slots);
    free(m.old);
    if (ops->release)
        ops->release(m.ctx);
    return status;
}
