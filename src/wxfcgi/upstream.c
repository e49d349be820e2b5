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
 * Children are reaped without blocking (wx_upstream_reap() on SIGCHLD).
 * They ignore TERM, INT, HUP and QUIT: a worker that stops leaves them to
 * finish within their own timeouts ([upstream] timeout_ms for the business,
 * WX_UP_SEND_TIMEOUT_MS for each send), and init reaps them then.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "wx/api/api.h"
#include "wx/core/log.h"
#include "wxfcgi/upstream.h"

/* How long a child waits for the worker's acknowledgement once it has
 * written the answer: the worker decides within its budget, so this only
 * matters if the worker is stopped (SIGSTOP) or wedged. */
#define WX_UP_ACK_WAIT_MS       15000
/* Customer-service sends tried at most, for the answers that mean "not
 * sent, try again" (wxproxy 429, WeChat -1); never for an ambiguous one. */
#define WX_UP_SEND_TRIES        3
/* The window of a follower's action that is not a message (PROTOCOL.md
 * 6.7: a click, a follow, a scan allow 3 messages within 1 minute). */
#define WX_UP_EVENT_WINDOW_S    60

typedef struct wx_up {
    const wx_config_t  *cfg;
    char               *key_header;     /* "X-Wx-Key: ..." or NULL */
} wx_up_t;

/* The business calls in flight of this worker. */
static pid_t wx_up_pids[WX_UP_MAX_PENDING];
static unsigned wx_up_npending;
/* When the request being served arrived, set by the worker. */
static struct timespec wx_up_t0;
static int wx_up_t0_set;
/* The child's record: a kind byte ('A' answer, 'E' error) then the body
 * or the reason.  Static: one request at a time per worker. */
static char wx_up_rec[WX_UP_MAX_ANSWER + 512];

/* --- the message as JSON ------------------------------------------------ */

struct wx_up_field {
    const char *parent, *grand;     /* enclosing elements, or NULL */
    const char *name;
    size_t      off;
    int         json;               /* 0: the parser's alone */
};

#define F(parent, grand, name, member, json) \
    { parent, grand, name, offsetof(wx_msg_t, member), json },
static const struct wx_up_field wx_up_fields[] = {
    WX_MSG_FIELDS(F)
};
#undef F

/* Leaves that repeat (parse.c keeps each as an item whose list is itself). */
static int is_repeated_leaf(wx_str_t list)
{
    return wx_str_eq(list, "fail_idx");
}

/* The element that opens each member of the group held by 'list' (parse.c
 * records the holder, not the member). */
static const char *member_name(wx_str_t list)
{
    if (wx_str_eq(list, "AroundBeacons"))
        return "AroundBeacon";
    if (list.len > 12 && memcmp(list.data, "SubscribeMsg", 12) == 0)
        return "List";
    return "item";
}

/* obj[name] as an object, created when absent; NULL on ENOMEM. */
static json_t *sub(json_t *obj, const char *name)
{
    json_t *o = json_object_get(obj, name);

    if (json_is_object(o))
        return o;
    o = json_object();
    if (o == NULL || json_object_set_new(obj, name, o) != 0)
        return NULL;
    return o;
}

/* obj[name] as an array, created when absent; NULL on ENOMEM. */
static json_t *sub_array(json_t *obj, const char *name)
{
    json_t *a = json_object_get(obj, name);

    if (json_is_array(a))
        return a;
    a = json_array();
    if (a == NULL || json_object_set_new(obj, name, a) != 0)
        return NULL;
    return a;
}

static json_t *jstr(wx_str_t v)
{
    return json_stringn(v.data ? v.data : "", v.len);
}

/* A counted string as a C string for jansson's keys (names come from our
 * own table or from parse.c's bounded element names). */
static int cname(char *dst, size_t cap, wx_str_t s)
{
    if (s.data == NULL || s.len == 0 || s.len >= cap)
        return -1;
    memcpy(dst, s.data, s.len);
    dst[s.len] = '\0';
    return 0;
}

