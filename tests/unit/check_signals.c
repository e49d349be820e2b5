/* check_signals.c - flags, the self-pipe, and a fork that loses no signal. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests.h"
#include "wx/core/signals.h"

/* A TERM that reaches a child before its own handlers is kept pending,
 * not run by the parent's handler nor lost: the child's wx_sig_init
 * delivers it to its own handler. */
START_TEST(test_fork_keeps_early_term)
{
    pid_t pid;
    int st;

    ck_assert_int_eq(wx_sig_init(WX_SIG_STOP | WX_SIG_RELOAD | WX_SIG_CHILD), 0);
    pid = wx_sig_fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct sigaction sa;

        /* the parent's handler is gone, its pipe too */
        sigaction(SIGTERM, NULL, &sa);
        if (sa.sa_handler != SIG_DFL || wx_sig_fd() != -1)
            _exit(3);
        kill(getpid(), SIGTERM);
        if (wx_sig_stopping())
            _exit(4);
        if (wx_sig_init(WX_SIG_STOP) != 0)
            _exit(5);
        _exit(wx_sig_stopping() ? 0 : 6);
    }
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st), "the child was killed by signal %d", WTERMSIG(st));
    ck_assert_int_eq(WEXITSTATUS(st), 0);
    /* the parent's flags saw nothing of it (but its child's end) */
    ck_assert(!wx_sig_stopping());
    ck_assert(!wx_sig_take(WX_SIG_RELOAD));
    wx_sig_close();
}
END_TEST

/* A flag is set once and taken once; the pipe wakes a poller. */
START_TEST(test_flags_and_pipe)
{
    char c;

    ck_assert_int_eq(wx_sig_init(WX_SIG_STOP | WX_SIG_RELOAD), 0);
    ck_assert_int_ge(wx_sig_fd(), 0);
    ck_assert(!wx_sig_take(WX_SIG_RELOAD));
    kill(getpid(), SIGHUP);
    ck_assert(wx_sig_take(WX_SIG_RELOAD));
    ck_assert(!wx_sig_take(WX_SIG_RELOAD));
    ck_assert(!wx_sig_stopping());
    ck_assert_int_eq(read(wx_sig_fd(), &c, 1), 1);
    wx_sig_drain();
    kill(getpid(), SIGTERM);
    ck_assert(wx_sig_stopping());
    wx_sig_close();
    ck_assert_int_eq(wx_sig_fd(), -1);
}
END_TEST

Suite *signals_suite(void)
{
    Suite *s = suite_create("signals");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_fork_keeps_early_term);
    tcase_add_test(tc, test_flags_and_pipe);
    suite_add_tcase(s, tc);
    return s;
}
