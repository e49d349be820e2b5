/*
 * wx/proto/crypt.h - message encryption of safe and compatible mode
 * (PROTOCOL.md 4).
 *
 *   AESKey  = Base64_Decode(EncodingAESKey + "=")       32 bytes
 *   IV      = AESKey[0..15]
 *   FullStr = random(16) || msg_len (4, big-endian) || msg || AppID
 *   Encrypt = Base64(AES-256-CBC(PKCS7_32(FullStr)))
 *
 * The padding is PKCS#7 with a block of 32, not AES's 16, so OpenSSL's own
 * padding is off and ours is checked strictly on the way in.  Every way a
 * ciphertext can be wrong has its own error code, so that logs say which.
 *
 * Not thread-safe: one cipher context per process (workers are processes).
 */
#ifndef WX_CRYPT_H
#define WX_CRYPT_H

#include "wx/core/err.h"
#include "wx/core/str.h"

#define WX_AES_KEY_B64_LEN  43
#define WX_APPID_MAX        32
#define WX_CRYPT_RANDOM_LEN 16

typedef struct wx_crypt {
    unsigned char   key[32];
    char            appid[WX_APPID_MAX + 1];
    size_t          appid_len;
} wx_crypt_t;

/* Derive the key from a 43-character EncodingAESKey.  WX_EINVAL when the
 * key or the AppID is malformed. */
wx_err_t wx_crypt_init(wx_crypt_t *c, const char *encoding_aes_key,
                       const char *appid);

/* Wipe the key. */
void wx_crypt_clear(wx_crypt_t *c);

/* Decrypt the Base64 text of <Encrypt> into 'msg', which points into the
 * arena.  WX_OK, WX_EBASE64, WX_ECIPHERLEN, WX_EPADDING, WX_EMSGLEN,
 * WX_EAPPID, WX_ENOMEM or WX_ECRYPTO. */
wx_err_t wx_crypt_decrypt(const wx_crypt_t *c, wx_str_t b64,
                          wx_pool_t *pool, wx_str_t *msg);

/* Encrypt 'msg' with the given 16 random bytes (NULL: fresh ones from the
 * CSPRNG, letters and digits) and append the Base64 text to 'out'.
 * WX_OK, WX_ENOMEM (out overflowed or arena full) or WX_ECRYPTO. */
wx_err_t wx_crypt_encrypt(const wx_crypt_t *c, wx_str_t msg,
                          const unsigned char *random16, wx_pool_t *pool,
                          wx_buf_t *out);

/* Strict Base64 (standard alphabet, '=' padding only at the end, length a
 * multiple of 4): the decoded length, or -1.  'dst' holds 3/4 of len. */
long wx_base64_decode(unsigned char *dst, const char *src, size_t len);

#endif
