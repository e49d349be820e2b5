/*
 * wx/proto/reply.h - passive replies (PROTOCOL.md 3).
 *
 * A handler fills a wx_reply_t; wx_reply_write() turns it into the XML that
 * answers the push, with To/From swapped from the request and CreateTime
 * 'now'.  Text goes in CDATA sections; a "]]>" inside is split across two
 * sections, and characters XML cannot carry (C0 controls but tab, LF, CR)
 * are dropped.  WX_REPLY_SUCCESS is the 7 bytes "success".
 */
#ifndef WX_REPLY_H
#define WX_REPLY_H

#include <time.h>
#include "wx/core/err.h"
#include "wx/proto/msg.h"
#include "wx/core/str.h"

typedef enum wx_reply_type {
    WX_REPLY_SUCCESS = 0,       /* no passive reply: "success" */
    WX_REPLY_TEXT,
    WX_REPLY_IMAGE,
    WX_REPLY_VOICE,
    WX_REPLY_VIDEO,
    WX_REPLY_MUSIC,
    WX_REPLY_NEWS,
    WX_REPLY_TRANSFER,          /* transfer_customer_service */
    WX_REPLY__MAX
} wx_reply_type_t;

/* A news reply may carry at most this many articles (PROTOCOL.md 3.2). */
#define WX_REPLY_NEWS_MAX           8
/* ... and only one when it answers a message the follower sent. */
#define WX_REPLY_NEWS_MAX_TO_MSG    1

typedef struct wx_article {
    wx_str_t title, description, pic_url, url;
} wx_article_t;

typedef struct wx_reply {
    wx_reply_type_t type;
    wx_str_t content;                       /* text */
    wx_str_t media_id;                      /* image, voice, video */
    wx_str_t title, description;            /* video, music */
    wx_str_t music_url, hq_music_url, thumb_media_id;   /* music */
    const wx_article_t *articles;           /* news */
    size_t n_articles;
    wx_str_t kf_account;                    /* transfer, optional */
} wx_reply_t;

/* The most articles a reply to 'req' may carry; extras are dropped. */
size_t wx_reply_news_limit(const wx_msg_t *req);

/* Append the reply to 'out'.  WX_EINVAL when a required field is missing
 * (text without content, image without media_id, news without articles,
 * music without thumb_media_id), WX_ENOMEM when 'out' overflowed. */
wx_err_t wx_reply_write(const wx_reply_t *r, const wx_msg_t *req,
                        time_t now, wx_buf_t *out);

/* Append 's' as one or more CDATA sections (see above). */
void wx_xml_cdata(wx_buf_t *out, wx_str_t s);

const char *wx_reply_type_name(wx_reply_type_t t);

#endif
