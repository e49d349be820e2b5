/*
 * wx/proto/msg.h - a WeChat message or event (PROTOCOL.md 2) and its parser.
 *
 * The parser is expat in SAX mode: the body is fed chunk by chunk as it is
 * read, and each element's text lands in a field of struct wx_msg.  All
 * strings point into the arena given to wx_parser_begin() and live until
 * that arena is reset.  An absent element leaves its field { 0, NULL }.
 *
 * Refused (the parser stops at once): a DOCTYPE of any kind, an entity
 * declaration, nesting deeper than max_depth, more than max_elements
 * elements, an element text over max_text bytes, a root that is not <xml>,
 * and anything expat finds not well-formed, including invalid UTF-8.
 * The document encoding is always UTF-8, whatever the prolog says.
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

typedef struct wx_parse_limits {
    unsigned    max_depth;      /* <xml> is depth 1 */
    unsigned    max_elements;
    size_t      max_text;       /* bytes of one element's text */
} wx_parse_limits_t;

#define WX_PARSE_LIMITS_DEFAULT { 8, 512, 65536 }

typedef struct wx_parser wx_parser_t;

/* One parser per worker, reused for every request.  NULL on ENOMEM. */
wx_parser_t *wx_parser_new(const wx_parse_limits_t *limits);
void wx_parser_free(wx_parser_t *p);

/* Start a document: 'msg' is zeroed and filled as data is fed. */
wx_err_t wx_parser_begin(wx_parser_t *p, wx_pool_t *pool, wx_msg_t *msg);

/* Feed the next 'len' bytes; 'final' on the last call (len may be 0).
 * WX_OK, WX_EXML, WX_EXML_DTD, WX_EXML_LIMIT, WX_ETOOBIG or WX_ENOMEM.
 * After an error, further calls return the same error. */
wx_err_t wx_parser_feed(wx_parser_t *p, const char *buf, size_t len,
                        int final);

/* A short description of the last error (expat's, with line and column,
 * or ours), for logs.  Never NULL. */
const char *wx_parser_errmsg(const wx_parser_t *p);

/* Parse a whole document held in memory: begin + feed(final). */
wx_err_t wx_msg_parse(wx_parser_t *p, wx_pool_t *pool, const char *buf,
                      size_t len, wx_msg_t *msg);

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
