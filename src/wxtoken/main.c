/*
 * wxtoken - the access-token central-control server (中控服务器).
 *
 * The one program that holds the AppSecret and calls /cgi-bin/token or
 * /cgi-bin/stable_token.  It keeps the token in the token store (wx/state/token.h)
 * that every other program reads, refreshes it before it expires, and on
 * request when a caller reports that WeChat rejected it.  One process,
 * one thread: the report socket (serve.c) takes many callers at once, but
 * their requests are answered one after the other, so a burst of reports
 * of the same token costs one refresh.  A lock file beside the
 * store keeps two wxtoken processes on one store from refreshing at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "wx/api/api.h"
#include "wx/core/cli.h"
#include "wx/core/clock.h"
#include "wx/core/signals.h"
#include "wx/core/log.h"
#include "wx/core/notify.h"
#include "wx/core/net.h"
#include "wx/state/account_store.h"
#include "wx/state/token.h"
#include "wxtoken.h"
#include "metrics.h"

static const char usage_text[] =
"Usage: wxtoken -c FILE\n"
"       wxtoken -t -c FILE\n"
"\n"
"The access-token central-control server: the only program that holds the\n"
"AppSecret and asks WeChat for access tokens.  It keeps the current token in\n"
"the store file ([wxtoken] store), which every caller reads, and refreshes it\n"
"  - before it expires, when less than refresh_margin seconds are left;\n"
"  - when a caller reports, on the unix socket [wxtoken] listen, that WeChat\n"
"    rejected it (40001, 40014, 42001): if the reported token is still the\n"
"    current one it is refreshed, otherwise the newer one is handed back;\n"
"  - when asked to (wxctl token --refresh).\n"
"A lock file beside the store (STORE.lock) keeps two wxtoken processes on\n"
"one store from refreshing at the same time.\n"
"\n"
"Options:\n"
"  -c, --config FILE   the config file (required)\n"
"  -t, --test          check the config and exit\n"
"  -h, --help          show this help and exit\n"
"  -V, --version       show the version and exit\n"
"\n"
"Config ([wx] appid is needed too):\n"
"  [wxtoken] appsecret      the AppSecret; better appsecret_file = PATH, or\n"
"                           the environment variable WX_APPSECRET\n"
"  [wxtoken] api            the API base URL (https://api.weixin.qq.com)\n"
"  [wxtoken] grant          stable_token (default) or token\n"
"  [wxtoken] store          the token file (/run/wxfcgi/token)\n"
"  [wxtoken] listen         unix:/path of the report socket\n"
"  [wxtoken] refresh_margin seconds before expiry to refresh (600)\n"
"  [wxtoken] timeout_ms     per API call (5000)\n"
"  [wxtoken] retry_min_ms, retry_max_ms\n"
"                           backoff after -1 (system busy) or a transport\n"
"                           error: doubling from min to max, with jitter;\n"
"                           after a hard error (40013, 40125, 40164, 40243,\n"
"                           45009, ...) no new attempt for retry_max_ms\n"
"  [wxtoken] ca_file, proxy an extra CA bundle; an HTTP(S) proxy URL\n"
"  [wxtoken] log, log_level stderr, syslog or a file; debug..error\n"
"  [account.NAME] appid, appsecret (or appsecret_file), grant\n"
"                           another account with a token of its own\n"
"\n"
"Report protocol (one line each way on the socket):\n"
"  REJECTED TOKEN | REFRESH | STATUS  ->  OK VERSION EXPIRES TOKEN\n"
"                                         ERR ERRCODE MESSAGE\n"
"  TICKET jsapi|wx_card [REFRESH]     ->  OK VERSION EXPIRES TICKET\n"
"      the JS-SDK ticket (PROTOCOL.md 13), kept in the store beside the\n"
"      token (STORE.jsapi_ticket, STORE.wx_card_ticket): fetched with the\n"
"      token when first asked for, then refreshed refresh_margin seconds\n"
"      before it expires, or now with REFRESH; one getticket call however\n"
"      many callers ask at once\n"
"  OAUTH CODE                         ->  JSON {WeChat's answer}\n"
"      a web-authorization code exchanged with the AppSecret\n"
"      (/sns/oauth2/access_token, PROTOCOL.md 12)\n"
"  METRICS  ->  the Prometheus text of its counters (per account: the\n"
"      label account=\"NAME\"), then the socket closes\n"
"  ACCOUNT NAME REQUEST               ->  REQUEST for the account NAME\n"
"      each [account.NAME] with an appsecret has a token of its own (its\n"
"      tickets, its refresh, lock and store record: STORE@NAME, or in Redis\n"
"      the key prefix KEY_PREFIX APPID:); without the prefix, or with\n"
"      NAME default, the account of [wx] and [wxtoken]\n"
"  Many callers at once; the line (at most 1024 bytes of text) must arrive\n"
"  within 2 s of the connect, else ERR -2 and the connection is closed.\n"
"\n"
"Signals: TERM and INT stop it; the store keeps the token for the next start;\n"
"HUP re-reads the config between two requests: accounts added, removed or\n"
"with a new appid are opened or closed, the others keep their tokens; a\n"
"broken config, or a change of [wxtoken] store or listen or [state] (a\n"
"restart), keeps the old one, logged; then the log file is reopened.\n"
"Exit status: 0 on a clean stop, 1 on a config or start-up error, 2 on a\n"
"usage error.\n";

/* One account's token: its refresh schedule, its lock and its store
 * records are its own, so one account's refresh never touches another's. */
