/*
 * wx/core/proc.h - the process id, without a system call.
 *
 * glibc no longer caches getpid(), and the hot path needs the pid several
 * times a request (the retry table's owner, the log line).  It is cached
 * here and refreshed in the child of every fork (pthread_atfork).
 */
#ifndef WX_PROC_H
#define WX_PROC_H

#include <sys/types.h>

pid_t wx_pid(void);

#endif
