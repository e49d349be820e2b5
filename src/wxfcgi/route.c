/* route.c - the route table: built from the config, matched per message,
 * and run as the gateway's handler (wxfcgi/route.h). */
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wxfcgi/acct.h"
#include "wxfcgi/route.h"
#include "wxfcgi/route_tmpl.h"

typedef enum { WX_M_ANY, WX_M_EXACT, WX_M_PREFIX, WX_M_REGEX } wx_mkind_t;

typedef struct wx_rmatch {
    wx_mkind_t  kind;
    wx_str_t    lit;        /* EXACT, PREFIX (without the '*') */
    regex_t     re;         /* REGEX */
} wx_rmatch_t;

typedef enum { WX_A_REPLY, WX_A_HANDLER, WX_A_SUCCESS } wx_akind_t;

#define WX_ACCT_WORDS   ((WX_ACCT_N_MAX + 63) / 64)

typedef struct wx_route {
    char               *name;       /* "route.NAME", "echo.click.KEY", "default" */
    /* match */
    uint64_t            accts[WX_ACCT_WORDS];   /* bit i: serves account i */
    const char         *accounts;   /* as written; NULL: every account */
    wx_msg_type_t       type;       /* WX_MSG_UNKNOWN: any */
    unsigned            types;      /* bit t: a message of type t may match */
    const char         *event;      /* NULL: any */
    size_t              event_len;
    wx_rmatch_t         event_key, content, scene;
    char              **from;       /* sorted; NULL: anyone */
    size_t              n_from;
    int                 catch_all;
    /* action */
    wx_akind_t          akind;
    const char         *action;     /* its name, for the table */
    wx_reply_t          reply;      /* REPLY: the static fields */
    wx_tmpl_t           text;       /* REPLY text */
    wx_article_t       *articles;   /* REPLY news */
    char               *articles_store;
    size_t              handler;    /* HANDLER: index in the router's */
} wx_route_t;

/* A handler's state, one per distinct handler and upstream URL. */
typedef struct wx_rhandler {
    const wx_handler_t *h;
    void               *ctx;
    wxfcgi_conf_t      *cfg;        /* upstream of a route: its own copy */
    const char         *url;        /* upstream: the URL, to share states */
    unsigned            timeout_ms;
} wx_rhandler_t;

struct wx_router {
    const wxfcgi_conf_t *cfg;
    wx_route_t          *v;
    size_t               n;
    wx_rhandler_t       *hs;
    size_t               n_hs;
};

/* ---- matching ------------------------------------------------------------ */

static int match_str(const wx_rmatch_t *m, wx_str_t s)
{
    regmatch_t span;

    switch (m->kind) {
    case WX_M_ANY:
        return 1;
    case WX_M_EXACT:
        return s.len == m->lit.len && (s.len == 0 || memcmp(s.data, m->lit.data, s.len) == 0);
    case WX_M_PREFIX:
        return s.len >= m->lit.len && (m->lit.len == 0 || memcmp(s.data, m->lit.data, m->lit.len) == 0);
    case WX_M_REGEX:
        /* REG_STARTEND: the span is the counted string, no NUL needed. */
        span.rm_so = 0;
        span.rm_eo = (regoff_t)s.len;
        return regexec(&m->re, s.data ? s.data : "", 1, &span, REG_STARTEND) == 0;
    }
    return 0;
}