typedef struct {
    const wxtoken_conf_t *cfg;
    wx_api_t           *api;
    const char         *name;           /* "default" ([wx]) or NAME */
    const char         *appid, *appsecret, *grant;
    char                tag[16 + WX_ACCOUNT_NAME_MAX];  /* "" or "account NAME: " */
    wx_account_store_t  where;          /* the records' file and prefix */
    wx_store_t         *st;             /* the token store */
    wx_token_t          cur;            /* what the store holds */
    int                 have;           /* cur is valid */
    time_t              retry_at;       /* no API call before this */
    unsigned            backoff_ms;     /* the next backoff */
    long                last_errcode;   /* of the last failed refresh */
    char                last_error[300];
    wxtoken_ext_t       x;              /* tickets and OAuth (ticket.c, oauth.c) */
    wxt_mx_t            mx;
} wxtoken_t;

/* The server: the default account first, then each [account.NAME] with an
 * appsecret. */
typedef struct {
    const wxtoken_conf_t *cfg;          /* owned: replaced by each reload */
    wx_config_t        *owned;
    wx_api_t           *api;            /* owned: one for every account */
    const char         *sock;           /* the report socket's path */
    wxtoken_t          *acct;
    size_t              n;
} wxt_server_t;

/* Errors that another attempt will not fix: a person must act. */
static const char *hard_error_hint(long code)
{
    switch (code) {
    case 40002: return "invalid grant_type";
    case 40013: return "the AppID is wrong: check [wx] appid";
    case 40125: return "the AppSecret is wrong: check [wxtoken] appsecret";
    case 40001: return "the AppSecret is wrong or was reset: check [wxtoken] appsecret";
    case 40164: return "this machine's IP is not in the account's IP allow-list "
                       "(开发 - 基本配置 - IP白名单)";
    case 40243: return "the AppSecret is frozen";
    case 41002: return "the AppID is missing";
    case 41004: return "the AppSecret is missing";
    case 45009: return "the daily quota of token calls is used up "
                       "(clear it with /cgi-bin/clear_quota/v2, or wait for tomorrow)";
    case 45011: return "the per-minute quota is used up";
    case 50004: return "calling the token API is forbidden for this account";
    case 50007: return "the account is frozen";
    case 89503: return "the call needs an administrator's confirmation";
    case 89506:
    case 89507: return "an administrator rejected calls from this IP";
    default:    return NULL;
    }
}

/* Take in what the store holds now (another wxtoken may have written it). */
static void load_store(wxtoken_t *t)
{
    char err[512];
    wx_token_t tok;
    wx_err_t rc = wx_token_read(t->st, time(NULL), &tok, err, sizeof(err));

    if (rc == WX_OK) {
        if (!t->have || tok.version != t->cur.version ||
            strcmp(tok.token, t->cur.token) != 0)
            t->cur = tok;
        t->have = 1;
        return;
    }
    if ((rc == WX_ESYS || rc == WX_ECONFIG) && t->have) {
        /* The store cannot be read (a shared store down): what it held
         * last is still served until it expires (answer_current). */
        wx_log(WX_LOG_WARN, "%s%s: serving the token read last", t->tag, err);
        return;
    }
    if (rc == WX_EINVAL)
        wx_log(WX_LOG_ERROR, "%s%s: not served; a new token will replace it", t->tag, err);
    else if (rc == WX_ESTALE)
        wx_log(WX_LOG_INFO, "%s%s", t->tag, err);
    else if (rc != WX_EMISSING)
        wx_log(WX_LOG_ERROR, "%s%s", t->tag, err);
    t->have = 0;
}

