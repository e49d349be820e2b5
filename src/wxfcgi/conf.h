/*
 * wxfcgi/conf.h - what wxfcgi reads of the config: [wx], [wxfcgi], [echo],
 * [echo.click], [upstream], [route.NAME] and [account.NAME], each a struct with its own
 * table ([route.NAME]'s in route_conf.c, beside the router).
 *
 * The tables and validators are in conf.c, but [upstream]'s, which is in
 * upstream_conf.c beside its handler.  Loaded with wxfcgi_spec, a config
 * has a token ([wx] token, token_file or WX_TOKEN) and so has each
 * [account.NAME]: the gateway checks every callback with its account's.
 */
#ifndef WXFCGI_CONF_H
#define WXFCGI_CONF_H

#include <stddef.h>
#include "wx/core/config.h"
#include "wx/proto/account.h"
#include "wx/server/conf.h"
#include "wx/state/state_conf.h"

#define WX_CONFIG_MAX_CLICKS    256

/* [wxfcgi]: the server's settings and the gateway's. */
typedef struct wxfcgi_section {
    wx_server_conf_t srv;
    size_t          max_body;
    unsigned        timestamp_window;   /* seconds; 0 = off */
    char           *handler;            /* "echo", "upstream" */
    char           *state_dir;          /* shared state of the workers */
    unsigned        dedup_slots;        /* retry table entries; 0 = off */
    unsigned        reply_budget_ms;    /* how long a retry may wait */
} wxfcgi_section_t;

/* [echo] and [echo.click]: the echo handler. */
typedef struct wx_echo_conf {
    char           *welcome;            /* reply to subscribe, or NULL */
    unsigned        delay_ms;           /* pretend to be slow (retry tests) */
    wx_conf_list_t  clicks;             /* wx_conf_pair_t: EventKey = text */
} wx_echo_conf_t;

/* [upstream]: handler = upstream, the business service. */
typedef struct wx_upstream_conf {
    char           *url;                /* where each message is POSTed as JSON */
    unsigned        timeout_ms;         /* how long a late answer is awaited */
    char           *proxy;              /* wxproxy's base URL, for late answers */
    char           *proxy_key;          /* or proxy_key_file, or $WX_PROXY_KEY */
} wx_upstream_conf_t;

typedef struct wxfcgi_conf {
    wx_config_t         base;
    wx_account_conf_t   wx;
    wxfcgi_section_t    fcgi;
    wx_echo_conf_t      echo;
    wx_upstream_conf_t  up;
    wx_state_conf_t     state;      /* the retry table's store */
    wx_conf_list_t      routes;     /* wx_route_conf_t: [route.NAME] (route.h) */
    wx_conf_list_t      accounts;   /* wx_account_t: [account.NAME], at /wx/NAME (acct.h) */
} wxfcgi_conf_t;

extern const wx_config_spec_t wxfcgi_spec;
extern const wx_config_section_t wxfcgi_section, wx_echo_section, wx_echo_click_section,
                                 wx_upstream_section;

/* The program's config of a config loaded with wxfcgi_spec. */
static inline const wxfcgi_conf_t *wxfcgi_conf(const wx_config_t *cfg)
{
    return (const wxfcgi_conf_t *)(const void *)cfg;
}

/* [upstream]'s checks, for its validator (the url may be absent: only the
 * upstream handler needs it) and for the handler ('need_url'). */
int wx_upstream_conf_check(const wx_upstream_conf_t *up, int need_url,
                           char *err, size_t errlen);

#endif
