/*
 * master.c - standalone mode: bind [wxfcgi] listen, write the pidfile and
 * hand the workers to the prefork supervisor of libwx (wx/prefork.h),
 * which restarts dead workers with a backoff, stops gracefully on TERM and
 * on HUP starts a new generation on the reloaded config.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wx/gateway.h"
#include "wx/log.h"
#include "wx/net.h"
#include "wx/prefork.h"
#include "wxfcgi.h"

static int run_worker(int listen_fd, void *ctx, pid_t master)
{
    return wxfcgi_worker_run(listen_fd, ctx, master);
}

static void release(void *ctx)
{
    wx_config_t *cfg = ctx;

    wx_config_free(cfg);
    free(cfg);
}

static unsigned workers(const void *ctx)
{
    return ((const wx_config_t *)ctx)->workers;
}

static unsigned shutdown_timeout(const void *ctx)
{
    return ((const wx_config_t *)ctx)->shutdown_timeout;
}

/* HUP: the new config, checked once here rather than in every new worker;
 * NULL keeps the old one. */
static void *reload(void *ctx)
{
    const wx_config_t *cfg = ctx;
    wx_config_t *ncfg = malloc(sizeof(*ncfg));
    char err[512];
    wx_gw_t *probe;

    if (ncfg == NULL)
        return NULL;
    if (wx_config_load(ncfg, cfg->path, err, sizeof(err)) != WX_OK) {
        wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: %s", err);
        free(ncfg);
        return NULL;
    }
    probe = wx_gw_new(ncfg, err, sizeof(err));
    if (probe == NULL) {
        wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: %s", err);
        release(ncfg);
        return NULL;
    }
    wx_gw_free(probe);
    if (strcmp(ncfg->listen, cfg->listen) != 0)
        wx_log(WX_LOG_WARN, "[wxfcgi] listen changed to %s: that needs a restart; "
               "still listening on %s", ncfg->listen, cfg->listen);
    /* The listen address stays that of the running socket. */
    free(ncfg->listen);
    ncfg->listen = strdup(cfg->listen);
    if (ncfg->listen == NULL) {
        release(ncfg);
        return NULL;
    }
    if (wx_log_open(ncfg->log, "wxfcgi", ncfg->log_level) != 0)
        wx_log(WX_LOG_ERROR, "cannot open log %s: %s", ncfg->log, strerror(errno));
    wx_log(WX_LOG_INFO, "reloaded %s", ncfg->path);
    return ncfg;
}

static const wx_prefork_ops_t wxfcgi_prefork = {
    .worker = run_worker,
    .reload = reload,
    .release = release,
    .workers = workers,
    .shutdown_timeout = shutdown_timeout,
};

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

int wxfcgi_master_run(wx_config_t *cfg, const char *pidfile)
{
    char *listen = strdup(cfg->listen);
    int fd = -1, status = 1;

    if (listen == NULL) {
        release(cfg);
        return 1;
    }
    fd = wx_listen(cfg->listen, cfg->socket_mode);
    if (fd < 0) {
        release(cfg);
        goto out;
    }
    if (pidfile && write_pidfile(pidfile) != 0) {
        wx_log(WX_LOG_ERROR, "pidfile %s: %s", pidfile, strerror(errno));
        release(cfg);
        goto out;
    }
    wx_log(WX_LOG_INFO, "listening on %s with %u workers (mode %s, handler %s)",
           cfg->listen, cfg->workers, wx_mode_name(cfg->mode), cfg->handler);
    /* From here the supervisor owns cfg and every reloaded one. */
    status = wx_prefork_run(fd, &wxfcgi_prefork, cfg);
out:
    if (fd >= 0) {
        close(fd);
        if (strncmp(listen, "unix:", 5) == 0)
            unlink(listen + 5);
    }
    if (pidfile && status == 0)
        unlink(pidfile);
    free(listen);
    return status;
}
