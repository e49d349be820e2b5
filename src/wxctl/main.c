/*
 * main.c - wxctl, the command line of the suite: the management APIs of
 * the account through wxproxy (menus, media, materials, drafts, mass and
 * customer-service messages, templates), the token's state, and the tools
 * for testing a server the way WeChat does (sign, encrypt, decrypt).
 * This file parses the command line and hands each family its words.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wx/core/config.h"
#include "wxctl.h"

#ifndef WX_VERSION
#define WX_VERSION "0.1.0"
#endif

static const char usage_text[] =
"Usage: wxctl [-c FILE] [--json] COMMAND [ARGS] [OPTIONS]\n"
"       wxctl -h | -V\n"
"\n"
"The command line of wxfcgi.  The management commands call the WeChat API\n"
"through wxproxy ([wxctl] proxy, with the key [wxctl] proxy_key,\n"
"proxy_key_file or WX_PROXY_KEY): wxctl never holds the AppSecret nor an\n"
"access token.  Keys come from the config file or the environment, never\n"
"from the command line, and are never printed.\n"
"\n"
"Menus (PROTOCOL.md 6.1):\n"
"  menu create FILE.json   create the menu; with \"matchrule\" in the file, a\n"
"                          conditional (personalised) menu.  The file is\n"
"                          checked first: 1-3 buttons, 1-5 sub-buttons,\n"
"                          names of 16/60 bytes, each type's keys\n"
"  menu get                the default and the conditional menus\n"
"  menu current            the menu as configured (API or web UI)\n"
"  menu delete [MENUID]    delete every menu, or one conditional menu\n"
"  menu try-match USER     the menu a follower (OpenID or WeChat ID) sees\n"
"\n"
"Media and material (6.2-6.4); TYPE is image, voice, video or thumb:\n"
"  media upload TYPE FILE  upload temporary media (kept 3 days)\n"
"  media get MEDIA_ID -o FILE\n"
"                          download it (a video: print its link)\n"
"  material add TYPE FILE [--title TEXT [--introduction TEXT]]\n"
"                          upload permanent material; a video needs --title\n"
"  material get MEDIA_ID -o FILE\n"
"  material delete MEDIA_ID\n"
"  material count\n"
"  material list TYPE [--offset N] [--count N] [--all]\n"
"                          TYPE image, voice, video or news; 20 a page\n"
"  Uploads are checked before sending: extension and first bytes, and size:\n"
"  image 10 MB (jpg png gif; material also bmp), voice 2 MB (amr mp3;\n"
"  material also wav wma), video 10 MB (mp4), thumb 64 KB (jpg).\n"
"\n"
"Drafts and publishing (6.5):\n"
"  draft add FILE.json     {\"articles\":[...]}, checked first; prints media_id\n"
"  draft get MEDIA_ID | draft delete MEDIA_ID | draft count\n"
"  draft list [--offset N] [--count N] [--all]\n"
"  publish DRAFT_ID        publish a draft; prints the publish_id\n"
"  publish status PUBLISH_ID\n"
"\n"
"Mass sending (6.6); MESSAGE is text TEXT, image MEDIA_ID..., voice\n"
"MEDIA_ID, video MEDIA_ID (sent as mpvideo) or news MEDIA_ID (a draft, as\n"
"mpnews):\n"
"  mass send (--tag ID | --to-all | --to OPENID,... | --to-file FILE) MESSAGE\n"
"            [--yes] [--clientmsgid ID] [--ignore-reprint]\n"
"                          asks \"Send to tag 2 (text)? [y/N]\" on a terminal;\n"
"                          without a terminal it needs --yes.  Prints the\n"
"                          msg_id to keep\n"
"  mass preview (OPENID | --wxname WECHAT_ID) MESSAGE\n"
"  mass status MSG_ID\n"
"  mass delete MSG_ID [--index N]\n"
"  mass speed get | mass speed set LEVEL     LEVEL 0 (fastest) to 4\n"
"\n"
"Messages to one follower (6.7, 6.8):\n"
"  send text OPENID TEXT\n"
"  send image|voice|mpnews OPENID MEDIA_ID\n"
"  send video OPENID MEDIA_ID [--thumb MEDIA_ID] [--title T] [--description D]\n"
"  send article OPENID ARTICLE_ID\n"
"  send news OPENID TITLE URL [--description D] [--picurl URL]\n"
"  template send FILE.json a template message, the file checked first\n"
"\n"
"Web pages (PROTOCOL.md 12, 13):\n"
"  oauth url --redirect URL --scope snsapi_base|snsapi_userinfo\n"
"            [--state STATE] [--base URL]\n"
"                          print the authorize URL of web authorization for\n"
"                          [wx] appid (made here, nothing sent); --base is\n"
"                          the host (https://open.weixin.qq.com)\n"
"  jssdk config URL        wx.config()'s appId, timestamp, nonceStr and\n"
"                          signature for the page URL (its #fragment is\n"
"                          dropped), from wxproxy's /jssdk/config\n"
"Users, tags, the blacklist (9):\n"
"  user info OPENID...     one follower, or up to 100\n"
"  user list [NEXT_OPENID] [--all]\n"
"                          10 000 OpenIDs a page; --all: every page, with a\n"
"                          progress line a page on stderr\n"
"  user remark OPENID TEXT fewer than 30 characters\n"
"  tag list | tag create NAME | tag rename ID NAME | tag delete ID\n"
"  tag add|remove ID OPENID...   50 a call; 20 tags a follower at most\n"
"  tag of OPENID           names of 1-30 bytes; tags 0, 1, 2 cannot change\n"
"  blacklist [list] | blacklist add|remove OPENID...   20 a call\n"
"\n"
"QR codes, short keys, the callback check (10, 11, 7.3):\n"
"  qrcode create (--temp SECS | --permanent) (--scene N | --scene-str S)\n"
"                [--png FILE]  temporary: 30 days at most, scene non-zero;\n"
"                          permanent: scene 1-100000; scene-str 1-64 bytes\n"
"  shorten DATA [--temp SECS] | shorten fetch KEY    4 KB, 30 days at most\n"
"  check callback [dns|ping|all [CHINANET|UNICOM|CAP|DEFAULT]]\n"
"\n"
"Subscription messages, customer service, templates (14, 15):\n"
"  subscribe send FILE.json | subscribe templates\n"
"  subscribe add TID KID... | subscribe delete ID\n"
"  kf list | kf add ACCOUNT NICKNAME | kf del ACCOUNT\n"
"  kf session OPENID | kf session open|close ACCOUNT OPENID\n"
"  kf typing OPENID [on|off]\n"
"  template list | template add SHORT_ID | template delete ID\n"
"  template industry [ID1 ID2]\n"
"\n"
"The token and the tools for testing a server:\n"
"  metrics [wxfcgi | wxproxy | wxtoken | wxsim]\n"
"        the server's metrics, Prometheus text (default wxfcgi): asked on\n"
"        its socket ([wxfcgi] or [wxproxy] listen and metrics_path,\n"
"        [wxtoken] listen, or [wxsim] listen for /sim/metrics)\n"
"  status [wxfcgi | wxproxy] [--json]\n"
"        the pool's status page: each worker's pid, state, requests served,\n"
"        start and the age of its current request\n"
"  token [--show] [--refresh | --rejected]\n"
"        the access token in the store of wxtoken: its age and expiry, and\n"
"        only its first characters; --show prints the whole token alone;\n"
"        --refresh asks wxtoken for a new one first; --rejected reports the\n"
"        token read from standard input as rejected by WeChat (wxtoken\n"
"        refreshes it if it is still the current one)\n"
"  sign TIMESTAMP NONCE [ENCRYPT]\n"
"        print the signature of a callback (PROTOCOL.md 1.2), or with\n"
"        ENCRYPT its msg_signature (4.5)\n"
"  encrypt [--compat] [--previous] [FILE]\n"
"        encrypt a plaintext message (FILE or standard input) the way WeChat\n"
"        pushes it in safe mode: <xml><ToUserName/><Encrypt/></xml>; with\n"
"        --compat, the plaintext with an <Encrypt> element added\n"
"  decrypt [--previous] [--no-verify] [FILE]\n"
"        decrypt an encrypted message or reply envelope (FILE or standard\n"
"        input) and print the plaintext; a reply's MsgSignature is checked\n"
"        unless --no-verify\n"
"  These use [wx] token, appid, encoding_aes_key (or WX_TOKEN,\n"
"  WX_ENCODING_AES_KEY); --previous uses [wx] encoding_aes_key_previous.\n"
"\n"
"Options:\n"
"  -c, --config FILE   the config file (default: $WX_CONFIG, else wx.ini)\n"
"      --account NAME  the account the calls act for (default: $WX_ACCOUNT,\n"
"                      else the key's one account): sent to wxproxy as\n"
"                      X-Wx-Account; token: that account's token (default\n"
"                      is [wx], NAME an [account.NAME])\n"
"      --json          print WeChat's JSON answer (a listing with --all: one\n"
"                      combined answer) instead of a table; also on errors\n"
"  -o, --output FILE   where a download goes (- for standard output)\n"
"      --all           follow the pages of a listing to the end\n"
"      --offset N      the first item of a listing (0)\n"
"      --count N       items per page, 1 to 20 (20)\n"
"  -y, --yes           send without asking\n"
"      --tag ID, --to-all, --to OPENID,..., --to-file FILE\n"
"                      the followers of a mass send\n"
"      --clientmsgid ID  mass send: WeChat drops a repeat within 24 hours\n"
"      --ignore-reprint  mass send: go on when judged a reprint\n"
"      --wxname WECHAT_ID  mass preview to a WeChat ID\n"
"      --index N       mass delete: only article N (1-based)\n"
"      --title TEXT, --introduction TEXT, --description TEXT, --thumb MEDIA_ID,\n"
"      --picurl URL    see the commands above\n"
"      --kf ACCOUNT    send: as this customer-service account\n"
"      --redirect URL, --scope SCOPE, --state STATE, --base URL\n"
"                      see oauth url\n"
"      --kf ACCOUNT    send: as this customer-service account\n""      --temp SECS, --permanent, --scene N, --scene-str TEXT, --png FILE\n"
"                      see qrcode create and shorten\n"
"      --no-progress   no progress bar (shown on uploads, downloads and\n"
"                      --all listings when stdout and stderr are terminals)\n"
"      --compat, --previous, --no-verify, --show, --refresh, --rejected\n"
"                      see encrypt, decrypt and token\n"
"  -h, --help          show this help and exit\n"
"  -V, --version       show the version and exit\n"
"  --                  the end of the options: an ID that begins with '-'\n"
"                      goes after it (wxctl media get -o a.jpg -- -Abc)\n"
"\n"
"Errors go to stderr: WeChat's errcode and errmsg, with a hint for the\n"
"common ones (40001, 40164 IP allow-list, 45009 quota, 48001 unauthorized\n"
"API), or wxproxy's refusal (unknown_key, path_not_allowed, rate_limited).\n"
"\n"
"Exit status:\n"
"  0  success\n"
"  1  WeChat answered an errcode, or wxproxy refused (HTTP 4xx); for sign,\n"
"     encrypt, decrypt and token: any failure; a config that cannot be loaded\n"
"  2  usage error or bad input (arguments, a JSON file, a menu or a media\n"
"     file that would be refused, a mass send not confirmed): nothing sent\n"
"  3  transport: wxproxy unreachable or timed out, wxproxy could not reach\n"
"     WeChat (HTTP 5xx), a broken answer; for token: wxtoken unreachable\n";

enum {
    O_JSON = 256, O_ALL, O_TO_ALL, O_NO_PROGRESS, O_IGNORE_REPRINT, O_OFFSET, O_COUNT,
    O_INDEX, O_TITLE, O_INTRO, O_DESCRIPTION, O_THUMB, O_PICURL, O_TAG, O_TO,
    O_TO_FILE, O_WXNAME, O_CLIENTMSGID, O_KF,
    O_COMPAT, O_PREVIOUS, O_NO_VERIFY, O_SHOW, O_REFRESH, O_REJECTED,
    O_REDIRECT, O_SCOPE, O_STATE, O_BASE,
    O_TEMP, O_PERMANENT, O_SCENE, O_SCENE_STR, O_PNG, O_ACCOUNT
};

static const struct option longopts[] = {
    { "config",         required_argument, NULL, 'c' },
    { "account",        required_argument, NULL, O_ACCOUNT },
    { "output",         required_argument, NULL, 'o' },
    { "yes",            no_argument,       NULL, 'y' },
    { "help",           no_argument,       NULL, 'h' },
    { "version",        no_argument,       NULL, 'V' },
    { "json",           no_argument,       NULL, O_JSON },
    { "all",            no_argument,       NULL, O_ALL },
    { "to-all",         no_argument,       NULL, O_TO_ALL },
    { "no-progress",    no_argument,       NULL, O_NO_PROGRESS },
    { "ignore-reprint", no_argument,       NULL, O_IGNORE_REPRINT },
    { "offset",         required_argument, NULL, O_OFFSET },
    { "count",          required_argument, NULL, O_COUNT },
    { "index",          required_argument, NULL, O_INDEX },
    { "title",          required_argument, NULL, O_TITLE },
    { "introduction",   required_argument, NULL, O_INTRO },
    { "description",    required_argument, NULL, O_DESCRIPTION },
    { "thumb",          required_argument, NULL, O_THUMB },
    { "picurl",         required_argument, NULL, O_PICURL },
    { "tag",            required_argument, NULL, O_TAG },
    { "to",             required_argument, NULL, O_TO },
    { "to-file",        required_argument, NULL, O_TO_FILE },
    { "wxname",         required_argument, NULL, O_WXNAME },
    { "clientmsgid",    required_argument, NULL, O_CLIENTMSGID },
    { "kf",             required_argument, NULL, O_KF },
    { "compat",         no_argument,       NULL, O_COMPAT },
    { "previous",       no_argument,       NULL, O_PREVIOUS },
    { "no-verify",      no_argument,       NULL, O_NO_VERIFY },
    { "show",           no_argument,       NULL, O_SHOW },
    { "refresh",        no_argument,       NULL, O_REFRESH },
    { "rejected",       no_argument,       NULL, O_REJECTED },
    { "redirect",       required_argument, NULL, O_REDIRECT },
    { "scope",          required_argument, NULL, O_SCOPE },
    { "state",          required_argument, NULL, O_STATE },
    { "base",           required_argument, NULL, O_BASE },
    { "temp",           required_argument, NULL, O_TEMP },
    { "permanent",      no_argument,       NULL, O_PERMANENT },
    { "scene",          required_argument, NULL, O_SCENE },
    { "scene-str",      required_argument, NULL, O_SCENE_STR },
    { "png",            required_argument, NULL, O_PNG },
    { NULL, 0, NULL, 0 }
};

typedef struct {
    const char     *config;
    wxctl_opts_t    o;
    int             compat, previous, verify, show, refresh, rejected;
} args_t;

static int number(const char *name, const char *s, long min, long *v)
{
    char *end;

    errno = 0;
    *v = strtol(s, &end, 10);
    if (errno || *end || end == s || *v < min)
        return wxctl_usage("--%s takes a number of at least %ld", name, min);
    return 0;
}

/* One option; 1 to exit at once with *rc (help, version, a usage error). */
static int option(args_t *a, int opt, int *rc)
{
    wxctl_opts_t *o = &a->o;

    *rc = 0;
    switch (opt) {
    case 'c': a->config = optarg; break;
    case O_ACCOUNT: o->account = optarg; break;
    case 'o': o->out = optarg; break;
    case 'y': o->yes = 1; break;
    case 'h': fputs(usage_text, stdout); return 1;
    case 'V': printf("wxctl %s\n", WX_VERSION); return 1;
    case O_JSON: o->json = 1; break;
    case O_ALL: o->all = 1; break;
    case O_TO_ALL: o->to_all = 1; break;
    case O_NO_PROGRESS: o->no_progress = 1; break;
    case O_IGNORE_REPRINT: o->ignore_reprint = 1; break;
    case O_OFFSET: *rc = number("offset", optarg, 0, &o->offset); return *rc != 0;
    case O_COUNT: *rc = number("count", optarg, 1, &o->count); return *rc != 0;
    case O_INDEX: *rc = number("index", optarg, 0, &o->index); return *rc != 0;
    case O_TITLE: o->title = optarg; break;
    case O_INTRO: o->introduction = optarg; break;
    case O_DESCRIPTION: o->description = optarg; break;
    case O_THUMB: o->thumb = optarg; break;
    case O_PICURL: o->picurl = optarg; break;
    case O_TAG: o->tag = optarg; break;
    case O_TO: o->to = optarg; break;
    case O_TO_FILE: o->to_file = optarg; break;
    case O_WXNAME: o->wxname = optarg; break;
    case O_CLIENTMSGID: o->clientmsgid = optarg; break;
    case O_KF: o->kf = optarg; break;
    case O_COMPAT: a->compat = 1; break;
    case O_PREVIOUS: a->previous = 1; break;
    case O_NO_VERIFY: a->verify = 0; break;
    case O_SHOW: a->show = 1; break;
    case O_REFRESH: a->refresh = 1; break;
    case O_REJECTED: a->rejected = 1; break;
    case O_REDIRECT: o->redirect = optarg; break;
    case O_SCOPE: o->scope = optarg; break;
    case O_STATE: o->state = optarg; break;
    case O_BASE: o->base = optarg; break;
    case O_TEMP: *rc = number("temp", optarg, 1, &o->temp); return *rc != 0;
    case O_PERMANENT: o->permanent = 1; break;
    case O_SCENE: o->scene = optarg; break;
    case O_SCENE_STR: o->scene_str = optarg; break;
    case O_PNG: o->png = optarg; break;
    default:
        *rc = wxctl_usage("unknown option");
        return 1;
    }
    return 0;
}

