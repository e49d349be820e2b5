/* route_conf.c - the [route.NAME] section and the checks of one route
 * (wxfcgi/route.h): each key's syntax, and the keys its action needs.
 * What needs the whole table (order, templates, handlers) is route.c's. */
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "wx/core/net.h"
#include "wx/proto/msg.h"
#include "wxfcgi/route.h"

#define O(m)  offsetof(wx_route_conf_t, m)
static const wx_setting_t wx_route_settings[] = {
    WX_SETTING("priority", WX_CONF_UINT, O(priority), 0, 1000000, "100"),
    WX_SETTING("account", WX_CONF_WORDS, O(account), 0, 0, NULL),
    WX_SETTING("type", WX_CONF_STR, O(type), 0, 0, NULL),
    WX_SETTING("event", WX_CONF_STR, O(event), 0, 0, NULL),
    WX_SETTING("event_key", WX_CONF_STR, O(event_key), 0, 0, NULL),
    WX_SETTING("content", WX_CONF_STR, O(content), 0, 0, NULL),
    WX_SETTING("from", WX_CONF_WORDS, O(from), 0, 0, NULL),
    WX_SETTING("from_file", WX_CONF_STR, O(from_file), 0, 0, NULL),
    WX_SETTING("scene", WX_CONF_STR, O(scene), 0, 0, NULL),
    WX_SETTING("action", WX_CONF_STR, O(action), 0, 0, NULL),
    WX_SETTING("text", WX_CONF_TEXT, O(text), 0, 0, NULL),
    WX_SETTING("media_id", WX_CONF_STR, O(media_id), 0, 0, NULL),
    WX_SETTING("title", WX_CONF_STR, O(title), 0, 0, NULL),
    WX_SETTING("description", WX_CONF_TEXT, O(description), 0, 0, NULL),
    WX_SETTING("music_url", WX_CONF_STR, O(music_url), 0, 0, NULL),
    WX_SETTING("hq_music_url", WX_CONF_STR, O(hq_music_url), 0, 0, NULL),
    WX_SETTING("thumb_media_id", WX_CONF_STR, O(thumb_media_id), 0, 0, NULL),
    WX_SETTING("articles", WX_CONF_TEXT, O(articles), 0, 0, NULL),
    WX_SETTING("kf_account", WX_CONF_STR, O(kf_account), 0, 0, NULL),
    WX_SETTING("url", WX_CONF_STR, O(url), 0, 0, NULL),
    WX_SETTING("timeout_ms", WX_CONF_UINT, O(timeout_ms), 0, 600000, "0"),
};
#undef O

/* The actions, and the reply keys each one takes: a key the action does
 * not use is a mistake worth stopping for (a typo, a half-edited route). */
enum { K_TEXT = 1, K_MEDIA = 2, K_TITLE = 4, K_DESC = 8, K_MUSIC = 16, K_HQ = 32,
       K_THUMB = 64, K_ARTICLES = 128, K_KF = 256, K_URL = 512, K_TIMEOUT = 1024 };

static const struct {
    const char *name;
    unsigned    needs, takes;
} wx_route_actions[] = {
    { "text",     K_TEXT,     K_TEXT },
    { "image",    K_MEDIA,    K_MEDIA },
    { "voice",    K_MEDIA,    K_MEDIA },
    { "video",    K_MEDIA,    K_MEDIA | K_TITLE | K_DESC },
    { "music",    K_THUMB,    K_TITLE | K_DESC | K_MUSIC | K_HQ | K_THUMB },
    { "news",     K_ARTICLES, K_ARTICLES },
    { "transfer", 0,          K_KF },
    { "echo",     0,          0 },
    { "success",  0,          0 },
    { "upstream", 0,          K_URL | K_TIMEOUT },
};

static const char *const wx_route_key_names[] = {
    "text", "media_id", "title", "description", "music_url", "hq_music_url",
    "thumb_media_id", "articles", "kf_account", "url", "timeout_ms",
};

static unsigned given_keys(const wx_route_conf_t *rc)
{
    return (rc->text ? K_TEXT : 0) | (rc->media_id ? K_MEDIA : 0) |
           (rc->title ? K_TITLE : 0) | (rc->description ? K_DESC : 0) |
           (rc->music_url ? K_MUSIC : 0) | (rc->hq_music_url ? K_HQ : 0) |
           (rc->thumb_media_id ? K_THUMB : 0) | (rc->articles ? K_ARTICLES : 0) |
           (rc->kf_account ? K_KF : 0) | (rc->url ? K_URL : 0) |
           (rc->timeout_ms ? K_TIMEOUT : 0);
}

