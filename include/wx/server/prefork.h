/*
 * wx/server/prefork.h - the prefork supervisor of a standalone server (wxfcgi,
 * wxproxy): N worker processes on one listening socket.
 *
 * The master's signal handlers only set flags and write a byte to a
 * self-pipe; its loop polls that pipe and acts:
 *   - it reaps with waitpid(WNOHANG) until nothing is left, and restarts a
 *     worker that died with a backoff doubling from 100 ms to 10 s (reset
 *     once a worker has lived 30 s); a worker that exits with status 0
 *     (recycled) is replaced at once;
 *   - TERM, INT, QUIT: forwards TERM, waits up to the shutdown timeout for
 *     the workers to finish the requests in flight, then KILLs the rest;
 *   - HUP: asks the program for a new context (a reloaded config); when it
 *     gives one, a new generation of workers starts on it before the old
 *     one is told (TERM) to finish and leave, so that the listening socket
 *     is never without a worker.
 * A worker should exit when its master is gone (PR_SET_PDEATHSIG and a
 * getppid() check: see wxfcgi's worker).
 */
#ifndef WX_PREFORK_H
#define WX_PREFORK_H

#include <sys/types.h>

typedef struct wx_prefork_ops {
    /* In the child: serve 'listen_fd' until told to stop; the return
     * value is the child's exit status.  'master' is the master's pid. */
    int         (*worker)(int listen_fd, void *ctx, pid_t master);
    /* In the master, on HUP: the context of the next generation, or NULL
     * to keep the current one (the callback logs why). */
    void       *(*reload)(void *ctx);
    /* Free a context no generation uses any more (NULL: nothing to do). */
    void        (*release)(void *ctx);
    /* How many workers a context wants, and how long (seconds) its
     * workers may take to finish after TERM. */
    unsigned    (*workers)(const void *ctx);
    unsigned    (*shutdown_timeout)(const void *ctx);
} wx_prefork_ops_t;

/* Run the workers of 'ctx' on 'listen_fd' until told to stop.  'ctx' is
 * owned from here on: released (ops->release) before the return, as is
 * every context a reload made.  Returns 0 after a clean stop, 1 when the
 * master could not start. */
int wx_prefork_run(int listen_fd, const wx_prefork_ops_t *ops, void *ctx);

#endif