static const struct {
    const char     *name;
    wxctl_cmd_fn   *fn;
} families[] = {
    { "menu", wxctl_menu }, { "media", wxctl_media }, { "material", wxctl_material },
    { "draft", wxctl_draft }, { "publish", wxctl_publish }, { "mass", wxctl_mass },
    { "send", wxctl_send }, { "template", wxctl_template },
    { "jssdk", wxctl_jssdk },
    { "user", wxctl_user }, { "tag", wxctl_tag }, { "blacklist", wxctl_blacklist },
    { "qrcode", wxctl_qrcode }, { "shorten", wxctl_shorten }, { "check", wxctl_check },
    { "subscribe", wxctl_subscribe }, { "kf", wxctl_kf },
};
#define N_FAMILIES (sizeof(families) / sizeof(families[0]))

static int run_local(const char *cmd, const args_t *a, const wxctl_conf_t *cfg,
                     int argc, char **argv)
{
    if (strcmp(cmd, "token") == 0)
        return argc > 0 ? wxctl_usage("token takes no argument") :
               a->refresh && a->rejected ? wxctl_usage("--refresh or --rejected, not both") :
               wxctl_token(cfg, a->o.account, a->show, a->refresh, a->rejected);
    if (strcmp(cmd, "sign") == 0)
        return wxctl_sign(cfg, argc, argv);
    if (strcmp(cmd, "oauth") == 0)
        return wxctl_oauth(cfg, &a->o, argc, argv);
    if (strcmp(cmd, "metrics") == 0 || strcmp(cmd, "status") == 0)
        return wxctl_metrics(cfg, cmd[0] == 's', a->o.json, argc, argv);
    if (argc > 1)
        return wxctl_usage("one FILE at most");
    if (strcmp(cmd, "encrypt") == 0)
        return wxctl_encrypt(cfg, a->compat, a->previous, argc > 0 ? argv[0] : NULL);
    return wxctl_decrypt(cfg, a->previous, a->verify, argc > 0 ? argv[0] : NULL);
}

