/*
 * qrcode.c - parametric QR codes (PROTOCOL.md 10): temporary codes with
 * an integer or string scene and an expiry (60 s when not given, 30 days
 * at most), permanent ones with a scene_id of 1-100 000 or a scene_str
 * of 1-64 bytes; and showqrcode, which swaps a valid ticket for a PNG of
 * the code's URL (libqrencode draws it, libpng writes it): a real code a
 * phone or zbarimg reads.  And /sim/scan, a follower scanning a code:
 * the subscribe or SCAN event WeChat would push for it (PROTOCOL.md 2.3).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <png.h>
#include <qrencode.h>

#include "wxsim.h"
#include "wxsim/push.h"

#define EXPIRE_DEFAULT      60
#define EXPIRE_MAX          2592000
#define LIMIT_SCENE_MAX     100000
#define SCENE_STR_MAX       64
#define TICKET_RAW          58          /* bytes: 80 Base64 characters ending "==" */
#define TICKET_MAX          128
#define PNG_SCALE           8           /* pixels a module */
#define PNG_QUIET           4           /* modules of white border */
#define OPENID_MAX          64

/* A permanent code's scene is its identity: asking again for the same
 * scene gives the same ticket. */
static json_t *permanent_find(const wxsim_t *sim, const char *action, json_t *scene)
{
    const char *t;
    json_t *q;

    json_object_foreach(sim->qrcodes, t, q) {
        if (strcmp(wxsim_json_str(q, "action_name"), action) == 0 &&
            json_equal(json_object_get(q, "scene"), scene))
            return q;
    }
    return NULL;
}

/* The scene of action_info checked for the action: a new {scene_id} or
 * {scene_str} object, or NULL after answering 40053. */
static json_t *check_scene(wxsim_req_t *rq, json_t *info, int str, int permanent)
{
    json_t *scene = json_object_get(info, "scene");
    json_t *idv = json_object_get(scene, "scene_id");
    const char *s = wxsim_json_str(scene, "scene_str");
    json_int_t id;

    if (str) {
        if (s && s[0] && strlen(s) <= SCENE_STR_MAX)
            return json_pack("{s:s}", "scene_str", s);
        wxsim_reply_err(rq, 40053, "invalid action info: scene_str of 1 to %d bytes",
                        SCENE_STR_MAX);
        return NULL;
    }
    id = json_is_integer(idv) ? json_integer_value(idv) : 0;
    if (permanent ? id >= 1 && id <= LIMIT_SCENE_MAX : id != 0 && id > -2147483649LL &&
                                                         id <= 4294967295LL)
        return json_pack("{s:I}", "scene_id", id);
    wxsim_reply_err(rq, 40053, permanent ? "invalid action info: scene_id 1 to 100000" :
                    "invalid action info: scene_id a non-zero 32-bit number");
    return NULL;
}

static void new_ticket(char ticket[TICKET_MAX], char url[64])
{
    unsigned char raw[TICKET_RAW];
    char id[23];

    if (RAND_bytes(raw, sizeof(raw)) != 1)
        abort();
    EVP_EncodeBlock((unsigned char *)ticket, raw, sizeof(raw));
    wxsim_random_id(id, 22);
    snprintf(url, 64, "http://weixin.qq.com/q/%s", id);
}

