/*
 * upstream.c - the upstream handler: the message goes to a business service
 * as JSON, its JSON answer becomes the passive reply (contract: upstream.h).
 *
 * Each message is handed to a child process that makes the business call
 * and writes the outcome to a socketpair; the worker waits on that socket
 * for what is left of the reply budget.  In time, the worker takes the
 * answer and acknowledges it with one byte.  Late, the worker closes its
 * end, answers "success" at once and goes back to its requests; the child
 * reads EOF instead of the acknowledgement, so it knows - without a race -
 * that the answer was not used, and sends it as a customer-service message
 * through wxproxy when it comes.  The acknowledgement, not the timing,
 * decides which of the two delivers: never both, never neither when the
 * answer arrives.
 *
 * Children are reaped without blocking (the handler's reap, on SIGCHLD).
 * They ignore TERM, INT, HUP and QUIT: a worker that stops leaves them to
 * finish within their own timeouts ([upstream] timeout_ms for the business,
 * WX_UP_SEND_TIMEOUT_MS for each send), and init reaps them then.  They
 * are forked with wx_sig_fork(): a signal that reaches a child before it
 * has set its own dispositions never runs the worker's handler (which
 * would wake the worker through its self-pipe).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "wx/core/clock.h"
#include "wx/core/log.h"
#include "wx/core/signals.h"
#include "wxfcgi/acct.h"
#include "wxfcgi/handler.h"
#include "wxfcgi/upstream.h"
#include "wxfcgi/upstream_json.h"

static void untrack(wx_up_t *up, pid_t pid)
{
    unsigned i;

    for (i = 0; i < up->npending; i++) {
        if (up->pids[i] == pid) {
            up->pids[i] = up->pids[--up->npending];
            return;
        }
    }
}

/* Reap the business calls that have ended, without blocking; how many
 * still run.  Children outlive a worker that stops: each ends on its own
 * within its timeouts. */
static unsigned up_reap(void *ctx)
{
    wx_up_t *up = ctx;
    unsigned i = 0;

    /* Only our own children: the worker may have others one day. */
    while (i < up->npending) {
        pid_t pid = up->pids[i];
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);

        if (r == 0) {
            i++;
            continue;
        }
        if (r == pid && WIFSIGNALED(st))
            wx_log(WX_LOG_ERROR, "upstream: business call %ld killed by signal %d",
                   (long)pid, WTERMSIG(st));
        untrack(up, pid);           /* r < 0: not ours any more (ECHILD) */
    }
    return up->npending;
}

/* "text 1234 from oAbc..yz" or "event/CLICK from oAbc..yz", for the logs. */
static void describe(char *dst, size_t cap, const wx_msg_t *msg)
{
    char who[32], type[32], ev[40];

    wx_log_openid(who, sizeof(who), msg->from_user);
    wx_log_clean(type, sizeof(type), msg->msg_type);
    wx_log_clean(ev, sizeof(ev), msg->event_name);
    if (msg->has_msg_id)
        snprintf(dst, cap, "%s%s%s %llu from %s", type, ev[0] ? "/" : "", ev,
                 (unsigned long long)msg->msg_id, who);
    else
        snprintf(dst, cap, "%s%s%s from %s", type, ev[0] ? "/" : "", ev, who);
}

/* Read the child's record until EOF or the deadline.  1 with *len set when
 * it is whole, 0 when the deadline passed, -1 with errno on failure. */
static int await_record(wx_up_t *up, int fd, int64_t deadline, size_t *len)
{
    *len = 0;
    for (;;) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        int64_t left = deadline - wx_now_ms();
        ssize_t n;
        int rc;

        if (left <= 0)
            return 0;
        rc = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (rc < 0 && errno == EINTR)
            continue;           /* SIGCHLD, a signal for the worker */
        if (rc < 0)
            return -1;
        if (rc == 0)
            return 0;
        n = read(fd, up->rec + *len, WX_UP_REC_MAX - *len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return *len > 0 ? 1 : (errno = EPIPE, -1);
        *len += (size_t)n;
        if (*len == WX_UP_REC_MAX) {
            errno = EMSGSIZE;
            return -1;
        }
    }
}
/* --- the handler --------------------------------------------------------- */

static void up_destroy(void *ctx)
{
    wx_up_t *up = ctx;

    if (up == NULL)
        return;
    if (up->key_header) {
        explicit_bzero(up->key_header, strlen(up->key_header));
        free(up->key_header);
    }
    free(up->rec);
    free(up);
}