int main(int argc, char **argv)
{
    args_t a = { .verify = 1, .o = { .count = -1, .index = -1, .temp = -1 } };
    int opt, rc, cargc;
    size_t fam;
    char err[512], **cargv;
    const wxctl_conf_t *c;
    wx_config_t *cfg;
    wxctl_t *ctl;
    const char *cmd;

    a.config = getenv("WX_CONFIG");
    a.o.account = getenv("WX_ACCOUNT");
    /* Options before the command... */
    while ((opt = getopt_long(argc, argv, "+c:o:yhV", longopts, NULL)) != -1)
        if (option(&a, opt, &rc))
            return rc;
    if (optind >= argc)
        return wxctl_usage("no command");
    /* ...and anywhere after it ("--" ends them). */
    cargc = argc - optind;
    cargv = argv + optind;
    cmd = cargv[0];
    optind = 0;
    while ((opt = getopt_long(cargc, cargv, "c:o:yhV", longopts, NULL)) != -1)
        if (option(&a, opt, &rc))
            return rc;
    cargc -= optind;
    cargv += optind;
    if (a.o.account != NULL && *a.o.account == '\0')
        a.o.account = NULL;
    if (a.o.account != NULL && !wx_account_name_ok(a.o.account))
        return wxctl_usage("--account (or WX_ACCOUNT) takes an account's name: 1 to %d "
                           "letters, digits, '-' or '_'", WX_ACCOUNT_NAME_MAX);
    for (fam = 0; fam < N_FAMILIES; fam++)
        if (strcmp(cmd, families[fam].name) == 0)
            break;
    if (fam == N_FAMILIES && strcmp(cmd, "sign") != 0 && strcmp(cmd, "encrypt") != 0 &&
        strcmp(cmd, "decrypt") != 0 && strcmp(cmd, "token") != 0 && strcmp(cmd, "oauth") != 0 &&
        strcmp(cmd, "metrics") != 0 && strcmp(cmd, "status") != 0)
        return wxctl_usage("unknown command '%s'", cmd);
    cfg = wx_config_load(&wxctl_spec, a.config ? a.config : "wx.ini", err, sizeof(err));
    if (cfg == NULL) {
        fprintf(stderr, "wxctl: %s\n", err);
        return 1;
    }
    c = (const wxctl_conf_t *)(const void *)cfg;
    if (fam == N_FAMILIES) {
        rc = run_local(cmd, &a, c, cargc, cargv);
    } else if ((ctl = wxctl_new(c, &a.o)) == NULL) {
        rc = WXCTL_EXIT_USAGE;
    } else {
        rc = families[fam].fn(ctl, cargc, cargv);
        wxctl_free(ctl);
    }
    if (fflush(stdout) != 0 && rc == 0) {
        fprintf(stderr, "wxctl: standard output: %s\n", strerror(errno));
        rc = 1;
    }
    wx_config_free(cfg);
    return rc;
}
