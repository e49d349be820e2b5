/*
 * wxfcgi/acct.h - the accounts a gateway serves: [wx] at /wx and each
 * [account.NAME] at /wx/NAME, with what verifying a callback needs.
 *
 * The table is built once per gateway (at start and at each reload, as
 * the config is) and read-only afterwards: picking the account of a
 * request is a path scan and a name compare, with no allocation.  Index 0
 * is [wx] (named "default" in routes and logs); index i > 0 is the
 * config's i-th [account.NAME].  The table borrows the config's strings
 * and owns the key schedules.
 */
#ifndef WXFCGI_ACCT_H
#define WXFCGI_ACCT_H

#include <stddef.h>

#include "wx/core/str.h"
#include "wx/proto/account.h"
#include "wx/proto/crypt.h"
#include "wxfcgi/conf.h"

#define WX_ACCT_DEFAULT     "default"   /* [wx]'s name in routes and logs */
#define WX_ACCT_N_MAX       (WX_ACCOUNT_MAX + 1)

typedef struct wx_acct {
    const char             *name;       /* "default" or NAME */
    unsigned                index;      /* 0: [wx] */
    const wx_account_conf_t *wx;        /* token, appid, keys, mode */
    wx_str_t                token;
    wx_str_t                original_id; /* data NULL: ToUserName unchecked */
    wx_str_t                dedup_ns;   /* "NAME:APPID", "" for [wx]: the retry table's */
    char                   *dedup_ns_store;
    wx_crypt_t              keys[2];    /* current, previous */
    unsigned                n_keys;
} wx_acct_t;

typedef struct wx_accts {
    wx_acct_t  *v;
    size_t      n;                      /* 1 + the [account.NAME] sections */
} wx_accts_t;

/* Build the table of 'cfg'; 0, or -1 with 'err' naming the section. */
int wx_accts_init(wx_accts_t *t, const wxfcgi_conf_t *cfg, char *err, size_t errlen);
void wx_accts_free(wx_accts_t *t);

/* The account name a request path gives: what follows its last "/wx/"
 * (one trailing '/' ignored).  0 with name empty for the [wx] account (no
 * "/wx/" in the path, or nothing after it); -1 when what follows is not
 * an account name (a further '/', a character outside the name's). */
int wx_acct_path(wx_str_t path, wx_str_t *name);

/* The account of a request path: [wx]'s, NAME's, or NULL (unknown name). */
const wx_acct_t *wx_accts_for_path(const wx_accts_t *t, wx_str_t path);

/* The retry table's namespace of account 'index' of 'cfg': "NAME:APPID"
 * (no AppID: "NAME:"); "" for [wx], whose keys stay those of a stack of
 * one account (a shared table keeps its keys over an upgrade). */
#define WX_ACCT_NS_MAX      (WX_ACCOUNT_NAME_MAX + 32)
void wx_acct_ns(const wxfcgi_conf_t *cfg, unsigned index, char *buf, size_t cap);

/* The name of account 'index' of 'cfg': "default" for [wx], else NAME
 * (borrowed from the config). */
const char *wx_acct_name(const wxfcgi_conf_t *cfg, unsigned index);

/* The index of the account called 'name' ("default" is [wx]), or -1. */
int wx_accts_index(const wxfcgi_conf_t *cfg, const char *name, size_t len);

#endif
