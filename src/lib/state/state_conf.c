/* state_conf.c - [state], the store's backend (wx/state/state_conf.h). */
#include <stdio.h>
#include <string.h>

#include "wx/state/state_conf.h"

static const char *const wx_state_backends[] = { "local", "redis", NULL };

#define O(m)  offsetof(wx_state_conf_t, m)
static const wx_setting_t wx_state_settings[] = {
    WX_ENUM("store", O(store), wx_state_backends, "local"),
    WX_SETTING("redis", WX_CONF_STR, O(redis), 0, 0, NULL),
    WX_SECRET("redis_password", O(redis_password), "WX_REDIS_PASSWORD"),
    WX_SETTING("sentinels", WX_CONF_WORDS, O(sentinels), 0, 0, NULL),
    WX_SETTING("sentinel_master", WX_CONF_STR, O(sentinel_master), 0, 0, NULL),
    WX_SETTING("key_prefix", WX_CONF_STR, O(key_prefix), 0, 0, "wx:"),
    WX_SETTING("timeout_ms", WX_CONF_UINT, O(timeout_ms), 1, 60000, "200"),
};
#undef O

static int wx_state_validate(void *sec, char *err, size_t errlen)
{
    const wx_state_conf_t *s = sec;

    if (s->store != WX_STATE_REDIS)
        return 0;
    if (s->redis && s->sentinels) {
        snprintf(err, errlen, "[state] redis and sentinels: give one of them");
        return -1;
    }
    if (s->redis == NULL && s->sentinels == NULL) {
        snprintf(err, errlen, "[state] store = redis needs redis = redis://HOST:PORT "
                 "(or unix:/path) or sentinels = HOST:PORT ...");
        return -1;
    }
    if (s->redis && strncmp(s->redis, "redis://", 8) != 0 &&
        strncmp(s->redis, "unix:/", 6) != 0) {
        /* Never the value itself: it may hold the password. */
        snprintf(err, errlen, "[state] redis is neither redis://[:PASSWORD@]HOST:PORT[/DB] "
                 "nor unix:/path[?db=N]");
        return -1;
    }
    if (s->sentinels && (s->sentinel_master == NULL || !*s->sentinel_master)) {
        snprintf(err, errlen, "[state] sentinels needs sentinel_master = NAME");
        return -1;
    }
    if (strlen(s->key_prefix) > 64) {
        snprintf(err, errlen, "[state] key_prefix is over 64 characters");
        return -1;
    }
    return 0;
}

const wx_config_section_t wx_state_conf_section = {
    "state", WX_SECTION_ONE, wx_state_settings, WX_CONF_N(wx_state_settings),
    sizeof(wx_state_conf_t), 1,
    wx_state_validate
};

void wx_state_store_conf(const wx_state_conf_t *s, wx_store_conf_t *sc)
{
    if (s->store != WX_STATE_REDIS) {
        sc->backend = "local";
        return;
    }
    sc->backend = "redis";
    sc->redis = s->redis;
    sc->password = s->redis_password;
    sc->sentinels = s->sentinels;
    sc->sentinel_master = s->sentinel_master;
    sc->prefix = s->key_prefix;
    sc->timeout_ms = s->timeout_ms;
}

static int same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

int wx_state_conf_same(const wx_state_conf_t *a, const wx_state_conf_t *b)
{
    if (a->store != b->store)
        return 0;
    if (a->store != WX_STATE_REDIS)
        return 1;               /* the local backend reads nothing else */
    return same(a->redis, b->redis) && same(a->redis_password, b->redis_password) &&
           same(a->sentinels, b->sentinels) && same(a->sentinel_master, b->sentinel_master) &&
           same(a->key_prefix, b->key_prefix) && a->timeout_ms == b->timeout_ms;
}