static void schedule_retry(wxtoken_t *t, int hard)
{
    unsigned ms, jitter;
    unsigned char r[2];

    if (hard) {
        ms = t->cfg->tok.retry_max_ms;
    } else {
        ms = t->backoff_ms ? t->backoff_ms : t->cfg->tok.retry_min_ms;
        t->backoff_ms = ms >= t->cfg->tok.retry_max_ms / 2 ? t->cfg->tok.retry_max_ms : ms * 2;
        /* Jitter (plus or minus a quarter) so that the instances of a
         * cluster do not retry in step. */
        if (RAND_bytes(r, sizeof(r)) == 1 && ms >= 4) {
            jitter = (unsigned)((r[0] << 8 | r[1]) % (ms / 2 + 1));
            ms = ms - ms / 4 + jitter;
        }
    }
    t->retry_at = (time_t)((wx_wall_ms() + ms + 999) / 1000);
    wx_log(WX_LOG_INFO, "%snext attempt in %u ms", t->tag, ms);
}

/* What WeChat answered a token request 'r' (sent at 't0'): the new
 * token in '*out' and 0; or -1 with the failure recorded for STATUS and
 * the next attempt scheduled. */
static int take_answer(wxtoken_t *t, const wx_api_result_t *r, long long t0, wx_token_t *out)
{
    const wxtoken_conf_t *cfg = t->cfg;
    char brief[64];
    json_t *tok, *exp;

    if (r->transport != WX_OK) {
        snprintf(t->last_error, sizeof(t->last_error), "transport: %s", r->why);
        t->last_errcode = -1;
        wx_log(WX_LOG_WARN, "%srefresh failed after %lld ms: %s", t->tag, wx_wall_ms() - t0,
               r->why);
        schedule_retry(t, 0);
        return -1;
    }
    if (r->errcode != 0) {
        const char *hint = hard_error_hint(r->errcode);
        char clean[160];

        wx_log_clean(clean, sizeof(clean), wx_str_c(r->errmsg));
        t->last_errcode = r->errcode;
        snprintf(t->last_error, sizeof(t->last_error), "%s", clean);
        if (hint != NULL) {
            wx_log(WX_LOG_ERROR, "%srefresh refused: errcode %ld (%s): %s; not retried for "
                   "%u ms", t->tag, r->errcode, clean, hint, cfg->tok.retry_max_ms);
            schedule_retry(t, 1);
        } else {
            wx_log(WX_LOG_WARN, "%srefresh failed: errcode %ld (%s)", t->tag, r->errcode,
                   clean);
            schedule_retry(t, 0);
        }
        return -1;
    }
    tok = json_object_get(r->json, "access_token");
    exp = json_object_get(r->json, "expires_in");
    if (!json_is_string(tok) || !json_is_integer(exp) || json_integer_value(exp) <= 0 ||
        json_string_length(tok) == 0 || json_string_length(tok) > WX_TOKEN_MAX) {
        snprintf(t->last_error, sizeof(t->last_error), "answer without a usable token");
        t->last_errcode = -1;
        wx_log(WX_LOG_WARN, "%srefresh failed: the answer has no usable access_token", t->tag);
        schedule_retry(t, 0);
        return -1;
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->token, json_string_value(tok), json_string_length(tok) + 1);
    out->obtained = time(NULL);
    out->expires = out->obtained + (time_t)json_integer_value(exp);
    t->backoff_ms = 0;
    t->retry_at = 0;
    t->last_errcode = 0;
    t->last_error[0] = '\0';
    wx_log(WX_LOG_INFO, "%srefresh done in %lld ms: %s, expires in %lld s", t->tag,
           wx_wall_ms() - t0,
           wx_token_brief(brief, sizeof(brief), out->token),
           (long long)json_integer_value(exp));
    return 0;
}

/* Ask WeChat for a token.  'force': the current one was rejected or a
 * refresh was asked for, so stable_token must not hand it back. */
static int fetch(wxtoken_t *t, int force, wx_token_t *out)
{
    wx_api_result_t r;
    char path[1024];
    char *body = NULL;
    long long t0 = wx_wall_ms();
    int rc;

    if (strcmp(t->grant, "token") == 0) {
        snprintf(path, sizeof(path), "/cgi-bin/token?grant_type=client_credential"
                 "&appid=%s&secret=%s", t->appid, t->appsecret);
    } else {
        json_t *req = json_pack("{s:s, s:s, s:s, s:b}", "grant_type", "client_credential",
                                "appid", t->appid, "secret", t->appsecret,
                                "force_refresh", force);

        body = req ? json_dumps(req, JSON_COMPACT) : NULL;
        json_decref(req);
        if (body == NULL) {
            wx_log(WX_LOG_ERROR, "out of memory");
            return -1;
        }
        snprintf(path, sizeof(path), "/cgi-bin/stable_token");
    }
    wx_log(WX_LOG_INFO, "%srefresh start: %s%s", t->tag, t->grant, force ? " (forced)" : "");
    wx_api_call(t->api, path, body, &r);
    /* The request held the AppSecret. */
    explicit_bzero(path, sizeof(path));
    if (body) {
        explicit_bzero(body, strlen(body));
        free(body);
    }
    rc = take_answer(t, &r, t0, out);
    wxt_mx_refreshed(&t->mx, rc == 0 ? 0 : t->last_errcode ? t->last_errcode : -1);
    wx_api_result_free(&r);
    return rc;
}

