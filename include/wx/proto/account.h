/*
 * wx/proto/account.h - the [wx] section: what the platform and the server
 * share for one Official Account (the callback token, the AppID, the
 * message encryption keys and mode).
 *
 * Every field may be absent after loading: a program that needs one says
 * so (wxfcgi needs the token, wxtoken the AppID); what is present has the
 * platform's shape (PROTOCOL.md 1.1).  The table is written once, so the
 * [account.NAME] sections of several accounts can reuse it.
 */
#ifndef WX_ACCOUNT_H
#define WX_ACCOUNT_H

#include <stddef.h>
#include "wx/core/config.h"

typedef enum wx_mode {
    WX_MODE_PLAIN,
    WX_MODE_COMPAT,
    WX_MODE_SAFE
} wx_mode_t;

typedef struct wx_account_conf {
    char           *token;              /* or token_file, or $WX_TOKEN */
    char           *appid;
    char           *encoding_aes_key;   /* or _file, or $WX_ENCODING_AES_KEY */
    char           *encoding_aes_key_previous;  /* tried when the current fails */
    wx_mode_t       mode;
} wx_account_conf_t;

/* [wx]: a token, if given, is 3 to 32 letters and digits; a mode other
 * than plain needs the AppID and the AES key. */
extern const wx_config_section_t wx_account_section;

/* For the programs that verify callbacks: 0, or -1 with 'err' set when
 * the token is missing. */
int wx_account_need_token(const wx_account_conf_t *a, char *err, size_t errlen);

const char *wx_mode_name(wx_mode_t mode);

/* One [account.NAME] section: an account of a stack that serves several.
 * It holds what [wx] holds (with the same checks, but no environment
 * variables: one variable cannot hold every account's secret), and what
 * only an account of several needs.  [wx] stays the account of the plain
 * /wx URL; NAME is the path of this one's callback URL (/wx/NAME), the
 * name callers give (X-Wx-Account, wxctl --account) and part of the
 * store's keys, hence its narrow alphabet. */
#define WX_ACCOUNT_NAME_MAX     32
#define WX_ACCOUNT_MAX          64

typedef struct wx_account {
    char               *name;           /* first: a NAMED section's item */
    wx_account_conf_t   wx;             /* token, appid, keys, mode */
    char               *original_id;    /* gh_...: ToUserName must match; NULL: unchecked */
    char               *appsecret;      /* wxtoken: or appsecret_file */
    char               *grant;          /* wxtoken: token | stable_token; NULL: [wxtoken]'s */
} wx_account_t;

extern const wx_config_section_t wx_account_named_section;

/* 1 if 'name' is 1 to WX_ACCOUNT_NAME_MAX of [A-Za-z0-9_-]. */
int wx_account_name_ok(const char *name);

/* 1 if 'id' is an account's original ID: "gh_" and 1 to 29 letters or
 * digits (ToUserName of what WeChat pushes). */
#define WX_ORIGINAL_ID_MAX      32
int wx_original_id_ok(const char *id);

/* The account named by the 'len' bytes at 'name' in a list loaded from
 * wx_account_named_section, or NULL.  Borrowed from the list. */
const wx_account_t *wx_account_find(const wx_conf_list_t *accounts, const char *name,
                                    size_t len);

/* The [account.NAME] sections as the callers of the API read them
 * (wxproxy, wxctl): the name and the AppID, nothing secret; the other
 * keys are left to their owners (WX_SECTION_NAMED_PART).  The list holds
 * wx_account_ref_t. */
typedef struct wx_account_ref {
    char               *name;           /* first: a NAMED section's item */
    char               *appid;
} wx_account_ref_t;

extern const wx_config_section_t wx_account_ref_section;

/* The name 'len' bytes at 'name' in a list of wx_account_ref_section, or
 * NULL.  Borrowed from the list. */
const wx_account_ref_t *wx_account_ref_find(const wx_conf_list_t *accounts, const char *name,
                                            size_t len);

#endif
