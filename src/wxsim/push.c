/*
 * push.c - wxsim push: the options, the account, the messages to send
 * (fixtures, a scenario, or generated load) and the exit status (push.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wx/core/config.h"
#include "wx/server/fcgi_call.h"
#include "wxsim/push.h"
#include "wxsim.h"

/* [wxsim] listen: where --scan asks the running wxsim. */
typedef struct push_sim {
    char               *listen;
} push_sim_t;

typedef struct push_conf {
    wx_config_t         base;
    wx_account_conf_t   wx;
    push_sim_t          sim;
    wx_conf_list_t      accounts;       /* [account.NAME], for --account */
} push_conf_t;

static const wx_setting_t push_sim_settings[] = {
    WX_SETTING("listen", WX_CONF_STR, offsetof(push_sim_t, listen), 0, 0,
               "unix:/run/wxfcgi/wxsim.sock"),
};

static const wx_config_section_t push_sim_section = {
    "wxsim", WX_SECTION_PART, push_sim_settings, WX_CONF_N(push_sim_settings),
    sizeof(push_sim_t), 1, NULL
};

static const wx_config_use_t push_uses[] = {
    { &wx_account_section, offsetof(push_conf_t, wx) },
    { &push_sim_section, offsetof(push_conf_t, sim) },
    { &wx_account_named_section, offsetof(push_conf_t, accounts) },
};

static const wx_config_spec_t push_spec = {
    "wxsim", sizeof(push_conf_t), push_uses, WX_CONF_N(push_uses), NULL
};

static const char push_usage[] =
"Usage: wxsim push -c FILE --url URL [--account NAME] [--mode plain|compat|safe]\n"
"                  [--retries N] [--timeout-ms MS] [--json] [--from OPENID]\n"
"                  [--to GH_ID] FIXTURE.xml...\n"
"       wxsim push -c FILE --url URL --scenario NAME [options]\n"
"       wxsim push -c FILE --url URL --scan TICKET [--from OPENID] [options]\n"
"       wxsim push -c FILE --url URL --followers N --rate R --duration S\n"
"                  [--mix text=70,image=10,event=20] [--kill-every MS --kill-pids FILE]\n"
"                  [--report FILE.json] [--plot FILE.png] [--quiet]\n"
"\n"
"WeChat's side of the callback: each message is delivered as the platform\n"
"does it, and the follower's view is printed, one line per message.\n"
"ToUserName, FromUserName, CreateTime and a fresh MsgId are filled in; each\n"
"attempt is signed with a fresh timestamp and nonce (and encrypted again in\n"
"compat and safe mode).  An attempt that fails (no answer within the\n"
"timeout, a transport error, a status other than 200) is retried with the\n"
"same MsgId, up to --retries times; after the last, the follower sees the\n"
"platform's error.  Outcomes: answered (a valid passive reply: addressed\n"
"back, current, its MsgSignature verified and decrypted when encrypted),\n"
"success (an empty answer or \"success\"), error shown, malformed.\n"
"\n"
"Options:\n"
"  -c, --config FILE    the token, AppID and keys of [wx] (encoding_aes_key,\n"
"                       and encoding_aes_key_previous to read replies)\n"
"  -u, --url URL        the callback, e.g. http://127.0.0.1/wx\n"
"  -a, --account NAME   push as [account.NAME] of the config: its token, AppID,\n"
"                       keys and mode; a URL ending in /wx becomes /wx/NAME\n"
"  -m, --mode MODE      plain, compat or safe (default: [wx] mode)\n"
"  -r, --retries N      retries after a failed attempt, 0..3 (3)\n"
"  -t, --timeout-ms MS  one attempt's limit (5000)\n"
"  -j, --json           the lines as JSON objects\n"
"  -F, --from OPENID    the follower the messages come from (1 to 64 letters,\n"
"                       digits, _ or -; default oWxsimFollower00000000000000)\n"
"  -T, --to GH_ID       the account's original ID the messages are addressed to\n"
"                       (ToUserName; default: the account's original_id, else\n"
"                       gh_0123456789ab)\n"
"  -S, --scan TICKET    the follower scans the QR code of TICKET, made by the\n"
"                       running wxsim ([wxsim] listen of FILE): wxsim answers\n"
"                       with the event, subscribe (EventKey qrscene_SCENE;\n"
"                       the follower now follows) or SCAN (EventKey SCENE)\n"
"                       when it follows already, and it is delivered.\n"
"                       Without --from someone new scans.  An unknown or\n"
"                       expired ticket: wxsim's 40097, exit status 1\n"
"  -s, --scenario NAME  play a named sequence of a follower:\n"
"                         qr-subscribe  subscribe through a QR scene\n"
"                                       (EventKey qrscene_...), then SCAN\n"
"                         menu          click a menu button (CLICK, then VIEW)\n"
"                         location      send a location message\n"
"Load (an open loop: messages are sent when due, whatever is in flight):\n"
"  -f, --followers N    distinct followers the messages come from\n"
"  -R, --rate R         messages a second\n"
"  -d, --duration S     seconds\n"
"  -x, --mix LIST       weights of text, image and event (CLICK) messages\n"
"                       (text=70,image=10,event=20)\n"
"  -k, --kill-every MS  SIGKILL a random worker every MS milliseconds ...\n"
"  -K, --kill-pids FILE ... one of the children of the pid in FILE (a\n"
"                       master's pidfile) or of the pids FILE lists\n"
"  -o, --report FILE    the figures as JSON, with one entry a second\n"
"  -p, --plot FILE.png  latency percentiles and outcomes a second, kills\n"
"                       marked (needs gnuplot)\n"
"  -q, --quiet          no line per message\n"
"  -h, --help           this help\n"
"\n"
"A summary goes to stderr: messages, attempts, retries, outcomes, duplicates\n"
"(two different replies to one MsgId of one follower), latency p50, p90,\n"
"p99 and max (from when a message was due to its decision); a progress line\n"
"is shown on a terminal.\n"
"\n"
"Exit status: 0 when every follower got a reply or nothing, 1 when one\n"
"would have seen the error or a reply was malformed (or on a runtime\n"
"error), 2 on a usage error.\n";

