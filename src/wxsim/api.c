/*
 * api.c - routing: the table of simulated endpoints, the method and token
 * checks they share, the faults injected in front of them, the counters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "wxsim.h"

typedef void (*wxsim_handler_fn)(wxsim_t *sim, wxsim_req_t *rq);

typedef enum {
    M_GET,      /* GET (POST accepted too, as WeChat does) */
    M_POST,     /* POST only: 43002 otherwise */
    M_ANY       /* the handler checks */
} wxsim_method_t;

typedef struct wxsim_route {
    const char         *path;
    wxsim_method_t      method;
    int                 token;      /* needs access_token */
    wxsim_handler_fn    fn;
} wxsim_route_t;

static const wxsim_route_t routes[] = {
    /* PROTOCOL.md 5 */
    { "/cgi-bin/token",                         M_GET,  0, wxsim_token_get },
    { "/cgi-bin/stable_token",                  M_ANY,  0, wxsim_token_stable },
    /* 7 */
    { "/cgi-bin/getcallbackip",                 M_GET,  1, wxsim_getcallbackip },
    { "/cgi-bin/get_api_domain_ip",             M_GET,  1, wxsim_get_api_domain_ip },
    /* 6.1 */
    { "/cgi-bin/menu/create",                   M_POST, 1, wxsim_menu_create },
    { "/cgi-bin/menu/get",                      M_GET,  1, wxsim_menu_get },
    { "/cgi-bin/menu/delete",                   M_GET,  1, wxsim_menu_delete },
    { "/cgi-bin/get_current_selfmenu_info",     M_GET,  1, wxsim_menu_current },
    { "/cgi-bin/menu/addconditional",           M_POST, 1, wxsim_menu_addconditional },
    { "/cgi-bin/menu/delconditional",           M_POST, 1, wxsim_menu_delconditional },
    { "/cgi-bin/menu/trymatch",                 M_POST, 1, wxsim_menu_trymatch },
    /* 6.2 - 6.4 */
    { "/cgi-bin/media/upload",                  M_POST, 1, wxsim_media_upload },
    { "/cgi-bin/media/get",                     M_GET,  1, wxsim_media_get },
    { "/cgi-bin/material/add_material",         M_POST, 1, wxsim_material_add },
    { "/cgi-bin/material/get_material",         M_POST, 1, wxsim_material_get },
    { "/cgi-bin/material/del_material",         M_POST, 1, wxsim_material_del },
    { "/cgi-bin/material/get_materialcount",    M_GET,  1, wxsim_material_count },
    { "/cgi-bin/material/batchget_material",    M_POST, 1, wxsim_material_batchget },
    /* 6.5 */
    { "/cgi-bin/draft/add",                     M_POST, 1, wxsim_draft_add },
    { "/cgi-bin/draft/get",                     M_POST, 1, wxsim_draft_get },
    { "/cgi-bin/draft/delete",                  M_POST, 1, wxsim_draft_delete },
    { "/cgi-bin/draft/count",                   M_GET,  1, wxsim_draft_count },
    { "/cgi-bin/draft/batchget",                M_POST, 1, wxsim_draft_batchget },
    { "/cgi-bin/freepublish/submit",            M_POST, 1, wxsim_publish_submit },
    { "/cgi-bin/freepublish/get",               M_POST, 1, wxsim_publish_get },
    /* 6.6 */
    { "/cgi-bin/message/mass/sendall",          M_POST, 1, wxsim_mass_sendall },
    { "/cgi-bin/message/mass/send",             M_POST, 1, wxsim_mass_send },
    { "/cgi-bin/message/mass/preview",          M_POST, 1, wxsim_mass_preview },
    { "/cgi-bin/message/mass/get",              M_POST, 1, wxsim_mass_get },
    { "/cgi-bin/message/mass/delete",           M_POST, 1, wxsim_mass_delete },
    { "/cgi-bin/message/mass/speed/get",        M_POST, 1, wxsim_mass_speed_get },
    { "/cgi-bin/message/mass/speed/set",        M_POST, 1, wxsim_mass_speed_set },
    /* 6.7, 6.8 */
    { "/cgi-bin/message/custom/send",           M_POST, 1, wxsim_custom_send },
    { "/cgi-bin/message/template/send",         M_POST, 1, wxsim_template_send },
    /* 12: the browser's page (open.weixin.qq.com), then the web token's APIs */
    { "/connect/oauth2/authorize",              M_GET,  0, wxsim_oauth_authorize },
    { "/sns/oauth2/access_token",               M_GET,  0, wxsim_sns_access_token },
    { "/sns/oauth2/refresh_token",              M_GET,  0, wxsim_sns_refresh },
    { "/sns/userinfo",                          M_GET,  0, wxsim_sns_userinfo },
    { "/sns/auth",                              M_GET,  0, wxsim_sns_auth },
    /* 13 */
    { "/cgi-bin/ticket/getticket",              M_GET,  1, wxsim_ticket_get },
    /* 7.3 */
    { "/cgi-bin/callback/check",                M_POST, 1, wxsim_callback_check },
    /* 9 */
    { "/cgi-bin/user/info",                     M_GET,  1, wxsim_user_info },
    { "/cgi-bin/user/info/batchget",            M_POST, 1, wxsim_user_batchget },
    { "/cgi-bin/user/get",                      M_GET,  1, wxsim_user_get },
    { "/cgi-bin/user/info/updateremark",        M_POST, 1, wxsim_user_remark },
    { "/cgi-bin/tags/create",                   M_POST, 1, wxsim_tag_create },
    { "/cgi-bin/tags/get",                      M_GET,  1, wxsim_tag_get },
    { "/cgi-bin/tags/update",                   M_POST, 1, wxsim_tag_update },
    { "/cgi-bin/tags/delete",                   M_POST, 1, wxsim_tag_delete },
    { "/cgi-bin/user/tag/get",                  M_POST, 1, wxsim_tag_users },
    { "/cgi-bin/tags/members/batchtagging",     M_POST, 1, wxsim_tag_batchtag },
    { "/cgi-bin/tags/members/batchuntagging",   M_POST, 1, wxsim_tag_batchuntag },
    { "/cgi-bin/tags/getidlist",                M_POST, 1, wxsim_tag_idlist },
    { "/cgi-bin/tags/members/getblacklist",     M_POST, 1, wxsim_black_get },
    { "/cgi-bin/tags/members/batchblacklist",   M_POST, 1, wxsim_black_add },
    { "/cgi-bin/tags/members/batchunblacklist", M_POST, 1, wxsim_black_remove },
    /* 10: showqrcode is on mp.weixin.qq.com and needs no token */
    { "/cgi-bin/qrcode/create",                 M_POST, 1, wxsim_qrcode_create },
    { "/cgi-bin/showqrcode",                    M_GET,  0, wxsim_qrcode_show },
    /* 11 */
    { "/cgi-bin/shorten/gen",                   M_POST, 1, wxsim_shorten_gen },
    { "/cgi-bin/shorten/fetch",                 M_POST, 1, wxsim_shorten_fetch },
    { "/cgi-bin/shorturl",                      M_POST, 1, wxsim_shorturl },
    /* 14 */
    { "/cgi-bin/message/subscribe/bizsend",     M_POST, 1, wxsim_sub_send },
    { "/wxaapi/newtmpl/getcategory",            M_GET,  1, wxsim_sub_category },
    { "/wxaapi/newtmpl/getpubtemplatetitles",   M_GET,  1, wxsim_sub_titles },
    { "/wxaapi/newtmpl/getpubtemplatekeywords", M_GET,  1, wxsim_sub_keywords },
    { "/wxaapi/newtmpl/addtemplate",            M_POST, 1, wxsim_sub_add },
    { "/wxaapi/newtmpl/gettemplate",            M_GET,  1, wxsim_sub_list },
    { "/wxaapi/newtmpl/deltemplate",            M_POST, 1, wxsim_sub_del },
    /* 15 */
    { "/customservice/kfaccount/add",           M_POST, 1, wxsim_kf_add },
    { "/customservice/kfaccount/update",        M_POST, 1, wxsim_kf_update },
    { "/customservice/kfaccount/del",           M_GET,  1, wxsim_kf_del },
    { "/cgi-bin/customservice/getkflist",       M_GET,  1, wxsim_kf_list },
    { "/cgi-bin/customservice/getonlinekflist", M_GET,  1, wxsim_kf_online },
    { "/customservice/kfsession/create",        M_POST, 1, wxsim_kf_session_create },
    { "/customservice/kfsession/close",         M_POST, 1, wxsim_kf_session_close },
    { "/customservice/kfsession/getsession",    M_GET,  1, wxsim_kf_session_get },
    { "/customservice/kfsession/getsessionlist", M_GET, 1, wxsim_kf_session_list },
    { "/customservice/kfsession/getwaitcase",   M_GET,  1, wxsim_kf_waitcase },
    { "/cgi-bin/message/custom/typing",         M_POST, 1, wxsim_kf_typing },
    { "/cgi-bin/template/api_set_industry",     M_POST, 1, wxsim_tmpl_set_industry },
    { "/cgi-bin/template/get_industry",         M_GET,  1, wxsim_tmpl_get_industry },
    { "/cgi-bin/template/api_add_template",     M_POST, 1, wxsim_tmpl_add },
    { "/cgi-bin/template/get_all_private_template", M_GET, 1, wxsim_tmpl_list },
    { "/cgi-bin/template/del_private_template", M_POST, 1, wxsim_tmpl_del },
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

size_t wxsim_api_n_routes(void)
{
    return N_ROUTES;
}

size_t wxsim_api_body_max(const wxsim_t *sim, const char *path)
{
    /* Uploads get the configured limit plus room for the form's own
     * headers and boundaries; everything else is JSON. */
    if (strcmp(path, "/cgi-bin/media/upload") == 0 ||
        strcmp(path, "/cgi-bin/material/add_material") == 0)
        return sim->cfg->sim.max_upload + WXSIM_FORM_OVERHEAD;
    return WXSIM_JSON_MAX;
}

const char *wxsim_api_route_path(size_t i)
{
    return i < N_ROUTES ? routes[i].path : "other";
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* 1 when the fault answered the call (the endpoint does not run). */
static int apply_fault(wxsim_req_t *rq, const wxsim_fault_t *f)
{
    static const char *const names[WXSIM_FAULT__MAX] = {
        "busy", "slow", "drop", "badjson", "errcode"
    };
    /* Cut where a client's parser is sure to fail: inside a string. */
    static const char broken[] = "{\"errcode\":0,\"errmsg\":\"o";

    snprintf(rq->note, sizeof(rq->note), "fault=%s", names[f->kind]);
    switch (f->kind) {
    case WXSIM_FAULT_SLOW:
        sleep_ms(f->ms);
        return 0;
    case WXSIM_FAULT_BUSY:
        wxsim_reply_json(rq, json_pack("{s:i,s:s}", "errcode", -1, "errmsg", "system error"));
        return 1;
    case WXSIM_FAULT_ERRCODE:
        wxsim_reply_err(rq, f->errcode, "simulated error %d", f->errcode);
        return 1;
    case WXSIM_FAULT_BADJSON:
        wxsim_reply_bytes(rq, strdup(broken), sizeof(broken) - 1,
                          "application/json; encoding=utf-8");
        rq->errcode = -2;
        return 1;
    case WXSIM_FAULT_DROP:
    default:
        rq->drop = 1;
        rq->errcode = -2;
        return 1;
    }
}

static int method_ok(wxsim_req_t *rq, wxsim_method_t want)
{
    int get = strcmp(rq->method, "GET") == 0, post = strcmp(rq->method, "POST") == 0;

    if (want == M_ANY || post || (get && want == M_GET))
        return 1;
    if (!get && !post) {
        rq->status = 405;
        snprintf(rq->headers, sizeof(rq->headers), "Allow: %s\r\n",
                 want == M_GET ? "GET, POST" : "POST");
    }
    if (want == M_POST)
        wxsim_reply_err(rq, 43002, "require POST method");
    else
        wxsim_reply_err(rq, 43001, "require GET method");
    return 0;
}

/* The fault to apply to this call of 'path' (set by /sim/fault, its count
 * taken), or NULL. */
static const wxsim_fault_t *fault_take(wxsim_t *sim, const char *path)
{
    size_t i;

    for (i = 0; i < WXSIM_MAX_FAULTS; i++) {
        wxsim_fault_t *f = &sim->faults[i];

        if (f->count && (strcmp(f->path, path) == 0 || strcmp(f->path, "*") == 0)) {
            f->count--;
            return f;
        }
    }
    return NULL;
}

static void route(wxsim_t *sim, wxsim_req_t *rq)
{
    const wxsim_route_t *r = NULL;
    const wxsim_fault_t *f;
    size_t i;

    for (i = 0; i < N_ROUTES; i++) {
        if (strcmp(rq->path, routes[i].path) == 0) {
            r = &routes[i];
            break;
        }
    }
    sim->calls[i]++;
    f = fault_take(sim, rq->path);
    if (f && apply_fault(rq, f))
        return;
    if (r == NULL) {
        rq->status = 404;
        wxsim_reply_err(rq, 40066, "invalid url");
        return;
    }
    if (!method_ok(rq, r->method))
        return;
    if (r->token && wxsim_token_check(sim, rq) != 0)
        return;
    r->fn(sim, rq);
}

void wxsim_api_handle(wxsim_t *sim, wxsim_req_t *rq)
{
    struct timespec t0, t1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    route(sim, rq);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    wxsim_mx_call(rq->path, rq->drop ? -2 : rq->errcode,
                  (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000L);
}
