/* wxtoken.h - what wxtoken reads of the config (conf.c). */
#ifndef WXTOKEN_H
#define WXTOKEN_H

#include <time.h>

#include "wx/api/api.h"
#include "wx/core/config.h"
#include "wx/proto/account.h"
#include "wx/state/ticket.h"
#include "wx/state/state_conf.h"
#include "wx/state/token_conf.h"

/* [wxtoken] but store and listen (wx/state/token_conf.h, which every
 * reader of the token shares): the one section with the AppSecret. */
typedef struct wxtoken_section {
    char           *api;            /* base URL of the WeChat API */
    char           *appsecret;      /* or appsecret_file, or $WX_APPSECRET */
    char           *grant;          /* "token" or "stable_token" */
    unsigned        refresh_margin; /* seconds before expiry to refresh */
    unsigned        timeout_ms;     /* per API call */
    unsigned        retry_min_ms;   /* first backoff after -1 or a transport error */
    unsigned        retry_max_ms;   /* the longest; also the pause after a hard error */
    char           *ca_file;        /* extra CA bundle, or NULL */
    char           *proxy;          /* HTTP(S) proxy URL, or NULL */
    char           *log;
    wx_log_level_t  log_level;
} wxtoken_section_t;

typedef struct wxtoken_conf {
    wx_config_t         base;
    wx_account_conf_t   wx;         /* the AppID */
    wx_token_conf_t     where;      /* [wxtoken] store, listen */
    wxtoken_section_t   tok;
    wx_state_conf_t     state;      /* the token's store */
    wx_conf_list_t      accounts;   /* wx_account_t: [account.NAME]; those with
                                     * an appsecret get a token of their own */
} wxtoken_conf_t;

extern const wx_config_spec_t wxtoken_spec;
extern const wx_config_section_t wxtoken_section;

static inline const wxtoken_conf_t *wxtoken_conf(const wx_config_t *cfg)
{
    return (const wxtoken_conf_t *)(const void *)cfg;
}

/* ---- the requests beyond the token's (ticket.c, oauth.c) --------------- */

/* What one JS-SDK ticket's refresher keeps (ticket.c). */
typedef struct wxtoken_ticket {
    wx_token_t      cur;            /* what the store holds */
    int             have;           /* cur is valid */
    time_t          retry_at;       /* no getticket call before this */
    unsigned        backoff_ms;     /* the next pause after a failure */
    long            last_errcode;   /* of the last failed fetch */
    char            last_error[160];
} wxtoken_ticket_t;

/* The token server as ticket.c and oauth.c see it: main.c fills it in at
 * start and answers 'token' from its own state. */
typedef struct wxtoken_ext {
    const wxtoken_conf_t *cfg;
    wx_api_t           *api;
    wx_store_t         *st;             /* the account's records */
    const char         *appid;          /* the account's */
    const char         *appsecret;
    const char         *tag;            /* "" or "account NAME: ", before log lines */
    /* The current access token into *tok: 0, or -1 when there is none.
     * 'stale' non-NULL: WeChat refused that token (refreshed first when it
     * is still the current one, as for REJECTED). */
    int               (*token)(void *self, const char *stale, wx_token_t *tok);
    void               *self;
    wxtoken_ticket_t    tk[WX_TICKET__MAX];
} wxtoken_ext_t;

#define WXTOKEN_REPLY_MAX   4096    /* the longest answer line */

/* Answer 'line' if it is a request of ticket.c or oauth.c:
 *   TICKET TYPE [REFRESH]  ->  OK VERSION EXPIRES TICKET | ERR ERRCODE MESSAGE
 *   OAUTH CODE             ->  JSON {WeChat's answer}   | ERR ERRCODE MESSAGE
 * 1 with the answer line (ending in a newline) in 'reply', or 0 when it is
 * none of these. */
int wxtoken_ext_request(wxtoken_ext_t *x, const char *line, char *reply, size_t cap);

/* ticket.c: the tickets in the store at start; when the next timed
 * refresh of a ticket is due (0: none); the refreshes that are due. */
void wxtoken_ticket_load(wxtoken_ext_t *x);
time_t wxtoken_ticket_due(const wxtoken_ext_t *x);
void wxtoken_ticket_tick(wxtoken_ext_t *x);
/* Retire the tickets the store holds (the account's AppID changed: they
 * are another AppID's); the next TICKET request fetches one.  0, or -1
 * logged. */
int wxtoken_ticket_retire(wxtoken_ext_t *x);
int wxtoken_ticket_request(wxtoken_ext_t *x, const char *line, char *reply, size_t cap);

/* oauth.c: OAUTH CODE, the code exchanged with the AppSecret. */
int wxtoken_oauth_request(wxtoken_ext_t *x, const char *line, char *reply, size_t cap);
/* The report socket (serve.c).  A caller connects, sends one request line
 * and reads one answer line; then the connection is closed. */
#define WXTOKEN_LINE_MAX    1024    /* longest request line, newline not counted */
#define WXTOKEN_ANSWER_MAX  16384   /* longest answer, with its newline: OAUTH's JSON
                                     * (WXTOKEN_REPLY_MAX), METRICS' lines */
#define WXTOKEN_LINE_MS     2000    /* the whole line must arrive within this */
#define WXTOKEN_CONN_MAX    1024    /* callers at once; more wait in the backlog */

typedef struct wxtoken_serve_ops {
    void       *ctx;
    /* Answer one request: 'line' is NUL-terminated, its newline and any
     * CR removed, printable ASCII only, at most WXTOKEN_LINE_MAX bytes; the
     * answer, one line ending in a newline, goes into 'out' (NUL-terminated,
     * 'outsz' bytes: WXTOKEN_ANSWER_MAX).  May block (a refresh). */
    void      (*dispatch)(void *ctx, char *line, char *out, size_t outsz);
    /* Milliseconds until timer() is due (0 or less: now). */
    long long (*due_ms)(void *ctx);
    void      (*timer)(void *ctx);
    /* HUP arrived (NULL: nothing to do). */
    void      (*reload)(void *ctx);
} wxtoken_serve_ops_t;

/* Until TERM or INT: serve the callers on the non-blocking listening
 * socket 'lfd', many at once, and run ops->timer when it is due. */
void wxtoken_serve(int lfd, const wxtoken_serve_ops_t *ops);

#endif