static const char *const scen_qr[] = {
    "<xml><ToUserName></ToUserName><FromUserName></FromUserName><CreateTime></CreateTime>"
    "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey>"
    "<![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[TICKET_123123]]></Ticket></xml>",
    "<xml><ToUserName></ToUserName><FromUserName></FromUserName><CreateTime></CreateTime>"
    "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[SCAN]]></Event><EventKey>"
    "<![CDATA[123123]]></EventKey><Ticket><![CDATA[TICKET_123123]]></Ticket></xml>",
    NULL
};
static const char *const scen_menu[] = {
    "<xml><ToUserName></ToUserName><FromUserName></FromUserName><CreateTime></CreateTime>"
    "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey>"
    "<![CDATA[V1001_TODAY_MUSIC]]></EventKey></xml>",
    "<xml><ToUserName></ToUserName><FromUserName></FromUserName><CreateTime></CreateTime>"
    "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[VIEW]]></Event><EventKey>"
    "<![CDATA[https://www.example.com/]]></EventKey></xml>",
    NULL
};
static const char *const scen_location[] = {
    "<xml><ToUserName></ToUserName><FromUserName></FromUserName><CreateTime></CreateTime>"
    "<MsgType><![CDATA[location]]></MsgType><Location_X>23.134521</Location_X><Location_Y>"
    "113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[Guangzhou]]></Label>"
    "<MsgId></MsgId></xml>",
    NULL
};
static const struct { const char *name; const char *const *xml; } scenarios[] = {
    { "qr-subscribe", scen_qr }, { "menu", scen_menu }, { "location", scen_location },
};

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "wxsim push: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'wxsim push --help'.\n");
    return 2;
}

static int parse_mix(const char *s, unsigned mix[3])
{
    static const char *const kinds[] = { "text", "image", "event" };
    char buf[128], *save = NULL, *tok;

    mix[0] = mix[1] = mix[2] = 0;
    snprintf(buf, sizeof(buf), "%s", s);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '='), *end;
        unsigned i;
        unsigned long v;

        if (eq == NULL)
            return -1;
        *eq = '\0';
        for (i = 0; i < 3 && strcmp(tok, kinds[i]) != 0; i++)
            ;
        v = strtoul(eq + 1, &end, 10);
        if (i == 3 || *end || end == eq + 1 || v > 1000)
            return -1;
        mix[i] = (unsigned)v;
    }
    return mix[0] + mix[1] + mix[2] > 0 ? 0 : -1;
}

