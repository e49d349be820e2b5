/*
 * out.c - what wxctl shows: error lines with hints, JSON, tables' cells,
 * progress bars and the confirmation prompt; and the reading of input
 * JSON files with an error that says where.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wxctl.h"

#define WXCTL_MAX_JSON_FILE (4u << 20)

int wxctl_usage(const char *fmt, ...)
{
    va_list ap;

    fputs("wxctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'wxctl --help' for more information.\n", stderr);
    return WXCTL_EXIT_USAGE;
}

int wxctl_bad(const char *fmt, ...)
{
    va_list ap;

    fputs("wxctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return WXCTL_EXIT_USAGE;
}

/* PROTOCOL.md 5.3 and the errors met most by the commands of 6. */
const char *wxctl_hint(long errcode)
{
    static const struct {
        long        code;
        const char *hint;
    } hints[] = {
        { -1, "WeChat is busy: retry in a moment" },
        { 40001, "the access token was rejected: wxproxy asks wxtoken for a new one and "
                 "retries once; check wxtoken (wxctl token) and that no other program "
                 "fetches tokens with this AppSecret" },
        { 40014, "invalid access token: check wxtoken (wxctl token)" },
        { 42001, "the access token expired: check wxtoken (wxctl token)" },
        { 40164, "add this machine's IP to the account's IP allow-list: "
                 "开发 - 基本配置 - IP白名单 (the IP of the machine running wxtoken and wxproxy)" },
        { 45009, "the daily quota of this API is used up: it resets at midnight "
                 "(Beijing time), or reset it with /cgi-bin/clear_quota (10 times a month)" },
        { 45011, "the per-minute limit of this API: slow down" },
        { 48001, "unauthorized API: this account has no permission for it "
                 "(an unverified account, or the wrong account type): see 接口权限" },
        { 40007, "invalid media_id: temporary media last 3 days; a material or draft "
                 "must exist (wxctl material list, wxctl draft list)" },
        { 45015, "customer-service messages are allowed only within 48 hours of the "
                 "follower's last message" },
        { 45047, "too many customer-service messages since the follower's last message" },
        { 45065, "a mass send with this clientmsgid was made in the last 24 hours" },
        { 65320, "personalised menus may match only tag_id and client_platform_type" },
    };
    size_t i;

    for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
        if (hints[i].code == errcode)
            return hints[i].hint;
    return NULL;
}

void wxctl_print_json(const json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    putchar('\n');
}

json_t *wxctl_load_json(const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    json_error_t jerr;
    json_t *j = NULL;
    size_t n;

    if (f == NULL) {
        wxctl_bad("%s: %s", path, strerror(errno));
        return NULL;
    }
    if ((buf = malloc(WXCTL_MAX_JSON_FILE + 1)) == NULL) {
        wxctl_bad("out of memory");
        goto out;
    }
    n = fread(buf, 1, WXCTL_MAX_JSON_FILE + 1, f);
    if (ferror(f) || n > WXCTL_MAX_JSON_FILE) {
        wxctl_bad("%s: %s", path, ferror(f) ? strerror(errno) : "larger than 4 MiB");
        goto out;
    }
    j = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) {
        wxctl_bad("%s:%d:%d: invalid JSON: %s", path, jerr.line, jerr.column, jerr.text);
        goto out;
    }
    if (!json_is_object(j)) {
        wxctl_bad("%s: invalid JSON: the top level must be an object {...}", path);
        json_decref(j);
        j = NULL;
    }
out:
    free(buf);
    if (f != stdin)
        fclose(f);
    return j;
}

const char *wxctl_str(const json_t *obj, const char *key)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;

    return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *wxctl_text(const json_t *obj, const char *key, char *buf, size_t cap)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;

    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
    else
        snprintf(buf, cap, "%s", "");
    return buf;
}

void wxctl_print_count(const json_t *ans)
{
    printf("(%lld of %lld)\n",
           (long long)json_integer_value(json_object_get(ans, "item_count")),
           (long long)json_integer_value(json_object_get(ans, "total_count")));
}

const char *wxctl_time(long long t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (t <= 0 || localtime_r(&tt, &tm) == NULL || strftime(buf, cap, "%Y-%m-%d %H:%M", &tm) == 0)
        snprintf(buf, cap, "-");
    return buf;
}

/* ------------------------------------------------------- progress -- */

static int progress_drawn;

int wxctl_progress_on(const wxctl_t *ctl)
{
    return !ctl->o.no_progress && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
}

void wxctl_progress(const char *what, double done, double total)
{
    static const int width = 30;
    int fill, pct;

    if (total <= 0)
        return;
    if (done > total)
        done = total;
    pct = (int)(100.0 * done / total);
    fill = (int)(width * done / total);
    fprintf(stderr, "\r%-24.24s [%.*s%*s] %3d%% ", what ? what : "", fill,
            "##############################", width - fill, "", pct);
    if (total >= 1024)
        fprintf(stderr, "%.0f/%.0f KiB", done / 1024, total / 1024);
    else
        fprintf(stderr, "%.0f/%.0f", done, total);
    fflush(stderr);
    progress_drawn = 1;
}

void wxctl_progress_end(void)
{
    if (progress_drawn) {
        fputc('\n', stderr);
        progress_drawn = 0;
    }
}

/* ------------------------------------------------------ confirming -- */

int wxctl_confirm(const char *question)
{
    char line[32];

    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    if (fgets(line, sizeof(line), stdin) == NULL)
        return 0;
    line[strcspn(line, "\r\n")] = '\0';
    return strcmp(line, "y") == 0 || strcmp(line, "Y") == 0 || strcmp(line, "yes") == 0;
}
