/*
 * echo.c - the default handler: a message comes back as itself.
 *
 * text -> the same text; image, voice -> the same media; video and
 * shortvideo -> a video reply with the same MediaId; location and link ->
 * a text describing them; subscribe -> the configured welcome; CLICK -> the
 * configured reply for its EventKey.  Everything else -> "success".
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wxfcgi/handler.h"

typedef struct wx_echo {
    const wxfcgi_conf_t *cfg;
} wx_echo_t;

static void *echo_create(const wxfcgi_conf_t *cfg, char *err, size_t errlen)
{
    wx_echo_t *e = malloc(sizeof(*e));

    (void)err; (void)errlen;
    if (e)
        e->cfg = cfg;
    return e;
}

static void echo_destroy(void *ctx)
{
    free(ctx);
}

/* Join up to eight strings into the arena. */
static wx_str_t join(wx_pool_t *pool, const wx_str_t *parts, size_t n)
{
    size_t i, len = 0;
    char *p, *d;

    for (i = 0; i < n; i++)
        len += parts[i].len;
    d = p = wx_pool_alloc(pool, len + 1);
    if (p == NULL)
        return WX_NULL_STR;
    for (i = 0; i < n; i++) {
        if (parts[i].len)
            memcpy(d, parts[i].data, parts[i].len);
        d += parts[i].len;
    }
    *d = '\0';
    return (wx_str_t){ len, p };
}

static wx_err_t describe(wx_reply_t *reply, wx_pool_t *pool,
                         const wx_str_t *parts, size_t n)
{
    reply->type = WX_REPLY_TEXT;
    reply->content = join(pool, parts, n);
    return reply->content.data ? WX_OK : WX_ENOMEM;
}

static wx_err_t echo_event(const wx_echo_t *e, const wx_msg_t *msg,
                           wx_reply_t *reply)
{
    size_t i;

    switch (msg->event) {
    case WX_EV_SUBSCRIBE:
        if (e->cfg->echo.welcome) {
            reply->type = WX_REPLY_TEXT;
            reply->content = wx_str_c(e->cfg->echo.welcome);
        }
        break;
    case WX_EV_CLICK:
        for (i = 0; i < e->cfg->echo.clicks.n; i++) {
            const wx_conf_pair_t *click = (const wx_conf_pair_t *)e->cfg->echo.clicks.v + i;

            if (wx_str_eq(msg->event_key, click->name)) {
                reply->type = WX_REPLY_TEXT;
                reply->content = wx_str_c(click->text);
                break;
            }
        }
        break;
    default:
        break;
    }
    return WX_OK;
}

static wx_err_t echo_handle(void *ctx, const wx_handle_req_t *rq, wx_reply_t *reply)
{
    const wx_echo_t *e = ctx;
    const wx_msg_t *msg = rq->msg;
    wx_pool_t *pool = rq->pool;

    if (e->cfg->echo.delay_ms) {
        /* [echo] delay_ms: a slow handler, to watch WeChat's retries. */
        struct timespec ts = { e->cfg->echo.delay_ms / 1000,
                               (long)(e->cfg->echo.delay_ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) != 0)
            ;
    }
    switch (msg->type) {
    case WX_MSG_TEXT:
        reply->type = WX_REPLY_TEXT;
        reply->content = msg->content;
        if (reply->content.data == NULL)
            reply->content = WX_STR("");
        return WX_OK;
    case WX_MSG_IMAGE:
    case WX_MSG_VOICE:
    case WX_MSG_VIDEO:
    case WX_MSG_SHORTVIDEO:
        if (msg->media_id.len == 0)
            return WX_OK;           /* nothing to send back */
        reply->type = msg->type == WX_MSG_IMAGE ? WX_REPLY_IMAGE :
                      msg->type == WX_MSG_VOICE ? WX_REPLY_VOICE : WX_REPLY_VIDEO;
        reply->media_id = msg->media_id;
        return WX_OK;
    case WX_MSG_LOCATION: {
        const wx_str_t parts[] = {
            WX_STR("Location: "), msg->label, WX_STR("\nLatitude "),
            msg->location_x, WX_STR(", longitude "), msg->location_y,
            WX_STR(", scale "), msg->scale,
        };
        return describe(reply, pool, parts, sizeof(parts) / sizeof(parts[0]));
    }
    case WX_MSG_LINK: {
        const wx_str_t parts[] = {
            WX_STR("Link: "), msg->title, WX_STR("\n"), msg->description,
            WX_STR("\n"), msg->url,
        };
        return describe(reply, pool, parts, sizeof(parts) / sizeof(parts[0]));
    }
    case WX_MSG_EVENT:
        return echo_event(e, msg, reply);
    default:
        return WX_OK;
    }
}

const wx_handler_t wx_handler_echo = {
    .name = "echo",
    .create = echo_create,
    .destroy = echo_destroy,
    .handle = echo_handle,
};