static int num(const char *s, double lo, double hi, double *v)
{
    char *end;

    *v = strtod(s, &end);
    return *s && !*end && *v >= lo && *v <= hi ? 0 : -1;
}

/* The combinations of options that make sense: 0 or 2 (said). */
static int check_args(const push_opts_t *o, const char *cfg, const char *scen, int nfiles)
{
    if (cfg == NULL || o->url == NULL)
        return usage_error("%s", "--config and --url are required");
    if (!!o->kill_every_ms != !!o->kill_pids)
        return usage_error("%s", "--kill-every and --kill-pids go together");
    if ((o->rate > 0 || o->duration > 0 || o->followers) &&
        !(o->rate > 0 && o->duration > 0 && o->followers))
        return usage_error("%s", "load needs --followers, --rate and --duration");
    if (o->rate > 0 && (scen || nfiles > 0))
        return usage_error("%s", "load mode takes no fixture nor scenario");
    if (o->rate <= 0 && o->kill_every_ms)
        return usage_error("%s", "--kill-every is for load mode");
    if (o->from && (o->rate > 0 || strlen(o->from) > PUSH_OPENID_LEN ||
                    strspn(o->from, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                           "0123456789_-") != strlen(o->from) || !o->from[0]))
        return usage_error("%s", "--from takes an OpenID of 1 to 64 letters, digits, _ or -, "
                           "and not in load mode");
    if (o->scan && (o->rate > 0 || scen || nfiles > 0))
        return usage_error("%s", "--scan takes no fixture, scenario nor load");
    if (o->rate <= 0 && !scen && nfiles == 0 && !o->scan)
        return usage_error("%s", "no FIXTURE.xml, --scenario, --scan nor load given");
    return 0;
}

/* The options into 'o'; the config path and the scenario.  0, 1 (help
 * shown) or 2 (usage error, said). */
