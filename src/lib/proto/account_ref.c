/* account_ref.c - [account.NAME] as the callers of the API read it: the
 * name and the AppID (wx/proto/account.h). */
#include <stdio.h>
#include <string.h>

#include "wx/proto/account.h"

static const wx_setting_t wx_account_ref_settings[] = {
    WX_SETTING("appid", WX_CONF_STR, offsetof(wx_account_ref_t, appid), 0, 0, NULL),
};

/* The full checks are those of the owners' section; a reader needs a
 * name that can be a header's value and a store key. */
static int wx_account_ref_validate(void *sec, char *err, size_t errlen)
{
    const wx_account_ref_t *a = sec;

    if (!wx_account_name_ok(a->name)) {
        snprintf(err, errlen, "[account.%.64s]: the name must be 1 to %d letters, digits, "
                 "'-' or '_'", a->name, WX_ACCOUNT_NAME_MAX);
        return -1;
    }
    if (strcmp(a->name, "default") == 0) {
        snprintf(err, errlen, "[account.default]: 'default' names the account of [wx]");
        return -1;
    }
    return 0;
}

const wx_config_section_t wx_account_ref_section = {
    "account.", WX_SECTION_NAMED_PART, wx_account_ref_settings,
    WX_CONF_N(wx_account_ref_settings), sizeof(wx_account_ref_t), WX_ACCOUNT_MAX,
    wx_account_ref_validate
};

const wx_account_ref_t *wx_account_ref_find(const wx_conf_list_t *accounts, const char *name,
                                            size_t len)
{
    const wx_account_ref_t *a = accounts->v;
    size_t i;

    for (i = 0; i < accounts->n; i++)
        if (strlen(a[i].name) == len && memcmp(a[i].name, name, len) == 0)
            return &a[i];
    return NULL;
}
