/* wxctl.h - the commands of wxctl, one file each. */
#ifndef WXCTL_H
#define WXCTL_H

#include "wx/config.h"

/* wxctl token [--show] [--refresh] [--rejected]: the state of the token
 * store; --refresh asks wxtoken for a new token, --rejected reports the
 * token read from standard input as rejected by WeChat. */
int wxctl_token(const wx_config_t *cfg, int show, int refresh, int rejected);

#endif
