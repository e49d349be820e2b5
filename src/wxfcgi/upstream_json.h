/*
 * wxfcgi/upstream_json.h - the JSON of the upstream handler (upstream.h),
 * free of any process or network: the unit tests drive it directly.
 *
 * The request: POST url, Content-Type application/json, X-Wx-Account: the
 * message's account ("default" or NAME), the parsed message (decrypted in
 * safe mode) as one JSON object.  The XML element names are
 * kept; only the elements present are sent; every value is a string as
 * received, except CreateTime (an integer).  MsgId is a string (64-bit ids
 * do not fit a double); MsgID of the mass-send events is sent as MsgId too.
 * Nested elements become objects, repeated ones arrays, even of one:
 *
 *   {"ToUserName":"gh_..","FromUserName":"oAbc..","CreateTime":1348831860,
 *    "MsgType":"text","Content":"hi","MsgId":"1234567890123456"}
 *   {"ToUserName":..,"MsgType":"event","Event":"pic_sysphoto","EventKey":"6",
 *    "SendPicsInfo":{"Count":"1","PicList":{"item":[{"PicMd5Sum":".."}]}}}
 *   "ScanCodeInfo":{"ScanType","ScanResult"}, "SendLocationInfo":{..},
 *   "PublishEventInfo":{"publish_id",..,"article_detail":{"count",
 *   "item":[{"idx","article_url"}]},"fail_idx":["1","2"]},
 *   "CopyrightCheckResult":{"Count","CheckState","ResultList":{"item":[..]}},
 *   "SubscribeMsgPopupEvent":{"List":[{"TemplateId",..}]}, ...
 *
 * The answer, HTTP 200 with a JSON object (PROTOCOL.md 3.2):
 *
 *   {"type":"text","content":"..."}
 *   {"type":"image","media_id":"..."}          voice: the same
 *   {"type":"video","media_id":"..","title":"..","description":".."}
 *   {"type":"music","thumb_media_id":"..","title","description",
 *    "music_url","hq_music_url"}
 *   {"type":"news","articles":[{"title","description","picurl","url"}]}
 *        (the reply writer keeps 1 article for a message, 8 for an event)
 *   {"type":"transfer_customer_service","kf_account":"..."}  (optional)
 *   {"type":"success"}, or an empty body: no reply
 *
 * Required fields are the reply writer's (content, media_id,
 * thumb_media_id, at least one article); the others are optional strings.
 * Anything else - broken JSON, not an object, an unknown type, a missing or
 * non-string field, HTTP status other than 200, no connection - is answered
 * "success" and logged with the reason: WeChat never sees a 5xx.
 *
 */
#ifndef WX_UPSTREAM_JSON_H
#define WX_UPSTREAM_JSON_H

#include <stddef.h>
#include <jansson.h>

#include "wx/core/err.h"
#include "wx/core/str.h"
#include "wx/proto/msg.h"
#include "wx/proto/reply.h"

/* The JSON object POSTed to the business service for 'msg' (see above;
 * the fields are WX_MSG_FIELDS with json = 1).  A new reference, or NULL
 * on ENOMEM. */
json_t *wx_upstream_msg_json(const wx_msg_t *msg);

/* Turn the business answer body[0..len) into 'reply', its strings copied
 * into 'pool'.  An empty body is "success".  WX_OK, or WX_EUPSTREAM with
 * the reason in 'why' (the answer is not usable), or WX_ENOMEM. */
wx_err_t wx_upstream_reply_parse(const char *body, size_t len, wx_pool_t *pool,
                                 wx_reply_t *reply, char *why, size_t whylen);

/* The customer-service message (PROTOCOL.md 6.7) that carries 'reply' to
 * 'touser': a new reference, or NULL when the reply has nothing to send
 * (success, transfer_customer_service) or on ENOMEM.  A news message keeps
 * its first article only. */
json_t *wx_upstream_custom_json(const wx_reply_t *reply, wx_str_t touser);

#endif