static int parse_args(int argc, char **argv, push_opts_t *o, const char **cfg,
                      const char **scen, int *mode_set)
{
    static const struct option lo[] = {
        { "config", 1, NULL, 'c' }, { "url", 1, NULL, 'u' }, { "mode", 1, NULL, 'm' },
        { "account", 1, NULL, 'a' },
        { "retries", 1, NULL, 'r' }, { "timeout-ms", 1, NULL, 't' }, { "json", 0, NULL, 'j' },
        { "scenario", 1, NULL, 's' }, { "followers", 1, NULL, 'f' }, { "rate", 1, NULL, 'R' },
        { "duration", 1, NULL, 'd' }, { "mix", 1, NULL, 'x' }, { "kill-every", 1, NULL, 'k' },
        { "kill-pids", 1, NULL, 'K' }, { "report", 1, NULL, 'o' }, { "plot", 1, NULL, 'p' },
        { "quiet", 0, NULL, 'q' }, { "help", 0, NULL, 'h' },
        { "from", 1, NULL, 'F' }, { "scan", 1, NULL, 'S' }, { "to", 1, NULL, 'T' },
        { NULL, 0, NULL, 0 }
    };
    double v;
    int c;

    while ((c = getopt_long(argc, argv, "c:u:m:r:t:js:f:R:d:x:k:K:o:p:qhF:S:a:T:", lo, NULL)) != -1) {
        switch (c) {
        case 'c': *cfg = optarg; break;
        case 'u': o->url = optarg; break;
        case 'a': o->account = optarg; break;
        case 'm':
            *mode_set = 1;
            if (strcmp(optarg, "plain") == 0) o->mode = WX_MODE_PLAIN;
            else if (strcmp(optarg, "compat") == 0) o->mode = WX_MODE_COMPAT;
            else if (strcmp(optarg, "safe") == 0) o->mode = WX_MODE_SAFE;
            else return usage_error("--mode must be plain, compat or safe, not '%s'", optarg);
            break;
        case 'r':
            if (num(optarg, 0, 3, &v) != 0 || v != (unsigned)v)
                return usage_error("--retries takes 0 to 3, not '%s'", optarg);
            o->retries = (unsigned)v;
            break;
        case 't':
            if (num(optarg, 1, 600000, &v) != 0)
                return usage_error("--timeout-ms takes 1 to 600000, not '%s'", optarg);
            o->timeout_ms = (unsigned)v;
            break;
        case 'j': o->json = 1; break;
        case 's': *scen = optarg; break;
        case 'f':
            if (num(optarg, 1, 1e7, &v) != 0)
                return usage_error("--followers takes 1 to 10000000, not '%s'", optarg);
            o->followers = (unsigned)v;
            break;
        case 'R':
            if (num(optarg, 0.01, 1e5, &v) != 0)
                return usage_error("--rate takes 0.01 to 100000 a second, not '%s'", optarg);
            o->rate = v;
            break;
        case 'd':
            if (num(optarg, 0.01, 86400, &v) != 0)
                return usage_error("--duration takes 0.01 to 86400 seconds, not '%s'", optarg);
            o->duration = v;
            break;
        case 'x':
            if (parse_mix(optarg, o->mix) != 0)
                return usage_error("--mix wants text=N,image=N,event=N, not '%s'", optarg);
            break;
        case 'k':
            if (num(optarg, 10, 3600000, &v) != 0)
                return usage_error("--kill-every takes 10 to 3600000 ms, not '%s'", optarg);
            o->kill_every_ms = (unsigned)v;
            break;
        case 'K': o->kill_pids = optarg; break;
        case 'o': o->report = optarg; break;
        case 'p': o->plot = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'F': o->from = optarg; break;
        case 'S': o->scan = optarg; break;
        case 'T':
            if (!wx_original_id_ok(optarg))
                return usage_error("--to takes an original ID (gh_ and 1 to 29 letters or "
                                   "digits), not '%s'", optarg);
            o->to = optarg;
            break;
        case 'h': fputs(push_usage, stdout); return 1;
        default: return usage_error("%s", "unknown option or missing argument");
        }
    }
    return check_args(o, *cfg, *scen, argc - optind);
}

/* The [account.NAME] of --account, or NULL (said when there is none). */
static const wx_account_t *account_named(const push_conf_t *c, const push_opts_t *o)
{
    const wx_account_t *named = wx_account_find(&c->accounts, o->account, strlen(o->account));

    if (named == NULL)
        fprintf(stderr, "wxsim push: --account %s: no [account.%s] in the config\n",
                o->account, o->account);
    return named;
}

/* The account's section: [wx], or [account.NAME] of --account. */
static const wx_account_conf_t *account_conf(const push_conf_t *c, const push_opts_t *o)
{
    const wx_account_t *named;

    if (o->account == NULL)
        return &c->wx;
    named = account_named(c, o);
    return named ? &named->wx : NULL;
}

/* The account's token and keys into 'a'; its ToUserName into o->to (as
 * WeChat addresses it: the account's original_id when the config has it). */
static int account(const push_conf_t *c, push_opts_t *o, push_account_t *a)
{
    const wx_account_t *named = o->account ? account_named(c, o) : NULL;
    const wx_account_conf_t *wx = o->account ? (named ? &named->wx : NULL) : &c->wx;

    if (wx == NULL)
        return -1;
    if (o->to == NULL)
        o->to = named && named->original_id ? named->original_id : PUSH_TO_USER;
    a->token = wx->token;
    a->appid = wx->appid;
    if (a->token == NULL || a->token[0] == '\0') {
        fprintf(stderr, "wxsim push: the account's token is missing\n");
        return -1;
    }
    if (o->mode == WX_MODE_PLAIN)
        return 0;
    if (wx->encoding_aes_key == NULL || a->appid == NULL ||
        wx_crypt_init(&a->keys[0], wx->encoding_aes_key, a->appid) != WX_OK) {
        fprintf(stderr, "wxsim push: mode %s needs a valid appid and encoding_aes_key\n",
                wx_mode_name(o->mode));
        return -1;
    }
    a->n_keys = 1;
    if (wx->encoding_aes_key_previous &&
        wx_crypt_init(&a->keys[1], wx->encoding_aes_key_previous, a->appid) == WX_OK)
        a->n_keys = 2;
    return 0;
}

