/* wxproxy.h - the parts of the wxproxy program: worker and forwarder. */
#ifndef WXPROXY_H
#define WXPROXY_H

#include <sys/types.h>
#include <fcgiapp.h>
#include "wx/core/config.h"
#include "wx/proto/account.h"
#include "wx/server/fcgi.h"
#include "wx/state/state_conf.h"
#include "wx/state/token_conf.h"

#define WX_CONFIG_MAX_PROXY_KEYS 64

/* [wxproxy]: the server's settings and the forwarder's. */
typedef struct px_section {
    wx_server_conf_t srv;       /* no shutdown_timeout key: derived from timeout_ms */
    char           *api;        /* base URL of the WeChat API */
    char           *ca_file;
    char           *proxy;      /* outbound HTTP(S) proxy, or NULL */
    unsigned        timeout_ms;
    size_t          max_body;   /* largest request body forwarded */
    char           *state_dir;  /* the shared rate-limit table */
} px_section_t;

/* [wxproxy.key.NAME]: one internal caller of the API proxy. */
typedef struct wx_proxy_key {
    char       *name;       /* NAME, for logs */
    char       *key;        /* the secret the caller presents (key or key_file) */
    char       *paths;      /* blank-separated API paths; a trailing '*' matches a prefix */
    unsigned    rate;       /* calls per second, refilled continuously */
    unsigned    burst;      /* bucket size; 0 = rate */
    char       *accounts;   /* blank-separated account names it may act for
                             * ("default": [wx]); NULL: default only */
} wx_proxy_key_t;

/* What wxproxy reads: [wxproxy], its keys, and where the token is. */
typedef struct px_conf {
    wx_config_t     base;
    px_section_t    px;
    wx_conf_list_t  keys;       /* wx_proxy_key_t */
    wx_token_conf_t tok;        /* [wxtoken] store, listen */
    wx_state_conf_t state;      /* the rate limits' and the token's store */
    wx_account_conf_t wx;       /* [wx] appid, for /jssdk/config */
    wx_conf_list_t  accounts;   /* wx_account_ref_t: [account.NAME] names, AppIDs */
} px_conf_t;

extern const wx_config_spec_t px_spec;
extern const wx_config_section_t px_section, px_key_section;

static inline const px_conf_t *px_conf(const wx_config_t *cfg)
{
    return (const px_conf_t *)(const void *)cfg;
}

static inline const wx_proxy_key_t *px_key(const px_conf_t *c, size_t i)
{
    return (const wx_proxy_key_t *)c->keys.v + i;
}

/* What one worker process keeps between requests: the config, the shared
 * rate-limit table, the libcurl handle (its connection to the API stays
 * open) and the digests of the keys. */
typedef struct px px_t;

/* NULL with 'err' set when the rate-limit table or libcurl cannot be set
 * up.  'cfg' stays the caller's. */
px_t *px_new(const px_conf_t *cfg, char *err, size_t errlen);
void px_free(px_t *px);

/* Answer one request: check the key, the path and the rate, forward it
 * with the current token, retry once after a token rejection, and write
 * the answer and the access-log line. */
void px_serve(px_t *px, FCGX_Request *rq);

/* The proxy as a FastCGI app (worker.c), run by wx_fcgi_run(). */
extern const wx_fcgi_app_t wxproxy_app;

#endif