void wxsim_qrcode_create(wxsim_t *sim, wxsim_req_t *rq)
{
    json_t *body = wxsim_req_json(rq), *scene = NULL, *q, *ev;
    const char *action;
    char ticket[TICKET_MAX], url[64];
    int str, permanent;
    json_int_t expire = EXPIRE_DEFAULT;

    if (body == NULL)
        return;
    action = wxsim_json_str(body, "action_name");
    if (action == NULL || (strcmp(action, "QR_SCENE") != 0 && strcmp(action, "QR_STR_SCENE") != 0 &&
                           strcmp(action, "QR_LIMIT_SCENE") != 0 &&
                           strcmp(action, "QR_LIMIT_STR_SCENE") != 0)) {
        wxsim_reply_err(rq, 40052, "invalid action name");
        goto out;
    }
    str = strstr(action, "STR") != NULL;
    permanent = strstr(action, "LIMIT") != NULL;
    if ((scene = check_scene(rq, json_object_get(body, "action_info"), str, permanent)) == NULL)
        goto out;
    ev = json_object_get(body, "expire_seconds");
    if (!permanent && ev) {
        if (!json_is_integer(ev) || json_integer_value(ev) <= 0) {
            wxsim_reply_err(rq, 47001, "data format error: expire_seconds");
            goto out;
        }
        /* Longer asks get the longest WeChat gives. */
        expire = json_integer_value(ev) > EXPIRE_MAX ? EXPIRE_MAX : json_integer_value(ev);
    }
    if (permanent && (q = permanent_find(sim, action, scene)) != NULL) {
        wxsim_reply_json(rq, json_pack("{s:O,s:O}", "ticket", json_object_get(q, "ticket"),
                                       "url", json_object_get(q, "url")));
        goto out;
    }
    new_ticket(ticket, url);
    q = json_pack("{s:s,s:s,s:s,s:O,s:I}", "ticket", ticket, "url", url, "action_name", action,
                  "scene", scene, "expire_at",
                  (json_int_t)(permanent ? 0 : wxsim_now(sim) + expire));
    json_object_set_new(sim->qrcodes, ticket, q);
    if (permanent)
        wxsim_reply_json(rq, json_pack("{s:s,s:s}", "ticket", ticket, "url", url));
    else
        wxsim_reply_json(rq, json_pack("{s:s,s:I,s:s}", "ticket", ticket,
                                       "expire_seconds", expire, "url", url));
out:
    json_decref(scene);
    json_decref(body);
}

/* The PNG of 'text' as a QR code into *png (malloc'd): 0, or -1. */
static int qr_png(const char *text, char **png, size_t *len)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    png_image img;
    unsigned char *px = NULL;
    png_alloc_size_t size = 0;
    int side, x, y, rc = -1;

    if (qr == NULL)
        return -1;
    side = (qr->width + 2 * PNG_QUIET) * PNG_SCALE;
    if ((px = malloc((size_t)side * (size_t)side)) == NULL)
        goto out;
    for (y = 0; y < side; y++) {
        for (x = 0; x < side; x++) {
            int mx = x / PNG_SCALE - PNG_QUIET, my = y / PNG_SCALE - PNG_QUIET;
            int dark = mx >= 0 && my >= 0 && mx < qr->width && my < qr->width &&
                       (qr->data[my * qr->width + mx] & 1);

            px[(size_t)y * (size_t)side + (size_t)x] = dark ? 0 : 255;
        }
    }
    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    img.width = img.height = (png_uint_32)side;
    img.format = PNG_FORMAT_GRAY;
    /* The first call sizes the image, the second writes it. */
    if (!png_image_write_to_memory(&img, NULL, &size, 0, px, side, NULL) ||
        (*png = malloc(size)) == NULL)
        goto out;
    if (!png_image_write_to_memory(&img, *png, &size, 0, px, side, NULL)) {
        free(*png);
        goto out;
    }
    *len = size;
    rc = 0;
out:
    png_image_free(&img);
    free(px);
    QRcode_free(qr);
    return rc;
}

/* The code of a ticket, or NULL when unknown or expired. */
static json_t *live_code(const wxsim_t *sim, const char *ticket)
{
    json_t *q = ticket ? json_object_get(sim->qrcodes, ticket) : NULL;
    json_int_t at = json_integer_value(json_object_get(q, "expire_at"));

    return q == NULL || (at && at <= wxsim_now(sim)) ? NULL : q;
}

void wxsim_qrcode_show(wxsim_t *sim, wxsim_req_t *rq)
{
    char ticket[TICKET_MAX];
    json_t *q = NULL;
    char *png;
    size_t len;

    if (wxsim_query_get(rq->query, "ticket", ticket, sizeof(ticket)) > 0)
        q = live_code(sim, ticket);
    /* A bad or expired ticket gets no image: a JSON error. */
    if (q == NULL) {
        wxsim_reply_err(rq, 40097, "invalid args: ticket unknown or expired");
        return;
    }
    if (qr_png(wxsim_json_str(q, "url"), &png, &len) != 0) {
        wxsim_reply_err(rq, -1, "system error");
        return;
    }
    wxsim_reply_bytes(rq, png, len, "image/png");
    rq->errcode = -2;
}

/* 'text' inside CDATA: a "]]>" in it (a scene_str may hold one) is split
 * across two sections, so the XML reads back as the text.  A new string. */
