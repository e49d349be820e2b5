/*
 * wxfcgi/handler.h - what answers a message once it is verified and parsed.
 *
 * A handler turns a wx_msg_t into a wx_reply_t.  It may allocate from the
 * request arena; it must not keep pointers into it after returning.  A
 * handler that has nothing to say leaves reply->type WX_REPLY_SUCCESS.
 * An error return is logged and answered with "success": WeChat's follower
 * never sees our failures as a broken reply.
 */
#ifndef WX_HANDLER_H
#define WX_HANDLER_H

#include "wxfcgi/conf.h"
#include "wx/core/err.h"
#include "wx/proto/msg.h"
#include "wx/proto/reply.h"
#include "wx/core/str.h"

typedef wx_err_t (*wx_handle_fn)(void *ctx, const wx_msg_t *msg,
                                 wx_pool_t *pool, wx_reply_t *reply);

typedef struct wx_handler {
    const char     *name;
    /* Build the handler's state from the config; NULL with 'err' set on
     * failure.  May be NULL when the handler has no state. */
    void         *(*create)(const wxfcgi_conf_t *cfg, char *err, size_t errlen);
    void          (*destroy)(void *ctx);
    wx_handle_fn    handle;
} wx_handler_t;

/* The handler called 'name', or NULL. */
const wx_handler_t *wx_handler_find(const char *name);

/* The default: text back as text, image as the same image, and so on. */
extern const wx_handler_t wx_handler_echo;

#endif
