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

#endif
