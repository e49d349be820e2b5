/*
 * decrypt.c - the decryption of safe mode alone (wx_crypt_decrypt): the
 * input is the Base64 text of <Encrypt>.  Half the inputs (first byte
 * odd) are instead a FullStr as it is before encryption, padding
 * included, which the target encrypts with the account's key (AES-256-CBC
 * without padding, as the platform does), so that the fuzzer also
 * explores what lies behind a valid ciphertext: the padding, the length
 * field and the AppID.
 */
#include "fuzz.h"

#include <openssl/evp.h>

#include "wx/proto/crypt.h"

#define F_APPID     "wx2c2769f8efd9abc2"
#define F_KEY       "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

static wx_crypt_t c;
static wx_pool_t pool;
static volatile unsigned sink;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    if (wx_crypt_init(&c, F_KEY, F_APPID) != WX_OK || wx_pool_init(&pool, 1 << 20) != 0)
        exit(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wx_str_t in = { size, (const char *)data }, msg;
    unsigned char b64[4096];

    if (size > 128 << 10)
        return 0;
    if (size > 16 && (data[0] & 1) && size < 2048) {
        unsigned char ct[2048];
        int n = 0, len = (int)((size - 1) / 16 * 16);
        EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();

        if (x != NULL && EVP_EncryptInit_ex(x, EVP_aes_256_cbc(), NULL, c.key, c.key) == 1 &&
            EVP_CIPHER_CTX_set_padding(x, 0) == 1 &&
            EVP_EncryptUpdate(x, ct, &n, data + 1, len) == 1 && n == len) {
            n = EVP_EncodeBlock(b64, ct, len);
            in = (wx_str_t){ (size_t)n, (const char *)b64 };
        }
        EVP_CIPHER_CTX_free(x);
    }
    if (wx_crypt_decrypt(&c, in, &pool, &msg) == WX_OK)
        for (size_t i = 0; i < msg.len; i++)
            sink += (unsigned char)msg.data[i];
    wx_pool_reset(&pool);
    {
        unsigned char out[(128 << 10) / 4 * 3 + 4];
        long n = wx_base64_decode(out, (const char *)data, size);

        if (n > (long)(size / 4 * 3))
            abort();
    }
    return 0;
}