static int put_items(json_t *root, const wx_msg_t *msg)
{
    const wx_msg_item_t *it;

    for (it = msg->items; it; it = it->next) {
        char owner[64], list[64];
        json_t *o = root, *a, *v;
        const wx_msg_field_t *f;

        if (cname(list, sizeof(list), it->list) != 0)
            continue;
        if (!wx_str_eq(it->owner, "xml")) {
            if (cname(owner, sizeof(owner), it->owner) != 0)
                continue;
            if ((o = sub(root, owner)) == NULL)
                return -1;
        }
        if (is_repeated_leaf(it->list)) {
            if ((a = sub_array(o, list)) == NULL ||
                json_array_append_new(a, jstr(it->value)) != 0)
                return -1;
            continue;
        }
        if ((o = sub(o, list)) == NULL || (a = sub_array(o, member_name(it->list))) == NULL)
            return -1;
        if ((v = json_object()) == NULL || json_array_append_new(a, v) != 0)
            return -1;
        for (f = it->fields; f; f = f->next) {
            char name[64];

            if (cname(name, sizeof(name), f->name) == 0 &&
                json_object_set_new(v, name, jstr(f->value)) != 0)
                return -1;
        }
    }
    return 0;
}

json_t *wx_upstream_msg_json(const wx_msg_t *msg)
{
    json_t *root = json_object();
    size_t i;

    if (root == NULL)
        return NULL;
    for (i = 0; i < sizeof(wx_up_fields) / sizeof(wx_up_fields[0]); i++) {
        const struct wx_up_field *m = &wx_up_fields[i];
        wx_str_t v = *(const wx_str_t *)((const char *)msg + m->off);
        json_t *o = root;

        if (!m->json || v.data == NULL)
            continue;
        if (m->grand && (o = sub(o, m->grand)) == NULL)
            goto nomem;
        if (m->parent && (o = sub(o, m->parent)) == NULL)
            goto nomem;
        if (json_object_set_new(o, m->name, jstr(v)) != 0)
            goto nomem;
    }
    if (msg->create_time_s.data &&
        json_object_set_new(root, "CreateTime", json_integer(msg->create_time)) != 0)
        goto nomem;
    if (put_items(root, msg) != 0)
        goto nomem;
    return root;
nomem:
    json_decref(root);
    return NULL;
}

/* --- the answer as a reply ---------------------------------------------- */

typedef struct {
    json_t     *obj;
    const char *type;
    wx_pool_t  *pool;
    char       *why;
    size_t      whylen;
    wx_err_t    rc;
} wx_up_parse_t;

/* obj[name] into *out: 0, or -1 with the reason (absent and required,
 * not a string, or empty and required). */
static int field(wx_up_parse_t *p, json_t *obj, const char *name, int required,
                 wx_str_t *out)
{
    json_t *v = json_object_get(obj, name);
    char *d;

    *out = WX_NULL_STR;
    if (v == NULL || json_is_null(v)) {
        if (!required)
            return 0;
        snprintf(p->why, p->whylen, "\"%s\" is missing for type %s", name, p->type);
        p->rc = WX_EUPSTREAM;
        return -1;
    }
    if (!json_is_string(v)) {
        snprintf(p->why, p->whylen, "\"%s\" is not a string", name);
        p->rc = WX_EUPSTREAM;
        return -1;
    }
    if (required > 1 && json_string_length(v) == 0) {
        snprintf(p->why, p->whylen, "\"%s\" is empty for type %s", name, p->type);
        p->rc = WX_EUPSTREAM;
        return -1;
    }
    d = wx_pool_strndup(p->pool, json_string_value(v), json_string_length(v));
    if (d == NULL) {
        snprintf(p->why, p->whylen, "request arena full");
        p->rc = WX_ENOMEM;
        return -1;
    }
    *out = (wx_str_t){ json_string_length(v), d };
    return 0;
}

