/* wx/core/dirhint.h - what to do about a state directory a program cannot use.
 *
 * A file or directory the program must create or write (the retry table,
 * the rate-limit table, the token store, wxsim's data) may belong to
 * another user, typically one left by a run as root.  The error then says
 * who the program runs as, who owns the directory, and the fix.
 */
#ifndef WX_DIRHINT_H
#define WX_DIRHINT_H

#include <stddef.h>

/* After an operation on PATH failed with ERRNUM, write to BUF (LEN bytes,
 * LEN > 0) a hint that begins with a blank, for EACCES, EPERM and EROFS,
 * and "" for any other error.  IS_DIR: PATH is the directory itself (to be
 * created, or used); else a file in it.  E.g.
 *   " (running as www-data; the directory /dev/shm/wxfcgi is owned by root:
 *    remove it or chown it to www-data)"
 *   " (running as www-data; /run is root's: create /run/wxfcgi as root and
 *    chown it to www-data, or choose another directory)"
 * Returns BUF. */
const char *wx_dir_hint(const char *path, int is_dir, int errnum, char *buf, size_t len);

#endif
