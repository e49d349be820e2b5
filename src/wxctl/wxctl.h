/*
 * wxctl.h - the commands of wxctl, one file per family, and the helpers
 * they share.
 *
 * Every management command goes through wxproxy ([wxctl] proxy, with the
 * key of [wxctl] proxy_key in an X-Wx-Key header): wxctl never holds the
 * AppSecret nor an access token.  The outcome of a command is its exit
 * status, one of the WXCTL_EXIT_* codes; the message for a failure has
 * been printed on stderr by the time a function returns it.
 */
#ifndef WXCTL_H
#define WXCTL_H

#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "wx/core/config.h"
#include "wx/proto/account.h"
#include "wx/state/state_conf.h"
#include "wx/state/token_conf.h"

/* [wxctl]: how to reach wxproxy (conf.c). */
typedef struct wxctl_section {
    char           *proxy;          /* wxproxy's base URL */
    char           *proxy_key;      /* or proxy_key_file, or $WX_PROXY_KEY */
    unsigned        timeout_ms;
} wxctl_section_t;

/* [wxfcgi], [wxproxy] and [wxsim] (listen only): where wxctl metrics and
 * status ask. */
typedef struct wxctl_server {
    char           *listen;
    char           *metrics_path;
} wxctl_server_t;

/* What wxctl reads: [wx] for sign, encrypt and decrypt (no token needed
 * but by sign and a verifying decrypt), [wxctl], and where the token is. */
typedef struct wxctl_conf {
    wx_config_t         base;
    wx_account_conf_t   wx;
    wxctl_section_t     ctl;
    wx_token_conf_t     tok;
    wx_state_conf_t     state;      /* the token's store */
    wxctl_server_t      fcgi, proxy;    /* metrics and status */
    wxctl_server_t      sim;            /* metrics: /sim/metrics */
    wx_conf_list_t      accounts;   /* wx_account_ref_t: for token --account */
} wxctl_conf_t;

extern const wx_config_spec_t wxctl_spec;

/* The exit statuses, documented in usage_text and wxctl.1. */
enum {
    WXCTL_EXIT_OK        = 0,
    WXCTL_EXIT_REFUSED   = 1,   /* WeChat's errcode, or wxproxy refused */
    WXCTL_EXIT_USAGE     = 2,   /* bad arguments or a bad input file: nothing sent */
    WXCTL_EXIT_TRANSPORT = 3    /* wxproxy or WeChat could not be reached */
};

/* The options of every command, from the command line. */
typedef struct wxctl_opts {
    const char *account;        /* --account NAME or $WX_ACCOUNT: X-Wx-Account; NULL: none */
    int         json;           /* --json: the JSON answers on stdout */
    int         yes;            /* --yes: no confirmation of a mass send */
    int         all;            /* --all: follow the pages of a listing */
    int         to_all;         /* --to-all: mass send to every follower */
    int         no_progress;    /* --no-progress */
    int         ignore_reprint; /* --ignore-reprint: send_ignore_reprint 1 */
    long        offset, count;  /* a listing's page; count -1 = default */
    long        index;          /* mass delete --index, -1 = whole message */
    const char *out;            /* -o FILE of a download, "-" = stdout */
    const char *title, *introduction;   /* material add video; send video --title */
    const char *description;    /* send video, send news */
    const char *thumb;          /* send video --thumb MEDIA_ID */
    const char *picurl;         /* send news */
    const char *tag;            /* mass send --tag ID */
    const char *to;             /* mass send --to OPENID,OPENID... */
    const char *to_file;        /* mass send --to-file FILE (one OpenID a line) */
    const char *wxname;         /* mass preview --wxname WECHAT_ID */
    const char *clientmsgid;    /* mass send --clientmsgid ID */
    const char *kf;             /* send --kf ACCOUNT */
    const char *redirect;       /* oauth url --redirect URL */
    const char *scope;          /* oauth url --scope snsapi_base|snsapi_userinfo */
    const char *state;          /* oauth url --state STATE */
    const char *base;           /* oauth url --base URL (the authorize host) */
    long        temp;           /* qrcode create --temp SECS, shorten --temp SECS; -1 = none */
    int         permanent;      /* qrcode create --permanent */
    const char *scene;          /* qrcode create --scene N */
    const char *scene_str;      /* qrcode create --scene-str S */
    const char *png;            /* qrcode create --png FILE */
} wxctl_opts_t;

typedef struct wxctl_http wxctl_http_t;