#define OPTIONAL    0
#define REQUIRED    1       /* present, may be empty */
#define NONEMPTY    2

static int parse_news(wx_up_parse_t *p, wx_reply_t *r)
{
    json_t *arts = json_object_get(p->obj, "articles");
    wx_article_t *a;
    size_t i, n;

    if (!json_is_array(arts) || json_array_size(arts) == 0) {
        snprintf(p->why, p->whylen, "\"articles\" is not a non-empty array");
        p->rc = WX_EUPSTREAM;
        return -1;
    }
    /* Extras beyond the protocol's most are dropped here; the reply writer
     * cuts further to 1 for a follower's message (PROTOCOL.md 3.2). */
    n = json_array_size(arts);
    if (n > WX_REPLY_NEWS_MAX)
        n = WX_REPLY_NEWS_MAX;
    a = wx_pool_alloc(p->pool, n * sizeof(*a));
    if (a == NULL) {
        snprintf(p->why, p->whylen, "request arena full");
        p->rc = WX_ENOMEM;
        return -1;
    }
    for (i = 0; i < n; i++) {
        json_t *o = json_array_get(arts, i);

        if (!json_is_object(o)) {
            snprintf(p->why, p->whylen, "article %zu is not an object", i + 1);
            p->rc = WX_EUPSTREAM;
            return -1;
        }
        if (field(p, o, "title", OPTIONAL, &a[i].title) ||
            field(p, o, "description", OPTIONAL, &a[i].description) ||
            field(p, o, "picurl", OPTIONAL, &a[i].pic_url) ||
            field(p, o, "url", OPTIONAL, &a[i].url))
            return -1;
    }
    r->articles = a;
    r->n_articles = n;
    return 0;
}

static int parse_typed(wx_up_parse_t *p, wx_reply_t *r)
{
    const char *t = p->type;
    json_t *o = p->obj;

    if (strcmp(t, "success") == 0)
        return 0;
    if (strcmp(t, "text") == 0) {
        r->type = WX_REPLY_TEXT;
        return field(p, o, "content", REQUIRED, &r->content);
    }
    if (strcmp(t, "image") == 0 || strcmp(t, "voice") == 0) {
        r->type = t[0] == 'i' ? WX_REPLY_IMAGE : WX_REPLY_VOICE;
        return field(p, o, "media_id", NONEMPTY, &r->media_id);
    }
    if (strcmp(t, "video") == 0) {
        r->type = WX_REPLY_VIDEO;
        return field(p, o, "media_id", NONEMPTY, &r->media_id) ||
               field(p, o, "title", OPTIONAL, &r->title) ||
               field(p, o, "description", OPTIONAL, &r->description) ||
               field(p, o, "thumb_media_id", OPTIONAL, &r->thumb_media_id);
    }
    if (strcmp(t, "music") == 0) {
        r->type = WX_REPLY_MUSIC;
        return field(p, o, "thumb_media_id", NONEMPTY, &r->thumb_media_id) ||
               field(p, o, "title", OPTIONAL, &r->title) ||
               field(p, o, "description", OPTIONAL, &r->description) ||
               field(p, o, "music_url", OPTIONAL, &r->music_url) ||
               field(p, o, "hq_music_url", OPTIONAL, &r->hq_music_url);
    }
    if (strcmp(t, "news") == 0) {
        r->type = WX_REPLY_NEWS;
        return parse_news(p, r);
    }
    if (strcmp(t, "transfer_customer_service") == 0) {
        r->type = WX_REPLY_TRANSFER;
        return field(p, o, "kf_account", OPTIONAL, &r->kf_account);
    }
    snprintf(p->why, p->whylen, "unknown type \"%.40s\"", t);
    p->rc = WX_EUPSTREAM;
    return -1;
}