static int cmp_openid(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int from_has(const wx_route_t *rt, wx_str_t who)
{
    size_t lo = 0, hi = rt->n_from;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = wx_str_cmp(who, wx_str_c(rt->from[mid]));

        if (c == 0)
            return 1;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

static int route_matches(const wx_route_t *rt, const wx_msg_t *msg, unsigned account)
{
    if (!(rt->accts[account / 64] & (1ULL << (account % 64))))
        return 0;
    if (!(rt->types & (1U << msg->type)))
        return 0;
    if (rt->event && (msg->event_name.len != rt->event_len ||
                      strncasecmp(msg->event_name.data, rt->event, rt->event_len) != 0))
        return 0;
    if (rt->event_key.kind != WX_M_ANY &&
        (msg->type != WX_MSG_EVENT || !match_str(&rt->event_key, msg->event_key)))
        return 0;
    if (rt->scene.kind != WX_M_ANY) {
        wx_str_t scene = wx_tmpl_scene(msg);

        if (scene.data == NULL || !match_str(&rt->scene, scene))
            return 0;
    }
    if (rt->content.kind != WX_M_ANY &&
        (msg->type != WX_MSG_TEXT || !match_str(&rt->content, msg->content)))
        return 0;
    if (rt->from && !from_has(rt, msg->from_user))
        return 0;
    return 1;
}

static const wx_route_t *find(const wx_router_t *r, const wx_msg_t *msg, unsigned account)
{
    size_t i;

    for (i = 0; i + 1 < r->n; i++)
        if (route_matches(&r->v[i], msg, account))
            return &r->v[i];
    return &r->v[r->n - 1];     /* the default */
}

const char *wx_router_match(const wx_router_t *r, const wx_msg_t *msg)
{
    return find(r, msg, 0)->name;
}

const char *wx_router_match_account(const wx_router_t *r, const wx_msg_t *msg,
                                    unsigned account)
{
    return find(r, msg, account < WX_ACCT_N_MAX ? account : 0)->name;
}

/* ---- the handler ---------------------------------------------------------- */

static wx_err_t router_handle(void *ctx, const wx_handle_req_t *rq, wx_reply_t *reply)
{
    const wx_router_t *r = ctx;
    const wx_route_t *rt = find(r, rq->msg, rq->account < WX_ACCT_N_MAX ? rq->account : 0);
    const wx_rhandler_t *h;

    switch (rt->akind) {
    case WX_A_SUCCESS:
        return WX_OK;
    case WX_A_HANDLER:
        h = &r->hs[rt->handler];
        return h->h->handle(h->ctx, rq, reply);
    case WX_A_REPLY:
        *reply = rt->reply;
        if (rt->reply.type == WX_REPLY_TEXT && rt->text.fields) {
            reply->content = wx_tmpl_render(&rt->text, rq->msg, rq->pool);
            if (reply->content.data == NULL)
                return WX_ENOMEM;
        }
        return WX_OK;
    }
    return WX_OK;
}

static unsigned router_reap(void *ctx)
{
    const wx_router_t *r = ctx;
    unsigned n = 0;
    size_t i;

    for (i = 0; i < r->n_hs; i++)
        if (r->hs[i].h->reap)
            n += r->hs[i].h->reap(r->hs[i].ctx);
    return n;
}

static void *router_create(const wxfcgi_conf_t *cfg, char *err, size_t errlen)
{
    return wx_router_new(cfg, err, errlen);
}

static void router_destroy(void *ctx)
{
    wx_router_free(ctx);
}

const wx_handler_t wx_handler_router = {
    .name = "router",
    .create = router_create,
    .destroy = router_destroy,
    .handle = router_handle,
    .reap = router_reap,
};

/* ---- building ------------------------------------------------------------- */

/* The state of handler 'name' (with the upstream 'url' and 'timeout_ms'
 * of a route, or NULL and 0 for [upstream]'s), created once. */
static int use_handler(wx_router_t *r, const char *name, const char *url, unsigned timeout_ms,
                       size_t *idx, char *err, size_t errlen)
{
    const wx_handler_t *h = wx_handler_find(name);
    wx_rhandler_t *hs, *nh;
    size_t i;

    if (h == NULL) {
        char known[128];

        snprintf(err, errlen, "[wxfcgi] handler '%s' is unknown (known: %s)",
                 name, wx_handler_names(known, sizeof(known)));
        return -1;
    }
    for (i = 0; i < r->n_hs; i++)
        if (r->hs[i].h == h && (url == NULL ? r->hs[i].url == NULL :
            r->hs[i].url && strcmp(r->hs[i].url, url) == 0) && r->hs[i].timeout_ms == timeout_ms) {
            *idx = i;
            return 0;
        }
    hs = realloc(r->hs, (r->n_hs + 1) * sizeof(*hs));
    if (hs == NULL)
        goto nomem;
    r->hs = hs;
    nh = &hs[r->n_hs];
    memset(nh, 0, sizeof(*nh));
    nh->h = h;
    nh->url = url;
    nh->timeout_ms = timeout_ms;
    if (url || timeout_ms) {
        /* The upstream handler reads [upstream]: give it a copy that names
         * the route's service and wait (the strings stay the config's). */
        nh->cfg = malloc(sizeof(*nh->cfg));
        if (nh->cfg == NULL)
            goto nomem;
        *nh->cfg = *r->cfg;
        if (url)
            nh->cfg->up.url = (char *)url;
        if (timeout_ms)
            nh->cfg->up.timeout_ms = timeout_ms;
    }
    r->n_hs++;
    if (h->create) {
        err[0] = '\0';
        nh->ctx = h->create(nh->cfg ? nh->cfg : r->cfg, err, errlen);
        if (nh->ctx == NULL) {
            if (err[0] == '\0')
                snprintf(err, errlen, "handler %s: out of memory", h->name);
            return -1;
        }
    }
    *idx = r->n_hs - 1;
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

static int compile_pattern(wx_rmatch_t *m, const char *v, int regex_ok)
{
    size_t n = strlen(v);

    if (regex_ok && n >= 3 && v[0] == '/' && v[n - 1] == '/') {
        char buf[1024];

        if (n - 2 >= sizeof(buf))
            return -1;
        memcpy(buf, v + 1, n - 2);
        buf[n - 2] = '\0';
        if (regcomp(&m->re, buf, REG_EXTENDED | REG_NOSUB) != 0)
            return -1;
        m->kind = WX_M_REGEX;
        return 0;
    }
    if (v[0] == '\\') {
        /* \TEXT: TEXT exactly, even "/start" or "price*" */
        m->kind = WX_M_EXACT;
        m->lit = (wx_str_t){ n - 1, v + 1 };
        return 0;
    }
    m->kind = n && v[n - 1] == '*' ? WX_M_PREFIX : WX_M_EXACT;
    m->lit = (wx_str_t){ m->kind == WX_M_PREFIX ? n - 1 : n, v };
    return 0;
}

/* Add a line's openid (blanks and '#' comments skipped). */
static int add_openid(wx_route_t *rt, size_t *cap, const char *s, size_t len)
{
    char **v;

    if (rt->n_from == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        v = realloc(rt->from, *cap * sizeof(*v));
        if (v == NULL)
            return -1;
        rt->from = v;
    }
    rt->from[rt->n_from] = strndup(s, len);
    return rt->from[rt->n_from++] ? 0 : -1;
}

static int load_from(wx_route_t *rt, const wx_route_conf_t *rc, const char *cfg_path,
                     char *err, size_t errlen)
{
    size_t cap = 0;

    if (rc->from) {
        const char *p = rc->from;

        while (*p) {
            size_t n = strcspn(p, " \t\n");

            if (n && add_openid(rt, &cap, p, n) != 0)
                goto nomem;
            p += n;
            p += strspn(p, " \t\n");
        }
    } else {
        char path[4096];
        const char *slash = cfg_path ? strrchr(cfg_path, '/') : NULL;
        FILE *f;
        char *line = NULL;
        size_t linecap = 0;

        /* Relative to the config file, as every NAME_file of it. */
        if (rc->from_file[0] != '/' && slash)
            snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - cfg_path), cfg_path,
                     rc->from_file);
        else
            snprintf(path, sizeof(path), "%s", rc->from_file);
        f = fopen(path, "r");

        if (f == NULL) {
            snprintf(err, errlen, "[route.%s] from_file %s: %s", rc->name, path,
                     strerror(errno));
            return -1;
        }
        while (getline(&line, &linecap, f) > 0) {
            size_t n;
            char *s = line + strspn(line, " \t");

            n = strcspn(s, " \t\r\n#");
            if (n && add_openid(rt, &cap, s, n) != 0) {
                free(line);
                fclose(f);
                goto nomem;
            }
        }
        free(line);
        fclose(f);
    }
    if (rt->n_from == 0) {
        snprintf(err, errlen, "[route.%s] %s names no openid", rc->name,
                 rc->from ? "from" : "from_file");
        return -1;
    }
    qsort(rt->from, rt->n_from, sizeof(*rt->from), cmp_openid);
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

static const struct {
    const char     *name;
    wx_reply_type_t type;
} wx_route_replies[] = {
    { "text", WX_REPLY_TEXT }, { "image", WX_REPLY_IMAGE }, { "voice", WX_REPLY_VOICE },
    { "video", WX_REPLY_VIDEO }, { "music", WX_REPLY_MUSIC }, { "news", WX_REPLY_NEWS },
    { "transfer", WX_REPLY_TRANSFER },
};

static wx_str_t opt_str(const char *s)
{
    return s ? wx_str_c(s) : WX_NULL_STR;
}

/* The action of 'rc' (route_conf.c checked its keys). */
static int build_action(wx_router_t *r, wx_route_t *rt, const wx_route_conf_t *rc,
                        char *err, size_t errlen)
{
    char why[256];
    size_t i;

    rt->action = rc->action;
    if (strcmp(rc->action, "success") == 0) {
        rt->akind = WX_A_SUCCESS;
        return 0;
    }
    if (strcmp(rc->action, "echo") == 0 || strcmp(rc->action, "upstream") == 0) {
        rt->akind = WX_A_HANDLER;
        if (use_handler(r, rc->action, rc->url, rc->timeout_ms, &rt->handler, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "[route.%s] action %s: %s", rc->name, rc->action, why);
            return -1;
        }
        return 0;
    }
    rt->akind = WX_A_REPLY;
    for (i = 0; i < sizeof(wx_route_replies) / sizeof(wx_route_replies[0]); i++)
        if (strcmp(rc->action, wx_route_replies[i].name) == 0)
            rt->reply.type = wx_route_replies[i].type;
    rt->reply.media_id = opt_str(rc->media_id);
    rt->reply.title = opt_str(rc->title);
    rt->reply.description = opt_str(rc->description);
    rt->reply.music_url = opt_str(rc->music_url);
    rt->reply.hq_music_url = opt_str(rc->hq_music_url);
    rt->reply.thumb_media_id = opt_str(rc->thumb_media_id);
    rt->reply.kf_account = opt_str(rc->kf_account);
    if (rc->text) {
        if (wx_tmpl_compile(&rt->text, rc->text, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "[route.%s] text: %s", rc->name, why);
            return -1;
        }
        rt->reply.content = wx_str_c(rc->text);
    }
    if (rc->articles) {
        if (wx_tmpl_articles(rc->articles, &rt->articles, &rt->reply.n_articles,
                             &rt->articles_store, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "[route.%s] articles: %s", rc->name, why);
            return -1;
        }
        rt->reply.articles = rt->articles;
    }
    return 0;
}

/* 'account = a b': the accounts a route serves, checked against the
 * config's ("default" is [wx]). */
static int set_accounts(const wx_router_t *r, wx_route_t *rt, const wx_route_conf_t *rc,
                        char *err, size_t errlen)
{
    const char *p = rc->account;

    memset(rt->accts, 0, sizeof(rt->accts));
    rt->accounts = rc->account;
    while (*p) {
        size_t len;
        int i;

        p += strspn(p, " \t");
        len = strcspn(p, " \t");
        if (len == 0)
            break;
        i = wx_accts_index(r->cfg, p, len);
        if (i < 0) {
            snprintf(err, errlen, "[route.%s] account '%.*s' is not an account (default, "
                     "or the NAME of an [account.NAME])", rc->name, (int)(len > 64 ? 64 : len),
                     p);
            return -1;
        }
        rt->accts[i / 64] |= 1ULL << (i % 64);
        p += len;
    }
    return 0;
}

static int build_route(wx_router_t *r, wx_route_t *rt, const wx_route_conf_t *rc,
                       char *err, size_t errlen)
{
    size_t n = strlen(rc->name) + sizeof("route.");

    rt->name = malloc(n);
    if (rt->name == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(rt->name, n, "route.%s", rc->name);
    if (rc->account && set_accounts(r, rt, rc, err, errlen) != 0)
        return -1;
    rt->type = rc->type ? wx_msg_type_lookup(wx_str_c(rc->type)) : WX_MSG_UNKNOWN;
    rt->event = rc->event;
    rt->event_len = rc->event ? strlen(rc->event) : 0;
    /* The one test every route makes first: content takes texts only,
     * the event keys events only. */
    rt->types = rt->type != WX_MSG_UNKNOWN ? 1U << rt->type :
                rc->content ? 1U << WX_MSG_TEXT :
                rc->event || rc->event_key || rc->scene ? 1U << WX_MSG_EVENT : ~0U;
    if ((rc->event_key && compile_pattern(&rt->event_key, rc->event_key, 0) != 0) ||
        (rc->scene && compile_pattern(&rt->scene, rc->scene, 0) != 0) ||
        (rc->content && compile_pattern(&rt->content, rc->content, 1) != 0)) {
        snprintf(err, errlen, "[route.%s] a pattern does not compile", rc->name);
        return -1;
    }
    if ((rc->from || rc->from_file) && load_from(rt, rc, r->cfg->base.path, err, errlen) != 0)
        return -1;
    rt->catch_all = !rc->type && !rc->event && !rc->event_key && !rc->scene && !rc->content &&
                    !rc->from && !rc->from_file && !rc->account;
    return build_action(r, rt, rc, err, errlen);
}

/* A route the echo handler's sections make: a text for an event. */
static int add_echo_route(wx_router_t *r, const char *name, const char *key,
                          const char *event, const char *event_key, const char *text)
{
    wx_route_t *rt = &r->v[r->n];
    size_t n = strlen(name) + strlen(key) + 2;

    rt->name = malloc(n);
    if (rt->name == NULL)
        return -1;
    snprintf(rt->name, n, "%s%s%s", name, key[0] ? "." : "", key);
    r->n++;
    rt->type = WX_MSG_EVENT;
    rt->types = 1U << WX_MSG_EVENT;
    rt->event = event;
    rt->event_len = strlen(event);
    if (event_key) {
        rt->event_key.kind = WX_M_EXACT;
        rt->event_key.lit = wx_str_c(event_key);
    }
    rt->akind = WX_A_REPLY;
    rt->action = "text";
    rt->reply.type = WX_REPLY_TEXT;
    rt->reply.content = wx_str_c(text);
    return 0;
}

/* The declared routes by priority, then file order (a stable sort). */
static void order_routes(const wx_route_conf_t **v, size_t n)
{
    size_t i, j;

    for (i = 1; i < n; i++) {
        const wx_route_conf_t *x = v[i];

        for (j = i; j > 0 && v[j - 1]->priority > x->priority; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

static int build_declared(wx_router_t *r, char *err, size_t errlen)
{
    const wx_conf_list_t *list = &r->cfg->routes;
    const wx_route_conf_t **order = NULL;
    size_t i;
    int rc = -1;

    if (list->n == 0)
        return 0;
    order = malloc(list->n * sizeof(*order));
    if (order == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (i = 0; i < list->n; i++)
        order[i] = (const wx_route_conf_t *)list->v + i;
    order_routes(order, list->n);
    for (i = 0; i < list->n; i++) {
        if (build_route(r, &r->v[r->n++], order[i], err, errlen) != 0)
            goto out;
        if (r->v[r->n - 1].catch_all && i + 1 < list->n) {
            snprintf(err, errlen, "[route.%s] matches every message, so [route.%s] after it "
                     "is never tried: give it the highest priority number", order[i]->name,
                     order[i + 1]->name);
            goto out;
        }
    }
    rc = 0;
out:
    free(order);
    return rc;
}

wx_router_t *wx_router_new(const wxfcgi_conf_t *cfg, char *err, size_t errlen)
{
    wx_router_t *r = calloc(1, sizeof(*r));
    const wx_echo_conf_t *echo = &cfg->echo;
    int by_echo = strcmp(cfg->fcgi.handler, "echo") == 0;
    size_t i, max;
    wx_route_t *dflt;

    if (r == NULL)
        goto nomem;
    r->cfg = cfg;
    if (wx_handler_find(cfg->fcgi.handler) == NULL) {
        char known[128];

        snprintf(err, errlen, "[wxfcgi] handler '%s' is unknown (known: %s)",
                 cfg->fcgi.handler, wx_handler_names(known, sizeof(known)));
        goto fail;
    }
    max = cfg->routes.n + echo->clicks.n + 2;
    r->v = calloc(max, sizeof(*r->v));
    if (r->v == NULL)
        goto nomem;
    /* Every route serves every account, but those that say otherwise. */
    for (i = 0; i < max; i++)
        memset(r->v[i].accts, 0xff, sizeof(r->v[i].accts));
    if (build_declared(r, err, errlen) != 0)
        goto fail;
    if (r->n && r->v[r->n - 1].catch_all) {
        /* The declared catch-all is the default: nothing else is reached. */
        free(r->v[r->n - 1].name);
        r->v[r->n - 1].name = strdup("default");
        if (r->v[r->n - 1].name == NULL)
            goto nomem;
        return r;
    }
    /* [echo.click] and [echo] welcome: what the echo handler answered. */
    for (i = 0; by_echo && i < echo->clicks.n; i++) {
        const wx_conf_pair_t *click = (const wx_conf_pair_t *)echo->clicks.v + i;

        if (add_echo_route(r, "echo.click", click->name, "CLICK", click->name, click->text) != 0)
            goto nomem;
    }
    if (by_echo && echo->welcome && add_echo_route(r, "echo.welcome", "", "subscribe", NULL,
                                                   echo->welcome) != 0)
        goto nomem;
    dflt = &r->v[r->n++];
    dflt->name = strdup("default");
    if (dflt->name == NULL)
        goto nomem;
    dflt->catch_all = 1;
    dflt->akind = WX_A_HANDLER;
    dflt->action = cfg->fcgi.handler;
    if (use_handler(r, cfg->fcgi.handler, NULL, 0, &dflt->handler, err, errlen) != 0)
        goto fail;
    return r;
nomem:
    snprintf(err, errlen, "out of memory");
fail:
    wx_router_free(r);
    return NULL;
}

void wx_router_free(wx_router_t *r)
{
    size_t i, j;

    if (r == NULL)
        return;
    for (i = 0; r->v && i < r->n; i++) {
        wx_route_t *rt = &r->v[i];

        free(rt->name);
        if (rt->event_key.kind == WX_M_REGEX)
            regfree(&rt->event_key.re);
        if (rt->content.kind == WX_M_REGEX)
            regfree(&rt->content.re);
        for (j = 0; j < rt->n_from; j++)
            free(rt->from[j]);
        free(rt->from);
        wx_tmpl_free(&rt->text);
        free(rt->articles);
        free(rt->articles_store);
    }
    free(r->v);
    for (i = 0; i < r->n_hs; i++) {
        if (r->hs[i].ctx && r->hs[i].h->destroy)
            r->hs[i].h->destroy(r->hs[i].ctx);
        free(r->hs[i].cfg);
    }
    free(r->hs);
    free(r);
}

/* ---- the table, for -t ---------------------------------------------------- */

static void print_pattern(FILE *out, const char *key, const wx_rmatch_t *m)
{
    if (m->kind == WX_M_ANY)
        return;
    if (m->kind == WX_M_REGEX)
        fprintf(out, " %s~regex", key);
    else
        fprintf(out, " %s=%.*s%s", key, (int)m->lit.len, m->lit.data,
                m->kind == WX_M_PREFIX ? "*" : "");
}

void wx_router_print(const wx_router_t *r, FILE *out)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        const wx_route_t *rt = &r->v[i];

        fprintf(out, "  %2zu  %-24s", i + 1, rt->name);
        if (rt->catch_all)
            fprintf(out, " (everything else)");
        if (rt->type != WX_MSG_UNKNOWN)
            fprintf(out, " type=%s", wx_msg_type_name(rt->type));
        if (rt->event)
            fprintf(out, " event=%s", rt->event);
        print_pattern(out, "event_key", &rt->event_key);
        print_pattern(out, "scene", &rt->scene);
        print_pattern(out, "content", &rt->content);
        if (rt->from)
            fprintf(out, " from=(%zu openid%s)", rt->n_from, rt->n_from == 1 ? "" : "s");
        if (rt->accounts)
            fprintf(out, " account=%s", rt->accounts);
        fprintf(out, "  -> %s", rt->action);
        if (rt->akind == WX_A_HANDLER && r->hs[rt->handler].url)
            fprintf(out, " %s", r->hs[rt->handler].url);
        if (rt->reply.type == WX_REPLY_NEWS)
            fprintf(out, " (%zu article%s)", rt->reply.n_articles,
                    rt->reply.n_articles == 1 ? "" : "s");
        fputc('\n', out);
    }
}
