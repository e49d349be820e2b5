/*
 * wx/proto/msg.h - a WeChat message or event (PROTOCOL.md 2): the fields
 * its elements fill, the field map, and the checks on a parsed message.
 * The parser that fills it is wx/proto/parse.h.
 *
 * All strings point into the arena the message was parsed into and live
 * until that arena is reset.  An absent element leaves its field { 0, NULL }.
 *
 * Repeated groups (SendPicsInfo/PicList/item, article_detail/item,
 * ResultList/item, subscribe-message List, AroundBeacon, fail_idx) are kept
 * as a list of wx_msg_item, each with its own fields, in document order.
 */
#ifndef WX_MSG_H
#define WX_MSG_H

#include <stdint.h>
#include "wx/core/err.h"
#include "wx/core/str.h"

typedef enum wx_msg_type {
    WX_MSG_UNKNOWN = 0,     /* carried by name in type_name */
    WX_MSG_TEXT,
    WX_MSG_IMAGE,
    WX_MSG_VOICE,
    WX_MSG_VIDEO,
    WX_MSG_SHORTVIDEO,
    WX_MSG_LOCATION,
    WX_MSG_LINK,
    WX_MSG_MINIPROGRAMPAGE,
    WX_MSG_EVENT,
    WX_MSG__MAX
} wx_msg_type_t;

typedef enum wx_event {
    WX_EV_NONE = 0,         /* not an event */
    WX_EV_UNKNOWN,          /* carried by name in event_name */
    WX_EV_SUBSCRIBE,
    WX_EV_UNSUBSCRIBE,
    WX_EV_SCAN,
    WX_EV_LOCATION,
    WX_EV_CLICK,
    WX_EV_VIEW,
    WX_EV_SCANCODE_PUSH,
    WX_EV_SCANCODE_WAITMSG,
    WX_EV_PIC_SYSPHOTO,
    WX_EV_PIC_PHOTO_OR_ALBUM,
    WX_EV_PIC_WEIXIN,
    WX_EV_LOCATION_SELECT,
    WX_EV_VIEW_MINIPROGRAM,
    WX_EV_MASSSENDJOBFINISH,
    WX_EV_TEMPLATESENDJOBFINISH,
    WX_EV_PUBLISHJOBFINISH,
    WX_EV_SUBSCRIBE_MSG_POPUP,
    WX_EV_SUBSCRIBE_MSG_CHANGE,
    WX_EV_SUBSCRIBE_MSG_SENT,
    WX_EV_KF_CREATE_SESSION,
    WX_EV_KF_CLOSE_SESSION,
    WX_EV_KF_SWITCH_SESSION,
    WX_EV_QUALIFICATION_VERIFY_SUCCESS,
    WX_EV_QUALIFICATION_VERIFY_FAIL,
    WX_EV_NAMING_VERIFY_SUCCESS,
    WX_EV_NAMING_VERIFY_FAIL,
    WX_EV_ANNUAL_RENEW,
    WX_EV_VERIFY_EXPIRED,
    WX_EV_WIFICONNECTED,
    WX_EV_SHAKEAROUNDUSERSHAKE,
    WX_EV_CARD_PASS_CHECK,
    WX_EV_CARD_NOT_PASS_CHECK,
    WX_EV_USER_GET_CARD,
    WX_EV_USER_DEL_CARD,
    WX_EV_USER_CONSUME_CARD,
    WX_EV_MERCHANT_ORDER,
    WX_EV__MAX
} wx_event_t;

/* One leaf of a repeated group. */
typedef struct wx_msg_field {
    wx_str_t                name;
    wx_str_t                value;
    struct wx_msg_field    *next;
} wx_msg_field_t;

/* One member of a repeated group: <item> in <PicList>, <List> in
 * <SubscribeMsgPopupEvent>, a <fail_idx>, ...  'list' names the element
 * that holds it (for fail_idx, itself); 'owner' the element above that
 * (CopyrightCheckResult or ArticleUrlResult for a ResultList item). */
typedef struct wx_msg_item {
    wx_str_t                list;
    wx_str_t                owner;
    wx_str_t                value;      /* text of a repeated leaf */
    wx_msg_field_t         *fields;     /* children of a repeated group */
    struct wx_msg_item     *next;
} wx_msg_item_t;

