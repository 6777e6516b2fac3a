#!/bin/sh
# Print /proc/<pid>/stat of every process in this PID namespace, one a line:
# "<pid> (<comm>) <state> <ppid> ...".  Builtins only, so listing itself
# leaves no child behind that could show up as a zombie.
for f in /proc/[0-9]*/stat; do
	{ read -r line <"$f"; } 2>/dev/null && echo "$line"
done
exit 0
