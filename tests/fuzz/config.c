/*
 * config.c - the config loader (wx_config_load) with every program's
 * sections: the first byte of the input picks the program, the rest is
 * the file.
 */
#include "fuzz.h"

#include "wx/core/config.h"
#include "wxfcgi/conf.h"
#include "wxproxy/wxproxy.h"
#include "wxtoken/wxtoken.h"
#include "wxsim/wxsim.h"
#include "wxctl/wxctl.h"

static char path[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    /* Nothing from the environment: the file alone decides. */
    unsetenv("WX_TOKEN");
    unsetenv("WX_APPSECRET");
    unsetenv("WX_CONFIG");
    fuzz_file(path, sizeof(path), "config", "", 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const wx_config_spec_t *const specs[] = {
        &wxfcgi_spec, &px_spec, &wxtoken_spec, &wxsim_spec, &wxctl_spec,
    };
    char err[512];
    wx_config_t *cfg;

    if (size < 1 || size > 64 << 10)
        return 0;
    fuzz_rewrite(path, data + 1, size - 1);
    cfg = wx_config_load(specs[data[0] % 5], path, err, sizeof(err));
    if (cfg == NULL && strlen(err) >= sizeof(err))
        abort();
    wx_config_free(cfg);
    return 0;
}
