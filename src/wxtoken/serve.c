/*
 * wxtoken's report socket: many callers at once, none able to hold the
 * others up.
 *
 * One thread, one epoll set: the listening socket, the signal descriptor
 * and every connection, all non-blocking.  A connection carries one
 * request line and gets one answer line, then it is closed.  Each has its
 * own buffers and a deadline: the whole line must arrive within
 * WXTOKEN_LINE_MS of the connect, so a caller that says nothing, or one
 * byte a second, costs a slot and nothing else.  Connections are kept in
 * a list in the order they were accepted; as every deadline is the accept
 * time plus the same constant, the list is also in deadline order and the
 * expired ones are at its head.
 *
 * The answers come from the dispatch function of the ops (main.c), which
 * may block (a refresh calls WeChat): requests that arrive meanwhile wait
 * in their buffers and are answered, from the new token, right after.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wx/core/clock.h"
#include "wx/core/log.h"
#include "wx/core/signals.h"
#include "wxtoken.h"

typedef struct wxtoken_conn wxtoken_conn_t;

/* One caller.  Owned by the list of the server; freed by conn_close. */
struct wxtoken_conn {
    int              fd;
    int              writing;       /* the answer is in out[] */
    int64_t          deadline;      /* wx_now_ms() after which it is dropped */
    size_t           inlen;
    size_t           outlen, outoff;
    wxtoken_conn_t  *prev, *next;   /* accept (= deadline) order */
    char             in[WXTOKEN_LINE_MAX + 2];
    char             out[WXTOKEN_ANSWER_MAX];
};

typedef struct {
    const wxtoken_serve_ops_t *ops;
    int              ep;
    int              lfd;
    int              accepting;     /* lfd is in the epoll set with EPOLLIN */
    unsigned         n, max;        /* connections open, and the most at once */
    wxtoken_conn_t  *head, *tail;
} wxtoken_server_t;

/* epoll data of the two descriptors that are not connections. */
static char tag_listen, tag_signal;

static void conn_close(wxtoken_server_t *s, wxtoken_conn_t *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        s->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        s->tail = c->prev;
    close(c->fd);           /* also leaves the epoll set */
    /* The buffers may hold a token. */
    explicit_bzero(c, sizeof(*c));
    free(c);
    s->n--;
    if (!s->accepting) {
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &tag_listen };

        if (epoll_ctl(s->ep, EPOLL_CTL_MOD, s->lfd, &ev) == 0)
            s->accepting = 1;
    }
}

/* Send what is left of the answer; close once it is all out or the
 * caller is gone.  EAGAIN: wait for EPOLLOUT. */
static void conn_flush(wxtoken_server_t *s, wxtoken_conn_t *c)
{
    while (c->outoff < c->outlen) {
        ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

            if (epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
                return;
        }
        if (w <= 0)
            break;
        c->outoff += (size_t)w;
    }
    conn_close(s, c);
}

static void conn_answer(wxtoken_server_t *s, wxtoken_conn_t *c, const char *line)
{
    c->outlen = strlen(line);
    memcpy(c->out, line, c->outlen);
    c->outoff = 0;
    c->writing = 1;
    conn_flush(s, c);
}

/* Bytes a request line may hold: printable ASCII and tabs. */
static int is_text(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];

        if ((ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n') || ch >= 0x7f)
            return 0;
    }
    return 1;
}