/* --account NAME: a URL ending in /wx (the [wx] account's) becomes the
 * account's, /wx/NAME.  The caller frees the result; NULL: out of memory. */
static char *account_url(const push_opts_t *o)
{
    size_t n = strlen(o->url);
    char *url;

    if (o->account == NULL || n < 3 || strcmp(o->url + n - 3, "/wx") != 0)
        return strdup(o->url);
    n += strlen(o->account) + 2;
    url = malloc(n);
    if (url)
        snprintf(url, n, "%s/%s", o->url, o->account);
    return url;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    long n;

    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (1L << 20) &&
        fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)n + 1)) != NULL) {
        if (fread(b, 1, (size_t)n, f) != (size_t)n) {
            free(b);
            b = NULL;
        } else {
            b[n] = '\0';
        }
    }
    if (f)
        fclose(f);
    return b;
}

/* Ask the running wxsim ([wxsim] listen) for the event of a scan of
 * o->scan by o->from (or someone new): its XML (malloc'd) and the
 * follower into 'openid'.  0, or -1 (said). */
static int scan_event(const push_conf_t *c, const push_opts_t *o, char **xml, char *openid)
{
    wx_fcgi_answer_t ans;
    json_t *req, *got = NULL;
    char *body = NULL, err[256];
    const char *x, *who;
    int rc = -1;

    req = o->from ? json_pack("{s:s,s:s}", "ticket", o->scan, "openid", o->from) :
                    json_pack("{s:s}", "ticket", o->scan);
    if (req == NULL || (body = json_dumps(req, JSON_COMPACT)) == NULL) {
        json_decref(req);
        fprintf(stderr, "wxsim push: cannot make the request of --scan (a ticket and an "
                "OpenID are UTF-8 text)\n");
        return -1;
    }
    json_decref(req);
    if (wx_fcgi_call(c->sim.listen, "POST", "/sim/scan", "", body, strlen(body),
                     "application/json", &ans, err, sizeof(err)) != 0) {
        fprintf(stderr, "wxsim push: wxsim at %s: %s\n", c->sim.listen, err);
        free(body);
        return -1;
    }
    free(body);
    got = json_loads(ans.body, 0, NULL);
    x = wxsim_json_str(got, "xml");
    who = wxsim_json_str(got, "openid");
    if (ans.status != 200 || x == NULL || who == NULL || strlen(who) > PUSH_OPENID_LEN) {
        fprintf(stderr, "wxsim push: wxsim refused the scan (status %d): %.300s\n",
                ans.status, ans.body);
        goto out;
    }
    if ((*xml = strdup(x)) == NULL)
        goto out;
    snprintf(openid, PUSH_OPENID_LEN + 1, "%s", who);
    rc = 0;
out:
    json_decref(got);
    free(ans.body);
    return rc;
}