typedef struct wx_msg {
    wx_msg_type_t   type;
    wx_event_t      event;
    int64_t         create_time;
    uint64_t        msg_id;
    int             has_msg_id;     /* MsgId or MsgID was present */

    /* header (every message) */
    wx_str_t to_user, from_user, create_time_s, msg_type;
    /* normal messages */
    wx_str_t msg_id_s, msg_data_id, idx;
    wx_str_t content, pic_url, media_id, format, recognition, thumb_media_id;
    wx_str_t location_x, location_y, scale, label;
    wx_str_t title, description, url;
    wx_str_t app_id, page_path, thumb_url;              /* miniprogrampage */
    /* events */
    wx_str_t event_name, event_key, ticket;
    wx_str_t latitude, longitude, precision, menu_id;
    wx_str_t status, total_count, filter_count, sent_count, error_count;
    wx_str_t kf_account, from_kf_account, to_kf_account;
    wx_str_t expired_time, fail_time, fail_reason;
    wx_str_t card_id, user_card_code, order_id, order_status, product_id,
             sku_info;
    wx_str_t connect_time, expire_time, vendor_id, place_id, device_no;
    /* ScanCodeInfo */
    wx_str_t scan_type, scan_result;
    /* SendPicsInfo (items: list "PicList") */
    wx_str_t pics_count;
    /* SendLocationInfo */
    wx_str_t sl_location_x, sl_location_y, sl_scale, sl_label, sl_poiname;
    /* PublishEventInfo (items: "article_detail", "fail_idx") */
    wx_str_t publish_id, publish_status, article_id, article_count;
    /* MASSSENDJOBFINISH (items: "ResultList" owned by each of these) */
    wx_str_t copyright_count, copyright_check_state, article_url_count;
    /* safe and compatible mode (PROTOCOL.md 4.6); the last three only in
     * an encrypted reply envelope */
    wx_str_t encrypt, env_signature, env_timestamp, env_nonce;

    wx_msg_item_t  *items;
    wx_msg_item_t  *items_tail;
    unsigned        n_items;
} wx_msg_t;

/*
 * Every scalar element of a message, once:
 *
 *   X(parent, grand, name, member, json)
 *
 *   parent  the element that holds it; NULL: the root <xml>
 *   grand   the element that holds 'parent' when that is not the root
 *   name    the element, as WeChat spells it
 *   member  the wx_msg_t field its text lands in
 *   json    1: the upstream JSON carries it (grand/parent/name); 0: the
 *           parser alone reads it - an alias of another element (MsgID,
 *           MenuID), CreateTime (sent as a number) and the safe-mode
 *           envelope
 *
 * The parser (parse.c) matches an element by name and parent; the upstream
 * JSON codec writes the fields with json = 1.  A new field is one line
 * here and one member above.
 */
