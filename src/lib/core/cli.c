/* cli.c - the start every program shares (wx/core/cli.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "wx/core/cli.h"

#ifndef WX_VERSION
#define WX_VERSION "0.1.0"
#endif

static int usage_error(const wx_cli_t *cli, const char *what, const char *arg)
{
    fprintf(stderr, "%s: %s%s%s%s\nTry '%s --help' for more information.\n", cli->name,
            what, arg ? " '" : "", arg ? arg : "", arg ? "'" : "", cli->name);
    return WX_EXIT_USAGE;
}

int wx_cli_start(wx_cli_t *cli, int argc, char **argv, wx_config_t **cfg)
{
    return wx_cli_start_opt(cli, argc, argv, cfg, NULL);
}

int wx_cli_start_opt(wx_cli_t *cli, int argc, char **argv, wx_config_t **cfg,
                     wx_cli_opt_t *own)
{
    struct option longopts[] = {
        { "pidfile", required_argument, NULL, 'p' },     /* first: not for all */
        { "config",  required_argument, NULL, 'c' },
        { "test",    no_argument,       NULL, 't' },
        { "help",    no_argument,       NULL, 'h' },
        { "version", no_argument,       NULL, 'V' },
        { NULL, 0, NULL, 0 },                           /* the program's own */
        { NULL, 0, NULL, 0 }, { NULL, 0, NULL, 0 }, { NULL, 0, NULL, 0 },
        { NULL, 0, NULL, 0 }
    };
    char err[512], shorts[32];
    size_t n = 0, i;
    int opt;

    *cfg = NULL;
    snprintf(shorts, sizeof(shorts), "c:%sthV", cli->pidfile_ok ? "p:" : "");
    for (n = 0; own && own[n].long_name && n < WX_CLI_OPT_MAX; n++) {
        size_t len = strlen(shorts);

        longopts[5 + n] = (struct option){ own[n].long_name, required_argument, NULL,
                                           own[n].short_name };
        shorts[len] = (char)own[n].short_name;
        shorts[len + 1] = ':';
        shorts[len + 2] = '\0';
    }
    while ((opt = getopt_long(argc, argv, shorts,
                              cli->pidfile_ok ? longopts : longopts + 1, NULL)) != -1) {
        for (i = 0; own && i < n && opt != own[i].short_name; i++)
            ;
        if (i < n) {
            own[i].arg = optarg;
            continue;
        }
        switch (opt) {
        case 'c': cli->path = optarg; break;
        case 'p': cli->pidfile = optarg; break;
        case 't': cli->test = 1; break;
        case 'h': fputs(cli->usage, stdout); return WX_EXIT_OK;
        case 'V': printf("%s %s\n", cli->name, WX_VERSION); return WX_EXIT_OK;
        default:
            fprintf(stderr, "Try '%s --help' for more information.\n", cli->name);
            return WX_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return usage_error(cli, "unexpected argument", argv[optind]);
    if (cli->path == NULL)
        return usage_error(cli, "no config file: use -c FILE", NULL);
    *cfg = wx_config_load(cli->spec, cli->path, err, sizeof(err));
    if (*cfg == NULL) {
        fprintf(stderr, "%s: %s\n", cli->name, err);
        return WX_EXIT_FAIL;
    }
    return -1;
}

int wx_cli_log(const wx_cli_t *cli, const char *target, wx_log_level_t level)
{
    if (wx_log_open(target, cli->name, level) == 0)
        return 0;
    fprintf(stderr, "%s: cannot open log %s: %s\n", cli->name, target, strerror(errno));
    return -1;
}
