/* prefork.c - the prefork supervisor (see wx/server/prefork.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wx/core/clock.h"
#include "wx/core/log.h"
#include "wx/core/notify.h"
#include "wx/core/signals.h"
#include "wx/server/metrics.h"
#include "wx/server/prefork.h"

#define BACKOFF_MIN_MS  100
#define BACKOFF_MAX_MS  10000
/* A worker that dies sooner than this after its start is crashing (a bad
 * config, a broken dependency): its slot backs off.  One that lived
 * longer ran healthy and was killed from outside (an operator, the OOM
 * killer): it is replaced at once, whatever happened to it before. */
#define HEALTHY_MS      1000

typedef struct wx_slot {
    pid_t       pid;            /* 0: not running */
    unsigned    fails;          /* early deaths in a row */
    long long   start_at_ms;    /* when to (re)start it; 0 = now */
    long long   started_ms;
} wx_slot_t;

static const wx_server_conf_t *server(const wx_prefork_t *pf, const wx_config_t *cfg)
{
    return (const wx_server_conf_t *)(const void *)((const char *)cfg + pf->server_off);
}

typedef struct wx_master {
    const wx_prefork_t *pf;
    wx_config_t    *cfg;
    int             listen_fd;
    wx_slot_t      *slots;          /* the current generation */
    unsigned        n_slots;
    pid_t          *old;            /* workers of earlier generations */
    unsigned        n_old, cap_old;
} wx_master_t;

static void spawn(wx_master_t *m, wx_slot_t *s)
{
    pid_t master = getpid(), pid;
    int mx = wx_mx_claim(m->pf->mx);

    pid = wx_sig_fork();
    if (pid < 0) {
        wx_log(WX_LOG_ERROR, "fork: %s", strerror(errno));
        s->start_at_ms = wx_now_ms() + BACKOFF_MAX_MS;
        return;
    }
    if (pid == 0) {
        int rc;

        wx_mx_enter(m->pf->mx, mx);
        rc = m->pf->worker(m->pf, m->listen_fd, m->cfg, master);
        _exit(rc);
    }
    wx_mx_started(m->pf->mx, mx, pid);
    s->pid = pid;
    s->started_ms = wx_now_ms();
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
        wx_mx_ended(m->pf->mx, pid, st);
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
            lived = wx_now_ms() - s->started_ms;
            if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
                /* Recycled after max_requests: replace at once. */
                s->fails = 0;
                s->start_at_ms = 0;
                wx_log(WX_LOG_DEBUG, "worker %ld %s", (long)pid, how);
                break;
            }
            if (lived >= HEALTHY_MS) {
                s->fails = 0;
                s->start_at_ms = 0;
                wx_log(WX_LOG_WARN, "worker %ld %s; restarting it now (it ran %lld ms)",
                       (long)pid, how, lived);
                break;
            }
            s->fails++;
            {
                long long delay = BACKOFF_MIN_MS;
                unsigned k;

                for (k = 1; k < s->fails && delay < BACKOFF_MAX_MS; k++)
                    delay *= 2;
                if (delay > BACKOFF_MAX_MS)
                    delay = BACKOFF_MAX_MS;
                s->start_at_ms = wx_now_ms() + delay;
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
    wx_config_t *ncfg = m->pf->reload ? m->pf->reload(m->pf, m->cfg) : NULL;
    unsigned n = ncfg ? server(m->pf, ncfg)->workers : 0, i;
    wx_slot_t *nslots;

    if (ncfg == NULL)
        return;
    nslots = calloc(n, sizeof(*nslots));
    if (nslots == NULL) {
        wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: out of memory");
        wx_config_free(ncfg);
        return;
    }
    for (i = 0; i < m->n_slots; i++) {
        if (m->slots[i].pid && track_old(m, m->slots[i].pid) != 0) {
            /* Cannot track it: stop it now rather than lose it. */
            kill(m->slots[i].pid, SIGTERM);
        }
    }
    /* The old workers have their own copy of the old config (fork). */
    wx_config_free(m->cfg);
    free(m->slots);
    m->cfg = ncfg;
    m->slots = nslots;
    m->n_slots = n;
    for (i = 0; i < m->n_slots; i++)
        spawn(m, &m->slots[i]);
    for (i = 0; i < m->n_old; i++)
        kill(m->old[i], SIGTERM);
    wx_mx_reloaded(m->pf->mx);
    wx_log(WX_LOG_INFO, "reloaded: %u workers, %u finishing", m->n_slots, m->n_old);
}

