#!/bin/sh
# Leave behind a process outside the main group that ignores SIGTERM (the
# ignored disposition survives exec), then exit 0: the init has to SIGKILL it
# after its grace period.
setsid sh -c 'trap "" TERM; echo ready >/out/stubborn.ready; exec sleep 1000' &
t=0
while [ ! -e /out/stubborn.ready ]; do
	t=$((t + 1))
	[ "$t" -gt 100 ] && { echo "stubborn.sh: helper not ready" >&2; exit 99; }
	usleep 50000
done
exit 0