#define WX_MSG_FIELDS(X) \
    X(NULL, NULL, "ToUserName",     to_user,         1) \
    X(NULL, NULL, "FromUserName",   from_user,       1) \
    X(NULL, NULL, "CreateTime",     create_time_s,   0) \
    X(NULL, NULL, "MsgType",        msg_type,        1) \
    X(NULL, NULL, "MsgId",          msg_id_s,        1) \
    X(NULL, NULL, "MsgID",          msg_id_s,        0) /* MASSSEND/TEMPLATESENDJOBFINISH */ \
    X(NULL, NULL, "MsgDataId",      msg_data_id,     1) \
    X(NULL, NULL, "Idx",            idx,             1) \
    X(NULL, NULL, "Content",        content,         1) \
    X(NULL, NULL, "PicUrl",         pic_url,         1) \
    X(NULL, NULL, "MediaId",        media_id,        1) \
    X(NULL, NULL, "Format",         format,          1) \
    X(NULL, NULL, "Recognition",    recognition,     1) \
    X(NULL, NULL, "ThumbMediaId",   thumb_media_id,  1) \
    X(NULL, NULL, "Location_X",     location_x,      1) \
    X(NULL, NULL, "Location_Y",     location_y,      1) \
    X(NULL, NULL, "Scale",          scale,           1) \
    X(NULL, NULL, "Label",          label,           1) \
    X(NULL, NULL, "Title",          title,           1) \
    X(NULL, NULL, "Description",    description,     1) \
    X(NULL, NULL, "Url",            url,             1) \
    X(NULL, NULL, "AppId",          app_id,          1) \
    X(NULL, NULL, "PagePath",       page_path,       1) \
    X(NULL, NULL, "ThumbUrl",       thumb_url,       1) \
    X(NULL, NULL, "Event",          event_name,      1) \
    X(NULL, NULL, "EventKey",       event_key,       1) \
    X(NULL, NULL, "Ticket",         ticket,          1) \
    X(NULL, NULL, "Latitude",       latitude,        1) \
    X(NULL, NULL, "Longitude",      longitude,       1) \
    X(NULL, NULL, "Precision",      precision,       1) \
    X(NULL, NULL, "MenuId",         menu_id,         1) \
    X(NULL, NULL, "MenuID",         menu_id,         0) \
    X(NULL, NULL, "Status",         status,          1) \
    X(NULL, NULL, "TotalCount",     total_count,     1) \
    X(NULL, NULL, "FilterCount",    filter_count,    1) \
    X(NULL, NULL, "SentCount",      sent_count,      1) \
    X(NULL, NULL, "ErrorCount",     error_count,     1) \
    X(NULL, NULL, "KfAccount",      kf_account,      1) \
    X(NULL, NULL, "FromKfAccount",  from_kf_account, 1) \
    X(NULL, NULL, "ToKfAccount",    to_kf_account,   1) \
    X(NULL, NULL, "ExpiredTime",    expired_time,    1) \
    X(NULL, NULL, "FailTime",       fail_time,       1) \
    X(NULL, NULL, "FailReason",     fail_reason,     1) \
    X(NULL, NULL, "CardId",         card_id,         1) \
    X(NULL, NULL, "UserCardCode",   user_card_code,  1) \
    X(NULL, NULL, "OrderId",        order_id,        1) \
    X(NULL, NULL, "OrderStatus",    order_status,    1) \
    X(NULL, NULL, "ProductId",      product_id,      1) \
    X(NULL, NULL, "SkuInfo",        sku_info,        1) \
    X(NULL, NULL, "ConnectTime",    connect_time,    1) \
    X(NULL, NULL, "ExpireTime",     expire_time,     1) \
    X(NULL, NULL, "VendorId",       vendor_id,       1) \
    X(NULL, NULL, "PlaceId",        place_id,        1) \
    X(NULL, NULL, "DeviceNo",       device_no,       1) \
    X(NULL, NULL, "Encrypt",        encrypt,         0) \
    X(NULL, NULL, "MsgSignature",   env_signature,   0) \
    X(NULL, NULL, "TimeStamp",      env_timestamp,   0) \
    X(NULL, NULL, "Nonce",          env_nonce,       0) \
    X("ScanCodeInfo",         NULL, "ScanType",       scan_type,             1) \
    X("ScanCodeInfo",         NULL, "ScanResult",     scan_result,           1) \
    X("SendPicsInfo",         NULL, "Count",          pics_count,            1) \
    X("SendLocationInfo",     NULL, "Location_X",     sl_location_x,         1) \
    X("SendLocationInfo",     NULL, "Location_Y",     sl_location_y,         1) \
    X("SendLocationInfo",     NULL, "Scale",          sl_scale,              1) \
    X("SendLocationInfo",     NULL, "Label",          sl_label,              1) \
    X("SendLocationInfo",     NULL, "Poiname",        sl_poiname,            1) \
    X("PublishEventInfo",     NULL, "publish_id",     publish_id,            1) \
    X("PublishEventInfo",     NULL, "publish_status", publish_status,        1) \
    X("PublishEventInfo",     NULL, "article_id",     article_id,            1) \
    X("article_detail", "PublishEventInfo", "count",  article_count,         1) \
    X("CopyrightCheckResult", NULL, "Count",          copyright_count,       1) \
    X("CopyrightCheckResult", NULL, "CheckState",     copyright_check_state, 1) \
    X("ArticleUrlResult",     NULL, "Count",          article_url_count,     1)

/* Classify a parsed message and check the fields every message needs
 * (ToUserName, FromUserName, CreateTime, MsgType; Event for events;
 * numeric CreateTime and MsgId).  Fills type, event, create_time, msg_id.
 * WX_OK, WX_EMISSING or WX_EINVAL.  Kept apart from parsing because in safe
 * mode it applies to the decrypted inner message, not the envelope. */
wx_err_t wx_msg_validate(wx_msg_t *msg);

/* "text", "event", ...; "unknown" for WX_MSG_UNKNOWN. */
const char *wx_msg_type_name(wx_msg_type_t t);
/* "subscribe", "CLICK", ... as WeChat spells them; "" for WX_EV_NONE. */
const char *wx_event_name(wx_event_t e);
wx_msg_type_t wx_msg_type_lookup(wx_str_t name);
wx_event_t wx_event_lookup(wx_str_t name);

/* The first field named 'name' of an item, or { 0, NULL }. */
wx_str_t wx_msg_item_get(const wx_msg_item_t *item, const char *name);

/* The next item after 'from' (NULL: the first) held by element 'list'. */
const wx_msg_item_t *wx_msg_next_item(const wx_msg_t *msg,
                                      const wx_msg_item_t *from,
                                      const char *list);

#endif