/* The messages to send: the fixtures, the scenario's, or the load's. */
static push_msg_t **build(const push_conf_t *c, const push_opts_t *o, const char *scen,
                          char **files, int nfiles, size_t *n)
{
    const char *const *sx = NULL;
    struct timespec now;
    unsigned long long base;
    push_msg_t **v;
    size_t i, count;

    /* MsgIds of this run: the microsecond it started, times 1000.  Two
     * runs in one second must not share MsgIds: a follower's message
     * would be taken for a retry of another run's and replayed. */
    clock_gettime(CLOCK_REALTIME, &now);
    base = ((unsigned long long)now.tv_sec * 1000000ULL +
            (unsigned long long)now.tv_nsec / 1000ULL) * 1000ULL;
    if (scen) {
        for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
            if (strcmp(scenarios[i].name, scen) == 0)
                sx = scenarios[i].xml;
        if (sx == NULL) {
            fprintf(stderr, "wxsim push: no scenario '%s' (qr-subscribe, menu, location)\n",
                    scen);
            return NULL;
        }
        for (count = 0; sx[count]; count++)
            ;
    } else {
        count = o->scan ? 1 : o->rate > 0 ? (size_t)(o->rate * o->duration + 0.5) :
                (size_t)nfiles;
    }
    if ((v = calloc(count ? count : 1, sizeof(*v))) == NULL)
        return NULL;
    for (i = 0; i < count; i++) {
        push_msg_t *m = v[i] = calloc(1, sizeof(*m));
        char *xml = NULL;
        int rc;

        if (m == NULL)
            goto fail;
        m->seq = (unsigned)i + 1;
        push_openid(m->openid, o->rate > 0 ? (unsigned)(i % o->followers) : 0);
        if (o->from)
            snprintf(m->openid, sizeof(m->openid), "%s", o->from);
        if (o->scan) {
            if (scan_event(c, o, &xml, m->openid) != 0)
                goto fail;
            rc = push_msg_fill(m, xml, o->to, base + i);
            free(xml);
        } else if (o->rate > 0) {
            unsigned r = (unsigned)(((unsigned long long)i * 2654435761ULL) %
                                    (o->mix[0] + o->mix[1] + o->mix[2]));

            rc = push_msg_make(m, r < o->mix[0] ? 0 : r < o->mix[0] + o->mix[1] ? 1 : 2,
                               o->to, base + i);
        } else {
            xml = sx ? NULL : slurp(files[i]);
            if (!sx && xml == NULL) {
                fprintf(stderr, "wxsim push: cannot read %s\n", files[i]);
                goto fail;
            }
            rc = push_msg_fill(m, sx ? sx[i] : xml, o->to, base + i);
            free(xml);
        }
        if (rc != 0) {
            fprintf(stderr, "wxsim push: %s is not a WeChat message (no MsgType)\n",
                    sx || o->rate > 0 ? "a generated message" : files[i]);
            goto fail;
        }
    }
    *n = count;
    return v;
fail:
    for (i = 0; i < count; i++)
        if (v[i]) {
            push_msg_free(v[i]);
            free(v[i]);
        }
    free(v);
    return NULL;
}

int wxsim_push_main(int argc, char **argv)
{
    push_opts_t o = { .retries = 3, .timeout_ms = 5000, .mix = { 70, 10, 20 } };
    const char *cfgpath = NULL, *scen = NULL;
    push_stats_t st;
    push_account_t a;
    push_msg_t **msgs = NULL;
    wx_config_t *cfg;
    char err[512], *url = NULL;
    size_t n = 0, i;
    int rc, mode_set = 0;

    memset(&st, 0, sizeof(st));
    memset(&a, 0, sizeof(a));
    if ((rc = parse_args(argc, argv, &o, &cfgpath, &scen, &mode_set)) != 0)
        return rc == 1 ? 0 : 2;
    if ((cfg = wx_config_load(&push_spec, cfgpath, err, sizeof(err))) == NULL) {
        fprintf(stderr, "wxsim push: %s\n", err);
        return 1;
    }
    rc = 1;
    if (!mode_set) {
        const wx_account_conf_t *wx = account_conf((push_conf_t *)(void *)cfg, &o);

        if (wx == NULL)
            goto out;
        o.mode = wx->mode;
    }
    if ((url = account_url(&o)) == NULL)
        goto out;
    o.url = url;
    if (account((push_conf_t *)(void *)cfg, &o, &a) != 0 ||
        curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
        (msgs = build((push_conf_t *)(void *)cfg, &o, scen, argv + optind, argc - optind,
                      &n)) == NULL)
        goto out;
    if (push_run(msgs, n, &o, &a, &st) != 0) {
        fprintf(stderr, "wxsim push: libcurl initialisation failed\n");
        goto out;
    }
    fflush(stdout);
    rc = push_report_end(msgs, n, &st, &o) != 0 || st.outcomes[PUSH_ERROR_SHOWN] ||
         st.outcomes[PUSH_MALFORMED] ? 1 : 0;
out:
    for (i = 0; i < n; i++) {
        push_msg_free(msgs[i]);
        free(msgs[i]);
    }
    free(msgs);
    free(st.kill_at_ms);
    wx_crypt_clear(&a.keys[0]);
    wx_crypt_clear(&a.keys[1]);
    wx_config_free(cfg);
    free(url);
    return rc;
}
