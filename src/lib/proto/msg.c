/* msg.c - message and event names, validation and item access
 * (PROTOCOL.md 2).  The parser itself is in parse.c. */
#include <strings.h>

#include "wx/proto/msg.h"

static const char *const wx_msg_type_names[WX_MSG__MAX] = {
    [WX_MSG_UNKNOWN]         = "unknown",
    [WX_MSG_TEXT]            = "text",
    [WX_MSG_IMAGE]           = "image",
    [WX_MSG_VOICE]           = "voice",
    [WX_MSG_VIDEO]           = "video",
    [WX_MSG_SHORTVIDEO]      = "shortvideo",
    [WX_MSG_LOCATION]        = "location",
    [WX_MSG_LINK]            = "link",
    [WX_MSG_MINIPROGRAMPAGE] = "miniprogrampage",
    [WX_MSG_EVENT]           = "event",
};

/* As WeChat spells them; matched without regard to case because SDKs and
 * doc copies disagree on it ("CLICK" and "click"). */
static const char *const wx_event_names[WX_EV__MAX] = {
    [WX_EV_NONE]                         = "",
    [WX_EV_UNKNOWN]                      = "unknown",
    [WX_EV_SUBSCRIBE]                    = "subscribe",
    [WX_EV_UNSUBSCRIBE]                  = "unsubscribe",
    [WX_EV_SCAN]                         = "SCAN",
    [WX_EV_LOCATION]                     = "LOCATION",
    [WX_EV_CLICK]                        = "CLICK",
    [WX_EV_VIEW]                         = "VIEW",
    [WX_EV_SCANCODE_PUSH]                = "scancode_push",
    [WX_EV_SCANCODE_WAITMSG]             = "scancode_waitmsg",
    [WX_EV_PIC_SYSPHOTO]                 = "pic_sysphoto",
    [WX_EV_PIC_PHOTO_OR_ALBUM]           = "pic_photo_or_album",
    [WX_EV_PIC_WEIXIN]                   = "pic_weixin",
    [WX_EV_LOCATION_SELECT]              = "location_select",
    [WX_EV_VIEW_MINIPROGRAM]             = "view_miniprogram",
    [WX_EV_MASSSENDJOBFINISH]            = "MASSSENDJOBFINISH",
    [WX_EV_TEMPLATESENDJOBFINISH]        = "TEMPLATESENDJOBFINISH",
    [WX_EV_PUBLISHJOBFINISH]             = "PUBLISHJOBFINISH",
    [WX_EV_SUBSCRIBE_MSG_POPUP]          = "subscribe_msg_popup_event",
    [WX_EV_SUBSCRIBE_MSG_CHANGE]         = "subscribe_msg_change_event",
    [WX_EV_SUBSCRIBE_MSG_SENT]           = "subscribe_msg_sent_event",
    [WX_EV_KF_CREATE_SESSION]            = "kf_create_session",
    [WX_EV_KF_CLOSE_SESSION]             = "kf_close_session",
    [WX_EV_KF_SWITCH_SESSION]            = "kf_switch_session",
    [WX_EV_QUALIFICATION_VERIFY_SUCCESS] = "qualification_verify_success",
    [WX_EV_QUALIFICATION_VERIFY_FAIL]    = "qualification_verify_fail",
    [WX_EV_NAMING_VERIFY_SUCCESS]        = "naming_verify_success",
    [WX_EV_NAMING_VERIFY_FAIL]           = "naming_verify_fail",
    [WX_EV_ANNUAL_RENEW]                 = "annual_renew",
    [WX_EV_VERIFY_EXPIRED]               = "verify_expired",
    [WX_EV_WIFICONNECTED]                = "WifiConnected",
    [WX_EV_SHAKEAROUNDUSERSHAKE]         = "ShakearoundUserShake",
    [WX_EV_CARD_PASS_CHECK]              = "card_pass_check",
    [WX_EV_CARD_NOT_PASS_CHECK]          = "card_not_pass_check",
    [WX_EV_USER_GET_CARD]                = "user_get_card",
    [WX_EV_USER_DEL_CARD]                = "user_del_card",
    [WX_EV_USER_CONSUME_CARD]            = "user_consume_card",
    [WX_EV_MERCHANT_ORDER]               = "merchant_order",
};

const char *wx_msg_type_name(wx_msg_type_t t)
{
    return (unsigned)t < WX_MSG__MAX ? wx_msg_type_names[t] : "unknown";
}

const char *wx_event_name(wx_event_t e)
{
    return (unsigned)e < WX_EV__MAX ? wx_event_names[e] : "unknown";
}

wx_msg_type_t wx_msg_type_lookup(wx_str_t name)
{
    int t;

    for (t = WX_MSG_UNKNOWN + 1; t < WX_MSG__MAX; t++)
        if (wx_str_eq(name, wx_msg_type_names[t]))
            return (wx_msg_type_t)t;
    return WX_MSG_UNKNOWN;
}

wx_event_t wx_event_lookup(wx_str_t name)
{
    int e;

    if (name.len == 0)
        return WX_EV_NONE;
    for (e = WX_EV_SUBSCRIBE; e < WX_EV__MAX; e++) {
        const char *n = wx_event_names[e];

        if (strlen(n) == name.len && strncasecmp(n, name.data, name.len) == 0)
            return (wx_event_t)e;
    }
    return WX_EV_UNKNOWN;
}

/* Parse a decimal number of at most 'maxdigits' digits. */
static int parse_u64(wx_str_t s, unsigned maxdigits, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (s.len == 0 || s.len > maxdigits)
        return -1;
    for (i = 0; i < s.len; i++) {
        unsigned d = (unsigned char)s.data[i] - '0';

        if (d > 9)
            return -1;
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

wx_err_t wx_msg_validate(wx_msg_t *msg)
{
    uint64_t v;

    if (msg->to_user.len == 0 || msg->from_user.len == 0 ||
        msg->create_time_s.len == 0 || msg->msg_type.len == 0)
        return WX_EMISSING;
    if (parse_u64(msg->create_time_s, 18, &v) != 0)
        return WX_EINVAL;
    msg->create_time = (int64_t)v;

    msg->has_msg_id = 0;
    if (msg->msg_id_s.data != NULL) {
        if (parse_u64(msg->msg_id_s, 20, &msg->msg_id) != 0)
            return WX_EINVAL;
        msg->has_msg_id = 1;
    }

    msg->type = wx_msg_type_lookup(msg->msg_type);
    msg->event = WX_EV_NONE;
    if (msg->type == WX_MSG_EVENT) {
        if (msg->event_name.len == 0)
            return WX_EMISSING;
        msg->event = wx_event_lookup(msg->event_name);
    }
    return WX_OK;
}

wx_str_t wx_msg_item_get(const wx_msg_item_t *item, const char *name)
{
    const wx_msg_field_t *f;

    for (f = item->fields; f != NULL; f = f->next)
        if (wx_str_eq(f->name, name))
            return f->value;
    return WX_NULL_STR;
}

const wx_msg_item_t *wx_msg_next_item(const wx_msg_t *msg,
                                      const wx_msg_item_t *from,
                                      const char *list)
{
    const wx_msg_item_t *it = from ? from->next : msg->items;

    for (; it != NULL; it = it->next)
        if (wx_str_eq(it->list, list))
            return it;
    return NULL;
}
