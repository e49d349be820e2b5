/*
 * wxsim.h - the parts of wxsim, the simulator of WeChat's API servers.
 *
 * One process, one thread: every rule that counts (token overlap, quotas,
 * messages received) is exact because nothing runs concurrently.  All state
 * lives in one wxsim_t; each request is one wxsim_req_t, whose response is
 * built by a handler and written by main.c.
 */
#ifndef WXSIM_H
#define WXSIM_H

#include <stddef.h>
#include <jansson.h>

#include "wx/core/config.h"

/* ------------------------------------------------------------- config -- */

/* [wxsim]: the platform simulator (tests and offline demos); conf.c. */
typedef struct wxsim_section {
    char           *listen;             /* unix:/path or tcp:host:port */
    char           *appid;              /* the account it simulates */
    char           *appsecret;          /* or appsecret_file, or $WXSIM_APPSECRET */
    char           *allow_ips;          /* caller allow-list, blank-separated; "" = any */
    unsigned        token_ttl;          /* expires_in of a new token */
    unsigned        token_daily_limit;
    size_t          max_upload;
    char           *data_dir;           /* uploaded media */
    char           *log;
    wx_log_level_t  log_level;
} wxsim_section_t;

/* [wxsim.account.NAME]: another account simulated at once (account.c). */
typedef struct wxsim_account_conf {
    char           *name;
    char           *appid;
    char           *appsecret;          /* or appsecret_file */
} wxsim_account_conf_t;

#define WXSIM_ACCOUNTS_MAX  16

typedef struct wxsim_conf {
    wx_config_t     base;
    wxsim_section_t sim;
    wx_conf_list_t  accounts;           /* wxsim_account_conf_t */
} wxsim_conf_t;

extern const wx_config_spec_t wxsim_spec;

/* ------------------------------------------------------------ requests -- */

#define WXSIM_JSON_MAX      (2u << 20)  /* a JSON body (drafts hold < 1 MB of HTML) */
#define WXSIM_ERRMSG_MAX    256
#define WXSIM_FORM_OVERHEAD (64u << 10)    /* multipart headers around an upload */

typedef enum wxsim_body {
    WXSIM_BODY_NONE,        /* no body was sent */
    WXSIM_BODY_OK,
    WXSIM_BODY_TOOBIG,      /* over the limit: not read at all */
    WXSIM_BODY_SHORT        /* fewer bytes than CONTENT_LENGTH said */
} wxsim_body_t;

typedef struct wxsim_req {
    /* what came in */
    const char     *method;
    const char     *path;           /* decoded, without the query */
    const char     *query;          /* raw, "" when absent */
    const char     *remote_addr;
    const char     *content_type;   /* "" when absent */
    char           *body;           /* NUL-terminated copy, or NULL */
    size_t          body_len;
    wxsim_body_t    body_state;

    /* what goes out (set by a handler) */
    int             status;         /* HTTP status, 200 unless said */
    const char     *ctype;          /* Content-Type, static */
    char           *out;            /* malloc'd */
    size_t          out_len;
    char            headers[512];   /* extra header lines, each ending \r\n */
    int             drop;           /* close without an answer */

    /* for the log line */
    int             errcode;        /* -2: not an API answer (bytes, /sim/) */
    char            note[96];
} wxsim_req_t;

/* Copy the value of query parameter 'name' (percent-decoded) into dst.
 * Returns its length, -1 when absent, -2 when malformed or too long. */
long wxsim_query_get(const char *qs, const char *name, char *dst, size_t cap);

/* The request body parsed as a JSON object: NULL after answering the
 * request itself (44002 empty post data, 47001 data format error). */
json_t *wxsim_req_json(wxsim_req_t *rq);

/* Answer with 'obj' (the reference is taken), errcode taken from it. */
void wxsim_reply_json(wxsim_req_t *rq, json_t *obj);