/* Refresh unless the store already holds something better than 'stale'
 * (a token a caller saw rejected, or NULL for a timed refresh).  Under the
 * lock, so that two wxtoken processes never refresh at the same time;
 * whoever waited for the lock finds the other's token and keeps it. */
static int refresh(wxtoken_t *t, const char *stale, int force)
{
    wx_token_t fresh;
    char err[512];
    time_t now;
    int rc = -1;

    if (wx_token_lock(t->st, err, sizeof(err)) != WX_OK) {
        /* A shared store down: tried again after a backoff, not at once
         * in a loop. */
        wx_log(WX_LOG_ERROR, "%s%s", t->tag, err);
        schedule_retry(t, 0);
        return -1;
    }
    load_store(t);
    now = time(NULL);
    if (t->have) {
        if (stale != NULL && strcmp(stale, t->cur.token) != 0) {
            rc = 0;         /* already replaced */
            goto out;
        }
        if (stale == NULL && !force &&
            t->cur.expires - now > (time_t)t->cfg->tok.refresh_margin) {
            rc = 0;         /* another instance refreshed it */
            goto out;
        }
    }
    if (fetch(t, force || stale != NULL, &fresh) != 0)
        goto out;
    if (t->have && strcmp(fresh.token, t->cur.token) == 0) {
        /* stable_token hands the same token back until the platform
         * renews it, five minutes before expiry. */
        fresh.version = t->cur.version;
        fresh.obtained = t->cur.obtained;
    } else {
        fresh.version = (t->have ? t->cur.version : 0) + 1;
        if (!t->have) {
            wx_token_t old;

            /* Versions only grow, even over an expired or damaged store. */
            if (wx_token_read(t->st, 0, &old, err, sizeof(err)) == WX_OK)
                fresh.version = old.version + 1;
        }
    }
    if (wx_token_write(t->st, &fresh, err, sizeof(err)) != WX_OK) {
        wx_log(WX_LOG_ERROR, "%s%s", t->tag, err);
        snprintf(t->last_error, sizeof(t->last_error), "cannot write the store");
        t->last_errcode = -1;
        schedule_retry(t, 0);
        goto out;
    }
    t->cur = fresh;
    t->have = 1;
    rc = 0;
out:
    wx_token_unlock(t->st);
    return rc;
}

/* When the next timed refresh is due (Unix seconds). */
static time_t next_due(const wxtoken_t *t)
{
    time_t due;

    if (!t->have)
        due = time(NULL);
    else
        due = t->cur.expires - (time_t)t->cfg->tok.refresh_margin;
    if (t->have && t->cur.expires - time(NULL) <= 300 && strcmp(t->grant, "stable_token") == 0) {
        /* stable_token renews in the last five minutes: ask again then. */
        due = t->cur.expires - 299;
    }
    return due > t->retry_at ? due : t->retry_at;
}

static void answer_current(wxtoken_t *t, char *out, size_t outsz)
{
    if (t->have && t->cur.expires > time(NULL)) {
        snprintf(out, outsz, "OK %lu %lld %s\n", t->cur.version,
                 (long long)t->cur.expires, t->cur.token);
    } else {
        snprintf(out, outsz, "ERR %ld %s\n", t->last_errcode ? t->last_errcode : -1,
                 t->last_error[0] ? t->last_error : "no token yet");
    }
}

/* METRICS: the Prometheus text of every account (answers are at most
 * WXTOKEN_ANSWER_MAX). */
static void answer_metrics(wxt_server_t *s, char *out, size_t outsz)
{
    wxt_mx_view_t v[1 + WX_ACCOUNT_MAX];
    wx_dynbuf_t text;
    size_t i;

    for (i = 0; i < s->n; i++) {
        wxtoken_t *t = &s->acct[i];

        load_store(t);
        v[i] = (wxt_mx_view_t){ .account = t->name, .mx = &t->mx, .have = t->have,
                                .version = t->cur.version, .expires = t->cur.expires };
    }
    wx_dynbuf_init(&text, outsz - 1);
    if (wxt_mx_write(&text, v, s->n) == 0 && text.data)
        snprintf(out, outsz, "%s", text.data);
    else
        snprintf(out, outsz, "ERR -2 metrics do not fit in an answer\n");
    wx_dynbuf_free(&text);
}

