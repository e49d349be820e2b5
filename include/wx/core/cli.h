/*
 * wx/core/cli.h - the start every program of the suite shares: the
 * options -c FILE, -t, -h, -V (and -p FILE for the FastCGI servers), the
 * config loaded with the program's spec, the log opened, the exit codes.
 *
 * Each program keeps its own --help text (its man page's summary); this
 * module only parses, loads and reports, every message on stderr and
 * beginning with the program's name.
 */
#ifndef WX_CLI_H
#define WX_CLI_H

#include "wx/core/config.h"
#include "wx/core/log.h"

#define WX_EXIT_OK      0       /* a clean stop, -h, -V, -t on a good config */
#define WX_EXIT_FAIL    1       /* a config, start-up or runtime error */
#define WX_EXIT_USAGE   2       /* a usage error */

/* The lines of a --help text that are the same in every program: the
 * options of wx_cli_start(), for each program to put in its own text. */
#define WX_CLI_HELP_CONFIG \
    "  -c, --config FILE    the INI config file (required; see wx.ini)\n"
#define WX_CLI_HELP_PIDFILE \
    "  -p, --pidfile FILE   standalone mode: write the master's pid to FILE\n"
#define WX_CLI_HELP_COMMON \
    "  -t, --test           check the config, print a summary and exit\n" \
    "  -h, --help           show this help and exit\n" \
    "  -V, --version        show the version and exit\n"

typedef struct wx_cli {
    const char                 *name;       /* "wxfcgi" */
    const char                 *usage;      /* the --help text */
    const wx_config_spec_t     *spec;
    int                         pidfile_ok; /* takes -p, --pidfile FILE */
    /* What the command line said: */
    const char                 *path;       /* -c FILE */
    const char                 *pidfile;    /* -p FILE, or NULL */
    int                         test;       /* -t: check the config and exit */
} wx_cli_t;

/* Parse the options and load the config.  WX_EXIT_OK after -h or -V, or an
 * exit status after an error (reported); -1 when the program goes on,
 * with '*cfg' loaded (the caller's, wx_config_free). */
int wx_cli_start(wx_cli_t *cli, int argc, char **argv, wx_config_t **cfg);

/* One option of a program's own, taking an argument: -SHORT|--LONG ARG. */
typedef struct wx_cli_opt {
    const char     *long_name;
    int             short_name;
    const char     *arg;        /* what the command line gave it, or NULL */
} wx_cli_opt_t;

/* wx_cli_start() that also takes the options of 'opt', an array ended by
 * one with no long_name (at most WX_CLI_OPT_MAX; each filled in place). */
#define WX_CLI_OPT_MAX  4
int wx_cli_start_opt(wx_cli_t *cli, int argc, char **argv, wx_config_t **cfg,
                     wx_cli_opt_t *opt);

/* Open the log: 0, or -1 with the reason on stderr. */
int wx_cli_log(const wx_cli_t *cli, const char *target, wx_log_level_t level);

#endif