wx_err_t wx_upstream_reply_parse(const char *body, size_t len, wx_pool_t *pool,
                                 wx_reply_t *reply, char *why, size_t whylen)
{
    wx_up_parse_t p = { NULL, "", pool, why, whylen, WX_OK };
    json_error_t jerr;
    json_t *type;
    size_t i;

    memset(reply, 0, sizeof(*reply));
    why[0] = '\0';
    for (i = 0; i < len; i++)
        if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' && body[i] != '\n')
            break;
    if (i == len)
        return WX_OK;           /* an empty answer: no reply */
    p.obj = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (p.obj == NULL) {
        snprintf(why, whylen, "not JSON: %s at line %d", jerr.text, jerr.line);
        return WX_EUPSTREAM;
    }
    if (!json_is_object(p.obj)) {
        snprintf(why, whylen, "the answer is not a JSON object");
        p.rc = WX_EUPSTREAM;
        goto out;
    }
    type = json_object_get(p.obj, "type");
    if (!json_is_string(type)) {
        snprintf(why, whylen, "\"type\" is %s", type ? "not a string" : "missing");
        p.rc = WX_EUPSTREAM;
        goto out;
    }
    p.type = json_string_value(type);
    if (parse_typed(&p, reply) != 0)
        memset(reply, 0, sizeof(*reply));
out:
    json_decref(p.obj);
    return p.rc;
}

/* --- the reply as a customer-service message ---------------------------- */

static int set_str(json_t *o, const char *name, wx_str_t v)
{
    if (v.data == NULL)
        return 0;
    return json_object_set_new(o, name, jstr(v));
}

json_t *wx_upstream_custom_json(const wx_reply_t *r, wx_str_t touser)
{
    const char *kind;
    json_t *root, *body;
    int bad = 0;

    switch (r->type) {
    case WX_REPLY_TEXT:  kind = "text";  break;
    case WX_REPLY_IMAGE: kind = "image"; break;
    case WX_REPLY_VOICE: kind = "voice"; break;
    case WX_REPLY_VIDEO: kind = "video"; break;
    case WX_REPLY_MUSIC: kind = "music"; break;
    case WX_REPLY_NEWS:  kind = "news";  break;
    default:             return NULL;   /* success, transfer: nothing */
    }
    root = json_object();
    body = json_object();
    if (root == NULL || body == NULL) {
        json_decref(root);
        json_decref(body);
        return NULL;
    }
    bad |= json_object_set_new(root, "touser", jstr(touser));
    bad |= json_object_set_new(root, "msgtype", json_string(kind));
    bad |= json_object_set_new(root, kind, body);
    switch (r->type) {
    case WX_REPLY_TEXT:
        bad |= json_object_set_new(body, "content", jstr(r->content));
        break;
    case WX_REPLY_IMAGE:
    case WX_REPLY_VOICE:
        bad |= set_str(body, "media_id", r->media_id);
        break;
    case WX_REPLY_VIDEO:
        bad |= set_str(body, "media_id", r->media_id);
        bad |= set_str(body, "thumb_media_id", r->thumb_media_id);
        bad |= set_str(body, "title", r->title);
        bad |= set_str(body, "description", r->description);
        break;
    case WX_REPLY_MUSIC:
        bad |= set_str(body, "title", r->title);
        bad |= set_str(body, "description", r->description);
        bad |= set_str(body, "musicurl", r->music_url);
        bad |= set_str(body, "hqmusicurl", r->hq_music_url);
        bad |= set_str(body, "thumb_media_id", r->thumb_media_id);
        break;
    case WX_REPLY_NEWS: {
        /* One article: the limit of a customer-service news message. */
        json_t *arts = json_array(), *a = json_object();

        bad |= arts == NULL || a == NULL;
        if (!bad && r->n_articles > 0) {
            bad |= set_str(a, "title", r->articles[0].title);
            bad |= set_str(a, "description", r->articles[0].description);
            bad |= set_str(a, "url", r->articles[0].url);
            bad |= set_str(a, "picurl", r->articles[0].pic_url);
            bad |= json_array_append(arts, a);
        }
        json_decref(a);
        bad |= json_object_set_new(body, "articles", arts);
        break;
    }
    default:
        break;
    }
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}

