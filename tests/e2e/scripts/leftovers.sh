#!/bin/sh
# leftovers.sh TAG CMD [ARG]...
# Starts two background processes that write /out/TAG.<name> when they get
# SIGTERM, then execs CMD as the main process:
#   group  - a subshell in this shell's process group (reached by a signal
#            forwarded to the main child's group, or, once the main child
#            has exited, by the init's shutdown of leftover processes)
#   setsid - a shell that left the group with setsid (reached only by the
#            init's shutdown of leftover processes)
tag=$1
shift
setsid sh -c "trap 'echo term >/out/$tag.setsid; exit 0' TERM
	echo ready >/out/$tag.setsid.ready
	while :; do sleep 0.1; done" &
(
	# shellcheck disable=SC2064 # $tag is meant to expand now
	trap "echo term >/out/$tag.group; exit 0" TERM
	echo ready >"/out/$tag.group.ready"
	while :; do sleep 0.1; done
) &
t=0
while [ ! -e "/out/$tag.setsid.ready" ] || [ ! -e "/out/$tag.group.ready" ]; do
	t=$((t + 1))
	[ "$t" -gt 100 ] && { echo "leftovers.sh: helpers not ready" >&2; exit 99; }
	usleep 50000
done
exec "$@"
