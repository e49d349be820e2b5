/* signals.c - flags, a self-pipe and a safe fork (wx/core/signals.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "wx/core/signals.h"

static volatile sig_atomic_t wx_sig_stop, wx_sig_reload, wx_sig_child;
static int wx_sig_pipe[2] = { -1, -1 };

/* Every signal the module may handle: what wx_sig_fork blocks. */
static const int wx_sig_all[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGCHLD };
#define N_SIG_ALL (sizeof(wx_sig_all) / sizeof(wx_sig_all[0]))

static void on_signal(int sig)
{
    int saved = errno;

    if (sig == SIGHUP)
        wx_sig_reload = 1;
    else if (sig == SIGCHLD)
        wx_sig_child = 1;
    else
        wx_sig_stop = 1;
    if (wx_sig_pipe[1] >= 0 && write(wx_sig_pipe[1], "", 1) < 0) {
        /* The pipe is full: a wake-up is already pending. */
    }
    errno = saved;
}

static void all_set(sigset_t *set)
{
    size_t i;

    sigemptyset(set);
    for (i = 0; i < N_SIG_ALL; i++)
        sigaddset(set, wx_sig_all[i]);
}

static void set_handler(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = flags;
    sa.sa_handler = fn;
    sigaction(sig, &sa, NULL);
}

static void close_pipe(void)
{
    if (wx_sig_pipe[0] >= 0) {
        close(wx_sig_pipe[0]);
        close(wx_sig_pipe[1]);
    }
    wx_sig_pipe[0] = wx_sig_pipe[1] = -1;
}

int wx_sig_init(unsigned what)
{
    sigset_t set;

    close_pipe();
    if (pipe2(wx_sig_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        return -1;
    wx_sig_stop = wx_sig_reload = wx_sig_child = 0;
    if (what & WX_SIG_STOP) {
        set_handler(SIGTERM, on_signal, SA_RESTART);
        set_handler(SIGINT, on_signal, SA_RESTART);
    }
    if (what & WX_SIG_QUIT)
        set_handler(SIGQUIT, on_signal, SA_RESTART);
    if (what & (WX_SIG_RELOAD | WX_SIG_NOHUP))
        set_handler(SIGHUP, what & WX_SIG_RELOAD ? on_signal : SIG_IGN, SA_RESTART);
    set_handler(SIGCHLD, what & WX_SIG_CHILD ? on_signal : SIG_DFL,
                SA_RESTART | SA_NOCLDSTOP);
    set_handler(SIGPIPE, SIG_IGN, 0);
    /* What came while a wx_sig_fork() kept it blocked is delivered now,
     * to the handlers just installed. */
    all_set(&set);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    return 0;
}

int wx_sig_fd(void)
{
    return wx_sig_pipe[0];
}

void wx_sig_drain(void)
{
    char drain[64];

    while (wx_sig_pipe[0] >= 0 && read(wx_sig_pipe[0], drain, sizeof(drain)) > 0)
        ;
}

int wx_sig_stopping(void)
{
    return wx_sig_stop != 0;
}

int wx_sig_take(unsigned which)
{
    volatile sig_atomic_t *flag = which == WX_SIG_CHILD ? &wx_sig_child : &wx_sig_reload;

    if (!*flag)
        return 0;
    *flag = 0;
    return 1;
}

pid_t wx_sig_fork(void)
{
    sigset_t set, old;
    pid_t pid;
    size_t i;

    all_set(&set);
    sigprocmask(SIG_BLOCK, &set, &old);
    pid = fork();
    if (pid != 0) {
        int saved = errno;

        sigprocmask(SIG_SETMASK, &old, NULL);
        errno = saved;
        return pid;
    }
    /* The child: none of the parent's handlers, none of its wake-ups. */
    for (i = 0; i < N_SIG_ALL; i++)
        set_handler(wx_sig_all[i], SIG_DFL, 0);
    close_pipe();
    wx_sig_stop = wx_sig_reload = wx_sig_child = 0;
    return 0;
}

void wx_sig_unblock(void)
{
    sigset_t set;

    all_set(&set);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

void wx_sig_close(void)
{
    size_t i;

    for (i = 0; i < N_SIG_ALL; i++)
        set_handler(wx_sig_all[i], SIG_DFL, 0);
    close_pipe();
}