/* The token for ticket.c and oauth.c (wxtoken_ext_t.token). */
static int ext_token(void *self, const char *stale, wx_token_t *tok)
{
    wxtoken_t *t = self;

    load_store(t);
    if (time(NULL) >= t->retry_at &&
        (!t->have || (stale != NULL && strcmp(stale, t->cur.token) == 0)))
        refresh(t, stale, stale != NULL);
    if (!t->have || t->cur.expires <= time(NULL))
        return -1;
    *tok = t->cur;
    return 0;
}

/* "ACCOUNT NAME REQUEST": the account NAME ("default": [wx]), with
 * '*line' moved past the prefix; no prefix: the default account.  NULL
 * when NAME is no account of this wxtoken. */
static wxtoken_t *pick_account(wxt_server_t *s, char **line)
{
    char *name, *sp;
    size_t i;

    if (strncmp(*line, "ACCOUNT ", 8) != 0)
        return &s->acct[0];
    name = *line + 8;
    sp = strchr(name, ' ');
    if (sp == NULL)
        return NULL;
    *sp = '\0';
    *line = sp + 1;
    for (i = 0; i < s->n; i++)
        if (strcmp(s->acct[i].name, name) == 0)
            return &s->acct[i];
    return NULL;
}

/* The commands of the report socket: one request line in, one answer
 * line out (see wxtoken_serve_ops_t). */
static void dispatch(void *ctx, char *line, char *out, size_t outsz)
{
    wxt_server_t *s = ctx;
    wxtoken_t *t;
    char brief[64];

    if (strcmp(line, "METRICS") == 0) {
        answer_metrics(s, out, outsz);
        return;
    }
    if ((t = pick_account(s, &line)) == NULL) {
        snprintf(out, outsz, "ERR -2 unknown account (ACCOUNT NAME REQUEST: an "
                 "[account.NAME] with an appsecret, or default)\n");
        return;
    }
    if (strcmp(line, "STATUS") == 0) {
        load_store(t);
    } else if (strcmp(line, "REFRESH") == 0) {
        wx_log(WX_LOG_INFO, "%srefresh asked for", t->tag);
        refresh(t, NULL, 1);
    } else if (strncmp(line, "REJECTED ", 9) == 0 && line[9] != '\0') {
        wxt_mx_reported(&t->mx);
        load_store(t);
        if (t->have && strcmp(line + 9, t->cur.token) == 0) {
            wx_log(WX_LOG_INFO, "%scurrent token reported rejected: %s", t->tag,
                   wx_token_brief(brief, sizeof(brief), line + 9));
            if (time(NULL) >= t->retry_at)
                refresh(t, line + 9, 1);
        }
    } else if (wxtoken_ext_request(&t->x, line, out, outsz)) {
        return;
    } else {
        snprintf(out, outsz, "ERR -2 unknown request (REJECTED TOKEN, REFRESH, STATUS, METRICS, "
                 "TICKET or OAUTH)\n");
        return;
    }
    answer_current(t, out, outsz);
}

static int account_open(wxtoken_t *t, const wxtoken_conf_t *cfg, wx_api_t *api,
                        const wx_account_t *a);
static void account_close(wxtoken_t *t);

/* The API client of 'cfg': one for every account. */
static wx_api_t *api_new(const wxtoken_conf_t *cfg, char *err, size_t errlen)
{
    wx_api_opts_t opts = {
        .base = cfg->tok.api, .ca_file = cfg->tok.ca_file, .proxy = cfg->tok.proxy,
        .timeout_ms = cfg->tok.timeout_ms,
    };

    return wx_api_new(&opts, err, errlen);
}

/* The log file of 'cfg' again (logrotate renamed it, or a reload moved it). */
static void reopen_log(const wxtoken_conf_t *cfg)
{
    if (wx_log_open(cfg->tok.log, "wxtoken", cfg->tok.log_level) != 0)
        wx_log(WX_LOG_ERROR, "cannot open log %s: %s", cfg->tok.log, strerror(errno));
    else
        wx_log(WX_LOG_INFO, "log reopened");
}

/* What of 'nc' a reload cannot take: where the records and the socket
 * are (every account's records would move under its readers); NULL when
 * it can. */
static const char *needs_restart(const wxtoken_conf_t *oc, const wxtoken_conf_t *nc)
{
    if (strcmp(oc->where.store, nc->where.store) != 0)
        return "[wxtoken] store";
    if (strcmp(wx_token_conf_sock(&oc->where), wx_token_conf_sock(&nc->where)) != 0)
        return "[wxtoken] listen";
    if (!wx_state_conf_same(&oc->state, &nc->state))
        return "[state]";
    return NULL;
}

