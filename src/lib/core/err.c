/* err.c - names, classes and HTTP statuses of the libwx error codes. */
#include "wx/core/err.h"

static const struct {
    const char     *text;
    wx_err_class_t  cls;
    int             status;
} wx_errors[WX_ERR__MAX] = {
    [WX_OK]         = { "ok",                          WX_ERRCLASS_OK,       200 },
    [WX_EINVAL]     = { "malformed request",           WX_ERRCLASS_INPUT,    400 },
    [WX_EMISSING]   = { "required field missing",      WX_ERRCLASS_INPUT,    400 },
    [WX_ESIGNATURE] = { "bad signature",               WX_ERRCLASS_INPUT,    403 },
    [WX_ESTALE]     = { "timestamp outside window",    WX_ERRCLASS_INPUT,    403 },
    [WX_EMETHOD]    = { "method not allowed",          WX_ERRCLASS_INPUT,    405 },
    [WX_ETOOBIG]    = { "body too large",              WX_ERRCLASS_INPUT,    413 },
    [WX_EXML]       = { "malformed xml",               WX_ERRCLASS_INPUT,    400 },
    [WX_EXML_DTD]   = { "doctype or entity refused",   WX_ERRCLASS_INPUT,    400 },
    [WX_EXML_LIMIT] = { "xml over depth or size caps", WX_ERRCLASS_INPUT,    400 },
    [WX_EPLAINTEXT] = { "plaintext refused in safe mode", WX_ERRCLASS_INPUT, 400 },
    [WX_EBASE64]    = { "encrypt is not base64",       WX_ERRCLASS_INPUT,    400 },
    [WX_ECIPHERLEN] = { "bad ciphertext length",       WX_ERRCLASS_INPUT,    400 },
    [WX_EPADDING]   = { "bad padding",                 WX_ERRCLASS_INPUT,    400 },
    [WX_EMSGLEN]    = { "bad message length",          WX_ERRCLASS_INPUT,    400 },
    [WX_EAPPID]     = { "appid mismatch",              WX_ERRCLASS_INPUT,    400 },
    [WX_ENOMEM]     = { "out of memory",               WX_ERRCLASS_SYSTEM,   500 },
    [WX_ESYS]       = { "system error",                WX_ERRCLASS_SYSTEM,   500 },
    [WX_ECONFIG]    = { "configuration error",         WX_ERRCLASS_SYSTEM,   500 },
    [WX_ECRYPTO]    = { "crypto library error",        WX_ERRCLASS_SYSTEM,   500 },
    [WX_EUPSTREAM]  = { "upstream error",              WX_ERRCLASS_UPSTREAM, 502 },
    [WX_ETIMEOUT]   = { "upstream timeout",            WX_ERRCLASS_UPSTREAM, 504 },
};

const char *wx_strerror(wx_err_t err)
{
    if ((unsigned)err >= WX_ERR__MAX)
        return "unknown error";
    return wx_errors[err].text;
}

wx_err_class_t wx_err_class(wx_err_t err)
{
    if ((unsigned)err >= WX_ERR__MAX)
        return WX_ERRCLASS_SYSTEM;
    return wx_errors[err].cls;
}

int wx_err_status(wx_err_t err)
{
    if ((unsigned)err >= WX_ERR__MAX)
        return 500;
    return wx_errors[err].status;
}
