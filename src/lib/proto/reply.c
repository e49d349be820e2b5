/* reply.c - passive reply XML (PROTOCOL.md 3.2). */
#include "wx/proto/reply.h"

static const char *const wx_reply_names[WX_REPLY__MAX] = {
    [WX_REPLY_SUCCESS]  = "success",
    [WX_REPLY_TEXT]     = "text",
    [WX_REPLY_IMAGE]    = "image",
    [WX_REPLY_VOICE]    = "voice",
    [WX_REPLY_VIDEO]    = "video",
    [WX_REPLY_MUSIC]    = "music",
    [WX_REPLY_NEWS]     = "news",
    [WX_REPLY_TRANSFER] = "transfer_customer_service",
};

/* What follows the CreateTime of a reply of each type. */
#define MSGTYPE(name) { sizeof("</CreateTime><MsgType><![CDATA[" name "]]></MsgType>") - 1, \
                        "</CreateTime><MsgType><![CDATA[" name "]]></MsgType>" }
static const wx_str_t wx_reply_msgtype[WX_REPLY__MAX] = {
    [WX_REPLY_TEXT]     = MSGTYPE("text"),
    [WX_REPLY_IMAGE]    = MSGTYPE("image"),
    [WX_REPLY_VOICE]    = MSGTYPE("voice"),
    [WX_REPLY_VIDEO]    = MSGTYPE("video"),
    [WX_REPLY_MUSIC]    = MSGTYPE("music"),
    [WX_REPLY_NEWS]     = MSGTYPE("news"),
    [WX_REPLY_TRANSFER] = MSGTYPE("transfer_customer_service"),
};
#undef MSGTYPE

const char *wx_reply_type_name(wx_reply_type_t t)
{
    return (unsigned)t < WX_REPLY__MAX ? wx_reply_names[t] : "unknown";
}

/* The bytes wx_xml_cdata() must look at: C0 controls but tab, LF and CR
 * (XML 1.0 cannot carry them, not even as character references; DESIGN.md:
 * they are dropped), and ']' and '>' (a "]]>" would end the section).
 * Every other byte is copied as it is, a run at a time. */
