/* token.c - wxctl token: the access token's state, and refreshes. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "wx/api/token_client.h"
#include "wx/state/account_store.h"
#include "wx/state/token.h"
#include "wxctl.h"

#define WXCTL_TOKEN_TIMEOUT_MS  15000

/* The store as wxtoken keeps it. */
static wx_err_t token_read(const wxctl_conf_t *cfg, const wx_account_ref_t *a, time_t now,
                           wx_token_t *tok, char *err, size_t errlen)
{
    wx_store_conf_t sc = { .backend = "local", .record.name = "token store" };
    wx_account_store_t where;
    wx_store_t *st;
    wx_err_t rc;

    if (wx_account_store_conf(&cfg->state, cfg->tok.store, a ? a->name : NULL,
                              a ? a->appid : NULL, &where, &sc) != 0) {
        snprintf(err, errlen, "the store's path or key prefix is too long");
        return WX_EINVAL;
    }
    st = wx_store_open(&sc, err, errlen);
    if (st == NULL)
        return WX_ESYS;
    rc = wx_token_read(st, now, tok, err, errlen);
    wx_store_close(st);
    return rc;
}

int wxctl_token(const wxctl_conf_t *cfg, const char *account, int show, int refresh,
                int rejected)
{
    char err[512], brief[64], line[WX_TOKEN_MAX + 2], what[WX_TOKEN_MAX + 16];
    char req[WX_TOKEN_MAX + 32 + WX_ACCOUNT_NAME_MAX];
    const char *sock = wx_token_conf_sock(&cfg->tok);
    const wx_account_ref_t *a = NULL;
    wx_token_t tok;
    time_t now;
    wx_err_t rc;

    if (account != NULL && strcmp(account, "default") != 0 &&
        (a = wx_account_ref_find(&cfg->accounts, account, strlen(account))) == NULL) {
        fprintf(stderr, "wxctl: no [account.%s] in the config\n", account);
        return 2;
    }
    if (refresh || rejected) {
        if (rejected) {
            /* The token is a secret: it comes on standard input, never
             * on the command line. */
            if (fgets(line, sizeof(line), stdin) == NULL) {
                fputs("wxctl: token --rejected reads the token from standard input\n", stderr);
                return 2;
            }
            line[strcspn(line, "\r\n")] = '\0';
            snprintf(what, sizeof(what), "REJECTED %s", line);
            explicit_bzero(line, sizeof(line));
        } else {
            snprintf(what, sizeof(what), "REFRESH");
        }
        if (a != NULL)
            snprintf(req, sizeof(req), "ACCOUNT %s %s", a->name, what);
        else
            snprintf(req, sizeof(req), "%s", what);
        explicit_bzero(what, sizeof(what));
        rc = wx_token_ask(sock, req, WXCTL_TOKEN_TIMEOUT_MS, &tok, err, sizeof(err));
        explicit_bzero(req, sizeof(req));
        if (rc != WX_OK) {
            fprintf(stderr, "wxctl: %s%s\n", rc == WX_EUPSTREAM ? "wxtoken: " : "", err);
            return rc == WX_EUPSTREAM ? 1 : 3;
        }
    }
    now = time(NULL);
    rc = token_read(cfg, a, now, &tok, err, sizeof(err));
    if (rc != WX_OK) {
        fprintf(stderr, "wxctl: %s\n", err);
        return 1;
    }
    if (show) {
        puts(tok.token);
    } else {
        printf("token     %s\n", wx_token_brief(brief, sizeof(brief), tok.token));
        printf("version   %lu\n", tok.version);
        printf("age       %lld s\n", (long long)(now - tok.obtained));
        printf("expires   in %lld s\n", (long long)(tok.expires - now));
    }
    explicit_bzero(&tok, sizeof(tok));
    return 0;
}