/* --- the worker's side ------------------------------------------------- */

void wx_upstream_request_start(const struct timespec *t0)
{
    wx_up_t0 = *t0;
    wx_up_t0_set = 1;
}

static void untrack(pid_t pid)
{
    unsigned i;

    for (i = 0; i < wx_up_npending; i++) {
        if (wx_up_pids[i] == pid) {
            wx_up_pids[i] = wx_up_pids[--wx_up_npending];
            return;
        }
    }
}

unsigned wx_upstream_reap(void)
{
    unsigned i = 0;

    /* Only our own children: the worker may have others one day. */
    while (i < wx_up_npending) {
        pid_t pid = wx_up_pids[i];
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);

        if (r == 0) {
            i++;
            continue;
        }
        if (r == pid && WIFSIGNALED(st))
            wx_log(WX_LOG_ERROR, "upstream: business call %ld killed by signal %d",
                   (long)pid, WTERMSIG(st));
        untrack(pid);           /* r < 0: not ours any more (ECHILD) */
    }
    return wx_up_npending;
}

static long ms_until(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (t->tv_sec - now.tv_sec) * 1000L + (t->tv_nsec - now.tv_nsec) / 1000000L;
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
static int await_record(int fd, const struct timespec *deadline, size_t *len)
{
    *len = 0;
    for (;;) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        long left = ms_until(deadline);
        ssize_t n;
        int rc;

        if (left <= 0)
            return 0;
        rc = poll(&pfd, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;           /* SIGCHLD, a signal for the worker */
        if (rc < 0)
            return -1;
        if (rc == 0)
            return 0;
        n = read(fd, wx_up_rec + *len, sizeof(wx_up_rec) - *len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return *len > 0 ? 1 : (errno = EPIPE, -1);
        *len += (size_t)n;
        if (*len == sizeof(wx_up_rec)) {
            errno = EMSGSIZE;
            return -1;
        }
    }
}

/* --- the child's side -------------------------------------------------- */

typedef struct {
    char   *data;
    size_t  len, cap;
    int     too_big;
} wx_up_body_t;

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    wx_up_body_t *b = user;
    size_t len = size * n;

    if (b->len + len > WX_UP_MAX_ANSWER) {
        b->too_big = 1;
        return 0;
    }
    memcpy(b->data + b->len, p, len);
    b->len += len;
    return len;
}

/* POST 'json' to the business service.  0 with the answer in 'b', or -1
 * with the reason in 'why'. */
static int call_business(const wx_up_t *up, const char *json, wx_up_body_t *b,
                         char *why, size_t whylen)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hdr = NULL;
    long status = 0;
    CURLcode cc;
    int rc = -1;

    if (c == NULL) {
        snprintf(why, whylen, "libcurl: out of memory");
        return -1;
    }
    hdr = curl_slist_append(hdr, "Content-Type: application/json; charset=utf-8");
    hdr = curl_slist_append(hdr, "Accept: application/json");
    hdr = curl_slist_append(hdr, "Expect:");    /* no 100-continue round trip */
    curl_easy_setopt(c, CURLOPT_URL, up->cfg->up_url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_PROXY, "");     /* never the environment's */
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)up->cfg->up_timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)up->cfg->up_timeout_ms);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "wxfcgi/" WX_VERSION);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK)
        snprintf(why, whylen, "%s", b->too_big ? "answer over 64 KiB" : curl_easy_strerror(cc));
    else if (status != 200)
        snprintf(why, whylen, "HTTP status %ld", status);
    else
        rc = 0;
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    return rc;
}

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
    case 403: return "the key may not call /cgi-bin/message/custom/send";
    case 429: return "rate limited by wxproxy";
    case 502: return "wxproxy could not get an answer from WeChat";
    case 504: return "WeChat did not answer wxproxy in time";
    default:  return "unexpected answer from wxproxy";
    }
}