static int same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Point account 't' ('a': its section, NULL for the default one of [wx]
 * and [wxtoken]) at what it borrows of 'cfg' and at 'api'; its tickets'
 * and OAuth's view (t->x) too, but for the store. */
static void account_bind(wxtoken_t *t, const wxtoken_conf_t *cfg, wx_api_t *api,
                         const wx_account_t *a)
{
    t->cfg = cfg;
    t->api = api;
    t->name = a ? a->name : "default";
    t->appid = a ? a->wx.appid : cfg->wx.appid;
    t->appsecret = a ? a->appsecret : cfg->tok.appsecret;
    t->grant = a && a->grant ? a->grant : cfg->tok.grant;
    t->x.cfg = cfg;
    t->x.api = api;
    t->x.appid = t->appid;
    t->x.appsecret = t->appsecret;
    t->x.tag = t->tag;
    t->x.token = ext_token;
    t->x.self = t;
}

/* Carry account 'from' over into 't' for the reloaded 'cfg' ('a': its
 * section, NULL for the default one): its store, token, tickets and
 * counters stay; the strings it borrows are the new config's. */
static void account_keep(wxtoken_t *t, wxtoken_t *from, const wxtoken_conf_t *cfg,
                         wx_api_t *api, const wx_account_t *a)
{
    *t = *from;
    explicit_bzero(from, sizeof(*from));
    account_bind(t, cfg, api, a);
}

/* Retire what the store holds of account 't' (its AppID changed: the
 * token and tickets there are another AppID's), so that no reader - this
 * wxtoken, wxproxy, wxctl - serves them; a failure is logged, and the
 * token then not served by this wxtoken either. */
static void account_retire(wxtoken_t *t)
{
    char err[256];

    if (wx_token_lock(t->st, err, sizeof(err)) != WX_OK) {
        wx_log(WX_LOG_ERROR, "%scannot retire the stored token: %s", t->tag, err);
    } else {
        if (wx_token_retire(t->st, err, sizeof(err)) != WX_OK)
            wx_log(WX_LOG_ERROR, "%scannot retire the stored token: %s", t->tag, err);
        wx_token_unlock(t->st);
    }
    explicit_bzero(&t->cur, sizeof(t->cur));
    t->have = 0;
    wxtoken_ticket_retire(&t->x);
}

