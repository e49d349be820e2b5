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
#include "wx/server/prefork.h"

/* One master a process: the prefork callbacks find their app here. */
static const wx_fcgi_app_t *wx_master_app;
static char *wx_master_listen;      /* the address of the running socket */

static int run_worker(int listen_fd, void *ctx, pid_t master)
{
    return wx_fcgi_worker_run(wx_master_app, listen_fd, ctx, master);
}

static void release(void *ctx)
{
    wx_config_t *cfg = ctx;

    wx_config_free(cfg);
    free(cfg);
}

static unsigned workers(const void *ctx)
{
    return wx_master_app->workers(ctx);
}

static unsigned shutdown_timeout(const void *ctx)
{
    return wx_master_app->shutdown_timeout(ctx);
}

/* HUP: the new config, checked once here rather than in every new worker;
 * NULL keeps the old one. */
static void *reload(void *ctx)
{
    const wx_fcgi_app_t *app = wx_master_app;
    const wx_config_t *cfg = ctx;
    wx_config_t *ncfg = malloc(sizeof(*ncfg));
    const char *listen, *target;
    wx_log_level_t level;
    unsigned mode;
    size_t buffer;
    char err[512];
    void *probe;

    if (ncfg == NULL)
        return NULL;
    if (wx_config_load(ncfg, cfg->path, err, sizeof(err)) != WX_OK) {
        wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: %s", err);
        free(ncfg);
        return NULL;
    }
    probe = app->open(ncfg, err, sizeof(err));
    if (probe == NULL) {
        wx_log(WX_LOG_ERROR, "reload failed, keeping the old config: %s", err);
        release(ncfg);
        return NULL;
    }
    app->close(probe);
    app->listen_of(ncfg, &listen, &mode);
    if (strcmp(listen, wx_master_listen) != 0)
        wx_log(WX_LOG_WARN, "[%s] listen changed to %s: that needs a restart; "
               "still listening on %s", app->name, listen, wx_master_listen);
    app->log_of(ncfg, &target, &level, &buffer);
    if (wx_log_open(target, app->name, level) != 0)
        wx_log(WX_LOG_ERROR, "cannot open log %s: %s", target, strerror(errno));
    wx_log(WX_LOG_INFO, "reloaded %s", ncfg->path);
    return ncfg;
}

static const wx_prefork_ops_t wx_fcgi_prefork = {
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

static int run_master(const wx_fcgi_app_t *app, wx_config_t *cfg, const char *pidfile)
{
    const char *listen;
    unsigned mode;
    int fd = -1, status = 1;

    app->listen_of(cfg, &listen, &mode);
    wx_master_app = app;
    wx_master_listen = strdup(listen);
    if (wx_master_listen == NULL) {
        release(cfg);
        return 1;
    }
    fd = wx_listen(listen, mode);
    if (fd < 0) {
        release(cfg);
        goto out;
    }
    if (pidfile && write_pidfile(pidfile) != 0) {
        wx_log(WX_LOG_ERROR, "pidfile %s: %s", pidfile, strerror(errno));
        release(cfg);
        goto out;
    }
    wx_log(WX_LOG_INFO, "listening on %s with %u workers", listen, app->workers(cfg));
    /* From here the supervisor owns cfg and every reloaded one. */
    status = wx_prefork_run(fd, &wx_fcgi_prefork, cfg);
out:
    if (fd >= 0) {
        close(fd);
        if (strncmp(wx_master_listen, "unix:", 5) == 0)
            unlink(wx_master_listen + 5);
    }
    if (pidfile && status == 0)
        unlink(pidfile);
    free(wx_master_listen);
    wx_master_listen = NULL;
    return status;
}

int wx_fcgi_run(const wx_fcgi_app_t *app, wx_config_t *cfg, const char *pidfile)
{
    int rc;

    if (!wx_is_listening_socket(0))
        return run_master(app, cfg, pidfile);
    rc = wx_fcgi_worker_run(app, 0, cfg, 0);
    release(cfg);
    return rc;
}