/* Send the late answer through wxproxy; everything that happens is logged. */
static void send_custom(const wx_up_t *up, const char *what, json_t *cs)
{
    wx_api_opts_t opts = { up->cfg->up_proxy, NULL, NULL, WX_UP_SEND_TIMEOUT_MS,
                           up->key_header };
    char err[256], *text = json_dumps(cs, JSON_COMPACT);
    wx_api_t *api = NULL;
    int attempt;

    if (text == NULL || (api = wx_api_new(&opts, err, sizeof(err))) == NULL) {
        wx_log(WX_LOG_ERROR, "upstream: late answer for %s not sent: %s", what,
               text ? err : "out of memory");
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
        wx_api_result_free(&r);
        if (!again || attempt == WX_UP_SEND_TRIES)
            break;
        sleep((unsigned)attempt);
    }
out:
    wx_api_free(api);
    free(text);
}

/* The answer came after the worker had answered "success". */
static void deliver_late(const wx_up_t *up, const char *body, size_t len,
                         const wx_msg_t *msg, wx_pool_t *pool, time_t arrived,
                         const char *what)
{
    const char *closed;
    char why[256];
    wx_reply_t reply;
    json_t *cs;

    if (wx_upstream_reply_parse(body, len, pool, &reply, why, sizeof(why)) != WX_OK) {
        wx_log(WX_LOG_ERROR, "upstream: late answer for %s unusable: %s; nothing sent",
               what, why);
        return;
    }
    if (reply.type == WX_REPLY_SUCCESS || reply.type == WX_REPLY_TRANSFER) {
        wx_log(WX_LOG_INFO, "upstream: late answer for %s is %s: nothing to send", what,
               wx_reply_type_name(reply.type));
        return;
    }
    closed = window_closed(msg, (long)(time(NULL) - arrived));
    if (closed) {
        wx_log(WX_LOG_WARN, "upstream: late answer for %s dropped: %s (PROTOCOL.md 6.7)",
               what, closed);
        return;
    }
    if (up->cfg->up_proxy == NULL) {
        wx_log(WX_LOG_ERROR, "upstream: late answer for %s dropped: [upstream] proxy "
               "is not set", what);
        return;
    }
    cs = wx_upstream_custom_json(&reply, msg->from_user);
    if (cs == NULL) {
        wx_log(WX_LOG_ERROR, "upstream: late answer for %s not sent: out of memory", what);
        return;
    }
    send_custom(up, what, cs);
    json_decref(cs);
}

/* The child inherits the worker's sockets: the listening one would keep
 * the address busy after the worker is gone, the FastCGI connection is
 * none of its business.  Stream sockets from fd 3 up and any listening
 * socket go (fd 0 under spawn-fcgi becomes /dev/null). */
static void close_inherited(int keep)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name), type = 0, listening = 0;
        socklen_t l = sizeof(type);
        struct stat st;

        if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == keep || fd == dirfd(d) ||
            fd == 1 || fd == 2)
            continue;
        if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) ||
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) != 0)
            continue;
        l = sizeof(listening);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l) != 0)
            listening = 0;
        if (fd == 0) {
            int nul = listening ? open("/dev/null", O_RDONLY) : -1;

            if (nul > 0) {
                dup2(nul, 0);
                close(nul);
            }
        } else if (listening || type == SOCK_STREAM) {
            close(fd);
        }
    }
    closedir(d);
}

