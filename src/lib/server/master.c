/*
 * master.c - a FastCGI server's entry: a worker under spawn-fcgi, or
 * the standalone master that binds, writes the pidfile and hands the
 * workers to the prefork supervisor (wx/server/fcgi.h, wx/server/prefork.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wx/server/fcgi.h"
#include "wx/core/net.h"
#include "wx/server/metrics.h"
#include "wx/server/prefork.h"

/* The standalone master: the app, and the address of the running socket
 * (a reload cannot move it). */
typedef struct wx_master_run {
    wx_prefork_t            pf;
    const wx_fcgi_app_t    *app;
    char                   *listen;
} wx_master_run_t;

static int run_worker(const wx_prefork_t *pf, int listen_fd, const wx_config_t *cfg,
                      pid_t master)
{
    const wx_master_run_t *mr = pf->arg;

    return wx_fcgi_worker_run(mr->app, listen_fd, cfg, master);
}

/* HUP: the new config, checked once here rather than in every new worker;
 * NULL keeps the old one. */
static wx_config_t *reload(const wx_prefork_t *pf, const wx_config_t *cfg)
{
    const wx_master_run_t *mr = pf->arg;
    wx_config_t *ncfg = wx_fcgi_reload(mr->app, cfg, NULL);
    const char *listen;

    if (ncfg == NULL)
        return NULL;
    listen = wx_server_conf(mr->app, ncfg)->listen;
    if (strcmp(listen, mr->listen) != 0)
        wx_log(WX_LOG_WARN, "[%s] listen changed to %s: that needs a restart; "
               "still listening on %s", mr->app->name, listen, mr->listen);
    return ncfg;
}

static int write_pidfile(const char *path)
{
    char buf[32];
    int fd, n;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (write(fd, buf, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    return close(fd);
}

static int run_master(const wx_fcgi_app_t *app, wx_config_t *cfg, const char *pidfile)
{
    const wx_server_conf_t *srv = wx_server_conf(app, cfg);
    wx_master_run_t mr = {
        { run_worker, reload, app->server_off, NULL, NULL }, app, strdup(srv->listen)
    };
    int fd = -1, status = 1;

    mr.pf.arg = &mr;
    if (mr.listen == NULL) {
        wx_config_free(cfg);
        return 1;
    }
    fd = wx_listen(srv->listen, srv->socket_mode);
    if (fd < 0) {
        wx_config_free(cfg);
        goto out;
    }
    if (pidfile && write_pidfile(pidfile) != 0) {
        wx_log(WX_LOG_ERROR, "pidfile %s: %s", pidfile, strerror(errno));
        wx_config_free(cfg);
        goto out;
    }
    if (app->mx_prefix && wx_server_metrics_on(srv))
        mr.pf.mx = wx_mx_pool_new(2 * srv->workers + 4, app->mx_counters(cfg));
    wx_log(WX_LOG_INFO, "listening on %s with %u workers", srv->listen, srv->workers);
    /* From here the supervisor owns cfg and every reloaded one. */
    status = wx_prefork_run(&mr.pf, fd, cfg);
out:
    if (fd >= 0) {
        close(fd);
        if (strncmp(mr.listen, "unix:", 5) == 0)
            unlink(mr.listen + 5);
    }
    if (pidfile && status == 0)
        unlink(pidfile);
    free(mr.listen);
    wx_mx_pool_free(mr.pf.mx);
    return status;
}

int wx_fcgi_run(const wx_fcgi_app_t *app, wx_config_t *cfg, const char *pidfile)
{
    int rc;

    if (!wx_is_listening_socket(0))
        return run_master(app, cfg, pidfile);
    rc = wx_fcgi_worker_run(app, 0, cfg, 0);
    wx_config_free(cfg);
    return rc;
}

int wx_fcgi_main(const wx_fcgi_app_t *app, const wx_cli_t *cli, wx_config_t *cfg,
                 const char *what)
{
    const wx_server_conf_t *srv = wx_server_conf(app, cfg);
    int rc;

    if (wx_cli_log(cli, srv->log, srv->log_level) != 0) {
        wx_config_free(cfg);
        return WX_EXIT_FAIL;
    }
    wx_log(WX_LOG_INFO, "%s%s",
           wx_is_listening_socket(0) ? "worker under spawn-fcgi" : "standalone master", what);
    rc = wx_fcgi_run(app, cfg, cli->pidfile);
    wx_log_close();
    return rc;
}