static const unsigned char wx_cdata_special[256] = {
    [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
    [0x06] = 1, [0x07] = 1, [0x08] = 1, [0x0b] = 1, [0x0c] = 1, [0x0e] = 1,
    [0x0f] = 1, [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1,
    [0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1, [0x19] = 1, [0x1a] = 1,
    [0x1b] = 1, [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1,
    [']'] = 1, ['>'] = 1,
};

/* The inside of a CDATA section: what wx_xml_cdata() writes between
 * "<![CDATA[" and "]]>". */
static void cdata_body(wx_buf_t *out, wx_str_t s)
{
    const char *p = s.data, *end = s.data + s.len, *run = p;
    int brackets = 0;   /* consecutive ']' at the end of what is written */

    while (p < end) {
        const char *q = p;
        unsigned char c;

        while (q < end && !wx_cdata_special[(unsigned char)*q])
            q++;
        if (q > p)
            brackets = 0;
        if ((p = q) == end)
            break;
        c = (unsigned char)*p;
        if (c == ']') {
            brackets++;
        } else if (c == '>') {
            if (brackets >= 2) {
                /* "]]>" would end the section: close it after the "]]"
                 * and open a new one for the ">". */
                wx_buf_add(out, run, (size_t)(p - run));
                wx_buf_add(out, "]]><![CDATA[", 12);
                run = p;
            }
            brackets = 0;
        } else {
            /* A control, dropped, so it cannot separate "]]" from a
             * following ">": the bracket count carries over it. */
            wx_buf_add(out, run, (size_t)(p - run));
            run = p + 1;
        }
        p++;
    }
    wx_buf_add(out, run, (size_t)(p - run));
}

void wx_xml_cdata(wx_buf_t *out, wx_str_t s)
{
    wx_buf_add(out, "<![CDATA[", 9);
    cdata_body(out, s);
    wx_buf_add(out, "]]>", 3);
}

/* <NAME><![CDATA[value]]></NAME>, the tags as literals: ELEM(out, "Title", v). */
#define ELEM(out, name, value) \
    elem((out), "<" name "><![CDATA[", sizeof("<" name "><![CDATA[") - 1, (value), \
         "]]></" name ">", sizeof("]]></" name ">") - 1)

static void elem(wx_buf_t *out, const char *open, size_t open_len, wx_str_t value,
                 const char *close, size_t close_len)
{
    wx_buf_add(out, open, open_len);
    cdata_body(out, value);
    wx_buf_add(out, close, close_len);
}

/* An optional element is written only when it was given. */
#define OPT_ELEM(out, name, value) \
    do { \
        if ((value).data != NULL) \
            ELEM(out, name, value); \
    } while (0)

size_t wx_reply_news_limit(const wx_msg_t *req)
{
    /* PROTOCOL.md 3.2: one article when answering a message the follower
     * sent, up to eight otherwise (events). */
    if (req != NULL && req->type != WX_MSG_EVENT)
        return WX_REPLY_NEWS_MAX_TO_MSG;
    return WX_REPLY_NEWS_MAX;
}

static wx_err_t check(const wx_reply_t *r)
{
    switch (r->type) {
    case WX_REPLY_TEXT:
        return r->content.data ? WX_OK : WX_EINVAL;
    case WX_REPLY_IMAGE:
    case WX_REPLY_VOICE:
    case WX_REPLY_VIDEO:
        return r->media_id.len ? WX_OK : WX_EINVAL;
    case WX_REPLY_MUSIC:
        return r->thumb_media_id.len ? WX_OK : WX_EINVAL;
    case WX_REPLY_NEWS:
        return r->n_articles && r->articles ? WX_OK : WX_EINVAL;
    case WX_REPLY_SUCCESS:
    case WX_REPLY_TRANSFER:
        return WX_OK;
    default:
        return WX_EINVAL;
    }
}

/* <ArticleCount> and <Articles>: at most as many as the request's kind
 * of message allows (PROTOCOL.md 3.2, wx_reply_news_limit). */
static void news(const wx_reply_t *r, const wx_msg_t *req, wx_buf_t *out)
{
    size_t i, n = wx_reply_news_limit(req);

    if (n > r->n_articles)
        n = r->n_articles;
    wx_buf_addlit(out, "<ArticleCount>");
    wx_buf_addu64(out, n);
    wx_buf_addlit(out, "</ArticleCount><Articles>");
    for (i = 0; i < n; i++) {
        const wx_article_t *a = &r->articles[i];

        wx_buf_addlit(out, "<item>");
        ELEM(out, "Title", a->title);
        ELEM(out, "Description", a->description);
        ELEM(out, "PicUrl", a->pic_url);
        ELEM(out, "Url", a->url);
        wx_buf_addlit(out, "</item>");
    }
    wx_buf_addlit(out, "</Articles>");
}

/* The elements that follow <MsgType>, by type of reply. */
static void body(const wx_reply_t *r, const wx_msg_t *req, wx_buf_t *out)
{
    switch (r->type) {
    case WX_REPLY_TEXT:
        ELEM(out, "Content", r->content);
        break;
    case WX_REPLY_IMAGE:
        wx_buf_addlit(out, "<Image>");
        ELEM(out, "MediaId", r->media_id);
        wx_buf_addlit(out, "</Image>");
        break;
    case WX_REPLY_VOICE:
        wx_buf_addlit(out, "<Voice>");
        ELEM(out, "MediaId", r->media_id);
        wx_buf_addlit(out, "</Voice>");
        break;
    case WX_REPLY_VIDEO:
        wx_buf_addlit(out, "<Video>");
        ELEM(out, "MediaId", r->media_id);
        OPT_ELEM(out, "Title", r->title);
        OPT_ELEM(out, "Description", r->description);
        wx_buf_addlit(out, "</Video>");
        break;
    case WX_REPLY_MUSIC:
        wx_buf_addlit(out, "<Music>");
        OPT_ELEM(out, "Title", r->title);
        OPT_ELEM(out, "Description", r->description);
        OPT_ELEM(out, "MusicUrl", r->music_url);
        OPT_ELEM(out, "HQMusicUrl", r->hq_music_url);
        ELEM(out, "ThumbMediaId", r->thumb_media_id);
        wx_buf_addlit(out, "</Music>");
        break;
    case WX_REPLY_NEWS:
        news(r, req, out);
        break;
    case WX_REPLY_TRANSFER:
        if (r->kf_account.len) {
            wx_buf_addlit(out, "<TransInfo>");
            ELEM(out, "KfAccount", r->kf_account);
            wx_buf_addlit(out, "</TransInfo>");
        }
        break;
    default:
        break;
    }
}

wx_err_t wx_reply_write(const wx_reply_t *r, const wx_msg_t *req,
                        time_t now, wx_buf_t *out)
{
    wx_err_t rc = check(r);

    if (rc != WX_OK)
        return rc;
    if (r->type == WX_REPLY_SUCCESS) {
        wx_buf_add(out, "success", 7);
        return out->overflow ? WX_ENOMEM : WX_OK;
    }

    /* The head every reply shares, in three fixed pieces around the two
     * names and the time; then its type's line, also one piece. */
    wx_buf_addlit(out, "<xml><ToUserName><![CDATA[");
    cdata_body(out, req->from_user);
    wx_buf_addlit(out, "]]></ToUserName><FromUserName><![CDATA[");
    cdata_body(out, req->to_user);
    wx_buf_addlit(out, "]]></FromUserName><CreateTime>");
    wx_buf_addi64(out, (long long)now);
    wx_buf_add(out, wx_reply_msgtype[r->type].data, wx_reply_msgtype[r->type].len);
    body(r, req, out);
    wx_buf_addlit(out, "</xml>");
    return out->overflow ? WX_ENOMEM : WX_OK;
}
