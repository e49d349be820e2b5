/*
 * oauth.c - wxctl oauth url: the page a follower's browser is sent to for
 * OAuth 2.0 web authorization (PROTOCOL.md 12), made from [wx] appid:
 *
 *   BASE/connect/oauth2/authorize?appid=APPID&redirect_uri=ENCODED
 *       &response_type=code&scope=SCOPE&state=STATE#wechat_redirect
 *
 * in the documented order, redirect_uri percent-encoded whole, the
 * fragment present.  Nothing is sent: no proxy, no key.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "wxctl.h"

#define WXCTL_OAUTH_BASE    "https://open.weixin.qq.com"

static int is_http(const char *u)
{
    return (strncmp(u, "https://", 8) == 0 && u[8] != '\0') ||
           (strncmp(u, "http://", 7) == 0 && u[7] != '\0');
}

static int state_ok(const char *s)
{
    size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");

    return n <= 128 && s[n] == '\0';
}

int wxctl_oauth(const wxctl_conf_t *cfg, const wxctl_opts_t *o, int argc, char **argv)
{
    const char *base = o->base ? o->base : WXCTL_OAUTH_BASE, *state = o->state ? o->state : "";
    char *enc;
    size_t blen = strlen(base);

    if (argc != 1 || strcmp(argv[0], "url") != 0)
        return wxctl_usage("oauth takes url --redirect URL --scope snsapi_base|snsapi_userinfo");
    if (o->redirect == NULL || o->scope == NULL)
        return wxctl_usage("oauth url needs --redirect URL and --scope");
    if (strcmp(o->scope, "snsapi_base") != 0 && strcmp(o->scope, "snsapi_userinfo") != 0)
        return wxctl_usage("--scope is snsapi_base (the openid, silently) or snsapi_userinfo "
                           "(the profile, after consent)");
    if (!is_http(o->redirect) || strpbrk(o->redirect, " \t\r\n#"))
        return wxctl_bad("--redirect '%.200s' is not an http(s):// URL without blanks or "
                         "fragment", o->redirect);
    if (!state_ok(state))
        return wxctl_bad("--state is up to 128 letters and digits");
    if (!is_http(base))
        return wxctl_bad("--base '%.200s' is not an http(s):// URL", base);
    if (cfg->wx.appid == NULL)
        return wxctl_bad("[wx] appid is not configured");
    enc = curl_easy_escape(NULL, o->redirect, 0);
    if (enc == NULL) {
        fputs("wxctl: out of memory\n", stderr);
        return WXCTL_EXIT_TRANSPORT;
    }
    if (blen && base[blen - 1] == '/')
        blen--;
    printf("%.*s/connect/oauth2/authorize?appid=%s&redirect_uri=%s&response_type=code"
           "&scope=%s&state=%s#wechat_redirect\n", (int)blen, base, cfg->wx.appid, enc,
           o->scope, state);
    curl_free(enc);
    return WXCTL_EXIT_OK;
}