static void child_signals(void)
{
    static const int ignored[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGPIPE };
    struct sigaction sa;
    size_t i;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
        sigaction(ignored[i], &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Whether the worker took the record: its one-byte acknowledgement, rather
 * than EOF (it gave up: the answer is late). */
static int acknowledged(int fd)
{
    struct pollfd pfd = { fd, POLLIN, 0 };
    char c;
    int rc;

    do
        rc = poll(&pfd, 1, WX_UP_ACK_WAIT_MS);
    while (rc < 0 && errno == EINTR);
    return rc > 0 && read(fd, &c, 1) == 1 && c == 'k';
}

static void child_run(const wx_up_t *up, int fd, const char *json, const wx_msg_t *msg,
                      wx_pool_t *pool, time_t arrived, const char *what)
{
    wx_up_body_t b = { NULL, 0, WX_UP_MAX_ANSWER, 0 };
    char why[256];
    int ok;

    child_signals();
    prctl(PR_SET_NAME, "wxfcgi-upstream", 0, 0, 0);
    close_inherited(fd);
    b.data = malloc(WX_UP_MAX_ANSWER);
    if (b.data == NULL) {
        snprintf(why, sizeof(why), "out of memory");
        ok = 0;
    } else {
        ok = call_business(up, json, &b, why, sizeof(why)) == 0;
    }
    if (write_all(fd, ok ? "A" : "E", 1) == 0 &&
        write_all(fd, ok ? b.data : why, ok ? b.len : strlen(why)) == 0 &&
        shutdown(fd, SHUT_WR) == 0 && acknowledged(fd))
        _exit(0);               /* the worker answered with it */
    if (ok)
        deliver_late(up, b.data, b.len, msg, pool, arrived, what);
    else
        wx_log(WX_LOG_ERROR, "upstream: business call for %s failed after the budget: %s",
               what, why);
    _exit(0);
}

/* --- the handler --------------------------------------------------------- */

static void *up_create(const wx_config_t *cfg, char *err, size_t errlen)
{
    wx_up_t *up;

    if (cfg->up_url == NULL || cfg->up_url[0] == '\0') {
        snprintf(err, errlen, "handler upstream: [upstream] url is missing "
                 "(the business service, e.g. http://127.0.0.1:9000/wx)");
        return NULL;
    }
    if (strncmp(cfg->up_url, "http://", 7) != 0 && strncmp(cfg->up_url, "https://", 8) != 0) {
        snprintf(err, errlen, "handler upstream: [upstream] url must start with "
                 "http:// or https://");
        return NULL;
    }
    if (cfg->up_proxy && strncmp(cfg->up_proxy, "http://", 7) != 0 &&
        strncmp(cfg->up_proxy, "https://", 8) != 0) {
        snprintf(err, errlen, "handler upstream: [upstream] proxy must start with "
                 "http:// or https://");
        return NULL;
    }
    if (cfg->up_proxy && (cfg->up_proxy_key == NULL || cfg->up_proxy_key[0] == '\0')) {
        snprintf(err, errlen, "handler upstream: [upstream] proxy is set but proxy_key is "
                 "missing (proxy_key, proxy_key_file or WX_PROXY_KEY)");
        return NULL;
    }
    if (cfg->up_proxy_key && strpbrk(cfg->up_proxy_key, "\r\n")) {
        snprintf(err, errlen, "handler upstream: [upstream] proxy_key holds a line break");
        return NULL;
    }
    /* Once, before any fork: the children inherit it. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "handler upstream: libcurl initialisation failed");
        return NULL;
    }
    up = calloc(1, sizeof(*up));
    if (up == NULL)
        return NULL;
    up->cfg = cfg;
    if (cfg->up_proxy) {
        size_t n = strlen("X-Wx-Key: ") + strlen(cfg->up_proxy_key) + 1;

        up->key_header = malloc(n);
        if (up->key_header == NULL) {
            free(up);
            return NULL;
        }
        snprintf(up->key_header, n, "X-Wx-Key: %s", cfg->up_proxy_key);
    } else {
        wx_log(WX_LOG_WARN, "handler upstream: [upstream] proxy is not set: answers later "
               "than reply_budget_ms (%u ms) will be logged and dropped",
               cfg->reply_budget_ms);
    }
    return up;
}

static void up_destroy(void *ctx)
{
    wx_up_t *up = ctx;

    if (up == NULL)
        return;
    if (up->key_header) {
        explicit_bzero(up->key_header, strlen(up->key_header));
        free(up->key_header);
    }
    free(up);
}

/* The deadline: reply_budget_ms after the request arrived, less the
 * margin to send the answer. */
static void budget_deadline(const wx_config_t *cfg, struct timespec *d)
{
    unsigned margin = cfg->reply_budget_ms / 2 < WX_UP_MARGIN_MS ?
                      cfg->reply_budget_ms / 2 : WX_UP_MARGIN_MS;
    long ms = (long)cfg->reply_budget_ms - (long)margin;

    if (wx_up_t0_set)
        *d = wx_up_t0;
    else
        clock_gettime(CLOCK_MONOTONIC, d);
    wx_up_t0_set = 0;
    d->tv_sec += ms / 1000;
    d->tv_nsec += (ms % 1000) * 1000000L;
    if (d->tv_nsec >= 1000000000L) {
        d->tv_sec++;
        d->tv_nsec -= 1000000000L;
    }
}

/* Use the child's record, in time: the reply, or "success" and a log line. */
static wx_err_t use_record(size_t len, const char *what, wx_pool_t *pool,
                           wx_reply_t *reply)
{
    char why[256];
    wx_err_t rc;

    if (wx_up_rec[0] == 'E') {
        char reason[200];

        wx_log_clean(reason, sizeof(reason), (wx_str_t){ len - 1, wx_up_rec + 1 });
        wx_log(WX_LOG_ERROR, "upstream: business call for %s failed: %s; answering success",
               what, reason);
        return WX_OK;
    }
    rc = wx_upstream_reply_parse(wx_up_rec + 1, len - 1, pool, reply, why, sizeof(why));
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

static wx_err_t up_handle(void *ctx, const wx_msg_t *msg, wx_pool_t *pool,
                          wx_reply_t *reply)
{
    const wx_up_t *up = ctx;
    struct timespec deadline;
    char what[128], *json;
    time_t arrived = time(NULL);
    json_t *body;
    size_t len;
    pid_t pid;
    int sv[2], got;

    budget_deadline(up->cfg, &deadline);
    describe(what, sizeof(what), msg);
    if (wx_upstream_reap() >= WX_UP_MAX_PENDING) {
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
    pid = fork();
    if (pid == 0) {
        close(sv[0]);
        child_run(up, sv[1], json, msg, pool, arrived, what);
    }
    free(json);
    close(sv[1]);
    if (pid < 0) {
        wx_log(WX_LOG_ERROR, "upstream: fork: %s; %s not forwarded", strerror(errno), what);
        close(sv[0]);
        return WX_ESYS;
    }
    wx_up_pids[wx_up_npending++] = pid;

    got = await_record(sv[0], &deadline, &len);
    if (got == 1) {
        wx_err_t rc;

        /* Taken: the child must not deliver it again. */
        if (send(sv[0], "k", 1, MSG_NOSIGNAL) != 1)
            wx_log(WX_LOG_WARN, "upstream: acknowledgement for %s: %s", what,
                   strerror(errno));
        close(sv[0]);
        rc = use_record(len, what, pool, reply);
        wx_upstream_reap();
        return rc;
    }
    close(sv[0]);
    if (got == 0)
        wx_log(WX_LOG_INFO, "upstream: no business answer for %s within %u ms: answering "
               "success; a late answer goes as a customer-service message", what,
               up->cfg->reply_budget_ms);
    else
        wx_log(WX_LOG_ERROR, "upstream: business call for %s lost: %s; answering success",
               what, strerror(errno));
    return WX_OK;
}

const wx_handler_t wx_handler_upstream = {
    "upstream", up_create, up_destroy, up_handle,
};
