/* dirhint.c - what to do about a state directory a program cannot use
 * (see wx/core/dirhint.h). */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wx/core/dirhint.h"

static void user_name(uid_t uid, char *buf, size_t len)
{
    const struct passwd *pw = getpwuid(uid);

    if (pw != NULL)
        snprintf(buf, len, "%s", pw->pw_name);
    else
        snprintf(buf, len, "uid %lu", (unsigned long)uid);
}

const char *wx_dir_hint(const char *path, int is_dir, int errnum, char *buf, size_t len)
{
    char dir[4096], parent[4096], me[64], owner[64], *slash;
    struct stat st;
    uid_t uid = geteuid();

    buf[0] = '\0';
    if (errnum == EROFS) {
        snprintf(buf, len, " (a read-only filesystem: choose a writable directory)");
        return buf;
    }
    if (errnum != EACCES && errnum != EPERM)
        return buf;
    user_name(uid, me, sizeof(me));
    snprintf(dir, sizeof(dir), "%s", path);
    if (!is_dir) {
        /* A file of another user in a directory we may write. */
        if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode) && st.st_uid != uid) {
            user_name(st.st_uid, owner, sizeof(owner));
            snprintf(buf, len, " (running as %s; the file is owned by %s: remove it or "
                     "chown it to %s)", me, owner, me);
            return buf;
        }
        slash = strrchr(dir, '/');
        if (slash == NULL)
            return buf;
        *(slash == dir ? slash + 1 : slash) = '\0';
    }
    if (stat(dir, &st) == 0) {
        user_name(st.st_uid, owner, sizeof(owner));
        if (st.st_uid != uid)
            snprintf(buf, len, " (running as %s; the directory %s is owned by %s: remove "
                     "it or chown it to %s)", me, dir, owner, me);
        else
            snprintf(buf, len, " (running as %s; the directory %s has mode %04o: "
                     "chmod u+rwx %s)", me, dir, (unsigned)(st.st_mode & 07777), dir);
        return buf;
    }
    /* The directory is missing and cannot be created: its nearest
     * existing parent is not ours. */
    snprintf(parent, sizeof(parent), "%s", dir);
    do {
        slash = strrchr(parent, '/');
        if (slash == NULL)
            return buf;
        *(slash == parent ? slash + 1 : slash) = '\0';
    } while (stat(parent, &st) != 0 && slash != parent);
    if (stat(parent, &st) != 0)
        return buf;
    user_name(st.st_uid, owner, sizeof(owner));
    snprintf(buf, len, " (running as %s; %s is %s's: create %s as %s and chown it to "
             "%s, or choose another directory)", me, parent, owner, dir, owner, me);
    return buf;
}
