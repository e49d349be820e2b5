/*
 * wx/state/account_store.h - where the records of one account of several
 * live in the state store, so that two accounts never share one.
 *
 * The account of [wx] (the default one, 'name' NULL) keeps the places of
 * a single-account stack: the file [wxtoken] store (its tickets beside
 * it), and the Redis keys under [state] key_prefix.  An [account.NAME]
 * has the file STORE@NAME (tickets STORE@NAME.jsapi_ticket, lock
 * STORE@NAME.lock) and, in Redis, the prefix KEY_PREFIX APPID ':', so
 * that stacks naming the same account differently still meet, and two
 * accounts never do.  wxtoken writes there, wxproxy and wxctl read there.
 */
#ifndef WX_ACCOUNT_STORE_H
#define WX_ACCOUNT_STORE_H

#include <stddef.h>
#include "wx/state/state_conf.h"
#include "wx/state/store.h"

#define WX_ACCOUNT_STORE_PATH_MAX   4200
#define WX_ACCOUNT_STORE_PREFIX_MAX 96

typedef struct wx_account_store {
    char    path[WX_ACCOUNT_STORE_PATH_MAX];
    char    prefix[WX_ACCOUNT_STORE_PREFIX_MAX];
} wx_account_store_t;

/* Fill 'sc' (backend from 's', record path from 'store') for the account
 * 'name' with AppID 'appid' (both NULL: the default account).  'sc'
 * points into 'where' and 's', which must outlive the open.  0, or -1
 * when the path or the prefix does not fit. */
int wx_account_store_conf(const wx_state_conf_t *s, const char *store, const char *name,
                          const char *appid, wx_account_store_t *where,
                          wx_store_conf_t *sc);

#endif
