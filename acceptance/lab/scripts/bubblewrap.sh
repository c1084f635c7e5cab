#!/bin/sh
# The Zuul blog's bubblewrap command, adapted to Debian's merged /usr (/sbin
# too). It passes when bwrap runs `ps afx` as PID 2 of its new PID namespace.
exec bwrap --ro-bind /usr /usr --symlink usr/lib /lib --symlink usr/lib64 /lib64 \
  --symlink usr/bin /bin --symlink usr/sbin /sbin \
  --proc /proc --dev /dev --unshare-all --new-session ps afx
