/*
 * oauth.c - OAUTH CODE: the code of OAuth 2.0 web authorization
 * (PROTOCOL.md 12) exchanged for the follower's web token.
 *
 * The exchange needs the AppSecret, which no program but wxtoken holds:
 * wxproxy's /sns/oauth2/access_token asks here.  WeChat's answer, success
 * or errcode (40029 unknown code, 40163 used), goes back whole, as one
 * line of compact JSON; a transport failure is an ERR line.  Nothing of
 * the answer (the follower's tokens) and no code is logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "wx/core/log.h"
#include "wxtoken.h"

#define CODE_MAX    128

static int code_ok(const char *c)
{
    size_t n = strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

    return n > 0 && n <= CODE_MAX && c[n] == '\0';
}

int wxtoken_oauth_request(wxtoken_ext_t *x, const char *line, char *reply, size_t cap)
{
    char path[CODE_MAX + 256];
    wx_api_result_t r;
    char *text;

    if (strncmp(line, "OAUTH ", 6) != 0)
        return 0;
    if (!code_ok(line + 6)) {
        snprintf(reply, cap, "ERR -2 OAUTH CODE: a code of up to %d letters and digits\n",
                 CODE_MAX);
        return 1;
    }
    snprintf(path, sizeof(path), "/sns/oauth2/access_token?appid=%s&secret=%s&code=%s"
             "&grant_type=authorization_code", x->appid, x->appsecret, line + 6);
    wx_api_call(x->api, path, NULL, &r);
    /* The request held the AppSecret. */
    explicit_bzero(path, sizeof(path));
    if (r.transport != WX_OK) {
        wx_log(WX_LOG_WARN, "%soauth code exchange failed: %s", x->tag, r.why);
        snprintf(reply, cap, "ERR -1 transport: %s\n", r.why);
        goto out;
    }
    text = json_dumps(r.json, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL || strlen(text) + 7 > cap) {
        snprintf(reply, cap, "ERR -1 %s\n", text ? "answer too long" : "out of memory");
    } else {
        snprintf(reply, cap, "JSON %s\n", text);
        explicit_bzero(text, strlen(text));
    }
    free(text);
    wx_log(WX_LOG_INFO, "%soauth code exchanged: errcode %ld", x->tag, r.errcode);
out:
    wx_api_result_free(&r);
    return 1;
}
