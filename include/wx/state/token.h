/*
 * wx/state/token.h - the access-token store: a versioned record of the
 * state store (wx/state/store.h), written by wxtoken alone, read by every
 * program that calls the WeChat API.
 *
 * The record's version counts the tokens wxtoken has obtained (it only
 * grows: of two wxtoken processes writing the same next version, one
 * wins), its times are when the token was obtained and when it expires
 * (Unix seconds), its value the token.  A reader never gets a token that
 * has expired.  wxtoken makes the next version under the token's lock,
 * so that two wxtoken processes on one store never refresh at once.
 *
 * The local backend keeps it in the file [wxtoken] store, its lock in
 * STORE.lock beside it.  Reports of a rejected token go to wxtoken over
 * its socket: wx/api/token_client.h.
 */
#ifndef WX_TOKEN_H
#define WX_TOKEN_H

#include <stddef.h>
#include <time.h>
#include "wx/core/err.h"
#include "wx/proto/token.h"
#include "wx/state/store.h"

/* Read the token.  WX_OK; WX_EMISSING when there is none yet; WX_EINVAL
 * (with 'err' saying why) when the store is damaged; WX_ESTALE when the
 * token has expired at 'now' (*tok is filled all the same, for reports);
 * WX_ESYS or WX_ECONFIG when the store cannot be read. */
wx_err_t wx_token_read(wx_store_t *st, time_t now, wx_token_t *tok,
                       char *err, size_t errlen);

/* Store 'tok' as the current token, atomically and durably.  WX_OK;
 * WX_EINVAL for a token that is not wx_token_valid(); WX_ESTALE when the
 * store holds tok->version or a later one already (another writer won);
 * WX_ESYS. */
wx_err_t wx_token_write(wx_store_t *st, const wx_token_t *tok,
                        char *err, size_t errlen);

/* Retire the stored token: write the next version as one that expired
 * now, so that no reader serves it (it belongs to an AppID the account no
 * longer has) and the next refresh fetches one.  Under the lock.  WX_OK
 * also when there is none, or a damaged one (no reader serves that). */
wx_err_t wx_token_retire(wx_store_t *st, char *err, size_t errlen);

/* Hold, and release, the refresh lock (waiting for it). */
wx_err_t wx_token_lock(wx_store_t *st, char *err, size_t errlen);
void wx_token_unlock(wx_store_t *st);

/* The same for another record of the same shape, 'key' (the JS-SDK
 * tickets, wx/state/ticket.h); 'what' names it in messages ("ticket"). */
wx_err_t wx_token_read_key(wx_store_t *st, const wx_store_key_t *key, const char *what,
                           time_t now, wx_token_t *tok, char *err, size_t errlen);
wx_err_t wx_token_write_key(wx_store_t *st, const wx_store_key_t *key, const wx_token_t *tok,
                            char *err, size_t errlen);
wx_err_t wx_token_lock_key(wx_store_t *st, const wx_store_key_t *key, char *err, size_t errlen);
void wx_token_unlock_key(wx_store_t *st, const wx_store_key_t *key);
wx_err_t wx_token_retire_key(wx_store_t *st, const wx_store_key_t *key, const char *what,
                             char *err, size_t errlen);

#endif
