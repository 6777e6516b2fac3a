#!/bin/sh
# Make N orphans (as zombies.sh does) and then exec "$@": when this shell is
# PID 1 (no init), the exec'd program never waits, so the orphans stay zombies.
n=$1
shift
i=0
while [ "$i" -lt "$n" ]; do
	(sleep 0.3 &)
	i=$((i + 1))
done
exec "$@"
