/*
 * state.c - the simulator's memory: created at start, emptied by
 * /sim/reset, freed at exit.
 */
#include <stdlib.h>
#include <string.h>

#include "wxsim.h"

static int alloc_json(wxsim_t *sim)
{
    sim->conditional = json_array();
    sim->drafts = json_array();
    sim->published = json_array();
    sim->custom = json_array();
    sim->templates = json_array();
    sim->users = json_object();
    sim->tags = wxsim_tag_defaults();
    sim->qrcodes = json_object();
    sim->shortkeys = json_object();
    sim->kf = json_object();
    sim->kf_sessions = json_object();
    sim->private_tmpl = json_array();
    sim->sub_tmpl = json_array();
    sim->sub_optin = json_object();
    sim->sub_sent = json_array();
    return sim->conditional && sim->drafts && sim->published && sim->custom &&
           sim->templates && sim->users && sim->tags && sim->qrcodes && sim->shortkeys &&
           sim->kf && sim->kf_sessions && sim->private_tmpl && sim->sub_tmpl &&
           sim->sub_optin && sim->sub_sent ? 0 : -1;
}

static void free_json(wxsim_t *sim)
{
    json_decref(sim->menu);
    json_decref(sim->conditional);
    json_decref(sim->drafts);
    json_decref(sim->published);
    json_decref(sim->custom);
    json_decref(sim->templates);
    json_decref(sim->oauth);
    sim->oauth = NULL;
    sim->menu = sim->conditional = sim->drafts = sim->published = NULL;
    sim->custom = sim->templates = NULL;
    json_decref(sim->users);
    json_decref(sim->tags);
    json_decref(sim->qrcodes);
    json_decref(sim->shortkeys);
    json_decref(sim->kf);
    json_decref(sim->kf_sessions);
    json_decref(sim->industry);
    json_decref(sim->private_tmpl);
    json_decref(sim->sub_tmpl);
    json_decref(sim->sub_optin);
    json_decref(sim->sub_sent);
    sim->users = sim->tags = sim->qrcodes = sim->shortkeys = sim->kf = NULL;
    sim->kf_sessions = sim->industry = sim->private_tmpl = sim->sub_tmpl = NULL;
    sim->sub_optin = sim->sub_sent = NULL;
}

static void set_counters(wxsim_t *sim)
{
    /* Ids start high enough to look like WeChat's and differ per kind,
     * so a test that mixes them up notices. */
    sim->next_menuid = 208379533;
    sim->next_publish = 2247483647;
    sim->next_msg_id = 1000000001;
    sim->next_template_msgid = 3000000001LL;
    sim->mass_speed = 3;
    sim->next_tagid = 100;
    sim->next_follower = 1;
    sim->next_kf_id = 1001;
}

int wxsim_state_init(wxsim_t *sim, const wxsim_conf_t *cfg, size_t n_routes)
{
    memset(sim, 0, sizeof(*sim));
    sim->cfg = cfg;
    sim->n_calls = n_routes + 1;
    sim->calls = calloc(sim->n_calls, sizeof(*sim->calls));
    if (sim->calls == NULL || alloc_json(sim) != 0) {
        wxsim_state_free(sim);
        return -1;
    }
    set_counters(sim);
    return 0;
}

static void free_mass(wxsim_t *sim)
{
    size_t i;

    for (i = 0; i < sim->n_mass; i++)
        free(sim->mass[i].clientmsgid);
    free(sim->mass);
    sim->mass = NULL;
    sim->n_mass = sim->cap_mass = 0;
}

void wxsim_state_clear(wxsim_t *sim)
{
    const wxsim_conf_t *cfg = sim->cfg;
    wxsim_accounts_t *accounts = sim->accounts;
    unsigned long *calls = sim->calls;
    size_t n_calls = sim->n_calls;

    wxsim_media_clear(sim);
    free_mass(sim);
    free_json(sim);
    /* Secrets of the family structs (tokens) do not linger. */
    explicit_bzero(&sim->token, sizeof(sim->token));
    explicit_bzero(&sim->stable, sizeof(sim->stable));
    memset(sim, 0, sizeof(*sim));
    memset(calls, 0, n_calls * sizeof(*calls));
    sim->cfg = cfg;
    sim->accounts = accounts;
    sim->calls = calls;
    sim->n_calls = n_calls;
    /* Allocation failure here leaves NULL arrays, which every handler
     * treats as "out of memory" through jansson's NULL checks. */
    alloc_json(sim);
    set_counters(sim);
}

void wxsim_state_free(wxsim_t *sim)
{
    wxsim_media_clear(sim);
    free_mass(sim);
    free_json(sim);
    free(sim->calls);
    explicit_bzero(sim, sizeof(*sim));
}
