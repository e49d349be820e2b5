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

#endif
