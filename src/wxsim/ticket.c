/*
 * ticket.c - the JS-SDK tickets (PROTOCOL.md 13): /cgi-bin/ticket/getticket
 * with type=jsapi (jsapi_ticket) or type=wx_card (the card api_ticket).
 *
 * Every call issues a new ticket valid 7200 s (or [wxsim] token_ttl when
 * that is shorter, so that tests see expiry soon); earlier ones stay valid
 * until their own end.  The quota is "very limited": the calls are
 * counted in /sim/stats like every path's, so a test can see that a
 * server caches the ticket.
 */
#include <stdio.h>
#include <string.h>

#include "wxsim.h"

#define TICKET_TTL  7200
#define TICKET_LEN  86      /* the length of the official example's ticket */

/* GET /cgi-bin/ticket/getticket?access_token&type=jsapi|wx_card */
void wxsim_ticket_get(wxsim_t *sim, wxsim_req_t *rq)
{
    char type[16], ticket[TICKET_LEN + 1];
    long long ttl = sim->cfg->sim.token_ttl < TICKET_TTL ? sim->cfg->sim.token_ttl : TICKET_TTL;
    long n = wxsim_query_get(rq->query, "type", type, sizeof(type));

    if (n < 0 || (strcmp(type, "jsapi") != 0 && strcmp(type, "wx_card") != 0)) {
        wxsim_reply_err(rq, 40097, "invalid args: type must be jsapi or wx_card");
        return;
    }
    wxsim_random_id(ticket, TICKET_LEN);
    wxsim_mx_token(type[0] == 'j' ? WXSIM_MX_JSAPI : WXSIM_MX_WX_CARD);
    snprintf(rq->note, sizeof(rq->note), "type=%s", type);
    wxsim_reply_json(rq, json_pack("{s:i,s:s,s:s,s:I}", "errcode", 0, "errmsg", "ok",
                                   "ticket", ticket, "expires_in", (json_int_t)ttl));
}
