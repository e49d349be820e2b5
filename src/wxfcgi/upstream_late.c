/*
 * upstream_late.c - an answer that came after the worker had answered
 * "success" goes to the follower as a customer-service message through
 * wxproxy, when the window rules of PROTOCOL.md 6.7 allow it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "wx/api/api.h"
#include "wx/core/log.h"
#include "wx/proto/account.h"
#include "wxfcgi/metrics.h"
#include "wxfcgi/upstream.h"
#include "wxfcgi/upstream_json.h"

/* Customer-service sends tried at most, for the answers that mean "not
 * sent, try again" (wxproxy 429, WeChat -1); never for an ambiguous one. */
#define WX_UP_SEND_TRIES        3
/* The window of a follower's action that is not a message (PROTOCOL.md
 * 6.7: a click, a follow, a scan allow 3 messages within 1 minute). */
#define WX_UP_EVENT_WINDOW_S    60

/* Whether a customer-service message may follow 'msg' 'age' seconds after
 * it arrived (PROTOCOL.md 6.7); the reason when not. */
static const char *window_closed(const wx_msg_t *msg, long age)
{
    switch (msg->type) {
    case WX_MSG_EVENT:
        switch (msg->event) {
        case WX_EV_SUBSCRIBE:
        case WX_EV_SCAN:
        case WX_EV_CLICK:
        case WX_EV_SCANCODE_PUSH:
        case WX_EV_SCANCODE_WAITMSG:
            return age > WX_UP_EVENT_WINDOW_S ?
                   "the 1-minute window of a follow, scan or click has passed" : NULL;
        default:
            return "this event opens no customer-service window";
        }
    case WX_MSG_UNKNOWN:
        return "a message of an unknown type opens no known window";
    default:
        return NULL;            /* a follower's message: 48 hours */
    }
}

static const char *proxy_status_text(long status)
{
    switch (status) {
    case 401: return "wxproxy refused the key ([upstream] proxy_key)";
    case 403: return "wxproxy refused this key the call (its paths or accounts)";
    case 429: return "rate limited by wxproxy";
    case 502: return "wxproxy could not get an answer from WeChat";
    case 504: return "WeChat did not answer wxproxy in time";
    default:  return "unexpected answer from wxproxy";
    }
}

/* Send the late answer through wxproxy, for the job's account; everything
 * that happens is logged. */
static void send_custom(const wx_up_t *up, const wx_up_job_t *job, json_t *cs)
{
    char account[sizeof("X-Wx-Account: ") + WX_ACCOUNT_NAME_MAX];
    wx_api_opts_t opts = { up->cfg->up.proxy, NULL, NULL, WX_UP_SEND_TIMEOUT_MS,
                           { up->key_header, account } };
    const char *what = job->what;
    char err[256], *text = json_dumps(cs, JSON_COMPACT);
    wx_api_t *api = NULL;
    int attempt;

    /* Always named, [wx] as "default": a key of one other account would
     * otherwise act for that one. */
    snprintf(account, sizeof(account), "X-Wx-Account: %s", job->account_name);
    if (text == NULL || (api = wx_api_new(&opts, err, sizeof(err))) == NULL) {
        wx_log(WX_LOG_ERROR, "upstream: late answer for %s not sent: %s", what,
               text ? err : "out of memory");
        wx_mx_inc_shared(WXF_MX_LATE_FAILED);
        goto out;
    }
    for (attempt = 1; attempt <= WX_UP_SEND_TRIES; attempt++) {
        wx_api_result_t r;
        char msg[128];
        int again = 0;

        wx_api_call(api, "/cgi-bin/message/custom/send", text, &r);
        if (r.transport == WX_OK && r.errcode == 0) {
            wx_log(WX_LOG_INFO, "upstream: late answer for %s sent as a customer-service "
                   "message", what);
            wx_mx_inc_shared(WXF_MX_LATE_SENT);
        } else if (r.transport == WX_OK) {
            wx_log_clean(msg, sizeof(msg), wx_str_c(r.errmsg));
            again = r.errcode == -1;
            wx_log(again && attempt < WX_UP_SEND_TRIES ? WX_LOG_WARN : WX_LOG_ERROR,
                   "upstream: late answer for %s not sent: errcode %ld (%s)%s", what,
                   r.errcode,
                   r.errcode == 45015 ? "the follower's window is closed or they unfollowed" :
                   r.errcode == 45047 ? "customer-service quota for this follower used up" :
                   msg, again && attempt < WX_UP_SEND_TRIES ? "; trying again" : "");
        } else {
            again = r.http_status == 429;
            wx_log(again && attempt < WX_UP_SEND_TRIES ? WX_LOG_WARN : WX_LOG_ERROR,
                   "upstream: late answer for %s not sent: %s%s%s%s", what, r.why,
                   r.http_status >= 400 ? " - " : "",
                   r.http_status >= 400 ? proxy_status_text(r.http_status) : "",
                   again && attempt < WX_UP_SEND_TRIES ? "; trying again" : "");
        }
        if ((r.transport != WX_OK || r.errcode != 0) && (!again || attempt == WX_UP_SEND_TRIES))
            wx_mx_inc_shared(WXF_MX_LATE_FAILED);
        wx_api_result_free(&r);
        if (!again || attempt == WX_UP_SEND_TRIES)
            break;
        sleep((unsigned)attempt);
    }
out:
    wx_api_free(api);
    free(text);
}

void wx_up_deliver_late(const wx_up_t *up, const char *body, size_t len,
                        const wx_up_job_t *job)
{
    const wx_msg_t *msg = job->msg;
    const char *what = job->what, *closed;
    char why[256];
    wx_reply_t reply;
    json_t *cs;

    if (wx_upstream_reply_parse(body, len, job->pool, &reply, why, sizeof(why)) != WX_OK) {
        wx_log(WX_LOG_ERROR, "upstream: late answer for %s unusable: %s; nothing sent",
               what, why);
        return;
    }
    if (reply.type == WX_REPLY_SUCCESS || reply.type == WX_REPLY_TRANSFER) {
        wx_log(WX_LOG_INFO, "upstream: late answer for %s is %s: nothing to send", what,
               wx_reply_type_name(reply.type));
        return;
    }
    closed = window_closed(msg, (long)(time(NULL) - job->arrived));
    if (closed) {
        wx_log(WX_LOG_WARN, "upstream: late answer for %s dropped: %s (PROTOCOL.md 6.7)",
               what, closed);
        return;
    }
    if (up->cfg->up.proxy == NULL) {
        wx_log(WX_LOG_ERROR, "upstream: late answer for %s dropped: [upstream] proxy "
               "is not set", what);
        return;
    }
    cs = wx_upstream_custom_json(&reply, msg->from_user);
    if (cs == NULL) {
        wx_log(WX_LOG_ERROR, "upstream: late answer for %s not sent: out of memory", what);
        return;
    }
    send_custom(up, job, cs);
    json_decref(cs);
}
