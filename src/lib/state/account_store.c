/* account_store.c - the store records of one account of several
 * (wx/state/account_store.h). */
#include <stdio.h>

#include "wx/state/account_store.h"

int wx_account_store_conf(const wx_state_conf_t *s, const char *store, const char *name,
                          const char *appid, wx_account_store_t *where,
                          wx_store_conf_t *sc)
{
    int n;

    wx_state_store_conf(s, sc);
    if (name == NULL) {
        sc->record.path = store;
        return 0;
    }
    n = snprintf(where->path, sizeof(where->path), "%s@%s", store, name);
    if (n < 0 || (size_t)n >= sizeof(where->path))
        return -1;
    sc->record.path = where->path;
    if (sc->prefix != NULL) {
        n = snprintf(where->prefix, sizeof(where->prefix), "%s%s:", sc->prefix,
                     appid ? appid : name);
        if (n < 0 || (size_t)n >= sizeof(where->prefix))
            return -1;
        sc->prefix = where->prefix;
    }
    return 0;
}