/* What every command gets: the config, the options and the client of
 * wxproxy (http.c's, opaque). */
typedef struct wxctl {
    const wxctl_conf_t *cfg;
    wxctl_opts_t        o;          /* from the command line; read-only */
    wxctl_http_t       *http;
} wxctl_t;

/* A command of a family: argv holds the words after the family's name
 * (argv[0] is the subcommand, when the family has them). */
typedef int wxctl_cmd_fn(wxctl_t *ctl, int argc, char **argv);

/* ----------------------------------------------------------- ctl.c -- */

/* The context of a command: 'opts' copied, the client of wxproxy set up
 * from the config ('cfg' must outlive it); NULL after printing why (no
 * key: a usage error). */
wxctl_t *wxctl_new(const wxctl_conf_t *cfg, const wxctl_opts_t *opts);
void wxctl_free(wxctl_t *ctl);
const wxctl_opts_t *wxctl_opts(const wxctl_t *ctl);

/* ---------------------------------------------------------- http.c -- */

/* The client of wxproxy for the config; NULL after printing why.  The key
 * is kept only in the header list and wiped by wxctl_http_free(). */
wxctl_http_t *wxctl_http_new(const wxctl_conf_t *cfg, const char *account);
void wxctl_http_free(wxctl_http_t *http);

/* Call PATH_QUERY ("/cgi-bin/menu/get") through wxproxy: GET when 'body'
 * is NULL, else POST it as JSON (the reference is not taken).  On success
 * *answer is WeChat's JSON object (owned by the caller) and the result is
 * WXCTL_EXIT_OK; otherwise the failure was printed and *answer is NULL.
 * With --json every JSON answer, WeChat's or wxproxy's, is printed on
 * stdout unless 'quiet' (the caller prints a combined answer itself). */
int wxctl_call(wxctl_t *ctl, const char *path_query, const json_t *body,
               int quiet, json_t **answer);

/* One form field of an upload besides the file. */
typedef struct wxctl_field {
    const char *name, *value;
} wxctl_field_t;

/* POST the file at 'path' as the multipart field "media" (streamed from
 * disk, with a progress bar on a terminal), plus 'extra' (NULL or ended
 * by a NULL name).  The answer as for wxctl_call(). */
int wxctl_upload(wxctl_t *ctl, const char *path_query, const char *path,
                 const wxctl_field_t *extra, json_t **answer);

/* Download: GET path_query, or POST 'body'.  Bytes (a non-JSON answer)
 * go to 'out' (a path, written whole to OUT.part then renamed, or "-" for
 * stdout); a JSON answer without an errcode is returned in *answer for
 * the caller to print (a video's link), and nothing is written.  *got is
 * the number of bytes written.  'filename' receives the name of
 * Content-Disposition ("" when none). */
int wxctl_download(wxctl_t *ctl, const char *path_query, const json_t *body,
                   const char *out, json_t **answer, char *filename, size_t namelen,
                   size_t *got);

/* A listing (POST 'path' with 'body' plus offset and count): one page, or
 * with --all every page from --offset on, gathered in one answer
 * {"total_count","item_count","item":[...]}, printed with --json; a
 * progress bar named 'what' on a terminal. */
int wxctl_list(wxctl_t *ctl, const char *path, json_t *body, const char *what,
               json_t **answer);

/* 's' percent-encoded for a query string; release with curl_free(). */
char *wxctl_escape(wxctl_t *ctl, const char *s);

/* ----------------------------------------------------------- out.c -- */

/* A usage error (status 2): "wxctl: MESSAGE" and the pointer to --help. */
int wxctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A bad input file or argument (status 2): "wxctl: MESSAGE". */
int wxctl_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The hint for a WeChat errcode, or NULL. */
const char *wxctl_hint(long errcode);

/* Print 'j' on stdout as indented JSON, with a newline. */
void wxctl_print_json(const json_t *j);

/* Read FILE ("-" = stdin) as a JSON object.  NULL after printing
 * "FILE:LINE:COL: invalid JSON: ..." (a bad input: status 2). */
json_t *wxctl_load_json(const char *path);

/* A string member, or NULL when absent or not a string. */
const char *wxctl_str(const json_t *obj, const char *key);

/* A member as text: a string as is, an integer in decimal, else "". */
const char *wxctl_text(const json_t *obj, const char *key, char *buf, size_t cap);

/* The "(N of TOTAL)" line under a listing of wxctl_list()'s answer. */
void wxctl_print_count(const json_t *ans);

