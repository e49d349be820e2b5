/*
 * wx/core/err.h - the one error enum of libwx.
 *
 * Codes fall in three classes that callers must be able to tell apart:
 * bad input (the peer's fault: answered 4xx, or "success" to WeChat),
 * system failure (ours: 500) and upstream failure (WeChat's or a business
 * service's: 502/504).  wx_err_class() says which; wx_err_status() maps a
 * code to the HTTP status the gateway answers with.
 */
#ifndef WX_ERR_H
#define WX_ERR_H

typedef enum wx_err {
    WX_OK = 0,

    /* bad input */
    WX_EINVAL,          /* malformed request or parameter */
    WX_EMISSING,        /* a required parameter or field is absent */
    WX_ESIGNATURE,      /* signature does not match */
    WX_ESTALE,          /* timestamp outside the accepted window */
    WX_EMETHOD,         /* HTTP method not allowed */
    WX_ETOOBIG,         /* body or field over its configured maximum */
    WX_EXML,            /* not well-formed XML, or not a WeChat message */
    WX_EXML_DTD,        /* DOCTYPE or entity declaration (refused, DESIGN.md) */
    WX_EXML_LIMIT,      /* nesting depth or element count over the cap */
    WX_EPLAINTEXT,      /* plaintext message refused in safe mode */
    WX_EBASE64,         /* Encrypt is not valid Base64 */
    WX_ECIPHERLEN,      /* ciphertext length not a non-zero multiple of 32 */
    WX_EPADDING,        /* PKCS#7 pad byte outside 1..32 or inconsistent */
    WX_EMSGLEN,         /* msg_len runs past the decrypted buffer */
    WX_EAPPID,          /* trailing AppID is not ours */

    /* system failure */
    WX_ENOMEM,          /* arena or buffer exhausted, or malloc failed */
    WX_ESYS,            /* a system call failed; errno tells more */
    WX_ECONFIG,         /* configuration missing or invalid */
    WX_ECRYPTO,         /* the crypto library failed (not bad input) */

    /* upstream failure */
    WX_EUPSTREAM,       /* upstream answered with an error or garbage */
    WX_ETIMEOUT,        /* upstream did not answer in time */

    WX_ERR__MAX
} wx_err_t;

typedef enum wx_err_class {
    WX_ERRCLASS_OK,
    WX_ERRCLASS_INPUT,
    WX_ERRCLASS_SYSTEM,
    WX_ERRCLASS_UPSTREAM
} wx_err_class_t;

/* A short lower-case description, never NULL. */
const char *wx_strerror(wx_err_t err);

wx_err_class_t wx_err_class(wx_err_t err);

/* The HTTP status for err: 200 for WX_OK, 4xx, 500 or 502/504. */
int wx_err_status(wx_err_t err);

#endif
