/*
 * ips.c - WeChat's server IP lists (PROTOCOL.md 7.1, 7.2).
 */
#include "wxsim.h"

/* Fixed lists, loopback first so that a test stack that
 * allow-lists the callback IPs lets its own pushes through. */
void wxsim_getcallbackip(wxsim_t *sim, wxsim_req_t *rq)
{
    (void)sim;
    wxsim_reply_json(rq, json_pack("{s:[s,s,s]}", "ip_list", "127.0.0.1",
                                   "106.55.206.146", "106.55.206.211"));
}

void wxsim_get_api_domain_ip(wxsim_t *sim, wxsim_req_t *rq)
{
    (void)sim;
    wxsim_reply_json(rq, json_pack("{s:[s,s,s]}", "ip_list", "127.0.0.1",
                                   "101.89.47.18", "101.91.34.103"));
}
