/*
 * wx/state/state_conf.h - [state]: which backend of the state store
 * (wx/state/store.h) every program of a deployment uses.
 *
 *   [state]
 *   store = local | redis       local (default): files and shared memory
 *   redis = redis://[:PASSWORD@]HOST:PORT/DB | unix:/path/redis.sock[?db=N]
 *   redis_password = ...        or redis_password_file, or $WX_REDIS_PASSWORD
 *   sentinels = HOST:PORT ...   instead of redis: ask Sentinel for the master
 *   sentinel_master = NAME
 *   key_prefix = wx:            before every key in Redis
 *   timeout_ms = 200            connect and each command
 *
 * Every program that shares state reads it (wxfcgi, wxproxy, wxtoken,
 * wxctl), so that all of them meet in the same store; the local backend
 * ignores every key but 'store'.
 */
#ifndef WX_STATE_CONF_H
#define WX_STATE_CONF_H

#include "wx/core/config.h"
#include "wx/state/store.h"

typedef enum wx_state_backend {
    WX_STATE_LOCAL,
    WX_STATE_REDIS
} wx_state_backend_t;

typedef struct wx_state_conf {
    wx_state_backend_t  store;
    char               *redis;
    char               *redis_password;     /* a secret: never logged */
    char               *sentinels;
    char               *sentinel_master;
    char               *key_prefix;
    unsigned            timeout_ms;
} wx_state_conf_t;

extern const wx_config_section_t wx_state_conf_section;

/* Set the backend fields of 'sc' from 's' (the paths and sizes of the
 * families stay the caller's).  'sc' points into 's': 's' must outlive
 * the open. */
void wx_state_store_conf(const wx_state_conf_t *s, wx_store_conf_t *sc);

/* 1 when 'a' and 'b' name the same store the same way (a reload that
 * changes it needs a restart), else 0. */
int wx_state_conf_same(const wx_state_conf_t *a, const wx_state_conf_t *b);

#endif
