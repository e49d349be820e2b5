/*
 * account.c - several accounts simulated at once (wxsim.h).
 *
 * Each [wxsim.account.NAME] has a state of its own, as the one of
 * [wxsim] (the default account): tokens, users, menus, materials, the
 * clock, faults and counters.  A request goes to one of them, as WeChat
 * tells accounts apart: the token calls and the OAuth code exchange name
 * the AppID; every other API call carries an access token, which one
 * account issued.  The control endpoints take ?account=NAME.  A call no
 * account claims goes to the default one, so a single-account setup sees
 * no difference.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wx/core/log.h"
#include "wx/proto/account.h"
#include "wxsim.h"

struct wxsim_accounts {
    size_t          n;
    wxsim_conf_t   *cfg;            /* n: [wxsim] with the account's AppID, secret, data_dir */
    char          **data_dir;       /* n: DATA_DIR/NAME */
    wxsim_t        *state;          /* n */
};

int wxsim_accounts_init(wxsim_t *sim, size_t n_routes)
{
    const wxsim_conf_t *cfg = sim->cfg;
    const wxsim_account_conf_t *a = cfg->accounts.v;
    wxsim_accounts_t *A;
    size_t i;

    if (cfg->accounts.n == 0)
        return 0;
    A = calloc(1, sizeof(*A));
    if (A == NULL || (A->cfg = calloc(cfg->accounts.n, sizeof(*A->cfg))) == NULL ||
        (A->data_dir = calloc(cfg->accounts.n, sizeof(*A->data_dir))) == NULL ||
        (A->state = calloc(cfg->accounts.n, sizeof(*A->state))) == NULL)
        goto nomem;
    sim->accounts = A;
    for (i = 0; i < cfg->accounts.n; i++) {
        size_t len = strlen(cfg->sim.data_dir) + strlen(a[i].name) + 2;

        if ((A->data_dir[i] = malloc(len)) == NULL)
            goto nomem;
        /* Media files are named by ids each state counts on its own. */
        snprintf(A->data_dir[i], len, "%s/%s", cfg->sim.data_dir, a[i].name);
        if (mkdir(A->data_dir[i], 0700) != 0 && errno != EEXIST) {
            wx_log(WX_LOG_ERROR, "account %s: %s: %s", a[i].name, A->data_dir[i],
                   strerror(errno));
            return -1;
        }
        A->cfg[i] = *cfg;
        A->cfg[i].sim.appid = a[i].appid;
        A->cfg[i].sim.appsecret = a[i].appsecret;
        A->cfg[i].sim.data_dir = A->data_dir[i];
        A->cfg[i].accounts.n = 0;
        if (wxsim_state_init(&A->state[i], &A->cfg[i], n_routes) != 0)
            goto nomem;
        A->n++;
    }
    wx_log(WX_LOG_INFO, "simulating %zu more account%s", A->n, A->n == 1 ? "" : "s");
    return 0;
nomem:
    wx_log(WX_LOG_ERROR, "out of memory");
    return -1;
}

void wxsim_accounts_free(wxsim_t *sim)
{
    wxsim_accounts_t *A = sim->accounts;
    size_t i;

    if (A == NULL)
        return;
    for (i = 0; i < A->n; i++)
        wxsim_state_free(&A->state[i]);
    for (i = 0; A->data_dir && i < sim->cfg->accounts.n; i++)
        free(A->data_dir[i]);
    free(A->data_dir);
    free(A->state);
    free(A->cfg);
    free(A);
    sim->accounts = NULL;
}

/* The state that issued 'tok' (current or previous, either family). */
static int issued(const wxsim_t *s, const char *tok)
{
    return (s->token.cur.value[0] && strcmp(s->token.cur.value, tok) == 0) ||
           (s->token.prev.value[0] && strcmp(s->token.prev.value, tok) == 0) ||
           (s->stable.cur.value[0] && strcmp(s->stable.cur.value, tok) == 0) ||
           (s->stable.prev.value[0] && strcmp(s->stable.prev.value, tok) == 0);
}

wxsim_t *wxsim_account_pick(wxsim_t *sim, wxsim_req_t *rq)
{
    wxsim_accounts_t *A = sim->accounts;
    const wxsim_account_conf_t *names = sim->cfg->accounts.v;
    char v[WXSIM_TOKEN_LEN + 64];
    const char *appid = NULL;
    json_t *body = NULL;
    wxsim_t *to = sim;
    size_t i;

    if (strncmp(rq->path, "/sim/", 5) == 0) {
        if (wxsim_query_get(rq->query, "account", v, sizeof(v)) < 0 || strcmp(v, "default") == 0)
            return sim;
        for (i = 0; A && i < A->n; i++)
            if (strcmp(names[i].name, v) == 0)
                return &A->state[i];
        rq->status = 404;
        wxsim_reply_err(rq, 40013, "no account %.64s: default or a [wxsim.account.NAME]", v);
        return NULL;
    }
    if (A == NULL)
        return sim;
    if (wxsim_query_get(rq->query, "appid", v, sizeof(v)) >= 0) {
        appid = v;
    } else if (strcmp(rq->path, "/cgi-bin/stable_token") == 0 &&
               rq->body_state == WXSIM_BODY_OK && rq->body_len > 0) {
        /* Read here without answering: the handler answers a bad body. */
        body = json_loadb(rq->body, rq->body_len, 0, NULL);
        appid = wxsim_json_str(body, "appid");
    }
    if (appid != NULL) {
        for (i = 0; i < A->n; i++)
            if (strcmp(A->cfg[i].sim.appid, appid) == 0)
                to = &A->state[i];
        json_decref(body);
        return to;
    }
    if (wxsim_query_get(rq->query, "access_token", v, sizeof(v)) >= 0)
        for (i = 0; i < A->n; i++)
            if (issued(&A->state[i], v))
                return &A->state[i];
    return sim;
}