/* Start the empty slots whose time has come; when the next one is due
 * (-1: none waits). */
static long long start_due(wx_master_t *m, long long now)
{
    long long next = -1;
    unsigned i;

    for (i = 0; i < m->n_slots; i++) {
        wx_slot_t *s = &m->slots[i];

        if (s->pid || s->start_at_ms == -1)
            continue;
        if (s->start_at_ms <= now)
            spawn(m, s);
        else if (next < 0 || s->start_at_ms < next)
            next = s->start_at_ms;
    }
    return next;
}

int wx_prefork_run(const wx_prefork_t *pf, int listen_fd, wx_config_t *cfg)
{
    wx_master_t m;
    long long deadline = 0;
    int status = 1;
    unsigned i;

    memset(&m, 0, sizeof(m));
    m.pf = pf;
    m.cfg = cfg;
    m.listen_fd = listen_fd;
    if (wx_sig_init(WX_SIG_STOP | WX_SIG_QUIT | WX_SIG_RELOAD | WX_SIG_CHILD) != 0) {
        wx_log(WX_LOG_ERROR, "cannot set up signals: %s", strerror(errno));
        goto out;
    }
    m.n_slots = server(pf, m.cfg)->workers;
    m.slots = calloc(m.n_slots, sizeof(*m.slots));
    if (m.slots == NULL)
        goto out;
    for (i = 0; i < m.n_slots; i++)
        spawn(&m, &m.slots[i]);
    wx_notify("READY=1");

    for (;;) {
        struct pollfd pfd = { wx_sig_fd(), POLLIN, 0 };
        long long now = wx_now_ms(), next = -1;
        int timeout;

        if (!wx_sig_stopping())
            next = start_due(&m, now);
        timeout = next < 0 ? -1 : (int)(next - now);
        if (wx_sig_stopping())
            timeout = 100;
        timeout = wx_notify_poll(timeout);
        if (poll(&pfd, 1, timeout) > 0)
            wx_sig_drain();
        if (wx_sig_take(WX_SIG_CHILD))
            reap(&m, wx_sig_stopping());
        if (wx_sig_stopping()) {
            if (deadline == 0) {
                wx_log(WX_LOG_INFO, "stopping: letting %u workers finish", running(&m));
                wx_notify("STOPPING=1");
                signal_all(&m, SIGTERM);
                deadline = wx_now_ms() + (long long)server(pf, m.cfg)->shutdown_timeout * 1000;
            }
            reap(&m, 1);
            if (running(&m) == 0)
                break;
            if (wx_now_ms() >= deadline) {
                wx_log(WX_LOG_WARN, "shutdown_timeout passed: killing %u workers",
                       running(&m));
                signal_all(&m, SIGKILL);
                deadline = wx_now_ms() + 60 * 1000;
            }
            continue;
        }
        if (wx_sig_take(WX_SIG_RELOAD)) {
            wx_notify("RELOADING=1");
            reload(&m);
            wx_notify("READY=1");
        }
    }
    status = 0;
    wx_log(WX_LOG_INFO, "stopped");
out:
    /* The handlers stay: a second TERM while the caller cleans up must
     * not kill it half-way. */
    free(m.slots);
    free(m.old);
    wx_config_free(m.cfg);
    return status;
}