static char *cdata(const char *text)
{
    static const char open[] = "<![CDATA[", split[] = "]]]]><![CDATA[>";
    size_t n = strlen(text), extra = 0, o;
    const char *p;
    char *out;

    for (p = text; (p = strstr(p, "]]>")) != NULL; p += 3)
        extra += sizeof(split) - 4;
    if ((out = malloc(n + extra + sizeof(open) + 3)) == NULL)
        return NULL;
    memcpy(out, open, sizeof(open) - 1);
    o = sizeof(open) - 1;
    for (p = text; *p; p++) {
        if (strncmp(p, "]]>", 3) == 0) {
            memcpy(out + o, split, sizeof(split) - 1);
            o += sizeof(split) - 1;
            p += 2;
        } else {
            out[o++] = *p;
        }
    }
    memcpy(out + o, "]]>", 4);
    return out;
}

static int openid_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    return n >= 1 && n <= OPENID_MAX && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                                                  "qrstuvwxyz0123456789_-") == n;
}

/* The follower 'openid' scanned code 'q': a stranger follows through it
 * (subscribe, EventKey qrscene_SCENE), a follower scans (SCAN, EventKey
 * SCENE); the event as WeChat pushes it, or NULL when out of memory. */
static json_t *scan_event(wxsim_t *sim, const char *openid, const char *ticket, json_t *q)
{
    json_t *scene = json_object_get(q, "scene"), *u, *ans = NULL;
    const char *str = wxsim_json_str(scene, "scene_str");
    int follows = wxsim_user_follower(sim, openid) != NULL;
    char id[24], *key = NULL, *ckey = NULL, *xml = NULL;
    size_t n;

    snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(scene,
                                                                                  "scene_id")));
    n = strlen(str ? str : id) + 16;
    if ((key = malloc(n)) == NULL)
        return NULL;
    snprintf(key, n, "%s%s", follows ? "" : "qrscene_", str ? str : id);
    if (!follows) {
        if ((u = wxsim_user_follow(sim, openid, "ADD_SCENE_QR_CODE")) == NULL)
            goto out;
        json_object_set_new(u, "qr_scene", json_integer(str ? 0 : json_integer_value(
                                json_object_get(scene, "scene_id"))));
        json_object_set_new(u, "qr_scene_str", json_string(str ? str : ""));
    }
    if ((ckey = cdata(key)) == NULL)
        goto out;
    n = strlen(ckey) + strlen(openid) + strlen(ticket) + 512;
    if ((xml = malloc(n)) == NULL)
        goto out;
    snprintf(xml, n, "<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]>"
             "</FromUserName><CreateTime>%lld</CreateTime><MsgType><![CDATA[event]]></MsgType>"
             "<Event><![CDATA[%s]]></Event><EventKey>%s</EventKey><Ticket><![CDATA[%s]]>"
             "</Ticket></xml>", PUSH_TO_USER, openid, wxsim_now(sim),
             follows ? "SCAN" : "subscribe", ckey, ticket);
    ans = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:s}", "errcode", 0, "errmsg", "ok",
                    "event", follows ? "SCAN" : "subscribe", "openid", openid,
                    "event_key", key, "ticket", ticket, "xml", xml);
out:
    free(xml);
    free(ckey);
    free(key);
    return ans;
}

void wxsim_qrcode_scan(wxsim_t *sim, wxsim_req_t *rq, json_t *body)
{
    const char *ticket = wxsim_json_str(body, "ticket"), *who = wxsim_json_str(body, "openid");
    char fresh[OPENID_MAX + 1];
    json_t *q = live_code(sim, ticket), *ans;

    rq->status = 400;
    if (ticket == NULL || (json_object_get(body, "openid") && !openid_ok(who))) {
        wxsim_reply_err(rq, 47001, "data format error: want {\"ticket\":T} and an openid "
                        "of 1 to %d letters, digits, _ or -", OPENID_MAX);
        return;
    }
    if (q == NULL) {
        wxsim_reply_err(rq, 40097, "invalid args: ticket unknown or expired");
        return;
    }
    /* Without an openid, someone new scans: a follower of /sim/followers'
     * numbering. */
    if (who == NULL) {
        snprintf(fresh, sizeof(fresh), "oSIM%024lu", sim->next_follower++);
        who = fresh;
    }
    if ((ans = scan_event(sim, who, ticket, q)) == NULL) {
        rq->status = 500;
        wxsim_reply_err(rq, -1, "system error");
        return;
    }
    rq->status = 200;
    snprintf(rq->note, sizeof(rq->note), "scan=%s", json_string_value(json_object_get(ans,
                                                                                     "event")));
    wxsim_reply_json(rq, ans);
}