/* "2024-05-01 12:00" for a Unix time, local time. */
const char *wxctl_time(long long t, char *buf, size_t cap);

/* Progress bars on stderr, only when stdout and stderr are terminals and
 * not --no-progress. */
int wxctl_progress_on(const wxctl_t *ctl);
void wxctl_progress(const char *what, double done, double total);
void wxctl_progress_end(void);

/* Ask "QUESTION [y/N] " on the terminal.  1 for yes. */
int wxctl_confirm(const char *question);

/* ---------------------------------------------------- the families -- */

int wxctl_menu(wxctl_t *ctl, int argc, char **argv);
int wxctl_media(wxctl_t *ctl, int argc, char **argv);
int wxctl_material(wxctl_t *ctl, int argc, char **argv);
int wxctl_draft(wxctl_t *ctl, int argc, char **argv);
int wxctl_publish(wxctl_t *ctl, int argc, char **argv);
int wxctl_mass(wxctl_t *ctl, int argc, char **argv);
int wxctl_send(wxctl_t *ctl, int argc, char **argv);
int wxctl_template(wxctl_t *ctl, int argc, char **argv);
int wxctl_jssdk(wxctl_t *ctl, int argc, char **argv);

/* oauth url: the authorize URL of web authorization (PROTOCOL.md 12),
 * made locally from [wx] appid: no proxy, no key. */
int wxctl_oauth(const wxctl_conf_t *cfg, const wxctl_opts_t *o, int argc, char **argv);
int wxctl_user(wxctl_t *ctl, int argc, char **argv);
int wxctl_tag(wxctl_t *ctl, int argc, char **argv);
int wxctl_blacklist(wxctl_t *ctl, int argc, char **argv);
int wxctl_qrcode(wxctl_t *ctl, int argc, char **argv);
int wxctl_shorten(wxctl_t *ctl, int argc, char **argv);
int wxctl_check(wxctl_t *ctl, int argc, char **argv);
int wxctl_subscribe(wxctl_t *ctl, int argc, char **argv);
int wxctl_kf(wxctl_t *ctl, int argc, char **argv);

/* A JSON array of the OpenIDs argv[0..argc) (1..max of them), or NULL
 * after a usage error naming 'what'. */
json_t *wxctl_openids(int argc, char **argv, size_t max, const char *what);

/* Check a menu file's JSON against PROTOCOL.md 6.1 (a conditional menu
 * when it has "matchrule").  0 when valid, else -1 with the first fault,
 * naming the button, in 'err' ("button[1].sub_button[2] (type view):
 * missing \"url\""). */
int wxctl_menu_check(const json_t *menu, char *err, size_t errlen);

/* The upload checks of PROTOCOL.md 6.2 and 6.4: TYPE known, the file's
 * extension and first bytes of a format of that type, its size within the
 * limit.  0, or a bad-input status after printing why. */
int wxctl_media_check(const char *type, const char *path, int permanent);

/* media get and material get: the bytes to -o FILE, or a JSON answer (a
 * video's link, a news material) printed; 'what' names the command. */
int wxctl_fetch(wxctl_t *ctl, const char *path_query, const json_t *body, const char *what);

/* ---------------------------------------------------------- crypt.c -- */

/* sign TIMESTAMP NONCE [ENCRYPT]: the signature of a callback. */
int wxctl_sign(const wxctl_conf_t *cfg, int argc, char **argv);

/* encrypt [--compat] [--previous] [FILE], decrypt [--previous]
 * [--no-verify] [FILE]: FILE NULL or "-" is standard input. */
int wxctl_encrypt(const wxctl_conf_t *cfg, int compat, int previous, const char *path);
int wxctl_decrypt(const wxctl_conf_t *cfg, int previous, int verify, const char *path);

/* ---------------------------------------------------------- token.c -- */

/* wxctl token [--show] [--refresh] [--rejected]: the state of the token
 * store; --refresh asks wxtoken for a new token, --rejected reports the
 * token read from standard input as rejected by WeChat. */
int wxctl_token(const wxctl_conf_t *cfg, const char *account, int show, int refresh,
                int rejected);

/* metrics [SERVER] and status [SERVER] (metrics.c): SERVER is wxfcgi (the
 * default), wxproxy, wxtoken or wxsim (metrics only); status prints the pool's
 * page, as JSON with 'json'. */
int wxctl_metrics(const wxctl_conf_t *cfg, int status, int json, int argc, char **argv);

#endif