static void *up_create(const wxfcgi_conf_t *cfg, char *err, size_t errlen)
{
    wx_up_t *up;
    char why[200];

    if (wx_upstream_conf_check(&cfg->up, 1, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "handler upstream: %s", why);
        return NULL;
    }
    /* Once, before any fork: the children inherit it. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "handler upstream: libcurl initialisation failed");
        return NULL;
    }
    up = calloc(1, sizeof(*up));
    if (up == NULL || (up->rec = malloc(WX_UP_REC_MAX)) == NULL) {
        free(up);
        return NULL;
    }
    up->cfg = cfg;
    if (cfg->up.proxy) {
        size_t n = strlen("X-Wx-Key: ") + strlen(cfg->up.proxy_key) + 1;

        up->key_header = malloc(n);
        if (up->key_header == NULL) {
            up_destroy(up);
            return NULL;
        }
        snprintf(up->key_header, n, "X-Wx-Key: %s", cfg->up.proxy_key);
    } else {
        wx_log(WX_LOG_WARN, "handler upstream: [upstream] proxy is not set: answers later "
               "than reply_budget_ms (%u ms) will be logged and dropped",
               cfg->fcgi.reply_budget_ms);
    }
    return up;
}

/* The deadline: reply_budget_ms after the request arrived, less the
 * margin to send the answer. */
static int64_t budget_deadline(const wxfcgi_conf_t *cfg, int64_t arrived_ms)
{
    unsigned margin = cfg->fcgi.reply_budget_ms / 2 < WX_UP_MARGIN_MS ?
                      cfg->fcgi.reply_budget_ms / 2 : WX_UP_MARGIN_MS;

    /* Without the arrival (a caller that does not know it), from now. */
    if (arrived_ms == 0)
        arrived_ms = wx_now_ms();
    return arrived_ms + (int64_t)cfg->fcgi.reply_budget_ms - (int64_t)margin;
}

/* Use the child's record, in time: the reply, or "success" and a log line. */
static wx_err_t use_record(const char *rec, size_t len, const char *what, wx_pool_t *pool,
                           wx_reply_t *reply)
{
    char why[256];
    wx_err_t rc;

    if (rec[0] == 'S') {
        wx_log(WX_LOG_INFO, "upstream: %s is answered by the business call of an earlier "
               "delivery; answering success", what);
        return WX_OK;
    }
    if (rec[0] == 'E') {
        char reason[200];

        wx_log_clean(reason, sizeof(reason), (wx_str_t){ len - 1, rec + 1 });
        wx_log(WX_LOG_ERROR, "upstream: business call for %s failed: %s; answering success",
               what, reason);
        return WX_OK;
    }
    rc = wx_upstream_reply_parse(rec + 1, len - 1, pool, reply, why, sizeof(why));
    if (rc == WX_ENOMEM)
        return rc;
    if (rc != WX_OK) {
        char reason[300];

        wx_log_clean(reason, sizeof(reason), wx_str_c(why));
        wx_log(WX_LOG_ERROR, "upstream: business answer for %s unusable: %s; answering "
               "success", what, reason);
    }
    return WX_OK;
}

static wx_err_t up_handle(void *ctx, const wx_handle_req_t *rq, wx_reply_t *reply)
{
    wx_up_t *up = ctx;
    const wx_msg_t *msg = rq->msg;
    int64_t deadline = budget_deadline(up->cfg, rq->arrived_ms);
    char what[128], *json;
    json_t *body;
    size_t len;
    pid_t pid;
    int64_t wait_us;
    int sv[2], got;

    describe(what, sizeof(what), msg);
    if (up_reap(up) >= WX_UP_MAX_PENDING) {
        wx_log(WX_LOG_ERROR, "upstream: %u business calls in flight: %s not forwarded; "
               "answering success", WX_UP_MAX_PENDING, what);
        return WX_OK;
    }
    body = wx_upstream_msg_json(msg);
    json = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (json == NULL)
        return WX_ENOMEM;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        wx_log(WX_LOG_ERROR, "upstream: socketpair: %s; %s not forwarded", strerror(errno),
               what);
        free(json);
        return WX_ESYS;
    }
    pid = wx_sig_fork();
    if (pid == 0) {
        close(sv[0]);
        wx_up_job_t job = { msg, rq->account, wx_acct_name(up->cfg, rq->account), rq->pool,
                            rq->now, what };

        wx_up_child_run(up, sv[1], json, &job);
    }
    free(json);
    close(sv[1]);
    if (pid < 0) {
        wx_log(WX_LOG_ERROR, "upstream: fork: %s; %s not forwarded", strerror(errno), what);
        close(sv[0]);
        return WX_ESYS;
    }
    up->pids[up->npending++] = pid;

    /* The wait is the business's time, not the worker's own work. */
    wait_us = wx_now_us();
    got = await_record(up, sv[0], deadline, &len);
    if (rq->waited_us)
        *rq->waited_us += wx_now_us() - wait_us;
    if (got == 1) {
        wx_err_t rc;

        /* Taken: the child must not deliver it again. */
        if (send(sv[0], "k", 1, MSG_NOSIGNAL) != 1)
            wx_log(WX_LOG_WARN, "upstream: acknowledgement for %s: %s", what,
                   strerror(errno));
        close(sv[0]);
        rc = use_record(up->rec, len, what, rq->pool, reply);
        up_reap(up);
        return rc;
    }
    close(sv[0]);
    if (got == 0)
        wx_log(WX_LOG_INFO, "upstream: no business answer for %s within %u ms: answering "
               "success; a late answer goes as a customer-service message", what,
               up->cfg->fcgi.reply_budget_ms);
    else
        wx_log(WX_LOG_ERROR, "upstream: business call for %s lost: %s; answering success",
               what, strerror(errno));
    return WX_OK;
}

const wx_handler_t wx_handler_upstream = {
    .name = "upstream",
    .create = up_create,
    .destroy = up_destroy,
    .handle = up_handle,
    .reap = up_reap,
};
