/*
 * wx/state/ticket.h - the JS-SDK tickets (PROTOCOL.md 13) as records of
 * the state store, beside the access token and with its rules
 * (wx/state/token.h): written by wxtoken alone, read by wxproxy; a
 * version that only grows; a reader never gets an expired ticket; the
 * next version made under the ticket's own lock.
 *
 * Two tickets: the jsapi_ticket (type "jsapi") and the card api_ticket
 * (type "wx_card").  The local backend keeps them in [wxtoken] store's
 * file with ".jsapi_ticket" or ".wx_card_ticket" after its name; redis
 * under PREFIX "ticket:" and the same names.
 */
#ifndef WX_TICKET_H
#define WX_TICKET_H

#include "wx/state/token.h"

typedef enum wx_ticket_type {
    WX_TICKET_JSAPI,
    WX_TICKET_WX_CARD,
    WX_TICKET__MAX
} wx_ticket_type_t;

/* "jsapi" or "wx_card": the getticket API's type; -1 for another. */
int wx_ticket_type(const char *name);
const char *wx_ticket_name(wx_ticket_type_t type);

/* As wx_token_read(), wx_token_write(), wx_token_lock() and
 * wx_token_unlock(), for the ticket of 'type' (the ticket in tok->token). */
wx_err_t wx_ticket_read(wx_store_t *st, wx_ticket_type_t type, time_t now, wx_token_t *tok,
                        char *err, size_t errlen);
wx_err_t wx_ticket_write(wx_store_t *st, wx_ticket_type_t type, const wx_token_t *tok,
                         char *err, size_t errlen);
wx_err_t wx_ticket_lock(wx_store_t *st, wx_ticket_type_t type, char *err, size_t errlen);
void wx_ticket_unlock(wx_store_t *st, wx_ticket_type_t type);
wx_err_t wx_ticket_retire(wx_store_t *st, wx_ticket_type_t type, char *err, size_t errlen);

#endif