/* Answer {"errcode":code,"errmsg":"msg rid: ..."} like WeChat. */
void wxsim_reply_err(wxsim_req_t *rq, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Answer {"errcode":0,"errmsg":"ok"}. */
void wxsim_reply_ok(wxsim_req_t *rq);

/* Answer raw bytes (taken over, malloc'd) with a content type. */
void wxsim_reply_bytes(wxsim_req_t *rq, char *data, size_t len, const char *ctype);

/* Helpers for handlers validating a JSON body.  A string member, or NULL
 * when absent or not a string. */
const char *wxsim_json_str(const json_t *obj, const char *key);

/* ----------------------------------------------------------- the state -- */

#define WXSIM_TOKEN_LEN     136     /* real tokens are about this long */
#define WXSIM_ID_LEN        64      /* media ids */
#define WXSIM_OVERLAP       300     /* PROTOCOL.md 5.1: both valid 5 minutes */

typedef struct wxsim_token {
    char            value[WXSIM_TOKEN_LEN + 1];     /* "" = empty slot */
    long long       issued;
    long long       expires;        /* natural end of life */
    long long       revoked;        /* superseded at, 0 = current */
} wxsim_token_t;

/* One family: /cgi-bin/token tokens or stable tokens (PROTOCOL.md 5.2:
 * "completely isolated").  Only the current and the previous token are
 * remembered; anything older is unknown (40001). */
typedef struct wxsim_family {
    wxsim_token_t   cur, prev;
    unsigned long   issued;         /* since start or reset */
    long long       day;            /* the simulated day of the counters */
    unsigned        day_calls;      /* successful calls that day */
    unsigned        day_forced;     /* stable_token force_refresh that day */
    long long       last_forced;    /* time of the last force_refresh, 0 = never */
} wxsim_family_t;

typedef enum wxsim_media_type {
    WXSIM_IMAGE, WXSIM_VOICE, WXSIM_VIDEO, WXSIM_THUMB, WXSIM_MEDIA__MAX
} wxsim_media_type_t;

typedef struct wxsim_media {
    char            id[WXSIM_ID_LEN + 1];
    wxsim_media_type_t type;
    int             permanent;      /* material, else temporary (3 days) */
    char           *filename;       /* as uploaded (cleaned) */
    size_t          size;
    long long       created;
    char           *title, *description;    /* permanent video */
} wxsim_media_t;

typedef struct wxsim_fault {
    char            path[128];      /* "*" = any path */
    int             kind;           /* WXSIM_FAULT_* */
    unsigned        count;          /* calls still to be hit */
    unsigned        ms;
    int             errcode;
} wxsim_fault_t;

enum { WXSIM_FAULT_BUSY, WXSIM_FAULT_SLOW, WXSIM_FAULT_DROP, WXSIM_FAULT_BADJSON,
       WXSIM_FAULT_ERRCODE, WXSIM_FAULT__MAX };

#define WXSIM_MAX_FAULTS    32
#define WXSIM_MAX_MEDIA     20000
#define WXSIM_MAX_DRAFTS    10000
#define WXSIM_MAX_MESSAGES  200000  /* custom + template, kept for /sim/ */
#define WXSIM_MAX_MASS      10000

typedef struct wxsim_mass {
    long long       msg_id, msg_data_id, created;
    const char     *status;         /* static: SEND_SUCCESS, DELETE */
    char           *clientmsgid;
} wxsim_mass_t;

typedef struct wxsim wxsim_t;
typedef struct wxsim_accounts wxsim_accounts_t;

struct wxsim {
    const wxsim_conf_t *cfg;
    /* The default account's state ([wxsim]) owns the others' (account.c);
     * kept over /sim/reset.  NULL in theirs and when there are none. */
    wxsim_accounts_t *accounts;
    long long       offset;         /* simulated clock = real + offset */
    long long       frozen_at;      /* real time the clock stopped at, 0 = runs */

    wxsim_family_t  token, stable;

    /* per-path call counters: the route table's order, then "other" */
    unsigned long  *calls;
    size_t          n_calls;

    wxsim_fault_t   faults[WXSIM_MAX_FAULTS];

    /* menus (PROTOCOL.md 6.1) */
    json_t         *menu;           /* the default menu's button array, or NULL */
    long long       menuid;
    json_t         *conditional;    /* array of {button, matchrule, menuid} */
    long long       next_menuid;

    /* media and materials (6.2-6.4) */
    wxsim_media_t  *media;
    size_t          n_media, cap_media;

    /* drafts and publishing (6.5): arrays of objects */
    json_t         *drafts;         /* {media_id, news_item, update_time} */
    json_t         *published;      /* {publish_id, article_id, news_item, ...} */
    long long       next_publish;

    /* mass sending (6.6) */
    wxsim_mass_t   *mass;
    size_t          n_mass, cap_mass;
    long long       next_msg_id;
    int             mass_speed;

    /* messages received (6.7, 6.8), for the tests */
    json_t         *custom;
    json_t         *templates;
    long long       next_template_msgid;

    /* OAuth web authorization (12): codes, web tokens, refresh tokens;
     * oauth.c's, made on first use */
    json_t         *oauth;
    /* users, tags and the blacklist (PROTOCOL.md 9): users is an object
     * OpenID -> {subscribe, subscribe_time, remark, tagid_list, black,
     * subscribe_scene, qr_scene, qr_scene_str} in the order they first
     * followed (jansson keeps insertion order): the paging order */
    json_t         *users;
    json_t         *tags;           /* array of {id, name}, ids 1 and 2 built in */
    long long       next_tagid;
    unsigned long   next_follower;  /* the number in the next /sim/followers OpenID */

    /* QR codes (10) and short keys (11): objects keyed by ticket / key */
    json_t         *qrcodes;
    json_t         *shortkeys;

    /* customer service (15): accounts by kf_account, sessions by OpenID */
    json_t         *kf;
    json_t         *kf_sessions;
    long long       next_kf_id;

    /* template management (15) and subscription messages (14) */
    json_t         *industry;       /* {industry_id1, industry_id2, set_at} or NULL */
    json_t         *private_tmpl;   /* array of {template_id, title, content, ...} */
    json_t         *sub_tmpl;       /* array of {priTmplId, tid, title, content, ...} */
    json_t         *sub_optin;      /* "OPENID TEMPLATE_ID" -> opt-ins left */
    json_t         *sub_sent;       /* bizsend messages received, for /sim/subscribe */
};

/* clock.c: the simulated wall clock (seconds), moved by /sim/clock. */
long long wxsim_now(const wxsim_t *sim);
/* WeChat's quotas reset at midnight in China (UTC+8). */
long long wxsim_day(const wxsim_t *sim);

/* state.c: create, empty (for /sim/reset) and free the state. */
int wxsim_state_init(wxsim_t *sim, const wxsim_conf_t *cfg, size_t n_routes);

/* account.c: the states of the [wxsim.account.NAME] accounts, each with
 * its own AppID, secret, tokens, users, menus, materials, clock and
 * faults, hung on the default state 'sim'.  0, or -1 logged. */
int wxsim_accounts_init(wxsim_t *sim, size_t n_routes);
void wxsim_accounts_free(wxsim_t *sim);
/* The state a request goes to: /sim/...?account=NAME; an API call by the
 * appid it names (the token calls, the OAuth code exchange) or by the
 * access_token one account issued; else 'sim'.  NULL, after answering,
 * for an unknown account=NAME. */
wxsim_t *wxsim_account_pick(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_state_clear(wxsim_t *sim);
void wxsim_state_free(wxsim_t *sim);
/* id.c: a random string of 'len' characters of [A-Za-z0-9_-] into dst (len+1). */
void wxsim_random_id(char *dst, size_t len);

/* api.c: route one API request (not /sim/), apply faults, count it. */
void wxsim_api_handle(wxsim_t *sim, wxsim_req_t *rq);
size_t wxsim_api_n_routes(void);
/* The largest body read for a request to 'path'. */
size_t wxsim_api_body_max(const wxsim_t *sim, const char *path);
const char *wxsim_api_route_path(size_t i);

/* token.c */
void wxsim_token_get(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_token_stable(wxsim_t *sim, wxsim_req_t *rq);
/* Check the access_token of an API call: 0 when it may go on, -1 after
 * answering 41001/40001/42001. */
int wxsim_token_check(wxsim_t *sim, wxsim_req_t *rq);
/* Every token stops working now (/sim/invalidate). */
void wxsim_token_invalidate(wxsim_t *sim);

/* menu.c */
void wxsim_menu_create(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_menu_get(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_menu_delete(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_menu_current(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_menu_addconditional(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_menu_delconditional(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_menu_trymatch(wxsim_t *sim, wxsim_req_t *rq);

/* media.c */
void wxsim_media_upload(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_media_get(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_material_add(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_material_get(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_material_del(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_material_count(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_material_batchget(wxsim_t *sim, wxsim_req_t *rq);
/* A permanent material of that id, or NULL. */
const wxsim_media_t *wxsim_material_find(const wxsim_t *sim, const char *id);
/* Remove every stored file (reset, exit). */
void wxsim_media_clear(wxsim_t *sim);

/* draft.c */
void wxsim_draft_add(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_draft_get(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_draft_delete(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_draft_count(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_draft_batchget(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_publish_submit(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_publish_get(wxsim_t *sim, wxsim_req_t *rq);
/* The draft object of that media_id, or NULL. */
json_t *wxsim_draft_find(const wxsim_t *sim, const char *id);

/* message.c */
void wxsim_mass_sendall(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_mass_send(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_mass_preview(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_mass_get(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_mass_delete(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_mass_speed_get(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_mass_speed_set(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_custom_send(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_template_send(wxsim_t *sim, wxsim_req_t *rq);

/* user.c (PROTOCOL.md 9): users and the follower list */
void wxsim_user_info(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_user_batchget(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_user_get(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_user_remark(wxsim_t *sim, wxsim_req_t *rq);
/* The user object of a follower (subscribe 1), or NULL. */
json_t *wxsim_user_follower(const wxsim_t *sim, const char *openid);
/* A page of at most 'max' OpenIDs of 'users' after 'after' ("" = from the
 * start) for which keep(user, arg) holds: {total?, count, data, next_openid}
 * answered; -1 after answering 40003 when 'after' is unknown. */
int wxsim_user_page(wxsim_req_t *rq, json_t *users, const char *after, size_t max,
                    int with_total, int (*keep)(json_t *user, long long arg), long long arg);
/* /sim/followers, /sim/kf and /sim/subscribe: 1 when 'what' was one of
 * them (answered), else 0. */
int wxsim_user_ctl(wxsim_t *sim, wxsim_req_t *rq, const char *what, json_t *body);
/* A follower, added now with its subscribe_scene (NULL: ADD_SCENE_OTHERS). */
json_t *wxsim_user_follow(wxsim_t *sim, const char *openid, const char *scene);

/* tag.c (9): tags, tagging and the blacklist */
void wxsim_tag_create(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_tag_get(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_tag_update(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_tag_delete(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_tag_users(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_tag_batchtag(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_tag_batchuntag(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_tag_idlist(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_black_get(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_black_add(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_black_remove(wxsim_t *sim, wxsim_req_t *rq);
/* 1 when tag 'id' exists (mass send by tag, conditional menus). */
int wxsim_tag_exists(const wxsim_t *sim, long long id);
/* 1 when the user object carries tag 'id'. */
int wxsim_user_has_tag(const json_t *user, long long id);
/* The built-in tags of a fresh state. */
json_t *wxsim_tag_defaults(void);

/* qrcode.c (10) */
void wxsim_qrcode_create(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_qrcode_show(wxsim_t *sim, wxsim_req_t *rq);
/* /sim/scan {"ticket":T[,"openid":X]}: X (or someone new) scans code T;
 * the event WeChat would push, and X follows (400 40097: T unknown or
 * expired). */
void wxsim_qrcode_scan(wxsim_t *sim, wxsim_req_t *rq, json_t *body);

/* shortkey.c (11, 7.3): short keys, the retired shorturl, callback/check */
void wxsim_shorten_gen(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_shorten_fetch(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_shorturl(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_callback_check(wxsim_t *sim, wxsim_req_t *rq);

/* kf.c (15): customer-service accounts, sessions, typing */
void wxsim_kf_add(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_kf_update(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_kf_del(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_kf_list(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_kf_online(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_kf_session_create(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_kf_session_close(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_kf_session_get(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_kf_session_list(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_kf_waitcase(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_kf_typing(wxsim_t *sim, wxsim_req_t *rq);
/* /sim/kf {"kf_account", "online", "bound"}: the agent's side. */
void wxsim_kf_ctl(wxsim_t *sim, wxsim_req_t *rq, json_t *body);

/* tmpl.c (15): template industry and private templates */
void wxsim_tmpl_set_industry(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_tmpl_get_industry(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_tmpl_add(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_tmpl_list(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_tmpl_del(wxsim_t *sim, wxsim_req_t *rq);

/* subscribe.c (14): subscription messages and their template library */
void wxsim_sub_send(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_sub_category(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_sub_titles(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_sub_keywords(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_sub_add(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_sub_list(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_sub_del(wxsim_t *sim, wxsim_req_t *rq);
/* /sim/subscribe: POST {"openid","template_id"} one opt-in; GET the sent. */
void wxsim_sub_ctl(wxsim_t *sim, wxsim_req_t *rq, json_t *body);

/* misc: the server IP lists (PROTOCOL.md 7) */
void wxsim_getcallbackip(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_get_api_domain_ip(wxsim_t *sim, wxsim_req_t *rq);

/* oauth.c: web authorization (PROTOCOL.md 12) */
void wxsim_oauth_authorize(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_sns_access_token(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_sns_refresh(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_sns_userinfo(wxsim_t *sim, wxsim_req_t *rq);
void wxsim_sns_auth(wxsim_t *sim, wxsim_req_t *rq);

/* ticket.c: the JS-SDK tickets (PROTOCOL.md 13) */
void wxsim_ticket_get(wxsim_t *sim, wxsim_req_t *rq);

/* ctl.c: the /sim/ control interface (paths under /sim/) */
void wxsim_ctl_handle(wxsim_t *sim, wxsim_req_t *rq);

/* multipart.c: form-data parts of an upload (RFC 7578), pointing into
 * the body. */
typedef struct wxsim_part {
    char            name[64];
    char            filename[256];  /* "" when not a file */
    int             has_filename;
    const char     *data;
    size_t          len;
} wxsim_part_t;

#define WXSIM_MAX_PARTS 8

/* Parse rq's body; returns the number of parts, -1 when it is not
 * multipart/form-data or is malformed. */
int wxsim_multipart_parse(const wxsim_req_t *rq, wxsim_part_t *parts, int max);

/* metrics.c: /sim/metrics, the process's figures (a /sim/reset keeps
 * them).  Count an API call of 'path' answered 'errcode' (-2: not JSON)
 * in 'us' microseconds; a token or ticket issued; answer the scrape. */
typedef enum wxsim_mx_token {
    WXSIM_MX_ACCESS, WXSIM_MX_STABLE, WXSIM_MX_JSAPI, WXSIM_MX_WX_CARD, WXSIM_MX_OAUTH,
    WXSIM_MX_TOKEN__MAX
} wxsim_mx_token_t;
void wxsim_mx_call(const char *path, int errcode, long us);
void wxsim_mx_token(wxsim_mx_token_t kind);
void wxsim_mx_answer(wxsim_req_t *rq);

/* push.c: wxsim push, WeChat delivering messages (push.h); argv[0] is
 * "push".  The exit status. */
int wxsim_push_main(int argc, char **argv);

#endif