/* Read what the caller sent; once the line is complete, answer it. */
static void conn_read(wxtoken_server_t *s, wxtoken_conn_t *c)
{
    char *nl;

    for (;;) {
        size_t room = sizeof(c->in) - 1 - c->inlen;
        ssize_t r = recv(c->fd, c->in + c->inlen, room, 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            return;
        if (r < 0) {
            conn_close(s, c);
            return;
        }
        if (r == 0) {
            conn_answer(s, c, "ERR -2 incomplete request\n");
            return;
        }
        nl = memchr(c->in + c->inlen, '\n', (size_t)r);
        if (!is_text(c->in + c->inlen, nl ? (size_t)(nl - (c->in + c->inlen)) : (size_t)r)) {
            conn_answer(s, c, "ERR -2 binary request: one line of text expected\n");
            return;
        }
        c->inlen += (size_t)r;
        if (nl != NULL)
            break;
        if (c->inlen >= WXTOKEN_LINE_MAX + 1) {
            char msg[80];

            snprintf(msg, sizeof(msg), "ERR -2 request line longer than %d bytes\n",
                     WXTOKEN_LINE_MAX);
            conn_answer(s, c, msg);
            return;
        }
    }
    *nl = '\0';
    if (nl > c->in && nl[-1] == '\r')
        nl[-1] = '\0';
    if (nl - c->in > WXTOKEN_LINE_MAX) {
        conn_answer(s, c, "ERR -2 request line too long\n");
        return;
    }
    s->ops->dispatch(s->ops->ctx, c->in, c->out, sizeof(c->out));
    explicit_bzero(c->in, sizeof(c->in));
    c->outlen = strnlen(c->out, sizeof(c->out));
    c->outoff = 0;
    c->writing = 1;
    conn_flush(s, c);
}

/* Leave new callers in the backlog until a connection closes. */
static void pause_accepting(wxtoken_server_t *s)
{
    struct epoll_event ev = { .events = 0, .data.ptr = &tag_listen };

    if (epoll_ctl(s->ep, EPOLL_CTL_MOD, s->lfd, &ev) == 0)
        s->accepting = 0;
}

static void accept_all(wxtoken_server_t *s)
{
    for (;;) {
        struct epoll_event ev = { .events = EPOLLIN };
        wxtoken_conn_t *c;
        int fd;

        if (s->n >= s->max) {
            pause_accepting(s);
            return;
        }
        fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN)
                wx_log(WX_LOG_WARN, "report socket: accept: %s", strerror(errno));
            /* Out of descriptors: the listening socket stays readable, so
             * wait for a caller to go instead of spinning. */
            if ((errno == EMFILE || errno == ENFILE) && s->n > 0)
                pause_accepting(s);
            return;
        }
        c = calloc(1, sizeof(*c));
        ev.data.ptr = c;
        if (c == NULL || epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            wx_log(WX_LOG_WARN, "report socket: cannot take a caller: %s",
                   c ? strerror(errno) : "out of memory");
            free(c);
            close(fd);
            return;
        }
        c->fd = fd;
        c->deadline = wx_now_ms() + WXTOKEN_LINE_MS;
        c->prev = s->tail;
        if (s->tail)
            s->tail->next = c;
        else
            s->head = c;
        s->tail = c;
        s->n++;
    }
}

/* Drop the callers past their deadline; the ms until the next one's. */
static long long expire(wxtoken_server_t *s)
{
    static const char timed_out[] = "ERR -2 request timed out: one line expected at once\n";
    int64_t now = wx_now_ms();

    while (s->head != NULL && s->head->deadline <= now) {
        wxtoken_conn_t *c = s->head;

        /* One try at telling it why; a caller that does not read its
         * answer just goes. */
        if (!c->writing)
            (void)send(c->fd, timed_out, sizeof(timed_out) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        conn_close(s, c);
    }
    return s->head ? (long long)(s->head->deadline - now) : -1;
}

/* The most connections at once: what the descriptor limit leaves. */
static unsigned conn_max(void)
{
    struct rlimit rl;
    unsigned max = WXTOKEN_CONN_MAX;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < (rlim_t)max + 64)
        max = rl.rlim_cur > 96 ? (unsigned)rl.rlim_cur - 64 : 32;
    return max;
}

void wxtoken_serve(int lfd, const wxtoken_serve_ops_t *ops)
{
    wxtoken_server_t s = { .ops = ops, .lfd = lfd, .accepting = 1, .max = conn_max() };
    struct epoll_event ev[64];
    int n;

    s.ep = epoll_create1(EPOLL_CLOEXEC);
    if (s.ep < 0) {
        wx_log(WX_LOG_ERROR, "epoll_create1: %s", strerror(errno));
        return;
    }
    ev[0] = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &tag_listen };
    ev[1] = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &tag_signal };
    if (epoll_ctl(s.ep, EPOLL_CTL_ADD, lfd, &ev[0]) != 0 ||
        epoll_ctl(s.ep, EPOLL_CTL_ADD, wx_sig_fd(), &ev[1]) != 0) {
        wx_log(WX_LOG_ERROR, "epoll_ctl: %s", strerror(errno));
        goto out;
    }
    while (!wx_sig_stopping()) {
        long long wait = ops->due_ms(ops->ctx), next = expire(&s);

        if (wait < 0)
            wait = 0;
        if (wait > 60000)
            wait = 60000;   /* look at the store now and then */
        if (next >= 0 && next < wait)
            wait = next;
        n = epoll_wait(s.ep, ev, (int)(sizeof(ev) / sizeof(ev[0])), (int)wait);
        if (n < 0 && errno != EINTR) {
            wx_log(WX_LOG_ERROR, "epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n && !wx_sig_stopping(); i++) {
            if (ev[i].data.ptr == &tag_signal) {
                wx_sig_drain();
                if (wx_sig_take(WX_SIG_RELOAD) && ops->reload)
                    ops->reload(ops->ctx);
            }
            else if (ev[i].data.ptr == &tag_listen)
                accept_all(&s);
            else if (((wxtoken_conn_t *)ev[i].data.ptr)->writing)
                conn_flush(&s, ev[i].data.ptr);
            else
                conn_read(&s, ev[i].data.ptr);
        }
        if (!wx_sig_stopping() && ops->due_ms(ops->ctx) <= 0)
            ops->timer(ops->ctx);
    }
out:
    while (s.head != NULL)
        conn_close(&s, s.head);
    close(s.ep);
}
