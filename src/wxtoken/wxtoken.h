/* wxtoken.h - what wxtoken reads of the config (conf.c). */
#ifndef WXTOKEN_H
#define WXTOKEN_H

#include "wx/core/config.h"
#include "wx/proto/account.h"
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
} wxtoken_conf_t;

extern const wx_config_spec_t wxtoken_spec;
extern const wx_config_section_t wxtoken_section;

static inline const wxtoken_conf_t *wxtoken_conf(const wx_config_t *cfg)
{
    return (const wxtoken_conf_t *)(const void *)cfg;
}

/* The report socket (serve.c).  A caller connects, sends one request line
 * and reads one answer line; then the connection is closed. */
#define WXTOKEN_LINE_MAX    1024    /* longest request line, newline not counted */
#define WXTOKEN_ANSWER_MAX  2048    /* longest answer line, with its newline */
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
} wxtoken_serve_ops_t;

/* Until TERM or INT: serve the callers on the non-blocking listening
 * socket 'lfd', many at once, and run ops->timer when it is due. */
void wxtoken_serve(int lfd, const wxtoken_serve_ops_t *ops);

#endif
