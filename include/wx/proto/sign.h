/*
 * wx/proto/sign.h - WeChat's SHA-1 signatures (PROTOCOL.md 1.2 and 4.5).
 *
 * signature     = hex(SHA1(sort(token, timestamp, nonce)))
 * msg_signature = hex(SHA1(sort(token, timestamp, nonce, Encrypt)))
 *
 * Sorting is byte-wise.  Verification compares in constant time.
 */
#ifndef WX_SIGN_H
#define WX_SIGN_H

#include <time.h>
#include "wx/core/err.h"
#include "wx/core/str.h"

#define WX_SIGN_HEX_LEN     40
#define WX_SIGN_MAX_PARTS   4

/* Write the lowercase hex signature of 1..WX_SIGN_MAX_PARTS strings and a
 * NUL into 'hex'.  WX_OK, WX_EINVAL (bad count) or WX_ECRYPTO. */
wx_err_t wx_sign(const wx_str_t *parts, size_t n,
                 char hex[WX_SIGN_HEX_LEN + 1]);

/* SHA-1 of the parts in the order given, each followed by a 0x1f byte so
 * that ("ab","c") and ("a","bc") differ.  WX_OK or WX_ECRYPTO. */
wx_err_t wx_sha1_parts(const wx_str_t *parts, size_t n, unsigned char md[20]);

/* WX_OK when 'sig' is the signature of 'parts', WX_ESIGNATURE when not
 * (including a 'sig' of the wrong length or case), WX_ECRYPTO on failure. */
wx_err_t wx_sign_verify(const wx_str_t *parts, size_t n, wx_str_t sig);

/* Check a timestamp parameter against 'now'.  WX_EINVAL when it is not a
 * decimal number of at most 19 digits, WX_ESTALE when it differs from now
 * by more than 'window' seconds; a window of 0 turns the check off. */
wx_err_t wx_sign_check_time(wx_str_t timestamp, time_t now,
                            unsigned window);

#endif
