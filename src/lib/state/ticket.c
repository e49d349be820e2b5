/* ticket.c - the JS-SDK tickets as records of the state store (wx/state/ticket.h). */
#include <string.h>

#include "wx/state/ticket.h"

static const char *const names[WX_TICKET__MAX] = { "jsapi", "wx_card" };
static const wx_store_key_t keys[WX_TICKET__MAX] = {
    { "ticket", "jsapi_ticket", 12 },
    { "ticket", "wx_card_ticket", 14 },
};

int wx_ticket_type(const char *name)
{
    int i;

    for (i = 0; i < WX_TICKET__MAX; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

const char *wx_ticket_name(wx_ticket_type_t type)
{
    return type < WX_TICKET__MAX ? names[type] : "?";
}

wx_err_t wx_ticket_read(wx_store_t *st, wx_ticket_type_t type, time_t now, wx_token_t *tok,
                        char *err, size_t errlen)
{
    return wx_token_read_key(st, &keys[type], "ticket", now, tok, err, errlen);
}

wx_err_t wx_ticket_write(wx_store_t *st, wx_ticket_type_t type, const wx_token_t *tok,
                         char *err, size_t errlen)
{
    return wx_token_write_key(st, &keys[type], tok, err, errlen);
}

wx_err_t wx_ticket_lock(wx_store_t *st, wx_ticket_type_t type, char *err, size_t errlen)
{
    return wx_token_lock_key(st, &keys[type], err, errlen);
}

void wx_ticket_unlock(wx_store_t *st, wx_ticket_type_t type)
{
    wx_token_unlock_key(st, &keys[type]);
}

wx_err_t wx_ticket_retire(wx_store_t *st, wx_ticket_type_t type, char *err, size_t errlen)
{
    return wx_token_retire_key(st, &keys[type], "ticket", err, errlen);
}
