/* redis_server.c - a real redis-server for the store suites (tests.h):
 * started on a unix socket of the test's directory, waited for until it
 * answers, and killed with the test process when an assertion ends it
 * before its teardown. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests.h"

const char *test_redis_bin(void)
{
    static const char *const where[] = { "/usr/bin/redis-server", "/usr/local/bin/redis-server" };
    size_t i;

    for (i = 0; i < sizeof(where) / sizeof(where[0]); i++)
        if (access(where[i], X_OK) == 0)
            return where[i];
    return NULL;
}

void test_nap_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

long long test_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int test_can_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0), ok;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

pid_t test_redis_start(const char *dir, const char *sock, const char *password)
{
    char logf[160];
    long long t0 = test_mono_ms();
    pid_t pid;

    snprintf(logf, sizeof(logf), "%s/redis.log", dir);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        const char *bin = test_redis_bin();

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (password)
            execl(bin, bin, "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
                  "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", logf,
                  "--requirepass", password, (char *)NULL);
        else
            execl(bin, bin, "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
                  "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", logf,
                  (char *)NULL);
        _exit(127);
    }
    while (!test_can_connect(sock)) {
        if (test_mono_ms() - t0 >= 10000 || waitpid(pid, NULL, WNOHANG) != 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            ck_abort_msg("redis-server did not start (see %s)", logf);
        }
        test_nap_ms(10);
    }
    return pid;
}

void test_stop_pid(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
        *pid = -1;
    }
}