/* The open account called 'name' among v[0..n), or NULL. */
static wxtoken_t *account_find(wxtoken_t *v, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (v[i].st && strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

/* The accounts of 'c' that get a token, in the order of the server's
 * table: NULL (the default one of [wx] and [wxtoken]), then each
 * [account.NAME] with an appsecret.  Their count; 'v' holds 1 +
 * c->accounts.n entries. */
static size_t accounts_of(const wxtoken_conf_t *c, const wx_account_t **v)
{
    const wx_account_t *a = c->accounts.v;
    size_t i, n = 0;

    v[n++] = NULL;
    for (i = 0; i < c->accounts.n; i++)
        if (a[i].appsecret != NULL)
            v[n++] = &a[i];
    return n;
}

/* HUP: the config again.  Accounts added are opened, those removed
 * closed, one whose AppID changed opened anew (its records are another
 * AppID's); the others keep their store, token, tickets and counters.
 * Callers are served between two requests, so none is dropped.  Anything
 * wrong - the file, an account's store, a change that needs a restart -
 * keeps the old config whole.  Then the log file is reopened (logrotate). */
static void reload(void *ctx)
{
    wxt_server_t *s = ctx;
    const wxtoken_conf_t *nc;
    const wx_account_t **v = NULL;
    unsigned char *fresh = NULL;        /* per account: 0 kept, 1 added, 2 new AppID */
    wx_config_t *ncfg;
    wxtoken_t *nacct = NULL, *old;
    wx_api_t *napi = NULL;
    const char *why;
    char err[512];
    size_t i, n = 0;

    ncfg = wx_config_load(&wxtoken_spec, s->owned->path, err, sizeof(err));
    if (ncfg == NULL) {
        wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: %s", err);
        reopen_log(s->cfg);
        return;
    }
    nc = wxtoken_conf(ncfg);
    if ((why = needs_restart(s->cfg, nc)) != NULL) {
        wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: %s changed, which "
               "needs a restart", why);
        goto fail;
    }
    if ((napi = api_new(nc, err, sizeof(err))) == NULL) {
        wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: %s", err);
        goto fail;
    }
    if ((v = calloc(1 + nc->accounts.n, sizeof(*v))) == NULL ||
        (fresh = calloc(1 + nc->accounts.n, 1)) == NULL ||
        (nacct = calloc(1 + nc->accounts.n, sizeof(*nacct))) == NULL) {
        wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: out of memory");
        goto fail;
    }
    n = accounts_of(nc, v);
    /* First open what is new: a failure leaves the old table untouched. */
    for (i = 0; i < n; i++) {
        const char *name = v[i] ? v[i]->name : "default";
        const char *appid = v[i] ? v[i]->wx.appid : nc->wx.appid;

        old = account_find(s->acct, s->n, name);
        if (old && same_str(old->appid, appid))
            continue;
        if (account_open(&nacct[i], nc, napi, v[i]) != 0) {
            wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: account %s cannot "
                   "be opened", name);
            goto fail;
        }
        fresh[i] = old ? 2 : 1;
    }
    /* Then the others move over; what is left of the old table is gone. */
    for (i = 0; i < n; i++)
        if (nacct[i].st == NULL)
            account_keep(&nacct[i], account_find(s->acct, s->n, v[i] ? v[i]->name : "default"),
                         nc, napi, v[i]);
    for (i = 0; i < s->n; i++) {
        if (s->acct[i].st == NULL)
            continue;
        if (account_find(nacct, n, s->acct[i].name) == NULL)
            wx_log(WX_LOG_INFO, "account %s removed", s->acct[i].name);
        account_close(&s->acct[i]);
    }
    free(s->acct);
    free(v);
    s->acct = nacct;
    s->n = n;
    /* Said only now that the reload holds.  A new AppID's record is where
     * the old one's was (STORE@NAME, the default's store): its token and
     * tickets are the old AppID's until a refresh replaces them. */
    for (i = 0; i < n; i++) {
        if (fresh[i] == 1) {
            wx_log(WX_LOG_INFO, "account %s added", s->acct[i].name);
        } else if (fresh[i] == 2) {
            wx_log(WX_LOG_WARN, "account %s has a new AppID: its stored token and tickets "
                   "are retired, a token is fetched now", s->acct[i].name);
            account_retire(&s->acct[i]);
            refresh(&s->acct[i], NULL, 0);
        }
    }
    free(fresh);
    wx_api_free(s->api);
    s->api = napi;
    reopen_log(nc);
    wx_log(WX_LOG_INFO, "config reloaded from %s; changed: %s; %zu account%s", ncfg->path,
           wx_config_diff(s->owned, ncfg, err, sizeof(err)), n, n == 1 ? "" : "s");
    wx_config_free(s->owned);
    s->owned = ncfg;
    s->cfg = nc;
    s->sock = wx_token_conf_sock(&nc->where);    /* the same path (needs_restart) */
    return;

fail:
    for (i = 0; nacct && i < n; i++)
        if (nacct[i].st)
            account_close(&nacct[i]);
    free(nacct);
    free(v);
    free(fresh);
    wx_api_free(napi);
    wx_config_free(ncfg);
    reopen_log(s->cfg);
}

/* The next timed refresh of any account: a token's, or a JS-SDK
 * ticket's (ticket.c). */
static long long due_ms(void *ctx)
{
    wxt_server_t *s = ctx;
    time_t due = 0;
    size_t i;

    for (i = 0; i < s->n; i++) {
        wxtoken_t *t = &s->acct[i];
        time_t d = next_due(t), tdue = wxtoken_ticket_due(&t->x);

        if (tdue && tdue < d)
            d = tdue;
        if (i == 0 || d < due)
            due = d;
    }
    return ((long long)due - (long long)time(NULL)) * 1000;
}

/* The timed refreshes of the accounts that are due, each unless the
 * store shows that the other wxtoken of a pair has done it; then the
 * tickets that are due. */
static void timer(void *ctx)
{
    wxt_server_t *s = ctx;
    size_t i;

    for (i = 0; i < s->n; i++) {
        wxtoken_t *t = &s->acct[i];

        if (time(NULL) >= next_due(t)) {
            load_store(t);
            if (time(NULL) >= next_due(t))
                refresh(t, NULL, 0);
        }
        wxtoken_ticket_tick(&t->x);
    }
}

/* Set up account 't' ('a' NULL: the default one of [wx] and [wxtoken]):
 * its store records, then what they hold.  0, or -1 logged. */
