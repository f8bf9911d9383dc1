#!/bin/sh
# The image's entry point, between tini and the command. In a container on a cgroup v2 host the
# container's own group is the root of a private cgroup namespace, and a group that holds processes
# cannot hand controllers to child groups. The platform puts each sandbox in a child group with
# memory, pids and cpu limits, so first move this container's processes into a leaf group and
# enable the controllers below the root, as docker:dind's entry point does. That needs a writable
# cgroupfs (a privileged worker); elsewhere (control, gateway, cgroup v1, the host's own namespace)
# this does nothing, and the sandbox falls back as docs/sandbox.md says.
set -eu
root=/sys/fs/cgroup
if [ "$(cat /proc/self/cgroup)" = "0::/" ] && [ -w "$root/cgroup.subtree_control" ]; then
  mkdir -p "$root/init"
  # A process that exits meanwhile (this cat, say) cannot be moved: that error is expected.
  xargs -rn1 < "$root/cgroup.procs" > "$root/init/cgroup.procs" 2>/dev/null || :
  sed -e 's/ / +/g' -e 's/^/+/' < "$root/cgroup.controllers" > "$root/cgroup.subtree_control" || :
fi
exec "$@"
