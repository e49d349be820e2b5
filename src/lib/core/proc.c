/* proc.c - the cached process id (wx/core/proc.h). */
#include <pthread.h>
#include <unistd.h>

#include "wx/core/proc.h"

static pid_t wx_cached_pid;
static pthread_once_t wx_pid_once = PTHREAD_ONCE_INIT;

static void forget(void)
{
    wx_cached_pid = 0;
}

static void register_fork_handler(void)
{
    pthread_atfork(NULL, NULL, forget);
}

pid_t wx_pid(void)
{
    pthread_once(&wx_pid_once, register_fork_handler);
    if (wx_cached_pid == 0)
        wx_cached_pid = getpid();
    return wx_cached_pid;
}
