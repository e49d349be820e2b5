#!/bin/sh
# check-layers.sh - libwx's layers include only downwards.
#
#   core  <-  proto  <-  server, state, api  <-  the programs (src/wx*/)
#
# A file of libwx (src/lib/LAYER/, include/wx/LAYER/) may include headers
# of its own layer and of the layers below it; server, state and api stand
# side by side and do not include each other; nothing in libwx includes a
# program's header.  A module in several files may share a private header
# in its own folder ("store_impl.h").  Exit 1 naming each include that reaches up or across.
set -eu
cd "$(dirname "$0")/.."

rank() {
    case "$1" in
    core) echo 0 ;;
    proto) echo 1 ;;
    server|state|api) echo 2 ;;
    *) echo 9 ;;
    esac
}

bad=0
for f in src/lib/*/*.[ch] include/wx/*/*.h; do
    layer=$(echo "$f" | sed -E 's#^(src/lib|include/wx)/([a-z]+)/.*#\2#')
    own=$(rank "$layer")
    grep -n '^#include "' "$f" | while IFS= read -r line; do
        inc=$(echo "$line" | sed -E 's/^[0-9]+:#include "([^"]+)".*/\1/')
        case "$inc" in
        wx/*/*) to=$(echo "$inc" | cut -d/ -f2) ;;
        */*) echo "$f:${line%%:*}: libwx includes \"$inc\", which is not a libwx header"; exit 1 ;;
        *)  # a private header of the same folder (a module's parts)
            [ -f "$(dirname "$f")/$inc" ] && continue
            echo "$f:${line%%:*}: libwx includes \"$inc\", which is not a libwx header"; exit 1 ;;
        esac
        r=$(rank "$to")
        if [ "$to" != "$layer" ] && [ "$r" -ge "$own" ]; then
            echo "$f:${line%%:*}: layer $layer includes \"$inc\" of layer $to (not below it)"
            exit 1
        fi
    done || bad=1
done
[ "$bad" = 0 ] && echo "layers: every include of libwx points down"
exit "$bad"
