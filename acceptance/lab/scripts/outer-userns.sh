#!/bin/sh
# First process of the outer user namespace (see run.sh), started before its
# id maps exist, hence without capabilities. The lab (host root) writes the
# maps "0 0 4294967294" (one id short of the full range, so that crun knows it
# is in a user namespace and bind-mounts /dev nodes instead of mknod), then
# sends a line on stdin.
# usage: outer-userns.sh MAX_USER_NAMESPACES CMD...
read -r _go || exit 125
# Re-exec: only an execve after the mapping gives uid 0 its capabilities here.
exec /bin/sh -c 'echo "$0" > /proc/sys/user/max_user_namespaces || exit 124; exec "$@" </dev/null' "$@"
