#!/bin/busybox sh
# The smoke suite .ci/vm boots on every architecture, in an initramfs of busybox and sexton.
# The kernel starts `/sbin/sexton /test.sh global`: sexton is PID 1 of the VM and this script
# its child. The global run then starts this script again under sexton as PID 1 of a new PID
# namespace (`namespace`) and under sexton as a plain subreaper (`subreaper`). Each run prints
# `ok - ...` or `FAIL - ...` per check and `smoke MODE: N passed, M failed`, leaves a process
# behind that traps SIGTERM, and exits 42 when every check passed, which its sexton must
# pass on: the kernel's "Attempted to kill init! exitcode=0x00002a00" shows the global one.
mode=${1:-global}
export PATH=/sbin:/bin:/usr/sbin:/usr/bin

# Polls COMMAND every 0.1 s until it succeeds, for at most SECONDS (TCG on a busy host is slow).
within() {
	n=$(($1 * 10))
	shift
	until "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}

# `/test.sh recorder OUT PIDFILE`: a leftover that records SIGTERM in OUT and keeps running.
if [ "$mode" = recorder ]; then
	trap 'echo leftover got TERM >>"$2"' TERM
	echo $$ >"$3"
	while :; do sleep 0.1; done
fi
# `/test.sh leave DIR`: starts a recorder, stops it and exits 5, leaving it behind.
if [ "$mode" = leave ]; then
	/test.sh recorder "$2/left" "$2/left.pid" &
	within 60 [ -e "$2/left.pid" ] || exit 1
	kill -STOP "$(cat "$2/left.pid")"
	exit 5
fi

if [ "$mode" = global ]; then
	/bin/busybox mkdir -p /usr/bin /usr/sbin
	/bin/busybox --install -s
	mount -t proc proc /proc
	echo "uname: $(uname -m), $(uname -r), up $(cut -d' ' -f1 /proc/uptime) s"
fi
tmp=/tmp/$mode
mkdir -p "$tmp"
passed=0 failed=0
check() {
	name=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "ok - $mode: $name"
	else
		failed=$((failed + 1))
		echo "FAIL - $mode: $name"
	fi
}

# Field N (3 = state, 4 = parent) of /proc/PID/stat; comm, before them, has no spaces here.
stat_field() { cut -d' ' -f"$2" "/proc/$1/stat" 2>/dev/null; }
gone() { [ ! -e "/proc/$1" ]; }
no_zombies() {
	for f in /proc/[0-9]*/stat; do
		[ "$(cut -d' ' -f3 "$f" 2>/dev/null)" != Z ] || return 1
	done
}
has_child() {
	for f in /proc/[0-9]*/stat; do
		[ "$(cut -d' ' -f4 "$f" 2>/dev/null)" != "$1" ] || return 0
	done
	return 1
}
# Runs "$@" (quietly with QUIET=1) and checks its exit status is WANT.
status_is() {
	want=$1
	shift
	if [ -n "$QUIET" ]; then "$@" >/dev/null 2>&1; else "$@"; fi
	got=$?
	[ "$got" = "$want" ] || echo "  $*: exit $got, wanted $want"
	[ "$got" = "$want" ]
}
quiet() { QUIET=1 status_is "$@"; }

# Who this run's sexton is: PID 1 of the VM or of the namespace, or a subreaper below it.
sexton=$PPID
is_sexton() { [ "$(cat "/proc/$sexton/comm")" = sexton ]; }
check "the parent is sexton" is_sexton
case $mode in
global | namespace) check "sexton is PID 1" [ "$sexton" = 1 ] ;;
subreaper) check "sexton is not PID 1" [ "$sexton" != 1 ] ;;
esac

if [ "$mode" = global ]; then
	: >"$tmp/not-executable"
	check "exit status passed on" quiet 3 sexton sh -c 'exit 3'
	check "death by signal is 128+N" quiet 137 sexton sh -c 'kill -KILL $$'
	check "a trapping child's own status after TERM" quiet 42 \
		sexton sh -c 'trap "exit 42" TERM; kill -TERM $PPID; while :; do sleep 0.1; done'
	check "-e remaps a status to 0" quiet 0 sexton -e 3 sh -c 'exit 3'
	check "command not found is 127" quiet 127 sexton /no/such/command
	check "command not executable is 126" quiet 126 sexton "$tmp/not-executable"
	check "a bad option is 125" quiet 125 sexton --no-such-option
	check "--version" quiet 0 sexton --version
	sexton --pause &
	pause=$!
	# Its child exists once it has blocked the signals it takes: TERM cannot kill it then.
	within 60 has_child "$pause"
	kill -TERM "$pause"
	wait "$pause"
	check "--pause exits 0 on TERM" [ $? = 0 ]
fi

# Orphans: they are adopted by this run's sexton, which reaps every one.
sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do sleep 2 & done; echo $! >$1' orphans "$tmp/orphan"
orphan=$(cat "$tmp/orphan")
check "orphans are adopted by sexton" [ "$(stat_field "$orphan" 4)" = "$sexton" ]
check "orphans are reaped" within 60 gone "$orphan"
check "no zombie is left" within 60 no_zombies

# TERM sent to this run's sexton reaches this script, its child, which traps it.
got=""
got_term() { [ "$got" = TERM ]; }
trap 'got=TERM' TERM
kill -TERM "$sexton"
check "TERM is forwarded to the child" within 60 got_term
trap - TERM

# A leftover that survives TERM, stopped, gets TERM and CONT when the command exits, and is
# killed after the grace period.
check "sexton waits for a leftover's end" quiet 5 sexton -t 1 /test.sh leave "$tmp"
check "the leftover got TERM (and CONT) first" grep -q 'got TERM' "$tmp/left"
check "the leftover was killed after the grace period" gone "$(cat "$tmp/left.pid")"

if [ "$mode" = global ]; then
	# The same again one level down; their output goes to the console with this run's.
	check "as PID 1 of a PID namespace" status_is 42 \
		unshare --pid --fork --mount-proc sexton /test.sh namespace
	check "the namespace's leftover got TERM" grep -q 'got TERM' /tmp/namespace/final
	check "as a subreaper" status_is 42 sexton /test.sh subreaper
	check "the subreaper's leftover got TERM" grep -q 'got TERM' /tmp/subreaper/final
	check "the subreaper's leftover is gone" gone "$(cat /tmp/subreaper/final.pid)"
fi

[ "$mode" = global ] && echo "uptime: $(cut -d' ' -f1 /proc/uptime) s"
echo "smoke $mode: $passed passed, $failed failed"
[ "$failed" = 0 ] || exit 1
# Left for this run's sexton to shut down after this script exits: it records the TERM (on
# the console for the global run, which nothing outlives), then the grace period ends it.
out=$tmp/final
[ "$mode" = global ] && out=/dev/console
/test.sh recorder "$out" "$tmp/final.pid" &
within 60 [ -e "$tmp/final.pid" ]
exit 42
