/*
 * push.h - wxsim push: WeChat's side of the callback.  It delivers
 * messages to a server as the platform does (signed, encrypted in safe and
 * compatible mode, a 5 s timeout per attempt, up to three retries of the
 * same message with a new signature) and tells, per message, what the
 * follower saw: a reply (answered), nothing (success) or the platform's
 * "service unavailable" (error shown).
 *
 * The parts, one job a file:
 *   push.c          argv, the config, the modes, the exit status
 *   push_msg.c      a message: filled in, signed, encrypted; a reply:
 *                   decrypted, verified, described
 *   push_run.c      the engine: attempts over libcurl's multi interface,
 *                   an open loop at a fixed rate, retries, kills
 *   push_report.c   the figures: lines, summary, progress, JSON, plot
 * One process, one thread; every buffer of a message is its own (malloc)
 * and freed when it is decided.
 */
#ifndef WXSIM_PUSH_H
#define WXSIM_PUSH_H

#include <stddef.h>
#include <curl/curl.h>

#include "wx/proto/account.h"
#include "wx/proto/crypt.h"

#define PUSH_OPENID_LEN     64      /* generated ones have 28, like WeChat's */
#define PUSH_DESC_MAX       96

typedef enum push_outcome {
    PUSH_PENDING,
    PUSH_ANSWERED,      /* a valid passive reply */
    PUSH_SUCCESS,       /* an empty answer or "success" */
    PUSH_ERROR_SHOWN,   /* every attempt failed: the follower sees the error */
    PUSH_MALFORMED,     /* a 200 whose reply is not valid */
    PUSH__OUTCOMES
} push_outcome_t;

/* What wxsim push was asked to do. */
typedef struct push_opts {
    const char     *url;
    const char     *account;        /* an [account.NAME] of the config, or NULL: [wx] */
    wx_mode_t       mode;
    unsigned        retries;        /* 0..3 */
    unsigned        timeout_ms;     /* per attempt */
    int             json;           /* lines as JSON objects */
    const char     *from;           /* the follower of fixtures and scenarios */
    const char     *to;             /* ToUserName: --to, else the account's original_id,
                                     * else PUSH_TO_USER (set before the messages are built) */
    const char     *scan;           /* a ticket of the running wxsim to scan */
    /* load mode */
    unsigned        followers;
    double          rate;           /* messages a second */
    double          duration;       /* seconds */
    unsigned        mix[3];         /* text, image, event weights */
    unsigned        kill_every_ms;
    const char     *kill_pids;
    const char     *report;
    const char     *plot;
    int             quiet;          /* no per-message lines */
} push_opts_t;

/* The account, from the config's [wx]. */
typedef struct push_account {
    const char     *token;
    const char     *appid;
    wx_crypt_t      keys[2];        /* current, previous */
    unsigned        n_keys;
} push_account_t;

/* One message, from its first attempt to its decision. */
typedef struct push_msg {
    unsigned        seq;
    char           *xml;            /* the plaintext, filled in */
    char            openid[PUSH_OPENID_LEN + 1];
    char            kind[40];       /* "text", "event/CLICK", for the lines */
    char            id[32];         /* MsgId, or the event's EventKey */
    unsigned        attempts;
    push_outcome_t  outcome;
    long long       due_ms;         /* when it was to be sent (open loop) */
    long long       latency_ms;     /* from due_ms to the decision */
    char            desc[PUSH_DESC_MAX];    /* what the follower saw */
    /* the attempt in flight */
    CURL           *easy;
    struct curl_slist *hdr;
    char           *url;            /* with this attempt's signature */
    char           *body;           /* what is posted */
    char           *ans;            /* the answer */
    size_t          ans_len, ans_cap;
    char            err[CURL_ERROR_SIZE];
    struct push_msg *next;          /* the retry queue */
} push_msg_t;

/* push_msg.c */
#define PUSH_TO_USER    "gh_0123456789ab"   /* ToUserName of an account without original_id */
/* A follower's openid (28 characters) of index i. */
void push_openid(char *dst, unsigned i);
/* Fill 'xml' in (ToUserName 'to', FromUserName, CreateTime, a fresh MsgId
 * when it has one) into m->xml; m->kind and m->id from it.  -1 when it is
 * not a message (no <MsgType>). */
int push_msg_fill(push_msg_t *m, const char *xml, const char *to, unsigned long long msgid);
/* A generated message of kind 0 text, 1 image, 2 event (CLICK). */
int push_msg_make(push_msg_t *m, unsigned kind, const char *to, unsigned long long msgid);
/* This attempt's URL and body into m->url, m->body (a new signature,
 * timestamp and nonce; encrypted again in safe and compat mode). */
int push_msg_sign(push_msg_t *m, const push_opts_t *o, const push_account_t *a);
/* Judge a 200's body: PUSH_ANSWERED, PUSH_SUCCESS or PUSH_MALFORMED, with
 * what the follower saw (or what is wrong) in m->desc. */
push_outcome_t push_msg_judge(push_msg_t *m, const push_opts_t *o, const push_account_t *a);
void push_msg_free(push_msg_t *m);

/* push_run.c: deliver msgs[0..n) - all at once at o->rate (load), or one
 * after the other (rate 0).  Every message is decided on return; 0, or
 * -1 on a setup failure (said). */
struct push_stats;
int push_run(push_msg_t **msgs, size_t n, const push_opts_t *o, const push_account_t *a,
             struct push_stats *st);

/* push_report.c */
typedef struct push_stats {
    unsigned long   messages, attempts, retries, outcomes[PUSH__OUTCOMES];
    unsigned long   duplicates, kills;
    long long       t0_ms;          /* the run's start */
    long long       *kill_at_ms;    /* since t0 */
    size_t          n_kills_at, cap_kills_at;
    double          elapsed_s;
} push_stats_t;

const char *push_outcome_name(push_outcome_t o);
/* The follower's-view line of a decided message, on stdout. */
void push_report_line(const push_msg_t *m, const push_opts_t *o);
/* A progress line on stderr (a terminal only). */
void push_report_progress(const push_stats_t *st, size_t inflight, double secs);
/* The summary on stderr, then --report and --plot; -1 when a file failed. */
int push_report_end(push_msg_t **msgs, size_t n, const push_stats_t *st, const push_opts_t *o);

#endif
