/* token.c - wxctl token: the access token's state, and refreshes. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "wx/api/token_client.h"
#include "wx/state/token.h"
#include "wxctl.h"

#define WXCTL_TOKEN_TIMEOUT_MS  15000

/* The store as wxtoken keeps it. */
static wx_err_t token_read(const wxctl_conf_t *cfg, time_t now, wx_token_t *tok,
                           char *err, size_t errlen)
{
    wx_store_conf_t sc = { .backend = "local", .record.path = cfg->tok.store,
                           .record.name = "token store" };
    wx_store_t *st;
    wx_err_t rc;

    wx_state_store_conf(&cfg->state, &sc);
    st = wx_store_open(&sc, err, errlen);
    if (st == NULL)
        return WX_ESYS;
    rc = wx_token_read(st, now, tok, err, errlen);
    wx_store_close(st);
    return rc;
}

int wxctl_token(const wxctl_conf_t *cfg, int show, int refresh, int rejected)
{
    char err[512], brief[64], line[WX_TOKEN_MAX + 2], req[WX_TOKEN_MAX + 16];
    const char *sock = wx_token_conf_sock(&cfg->tok);
    wx_token_t tok;
    time_t now;
    wx_err_t rc;

    if (refresh || rejected) {
        if (rejected) {
            /* The token is a secret: it comes on standard input, never
             * on the command line. */
            if (fgets(line, sizeof(line), stdin) == NULL) {
                fputs("wxctl: token --rejected reads the token from standard input\n", stderr);
                return 2;
            }
            line[strcspn(line, "\r\n")] = '\0';
            snprintf(req, sizeof(req), "REJECTED %s", line);
            explicit_bzero(line, sizeof(line));
        } else {
            snprintf(req, sizeof(req), "REFRESH");
        }
        rc = wx_token_ask(sock, req, WXCTL_TOKEN_TIMEOUT_MS, &tok, err, sizeof(err));
        explicit_bzero(req, sizeof(req));
        if (rc != WX_OK) {
            fprintf(stderr, "wxctl: %s%s\n", rc == WX_EUPSTREAM ? "wxtoken: " : "", err);
            return rc == WX_EUPSTREAM ? 1 : 3;
        }
    }
    now = time(NULL);
    rc = token_read(cfg, now, &tok, err, sizeof(err));
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