static int account_open(wxtoken_t *t, const wxtoken_conf_t *cfg, wx_api_t *api,
                        const wx_account_t *a)
{
    wx_store_conf_t sc = { .backend = "local", .record.name = "token store" };
    char err[256];

    if (a)
        snprintf(t->tag, sizeof(t->tag), "account %s: ", a->name);
    account_bind(t, cfg, api, a);
    if (wx_account_store_conf(&cfg->state, cfg->where.store, a ? a->name : NULL, t->appid,
                              &t->where, &sc) != 0) {
        wx_log(WX_LOG_ERROR, "%sthe store's path or key prefix is too long", t->tag);
        return -1;
    }
    t->st = wx_store_open(&sc, err, sizeof(err));
    if (t->st == NULL) {
        wx_log(WX_LOG_ERROR, "%s%s", t->tag, err);
        return -1;
    }
    t->x.st = t->st;
    load_store(t);
    wxtoken_ticket_load(&t->x);
    return 0;
}

static void account_close(wxtoken_t *t)
{
    wx_store_close(t->st);
    explicit_bzero(t, sizeof(*t));
}

/* Serve until TERM; 'config' is owned from here (a reload replaces it). */
static int run(wx_config_t *config)
{
    const wxtoken_conf_t *cfg = wxtoken_conf(config);
    const wx_account_t **v = NULL;
    wxt_server_t s;
    char err[256];
    size_t i, n;
    int lfd = -1, status = 1;

    memset(&s, 0, sizeof(s));
    s.cfg = cfg;
    s.owned = config;
    s.sock = wx_token_conf_sock(&cfg->where);

    if (wx_sig_init(WX_SIG_STOP | WX_SIG_RELOAD) != 0) {
        wx_log(WX_LOG_ERROR, "cannot set up signals: %s", strerror(errno));
        goto out;
    }
    if ((s.api = api_new(cfg, err, sizeof(err))) == NULL) {
        wx_log(WX_LOG_ERROR, "%s", err);
        goto out;
    }
    if ((v = calloc(1 + cfg->accounts.n, sizeof(*v))) == NULL ||
        (s.acct = calloc(1 + cfg->accounts.n, sizeof(*s.acct))) == NULL) {
        wx_log(WX_LOG_ERROR, "out of memory");
        goto out;
    }
    n = accounts_of(cfg, v);
    for (; s.n < n; s.n++)
        if (account_open(&s.acct[s.n], cfg, s.api, v[s.n]) != 0)
            goto out;
    lfd = wx_listen(cfg->where.listen, 0660);
    if (lfd < 0)
        goto out;
    if (fcntl(lfd, F_SETFL, O_NONBLOCK) != 0)
        goto out;
    wx_log(WX_LOG_INFO, "wxtoken %s ready: store %s, reports on %s, grant %s, %zu account%s",
           WX_VERSION, cfg->where.store, s.sock, cfg->tok.grant, s.n, s.n == 1 ? "" : "s");

    {
        wxtoken_serve_ops_t ops = { .ctx = &s, .dispatch = dispatch, .due_ms = due_ms,
                                    .timer = timer, .reload = reload };

        wx_notify("READY=1");
        wxtoken_serve(lfd, &ops);
        wx_notify("STOPPING=1");
    }
    wx_log(WX_LOG_INFO, "stopping");
    status = 0;
out:
    if (lfd >= 0) {
        close(lfd);
        unlink(s.sock);
    }
    for (i = 0; s.acct && i < s.n; i++)
        account_close(&s.acct[i]);
    free(s.acct);
    free(v);
    wx_api_free(s.api);
    wx_config_free(s.owned);
    return status;
}

int main(int argc, char **argv)
{
    wx_cli_t cli = { "wxtoken", usage_text, &wxtoken_spec, 0, NULL, NULL, 0 };
    const wxtoken_conf_t *c;
    wx_config_t *cfg;
    int rc;

    if ((rc = wx_cli_start(&cli, argc, argv, &cfg)) >= 0)
        return rc;
    c = wxtoken_conf(cfg);
    rc = WX_EXIT_FAIL;
    if (cli.test) {
        const wx_account_t *a = c->accounts.v;
        size_t i;

        printf("wxtoken: %s is valid: appid %s, grant %s, store %s, reports on %s\n", cli.path,
               c->wx.appid, c->tok.grant, c->where.store, wx_token_conf_sock(&c->where));
        for (i = 0; i < c->accounts.n; i++)
            if (a[i].appsecret)
                printf("wxtoken: account %s: appid %s, grant %s, store %s@%s\n", a[i].name,
                       a[i].wx.appid, a[i].grant ? a[i].grant : c->tok.grant,
                       c->where.store, a[i].name);
        rc = WX_EXIT_OK;
        goto out;
    }
    if (wx_cli_log(&cli, c->tok.log, c->tok.log_level) != 0)
        goto out;
    rc = run(cfg);
    wx_log_close();
    return rc;
out:
    wx_config_free(cfg);
    return rc;
}
