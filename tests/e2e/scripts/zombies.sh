#!/bin/sh
# Make N orphans: each subshell puts a short sleep in the background and
# exits at once, so the sleep is re-parented to PID 1 of the namespace.
# Wait (at most 5 s) until none of them is left, running or a zombie (one
# that has just exited is a zombie until PID 1 reaps it, a moment later);
# any that PID 1 did not reap stays behind in state Z.  Then list all
# processes.
n=${1:-10}
i=0
while [ "$i" -lt "$n" ]; do
	(sleep 0.2 &)
	i=$((i + 1))
done
t=0
while [ "$t" -lt 50 ]; do
	/e2e/states.sh | grep -q '^[0-9]* (sleep) ' || break
	usleep 100000
	t=$((t + 1))
done
/e2e/states.sh
