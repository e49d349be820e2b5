/*
 * wx/core/config.h - the one INI file every program reads (inih).
 *
 * Each setting has a type, bounds and a default in one table (config.c).
 * A key the table does not know, in a section this program reads, is an
 * error: typos stop the program at start instead of being ignored.
 * Secrets never come from argv: 'token' may be given in the file, as
 * 'token_file' (a file holding it) or in the environment as WX_TOKEN, which
 * wins over both.  Errors name the file, line and key.
 */
#ifndef WX_CONFIG_H
#define WX_CONFIG_H

#include <stddef.h>
#include "wx/core/err.h"
#include "wx/core/log.h"

typedef enum wx_mode {
    WX_MODE_PLAIN,
    WX_MODE_COMPAT,
    WX_MODE_SAFE
} wx_mode_t;

typedef struct wx_click_reply {
    char *key;          /* EventKey of a CLICK menu button */
    char *text;         /* the text sent back */
} wx_click_reply_t;

#define WX_CONFIG_MAX_CLICKS    256

/* [wxproxy.key.NAME]: one internal caller of the API proxy. */
typedef struct wx_proxy_key {
    char       *name;       /* NAME, for logs */
    char       *key;        /* the secret the caller presents (key or key_file) */
    char       *paths;      /* blank-separated API paths; a trailing '*' matches a prefix */
    unsigned    rate;       /* calls per second, refilled continuously */
    unsigned    burst;      /* bucket size; 0 = rate */
} wx_proxy_key_t;

#define WX_CONFIG_MAX_PROXY_KEYS 64

typedef struct wx_config {
    char           *path;

    /* [wx] */
    char           *token;
    char           *appid;
    char           *encoding_aes_key;
    char           *encoding_aes_key_previous;  /* tried when the current fails */
    wx_mode_t       mode;

    /* [wxfcgi] */
    char           *listen;             /* unix:/path or tcp:host:port */
    unsigned        socket_mode;        /* permissions of a unix socket */
    unsigned        workers;
    size_t          max_body;
    unsigned        timestamp_window;   /* seconds; 0 = off */
    unsigned long   max_requests;       /* per worker; 0 = unlimited */
    unsigned        shutdown_timeout;   /* seconds for in-flight work */
    char           *log;                /* stderr, syslog or a path */
    wx_log_level_t  log_level;
    size_t          log_buffer;         /* a worker's info lines in batches; 0 = each at once */
    char           *handler;            /* "echo" */
    char           *state_dir;          /* shared state of the workers */
    unsigned        dedup_slots;        /* retry table entries; 0 = off */
    unsigned        reply_budget_ms;    /* how long a retry may wait */

    /* [echo] */
    char           *welcome;            /* reply to subscribe, or NULL */
    unsigned        delay_ms;           /* pretend to be slow (retry tests) */
    wx_click_reply_t *clicks;           /* [echo.click] KEY = text */
    size_t          n_clicks;

    /* [wxtoken]: the one program that holds the AppSecret */
    char           *tok_api;            /* base URL of the WeChat API */
    char           *tok_appsecret;      /* or appsecret_file, or $WX_APPSECRET */
    char           *tok_grant;          /* "token" or "stable_token" */
    char           *tok_store;          /* the token file every caller reads */
    char           *tok_listen;         /* unix:/path for rejection reports */
    unsigned        tok_refresh_margin; /* seconds before expiry to refresh */
    unsigned        tok_timeout_ms;     /* per API call */
    unsigned        tok_retry_min_ms;   /* first backoff after -1 or a transport error */
    unsigned        tok_retry_max_ms;   /* the longest; also the pause after a hard error */
    char           *tok_ca_file;        /* extra CA bundle, or NULL */
    char           *tok_proxy;          /* HTTP(S) proxy URL, or NULL */
    char           *tok_log;
    wx_log_level_t  tok_log_level;

    /* [wxsim]: the platform simulator (tests and offline demos) */
    char           *sim_listen;         /* unix:/path or tcp:host:port */
    char           *sim_appid;          /* the account it simulates */
    char           *sim_appsecret;      /* or appsecret_file, or $WXSIM_APPSECRET */
    char           *sim_allow_ips;      /* caller allow-list, blank-separated; "" = any */
    unsigned        sim_token_ttl;      /* expires_in of a new token */
    unsigned        sim_token_daily_limit;
    size_t          sim_max_upload;
    char           *sim_data_dir;       /* uploaded media */
    char           *sim_log;
    wx_log_level_t  sim_log_level;

    /* [wxproxy]: the only door to the WeChat API for internal callers */
    char           *px_listen;          /* unix:/path or tcp:host:port */
    unsigned        px_workers;
    unsigned        px_socket_mode;     /* permissions of a unix socket */
    char           *px_api;             /* base URL of the WeChat API */
    char           *px_ca_file;
    char           *px_proxy;           /* outbound HTTP(S) proxy, or NULL */
    unsigned        px_timeout_ms;
    size_t          px_max_body;        /* largest request body forwarded */
    char           *px_state_dir;       /* the shared rate-limit table */
    char           *px_log;
    wx_log_level_t  px_log_level;
    wx_proxy_key_t *px_keys;            /* [wxproxy.key.NAME] sections */
    size_t          n_px_keys;

    /* [upstream]: handler = upstream, the business service */
    char           *up_url;             /* where each message is POSTed as JSON */
    unsigned        up_timeout_ms;      /* how long a late answer is awaited */
    char           *up_proxy;           /* wxproxy's base URL, for late answers */
    char           *up_proxy_key;       /* or proxy_key_file, or $WX_PROXY_KEY */

    /* [wxctl] */
    char           *ctl_proxy;          /* wxproxy's base URL */
    char           *ctl_proxy_key;      /* or proxy_key_file, or $WX_PROXY_KEY */
    unsigned        ctl_timeout_ms;
} wx_config_t;

/* Load 'path' into 'cfg' (zeroed first, defaults applied).  On failure
 * cfg holds nothing to free and 'err' says what is wrong, naming the file,
 * line and key.  WX_OK or WX_ECONFIG. */
wx_err_t wx_config_load(wx_config_t *cfg, const char *path,
                        char *err, size_t errlen);

void wx_config_free(wx_config_t *cfg);

const char *wx_mode_name(wx_mode_t mode);

#endif
