/*
 * wx/core/signals.h - signals as flags and a wake-up: one module for every
 * process of the suite (the FastCGI workers, the prefork master, wxsim,
 * wxtoken).
 *
 * The handlers only set a sig_atomic_t flag and write a byte to a
 * non-blocking self-pipe; the process polls wx_sig_fd() with its other
 * descriptors and acts on the flags in its loop, so a signal never cuts a
 * request in half (SA_RESTART: libfcgi does not retry on EINTR).  SIGPIPE
 * is ignored (a closed peer is an error return, not a death).
 *
 * Forking: a child must never run its parent's handlers, and a signal sent
 * to it before it has its own must not be lost.  wx_sig_fork() therefore
 * blocks the handled signals around fork(), as nginx does; the parent gets
 * its mask back at once; the child starts with default handlers, no pipe
 * and the signals still blocked, so a TERM sent early stays pending until
 * the child's own wx_sig_init() (or wx_sig_unblock()) delivers it.
 *
 * One set of handlers a process: the state is the module's.
 */
#ifndef WX_SIGNALS_H
#define WX_SIGNALS_H

#include <sys/types.h>

#define WX_SIG_STOP     0x01    /* TERM, INT: the stop flag */
#define WX_SIG_QUIT     0x02    /* QUIT: the stop flag too */
#define WX_SIG_RELOAD   0x04    /* HUP: the reload flag */
#define WX_SIG_NOHUP    0x08    /* HUP ignored (a worker under a master) */
#define WX_SIG_CHILD    0x10    /* CHLD (not for stopped children): the child flag */

/* Install the handlers of 'what' (WX_SIG_* or'ed), open the self-pipe and
 * unblock the signals a wx_sig_fork() left blocked.  0, or -1 with errno. */
int wx_sig_init(unsigned what);

/* The read end of the self-pipe (-1 before wx_sig_init), and emptying it
 * once poll said it is readable. */
int wx_sig_fd(void);
void wx_sig_drain(void);

/* Whether a stop signal came. */
int wx_sig_stopping(void);

/* Whether WX_SIG_RELOAD or WX_SIG_CHILD ('which') came since the last
 * take; the flag is cleared. */
int wx_sig_take(unsigned which);

/* fork() with the handled signals blocked (see above).  In the child the
 * handlers are the defaults, the pipe is closed and the flags are clear;
 * it calls wx_sig_init() or wx_sig_unblock() when it is ready. */
pid_t wx_sig_fork(void);
void wx_sig_unblock(void);

/* Back to the default handlers and no pipe (tests, and a clean exit). */
void wx_sig_close(void);

#endif