static int check_action(const wx_route_conf_t *rc, char *err, size_t errlen)
{
    unsigned given = given_keys(rc), i, bit;

    if (rc->action == NULL) {
        snprintf(err, errlen, "[route.%s] action is missing (text, image, voice, video, "
                 "music, news, transfer, echo, success or upstream)", rc->name);
        return -1;
    }
    for (i = 0; i < WX_CONF_N(wx_route_actions); i++)
        if (strcmp(rc->action, wx_route_actions[i].name) == 0)
            break;
    if (i == WX_CONF_N(wx_route_actions)) {
        snprintf(err, errlen, "[route.%s] action '%s' is unknown (text, image, voice, video, "
                 "music, news, transfer, echo, success or upstream)", rc->name, rc->action);
        return -1;
    }
    for (bit = 0; bit < WX_CONF_N(wx_route_key_names); bit++) {
        unsigned k = 1U << bit;

        if ((wx_route_actions[i].needs & k) && !(given & k)) {
            snprintf(err, errlen, "[route.%s] %s is missing: action %s needs it",
                     rc->name, wx_route_key_names[bit], rc->action);
            return -1;
        }
        if ((given & k) && !(wx_route_actions[i].takes & k)) {
            snprintf(err, errlen, "[route.%s] %s is not used by action %s",
                     rc->name, wx_route_key_names[bit], rc->action);
            return -1;
        }
    }
    if (rc->url && !wx_url_is_http(rc->url)) {
        snprintf(err, errlen, "[route.%s] url must start with http:// or https://", rc->name);
        return -1;
    }
    if (rc->timeout_ms && rc->timeout_ms < 100) {
        snprintf(err, errlen, "[route.%s] timeout_ms %u is below 100", rc->name, rc->timeout_ms);
        return -1;
    }
    return 0;
}

/* A pattern: exact, PREFIX* or (regex_ok) /ERE/, compiled to find out. */
static int check_pattern(const wx_route_conf_t *rc, const char *key, const char *v,
                         int regex_ok, char *err, size_t errlen)
{
    size_t n = strlen(v);

    if (n == 0) {
        snprintf(err, errlen, "[route.%s] %s is empty", rc->name, key);
        return -1;
    }
    if (v[0] == '\\' && n == 1) {
        snprintf(err, errlen, "[route.%s] %s is only '\\': give the text after it", rc->name, key);
        return -1;
    }
    if (regex_ok && v[0] == '/') {
        char buf[1024], why[128];
        regex_t re;
        int rc2;

        if (n < 3 || v[n - 1] != '/' || n - 2 >= sizeof(buf)) {
            snprintf(err, errlen, "[route.%s] %s '%s': a regex is written /ERE/ "
                     "(at most %zu characters); for a text that begins with '/', "
                     "write \\%s", rc->name, key, v, sizeof(buf) - 1, v);
            return -1;
        }
        memcpy(buf, v + 1, n - 2);
        buf[n - 2] = '\0';
        rc2 = regcomp(&re, buf, REG_EXTENDED | REG_NOSUB);
        if (rc2 != 0) {
            regerror(rc2, &re, why, sizeof(why));
            snprintf(err, errlen, "[route.%s] %s: bad regex /%s/: %s", rc->name, key, buf, why);
            return -1;
        }
        regfree(&re);
    }
    return 0;
}

static int check_match(const wx_route_conf_t *rc, char *err, size_t errlen)
{
    wx_msg_type_t t = WX_MSG_UNKNOWN;

    if (rc->type) {
        t = wx_msg_type_lookup(wx_str_c(rc->type));
        if (t == WX_MSG_UNKNOWN) {
            snprintf(err, errlen, "[route.%s] type '%s' is unknown (text, image, voice, video, "
                     "shortvideo, location, link, miniprogrampage or event)", rc->name, rc->type);
            return -1;
        }
    }
    if ((rc->event || rc->event_key || rc->scene) && rc->type && t != WX_MSG_EVENT) {
        snprintf(err, errlen, "[route.%s] %s matches events only, but type is %s", rc->name,
                 rc->event ? "event" : rc->event_key ? "event_key" : "scene", rc->type);
        return -1;
    }
    if (rc->content && rc->type && t != WX_MSG_TEXT) {
        snprintf(err, errlen, "[route.%s] content matches text messages only, but type is %s",
                 rc->name, rc->type);
        return -1;
    }
    if (rc->content && (rc->event || rc->event_key || rc->scene)) {
        snprintf(err, errlen, "[route.%s] content (text messages) and %s (events) "
                 "can never both match", rc->name, rc->event ? "event" : rc->event_key ?
                 "event_key" : "scene");
        return -1;
    }
    if (rc->scene && rc->event && strcasecmp(rc->event, "subscribe") != 0 &&
        strcasecmp(rc->event, "SCAN") != 0) {
        snprintf(err, errlen, "[route.%s] scene comes with subscribe and SCAN events only, "
                 "but event is %s", rc->name, rc->event);
        return -1;
    }
    if (rc->scene && rc->event_key) {
        snprintf(err, errlen, "[route.%s] scene and event_key both match the EventKey: "
                 "give one", rc->name);
        return -1;
    }
    if (rc->from && rc->from_file) {
        snprintf(err, errlen, "[route.%s] from and from_file: give one", rc->name);
        return -1;
    }
    if ((rc->event && check_pattern(rc, "event", rc->event, 0, err, errlen) != 0) ||
        (rc->event_key && check_pattern(rc, "event_key", rc->event_key, 0, err, errlen) != 0) ||
        (rc->scene && check_pattern(rc, "scene", rc->scene, 0, err, errlen) != 0) ||
        (rc->content && check_pattern(rc, "content", rc->content, 1, err, errlen) != 0))
        return -1;
    return 0;
}

static int wx_route_validate(void *sec, char *err, size_t errlen)
{
    const wx_route_conf_t *rc = sec;

    if (check_match(rc, err, errlen) != 0)
        return -1;
    return check_action(rc, err, errlen);
}

const wx_config_section_t wx_route_section = {
    "route.", WX_SECTION_NAMED, wx_route_settings, WX_CONF_N(wx_route_settings),
    sizeof(wx_route_conf_t), WX_ROUTE_MAX, wx_route_validate
};
