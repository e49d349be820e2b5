/*
 * wxfcgi/upstream.h - the upstream handler: each message goes to a business
 * service over HTTP as JSON, its JSON answer comes back as the reply.
 *
 * [wxfcgi] handler = upstream, [upstream] url = http://host:port/path.
 *
 * The request: POST url, Content-Type application/json, the parsed message
 * (decrypted in safe mode) as one JSON object.  The XML element names are
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
 * The budget: the worker waits at most [wxfcgi] reply_budget_ms from the
 * request's arrival (less a 100 ms margin to send the answer).  A business
 * service that is slower gets "success" sent for it at once; its answer,
 * when it comes within [upstream] timeout_ms, is sent to the follower as a
 * customer-service message (PROTOCOL.md 6.7) through wxproxy
 * ([upstream] proxy and proxy_key).  Exactly once: retries of the message
 * get the stored "success" from the retry table and never reach the
 * business service.
 */
#ifndef WX_UPSTREAM_H
#define WX_UPSTREAM_H

#include <stddef.h>
#include <time.h>
#include <jansson.h>

#include "wx/core/err.h"
#include "wxfcgi/handler.h"
#include "wx/proto/msg.h"
#include "wx/proto/reply.h"
#include "wx/core/str.h"

extern const wx_handler_t wx_handler_upstream;

/* The largest business answer read; a longer one is an error. */
#define WX_UP_MAX_ANSWER        (64u << 10)
/* Business calls in flight per worker (in time or late); beyond it a
 * message is answered "success" and not forwarded (logged). */
#define WX_UP_MAX_PENDING       256
/* Time kept from the budget to write and send the answer. */
#define WX_UP_MARGIN_MS         100
/* One customer-service call through wxproxy. */
#define WX_UP_SEND_TIMEOUT_MS   10000

/* The JSON object POSTed to the business service for 'msg' (see above).
 * A new reference, or NULL on ENOMEM. */
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

/* The worker tells when the request being served arrived (CLOCK_MONOTONIC):
 * the budget counts from there.  Without it, from the handler's start. */
void wx_upstream_request_start(const struct timespec *t0);

/* Reap the business calls that have ended, without blocking; call it when
 * SIGCHLD arrives.  Returns how many are still running.  Children outlive a
 * worker that stops: each ends on its own within its timeouts. */
unsigned wx_upstream_reap(void);

#endif
