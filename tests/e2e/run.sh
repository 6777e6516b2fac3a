#!/usr/bin/env bash
# End-to-end tests of sexton as PID 1 under runc and under a private Docker
# engine (`docker run --init` with dockerd --init-path pointing at sexton),
# plus a structural check of tests/e2e/kubernetes.yaml.
#
# Usage (as root, Debian):  bash tests/e2e/run.sh
#
# It installs what is missing (runc, busybox-static, docker.io, python3-yaml),
# builds the static binary (cargo build --release --target
# x86_64-unknown-linux-musl), builds a busybox rootfs in a temp dir, and runs
# the checks.  It ends with a line "N passed, M failed" and exits 1 if any
# check failed or the runtimes could not be started.  Everything it creates
# (containers, image, its own dockerd and containerd, mounts, cgroups, the
# temp dir) is removed by an EXIT trap.
#
# Environment:
#   SEXTON_E2E_INIT=/path      use this static init instead of building sexton
#                              (e.g. /usr/bin/tini-static as a stand-in; the
#                              sexton-only checks are then skipped)
#   SEXTON_E2E_STORAGE_DRIVER  dockerd storage driver (default vfs: works on
#                              any filesystem; the image is ~2 MB)
#   SEXTON_E2E_TMPDIR          parent of the temp dir (default /tmp; keep it
#                              short, unix socket paths live below it)
#   SEXTON_E2E_KEEP=1          keep the temp dir (logs) after the run
# shellcheck disable=SC2015 # "A && B || why ..." is meant: why runs when A or B fails
set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/../.." && pwd)
TARGET=x86_64-unknown-linux-musl
PY=/usr/bin/python3
START=$(date +%s.%N)

PASSED=0
FAILED=0
SKIPPED=0
FAILED_NAMES=()

# ---------------------------------------------------------------- helpers --

now() { date +%s.%N; }
# secs_since T0: seconds since T0, two decimals
secs_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
# fless A B: true when A < B (floats)
fless() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

log() { printf '[e2e %6ss] %s\n' "$(secs_since "$START")" "$*" >&2; }

# Result of the check running now; a check function returns non-zero and
# calls why() to say what went wrong.
WHY=""
why() {
	WHY+="${WHY:+; }$*"
	return 1
}

# check NAME FUNC [ARG]...: run one check and count it.
check() {
	local name=$1
	shift
	WHY=""
	log "check: $name"
	if "$@"; then
		PASSED=$((PASSED + 1))
		printf 'PASS: %s\n' "$name"
	else
		FAILED=$((FAILED + 1))
		FAILED_NAMES+=("$name")
		printf 'FAIL: %s -- %s\n' "$name" "${WHY:-no reason given}"
	fi
}

skip() {
	SKIPPED=$((SKIPPED + 1))
	printf 'SKIP: %s -- %s\n' "$1" "$2"
}

# die REASON: the suite cannot go on (a runtime does not start, a build
# fails...).  Counts as a failed check; the EXIT trap cleans up and prints
# the summary.
DIED=0
die() {
	DIED=1
	FAILED=$((FAILED + 1))
	FAILED_NAMES+=("setup: ${1%%$'\n'*}")
	printf '\n********\nFAIL: %s\n********\n\n' "$*"
	exit 1
}

# wait_until TIMEOUT CMD [ARG]...: poll CMD every 50 ms until it succeeds;
# false when TIMEOUT seconds passed first.
wait_until() {
	local deadline
	deadline=$(awk -v t="$(now)" -v d="$1" 'BEGIN { printf "%.3f", t + d }')
	shift
	until "$@"; do
		fless "$(now)" "$deadline" || return 1
		sleep 0.05
	done
}

# sig_ready PID: an init has set up its signal handling, so that a SIGTERM
# sent now is not dropped (PID 1 of a namespace drops a signal it neither
# blocks nor handles). sexton blocks SIGTERM from its first step (bit 14 of
# its main thread's SigBlk); an init with a handler catches it (SigCgt); one
# that waits in rt_sigtimedwait on its main thread, as tini does (syscall 128),
# shows the waited-for signals as unblocked while it waits.
sig_ready() {
	local blk cgt sc
	blk=$(awk '/^SigBlk:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
	cgt=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
	[[ -n $blk && -n $cgt ]] || return 1
	(((0x$blk | 0x$cgt) & 0x4000)) && return 0
	{ read -r sc _ <"/proc/$1/syscall"; } 2>/dev/null || return 1
	[[ $sc == 128 ]]
}

# has_child_comm PID NAME: PID has a child process whose comm is NAME.
has_child_comm() {
	cat /proc/[0-9]*/status 2>/dev/null |
		awk -v p="$1" -v n="$2" '/^Name:/ { name = $2 }
			/^PPid:/ && $2 == p && name == n { found = 1 }
			END { exit !found }'
}

# mounts_below DIR: mount points at or below DIR, deepest first
mounts_below() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r
}

# zombie_lines: the lines of a states.sh listing in state Z
zombie_lines() { awk '$3 == "Z"' <<<"$1"; }
is_file() { [[ -e $1 ]]; }
pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# ---------------------------------------------------------------- cleanup --

T=""
DOCKER=docker
DOCKERD_PID=""
RUNC_ROOT=""
RUNC_BG_PIDS=()
CG=""
PRE_KEYJSON=1
PRE_RUN_DOCKER=1
PRE_RUN_CONTAINERD=1
CLEANED=0

kill_pid() { # kill_pid PID TIMEOUT: TERM, wait, then KILL
	local pid=$1
	[[ -n $pid ]] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	wait_until "$2" pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null
	wait_until 5 pid_gone "$pid"
}

cleanup() {
	local rc=$? id pid f m c
	set +e
	[[ $CLEANED == 1 ]] && return
	CLEANED=1
	[[ $rc != 0 && $DIED == 0 ]] && {
		FAILED=$((FAILED + 1))
		FAILED_NAMES+=("suite aborted (exit $rc)")
		printf 'FAIL: the suite aborted with exit status %s\n' "$rc"
	}
	if [[ -n $T ]]; then
		log "cleanup"
		# runc containers, and `runc run` processes left in the background
		if [[ -n $RUNC_ROOT && -d $RUNC_ROOT ]]; then
			for id in $(runc --root "$RUNC_ROOT" list -q 2>/dev/null); do
				runc --root "$RUNC_ROOT" delete -f "$id" >/dev/null 2>&1
			done
		fi
		for pid in "${RUNC_BG_PIDS[@]}"; do kill_pid "$pid" 2; done
		# the private dockerd: its containers, image, then itself (it stops
		# the containerd it started)
		if [[ -n $DOCKERD_PID ]] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
			for id in $(timeout 30 "$DOCKER" ps -aq 2>/dev/null); do
				timeout 30 "$DOCKER" rm -f "$id" >/dev/null 2>&1
			done
			timeout 30 "$DOCKER" rmi -f sexton-e2e:busybox >/dev/null 2>&1
			kill_pid "$DOCKERD_PID" 20
		fi
		f=$T/docker/exec/containerd/containerd.pid
		[[ -s $f ]] && kill_pid "$(cat "$f")" 10
		# anything still running from our temp dir (containerd shims, ...)
		for f in /proc/[0-9]*/cmdline; do
			pid=${f#/proc/}
			pid=${pid%/cmdline}
			[[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
			if { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qF "$T/"; then
				kill -KILL "$pid" 2>/dev/null
			fi
		done
		# mounts below the temp dir, deepest first
		mounts_below "$T" | while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		done
		# cgroups of our containers
		if [[ -n $CG ]]; then
			for c in /sys/fs/cgroup/*/"$CG" /sys/fs/cgroup/"$CG"; do
				[[ -d $c ]] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
			done
		fi
		if [[ ${SEXTON_E2E_KEEP:-0} == 1 ]]; then
			log "kept $T"
		elif [[ -n $(mounts_below "$T") ]]; then
			FAILED=$((FAILED + 1))
			FAILED_NAMES+=("cleanup: mounts left below $T")
			printf 'FAIL: cleanup: mounts left below %s, not removing it\n' "$T"
		else
			rm -rf --one-file-system "$T"
		fi
		# what dockerd/containerd create outside their roots
		[[ $PRE_KEYJSON == 0 ]] && rm -f /etc/docker/key.json
		[[ $PRE_RUN_DOCKER == 0 ]] && rmdir /run/docker/plugins /run/docker 2>/dev/null
		[[ $PRE_RUN_CONTAINERD == 0 ]] && rmdir /run/containerd/s /run/containerd 2>/dev/null
	fi
	log "finished in $(secs_since "$START") s"
	if ((FAILED > 0)); then
		printf 'failed checks:\n' >&2
		printf '  %s\n' "${FAILED_NAMES[@]}" >&2
	fi
	if ((SKIPPED > 0)); then
		printf '%d passed, %d failed, %d skipped\n' "$PASSED" "$FAILED" "$SKIPPED"
	else
		printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	fi
	((FAILED == 0)) || exit 1
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ setup --

[[ $(id -u) == 0 ]] || die "tests/e2e/run.sh must run as root (runc, dockerd)"
[[ $(uname -m) == x86_64 ]] || die "tests/e2e/run.sh expects x86_64, not $(uname -m)"

install_missing() {
	local need=()
	command -v runc >/dev/null || need+=(runc)
	dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' &&
		[[ -x /bin/busybox ]] || need+=(busybox-static)
	{ command -v dockerd && command -v containerd && command -v docker; } >/dev/null ||
		need+=(docker.io)
	[[ -x $PY ]] && "$PY" -c 'import yaml' 2>/dev/null || need+=(python3-yaml)
	((${#need[@]})) || return 0
	log "installing: ${need[*]}"
	# keep the packages' maintainer scripts from starting a system dockerd
	local policy=0
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		policy=1
	fi
	local ok=1
	DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2 || ok=0
	[[ $policy == 1 ]] && rm -f /usr/sbin/policy-rc.d
	[[ $ok == 1 ]] || die "apt-get install ${need[*]} failed"
}
install_missing
for cmd in runc dockerd containerd docker timeout; do
	command -v "$cmd" >/dev/null || die "$cmd not found after installing packages"
done
# the client of docker.io, which matches its dockerd, before any other one
DOCKER=/usr/bin/docker
[[ -x $DOCKER ]] || DOCKER=$(command -v docker)

if [[ -n ${SEXTON_E2E_INIT:-} ]]; then
	INIT=$(readlink -f "$SEXTON_E2E_INIT")
	[[ -x $INIT ]] || die "SEXTON_E2E_INIT=$SEXTON_E2E_INIT is not an executable file"
	log "using stand-in init $INIT (SEXTON_E2E_INIT); not building sexton"
else
	rustup target list --installed 2>/dev/null | grep -qx "$TARGET" || {
		log "rustup target add $TARGET"
		rustup target add "$TARGET" >&2 || die "rustup target add $TARGET failed"
	}
	log "cargo build --release --target $TARGET"
	(cd "$REPO" && cargo build --release --target "$TARGET" >&2) ||
		die "cargo build --release --target $TARGET failed"
	TARGET_DIR=${CARGO_TARGET_DIR:-target}
	[[ $TARGET_DIR == /* ]] || TARGET_DIR=$REPO/$TARGET_DIR
	INIT=$TARGET_DIR/$TARGET/release/sexton
	[[ -x $INIT ]] || die "no binary at $INIT after the build"
fi
INIT_NAME=$(basename "$INIT")
INIT_SHA=$(sha256sum "$INIT" | cut -d' ' -f1)

T=$(mktemp -d "${SEXTON_E2E_TMPDIR:-/tmp}/sexton-e2e.XXXXXX")
chmod 755 "$T"
CG=sexton-e2e-${T##*.}
OUT=$T/out
mkdir -p "$OUT"
log "temp dir $T"

# ----------------------------------------------------------------- rootfs --

ROOTFS=$T/rootfs
log "building the busybox rootfs"
mkdir -p "$ROOTFS"/{bin,sbin,etc,proc,dev,sys,tmp,out,e2e,root}
chmod 1777 "$ROOTFS/tmp"
cp /bin/busybox "$ROOTFS/bin/busybox"
for applet in $(/bin/busybox --list); do
	[[ $applet == busybox || -e $ROOTFS/bin/$applet ]] || ln -s busybox "$ROOTFS/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOTFS/etc/passwd"
printf 'root:x:0:\n' >"$ROOTFS/etc/group"
install -m 0755 "$INIT" "$ROOTFS/sbin/sexton"
install -m 0755 "$E2E_DIR"/scripts/*.sh "$ROOTFS/e2e/"
printf 'echo not executable\n' >"$ROOTFS/e2e/not-executable"
chmod 0644 "$ROOTFS/e2e/not-executable"

VERSION_OUT=$(chroot "$ROOTFS" /sbin/sexton --version 2>&1) ||
	die "$INIT cannot run inside the busybox rootfs (not a static binary?): $VERSION_OUT"
IS_SEXTON=0
[[ $VERSION_OUT == sexton* ]] && IS_SEXTON=1
if [[ -z ${SEXTON_E2E_INIT:-} && $IS_SEXTON == 0 ]]; then
	die "$INIT --version printed '$VERSION_OUT', expected 'sexton ...'"
fi
log "init: $INIT ($VERSION_OUT)"
SHOWN_NAME=sexton
[[ $IS_SEXTON == 1 ]] || SHOWN_NAME=$INIT_NAME

# ------------------------------------------------------------------- runc --

RUNC_ROOT=$T/runc-state
TEMPLATE=$T/runc-template
mkdir -p "$RUNC_ROOT" "$TEMPLATE" "$T/bundles"
runc spec --bundle "$TEMPLATE" || die "runc spec failed"

# make_bundle ID ARG...: a bundle for container ID running ARG... as PID 1
make_bundle() {
	local id=$1
	shift
	mkdir -p "$T/bundles/$id"
	"$PY" - "$TEMPLATE/config.json" "$T/bundles/$id/config.json" "$ROOTFS" "$OUT" \
		"/$CG/$id" "$@" <<'EOF'
import json, sys
src, dst, rootfs, out, cgroup, *args = sys.argv[1:]
with open(src) as f:
    c = json.load(f)
c["process"]["terminal"] = False
c["process"]["args"] = args
c["root"] = {"path": rootfs, "readonly": True}
c["hostname"] = "sexton-e2e"
c["mounts"].append({"destination": "/out", "type": "bind", "source": out,
                    "options": ["rbind", "rw"]})
c["linux"]["cgroupsPath"] = cgroup
with open(dst, "w") as f:
    json.dump(c, f, indent=1)
EOF
}

RUNC_RC=0
RUNC_TIME=0
# runc_fg ID ARG...: run a container in the foreground (at most 30 s);
# sets RUNC_RC, RUNC_TIME and writes its output to $T/ID.log
runc_fg() {
	local id=$1 t0
	shift
	make_bundle "$id" "$@"
	t0=$(now)
	RUNC_RC=0
	timeout -s KILL 30 runc --root "$RUNC_ROOT" run --bundle "$T/bundles/$id" "$id" \
		</dev/null >"$T/$id.log" 2>&1 || RUNC_RC=$?
	RUNC_TIME=$(secs_since "$t0")
	runc --root "$RUNC_ROOT" delete -f "$id" >/dev/null 2>&1 || true
}

RUNC_PID=""
RUNC_ID=""
# runc_bg ID ARG...: start `runc run` in the background; sets RUNC_PID, RUNC_ID
runc_bg() {
	RUNC_ID=$1
	shift
	make_bundle "$RUNC_ID" "$@"
	runc --root "$RUNC_ROOT" run --bundle "$T/bundles/$RUNC_ID" "$RUNC_ID" \
		</dev/null >"$T/$RUNC_ID.log" 2>&1 &
	RUNC_PID=$!
	RUNC_BG_PIDS+=("$RUNC_PID")
}

# runc_init_pid ID: host PID of the container's init once it is running
runc_running() {
	runc --root "$RUNC_ROOT" state "$1" 2>/dev/null | grep -q '"status": "running"'
}
runc_init_pid() {
	runc --root "$RUNC_ROOT" state "$1" 2>/dev/null |
		"$PY" -c 'import json, sys; print(json.load(sys.stdin)["pid"])'
}

# runc_bg_wait TIMEOUT: wait for the background `runc run` to end; RUNC_RC.
# Past TIMEOUT, the container and the `runc run` client are killed. Either way
# the container is deleted, as runc_fg does.
runc_bg_wait() {
	local rc=0
	RUNC_RC=0
	if wait_until "$1" pid_gone "$RUNC_PID"; then
		wait "$RUNC_PID" || RUNC_RC=$?
	else
		runc --root "$RUNC_ROOT" kill "$RUNC_ID" KILL >/dev/null 2>&1
		kill -KILL "$RUNC_PID" 2>/dev/null
		wait "$RUNC_PID" 2>/dev/null || true
		RUNC_RC=timeout
		rc=1
	fi
	runc --root "$RUNC_ROOT" delete -f "$RUNC_ID" >/dev/null 2>&1 || true
	return $rc
}

# runc_term TIMEOUT: once the background container's init is ready for it
# (sig_ready), `runc kill ID TERM`, then runc_bg_wait TIMEOUT.
runc_term() {
	local pid
	pid=$(runc_init_pid "$RUNC_ID") && wait_until 5 sig_ready "$pid" ||
		why "the init never blocked or caught SIGTERM"
	runc --root "$RUNC_ROOT" kill "$RUNC_ID" TERM || why "runc kill failed"
	runc_bg_wait "$1" || why "container still running $1 s after runc kill TERM"
}

log "runc: smoke test"
runc_fg smoke /bin/true
[[ $RUNC_RC == 0 ]] ||
	die "runc cannot run a container here (runc run exited $RUNC_RC): $(tail -5 "$T/smoke.log")"

c_runc_exit_code() {
	runc_fg exit7 /sbin/sexton -- sh -c 'exit 7'
	[[ $RUNC_RC == 7 ]] || why "runc run exited $RUNC_RC, want 7; output: $(cat "$T/exit7.log")"
}

c_runc_exec_errors() {
	runc_fg nf /sbin/sexton -- /no/such/command
	[[ $RUNC_RC == 127 ]] || why "command not found: exit $RUNC_RC, want 127 ($(head -c 300 "$T/nf.log"))"
	runc_fg nx /sbin/sexton -- /e2e/not-executable
	[[ $RUNC_RC == 126 ]] || why "not executable: exit $RUNC_RC, want 126 ($(head -c 300 "$T/nx.log"))"
	[[ -z $WHY ]]
}

c_runc_zombies() {
	local out z
	runc_fg zomb /sbin/sexton -- /e2e/zombies.sh 10
	out=$(cat "$T/zomb.log")
	[[ $RUNC_RC == 0 ]] || why "exit $RUNC_RC, want 0"
	grep -q '^1 (sexton) ' <<<"$out" || why "PID 1 is not sexton: $(grep '^1 ' <<<"$out")"
	z=$(zombie_lines "$out")
	[[ -z $z ]] || why "zombies inside the container: $(tr '\n' '|' <<<"$z")"
	[[ -z $WHY ]]
}

c_runc_kill_term() {
	runc_bg term /sbin/sexton -- /e2e/trap.sh term 42
	wait_until 10 is_file "$OUT/term.ready" || {
		runc_bg_wait 0.1
		why "the trapping child did not start: $(cat "$T/term.log")"
		return 1
	}
	runc_term 10
	[[ $RUNC_RC == 42 ]] || why "runc run exited $RUNC_RC, want 42; output: $(cat "$T/term.log")"
	[[ -z $WHY ]]
}

c_runc_leftovers() {
	runc_fg left /sbin/sexton -- /e2e/leftovers.sh left sh -c 'exit 5'
	[[ $RUNC_RC == 5 ]] || why "runc run exited $RUNC_RC, want 5; output: $(cat "$T/left.log")"
	[[ -e $OUT/left.group ]] || why "background process in the main group got no SIGTERM"
	[[ -e $OUT/left.setsid ]] || why "process outside the group (setsid) got no SIGTERM"
	fless "$RUNC_TIME" 4 || why "took ${RUNC_TIME}s (default grace is 5 s; TERMed leftovers exit at once)"
	log "runc run took ${RUNC_TIME}s, exit $RUNC_RC, /out: $(cd "$OUT" && echo left.*)"
	[[ -z $WHY ]]
}

c_runc_grace() {
	runc_fg grace /sbin/sexton --grace 1 -- /e2e/stubborn.sh
	[[ $RUNC_RC == 0 ]] || why "runc run exited $RUNC_RC, want 0; output: $(cat "$T/grace.log")"
	[[ -e $OUT/stubborn.ready ]] || why "the TERM-ignoring helper never started"
	fless 0.8 "$RUNC_TIME" && fless "$RUNC_TIME" 4 ||
		why "took ${RUNC_TIME}s, want about 1 s (SIGKILL after --grace 1)"
	log "runc run took ${RUNC_TIME}s, exit $RUNC_RC"
	[[ -z $WHY ]]
}

c_runc_pause() {
	runc_bg pause /sbin/sexton --pause
	wait_until 10 runc_running pause || why "container did not start"
	runc_term 5
	[[ $RUNC_RC == 0 ]] || why "runc run exited $RUNC_RC, want 0; output: $(cat "$T/pause.log")"
	[[ -z $WHY ]]
}

check "runc: exit code of the command passes through (sh -c 'exit 7' -> 7)" c_runc_exit_code
check "runc: exec errors give 127 (not found) and 126 (not executable)" c_runc_exec_errors
check "runc: orphans are reaped, no zombie left in the container" c_runc_zombies
check "runc: runc kill TERM reaches a trapping child (exit 42)" c_runc_kill_term
check "runc: after the main child exits, leftovers (in group and setsid) get SIGTERM" c_runc_leftovers
if [[ $IS_SEXTON == 1 ]]; then
	check "runc: --grace 1 SIGKILLs a leftover that ignores SIGTERM after ~1 s" c_runc_grace
	check "runc: --pause exits 0 on runc kill TERM" c_runc_pause
else
	skip "runc: --grace" "stand-in init $INIT_NAME"
	skip "runc: --pause" "stand-in init $INIT_NAME"
fi

# ----------------------------------------------------------------- docker --

DOCKER_ROOT=$T/docker
mkdir -p "$DOCKER_ROOT/data" "$DOCKER_ROOT/exec" "$T/docker-config"
export DOCKER_HOST=unix://$DOCKER_ROOT/docker.sock
export DOCKER_CONFIG=$T/docker-config
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
[[ -e /etc/docker/key.json ]] || PRE_KEYJSON=0
[[ -e /run/docker ]] || PRE_RUN_DOCKER=0
[[ -e /run/containerd ]] || PRE_RUN_CONTAINERD=0

DOCKERD_FLAGS=(
	--data-root "$DOCKER_ROOT/data"
	--exec-root "$DOCKER_ROOT/exec"
	--pidfile "$DOCKER_ROOT/dockerd.pid"
	-H "$DOCKER_HOST"
	--iptables=false --ip6tables=false --ip-forward=false --ip-masq=false
	--bridge=none
	--storage-driver "${SEXTON_E2E_STORAGE_DRIVER:-vfs}"
	--cgroup-parent "/$CG"
	--init-path "$INIT"
	--log-level warn
)
log "starting a private dockerd: dockerd ${DOCKERD_FLAGS[*]}"
dockerd "${DOCKERD_FLAGS[@]}" >"$T/dockerd.log" 2>&1 &
DOCKERD_PID=$!
docker_up() {
	kill -0 "$DOCKERD_PID" 2>/dev/null || return 0 # stop waiting: it died
	timeout 5 "$DOCKER" version >/dev/null 2>&1
}
wait_until 60 docker_up && kill -0 "$DOCKERD_PID" 2>/dev/null ||
	die "the private dockerd did not start; last lines of its log:
$(tail -15 "$T/dockerd.log")"
log "dockerd is up (pid $DOCKERD_PID, client $DOCKER, server $("$DOCKER" version -f '{{.Server.Version}}' 2>/dev/null))"

IMG=sexton-e2e:busybox
tar -C "$ROOTFS" -c . | timeout 60 "$DOCKER" import - "$IMG" >/dev/null ||
	die "docker import of the busybox rootfs failed"

dk() { timeout 60 "$DOCKER" "$@"; }
DRUN=(run --network none --label sexton-e2e=1)

# docker_exit CID: the container's exit code
docker_exit() { dk inspect -f '{{.State.ExitCode}}' "$1"; }
docker_pid() { dk inspect -f '{{.State.Pid}}' "$1"; }

c_docker_smoke() {
	local out rc=0
	out=$(dk "${DRUN[@]}" --rm "$IMG" echo hello 2>&1) || rc=$?
	[[ $rc == 0 && $out == hello ]] || why "docker run echo hello: exit $rc, output: $out"
}

c_docker_init_is_ours() {
	local out rc=0 cmdline sha ver
	# shellcheck disable=SC2016 # expanded inside the container
	out=$(dk "${DRUN[@]}" --rm --init "$IMG" sh -c 'echo "cmdline=$(tr "\0" " " </proc/1/cmdline)"; echo "sha=$(sha256sum /sbin/docker-init | cut -d" " -f1)"; echo "version=$(/sbin/docker-init --version 2>&1 | head -1)"' 2>&1) || rc=$?
	[[ $rc == 0 ]] || why "docker run exited $rc: $out"
	cmdline=$(sed -n 's/^cmdline=//p' <<<"$out")
	sha=$(sed -n 's/^sha=//p' <<<"$out")
	ver=$(sed -n 's/^version=//p' <<<"$out")
	[[ $cmdline == "/sbin/docker-init -- sh -c "* ]] || why "PID 1 is '$cmdline', want /sbin/docker-init -- sh -c ..."
	[[ $sha == "$INIT_SHA" ]] || why "/sbin/docker-init sha256 $sha is not $INIT's ($INIT_SHA)"
	[[ $ver == "$VERSION_OUT" ]] || why "/sbin/docker-init --version printed '$ver', want '$VERSION_OUT'"
	if [[ $IS_SEXTON == 1 ]]; then
		[[ $ver == sexton* ]] || why "/sbin/docker-init --version does not say sexton: '$ver'"
	fi
	[[ -z $WHY ]] && log "PID 1: $cmdline; --version: $ver"
	[[ -z $WHY ]]
}

c_docker_exit_code() {
	local rc=0
	dk "${DRUN[@]}" --rm --init "$IMG" sh -c 'exit 3' || rc=$?
	[[ $rc == 3 ]] || why "docker run exited $rc, want 3"
}

c_docker_signal_exit() {
	local rc=0
	dk "${DRUN[@]}" --rm --init "$IMG" sh -c 'kill -KILL $$' || rc=$?
	[[ $rc == 137 ]] || why "docker run exited $rc, want 137 (128 + SIGKILL)"
}

# zombies_in CID N: poll `docker exec CID states.sh` until none of the N
# orphaned sleeps is running any more; sets LISTING
LISTING=""
sleeps_done() {
	LISTING=$(dk exec "$1" /e2e/states.sh 2>&1) || return 1
	# only the main `sleep 30` may still be running
	[[ $(awk '$2 == "(sleep)" && $3 != "Z"' <<<"$LISTING" | wc -l) -le 1 ]]
}

c_docker_zombies_control() {
	local cid z
	cid=$(dk "${DRUN[@]}" -d "$IMG" /e2e/orphans-then-exec.sh 10 sleep 30) ||
		{ why "docker run failed"; return 1; }
	wait_until 10 sleeps_done "$cid" || why "orphaned sleeps still running after 10 s"
	z=$(zombie_lines "$LISTING" | grep -c '(sleep)')
	dk rm -f "$cid" >/dev/null 2>&1
	[[ $z -ge 10 ]] || why "want 10 zombie sleeps without an init (control), saw $z: $(tr '\n' '|' <<<"$LISTING")"
	[[ -z $WHY ]] && log "control without init: $z zombies"
	[[ -z $WHY ]]
}

c_docker_zombies_init() {
	local cid z
	cid=$(dk "${DRUN[@]}" -d --init "$IMG" /e2e/orphans-then-exec.sh 10 sleep 30) ||
		{ why "docker run failed"; return 1; }
	wait_until 10 sleeps_done "$cid" || why "orphaned sleeps still running after 10 s"
	z=$(zombie_lines "$LISTING")
	dk rm -f "$cid" >/dev/null 2>&1
	grep -q '^1 (docker-init) ' <<<"$LISTING" || why "PID 1 is not docker-init: $(grep '^1 ' <<<"$LISTING")"
	[[ -z $z ]] || why "zombies with --init: $(tr '\n' '|' <<<"$z")"
	[[ -z $WHY ]]
}

STOP_INIT_TIME="" STOP_INIT_EXIT="" STOP_NOINIT_TIME="" STOP_NOINIT_EXIT=""

c_docker_stop_init() {
	local cid pid t0
	cid=$(dk "${DRUN[@]}" -d --init "$IMG" sleep 1000) || { why "docker run failed"; return 1; }
	pid=$(docker_pid "$cid")
	wait_until 10 sig_ready "$pid" || why "the init never blocked or caught SIGTERM"
	wait_until 10 has_child_comm "$pid" sleep || why "the init has no sleep child"
	t0=$(now)
	dk stop -t 10 "$cid" >/dev/null || why "docker stop failed"
	STOP_INIT_TIME=$(secs_since "$t0")
	STOP_INIT_EXIT=$(docker_exit "$cid")
	dk rm -f "$cid" >/dev/null 2>&1
	[[ $STOP_INIT_EXIT == 143 ]] || why "exit code $STOP_INIT_EXIT, want 143"
	fless "$STOP_INIT_TIME" 2 || why "docker stop took ${STOP_INIT_TIME}s, want well under 2 s"
	[[ -z $WHY ]]
}

c_docker_stop_noinit() {
	local cid t0
	cid=$(dk "${DRUN[@]}" -d "$IMG" sleep 1000) || { why "docker run failed"; return 1; }
	t0=$(now)
	dk stop -t 10 "$cid" >/dev/null || why "docker stop failed"
	STOP_NOINIT_TIME=$(secs_since "$t0")
	STOP_NOINIT_EXIT=$(docker_exit "$cid")
	dk rm -f "$cid" >/dev/null 2>&1
	[[ $STOP_NOINIT_EXIT == 137 ]] || why "exit code $STOP_NOINIT_EXIT, want 137"
	fless 9 "$STOP_NOINIT_TIME" || why "took ${STOP_NOINIT_TIME}s, want the full ~10 s timeout"
	[[ -z $WHY ]]
}

DSTOP_CID=""
DSTOP_EXIT=""
DSTOP_TIME=""
docker_stop_leftovers() { # runs once, for the two checks below
	local rc=0
	DSTOP_CID=$(dk "${DRUN[@]}" -d --init -v "$OUT:/out" "$IMG" \
		/e2e/leftovers.sh dstop sleep 1000) || return 1
	docker_stop_dstop || rc=1
	dk rm -f "$DSTOP_CID" >/dev/null 2>&1
	return $rc
}
docker_stop_dstop() {
	local t0 pid
	wait_until 10 is_file "$OUT/dstop.setsid.ready" &&
		wait_until 10 is_file "$OUT/dstop.group.ready" || return 1
	pid=$(docker_pid "$DSTOP_CID")
	wait_until 10 sig_ready "$pid" || true
	wait_until 10 has_child_comm "$pid" sleep || true
	t0=$(now)
	dk stop -t 10 "$DSTOP_CID" >/dev/null || return 1
	DSTOP_TIME=$(secs_since "$t0")
	DSTOP_EXIT=$(docker_exit "$DSTOP_CID")
	log "docker stop of leftovers.sh: ${DSTOP_TIME}s, exit $DSTOP_EXIT, /out: $(cd "$OUT" && echo dstop*)"
}

c_docker_stop_group() {
	docker_stop_leftovers || why "container did not start or stop: $(dk logs "$DSTOP_CID" 2>&1 | tail -3)"
	[[ -e $OUT/dstop.group ]] || why "the background subshell in the main child's group got no SIGTERM"
	[[ $DSTOP_EXIT == 143 ]] || why "exit code $DSTOP_EXIT, want 143"
	fless "${DSTOP_TIME:-99}" 5 || why "docker stop took ${DSTOP_TIME}s"
	[[ -z $WHY ]]
}

c_docker_stop_setsid() {
	[[ -n $DSTOP_TIME ]] || why "the previous check could not run the container"
	[[ -e $OUT/dstop.setsid ]] || why "the process that left the group with setsid got no SIGTERM before the container ended"
	[[ -z $WHY ]]
}

check "docker: a container runs in the private engine" c_docker_smoke
check "docker: run --init makes our binary PID 1 (/sbin/docker-init)" c_docker_init_is_ours
check "docker: exit code passes through with --init (sh -c 'exit 3' -> 3)" c_docker_exit_code
check "docker: death by signal gives 128+N with --init (SIGKILL -> 137)" c_docker_signal_exit
check "docker: control: without an init, orphans stay zombies" c_docker_zombies_control
check "docker: with --init, orphans are reaped" c_docker_zombies_init
check "docker: stop of 'sleep 1000' with --init is fast and exits 143" c_docker_stop_init
check "docker: stop of 'sleep 1000' without an init takes the 10 s timeout (137)" c_docker_stop_noinit
printf 'docker stop: with %s %s s (exit %s), without init %s s (exit %s)\n' \
	"$SHOWN_NAME" "${STOP_INIT_TIME:-?}" "${STOP_INIT_EXIT:-?}" \
	"${STOP_NOINIT_TIME:-?}" "${STOP_NOINIT_EXIT:-?}"
check "docker: stop sends SIGTERM to a background process in the main group" c_docker_stop_group
check "docker: stop sends SIGTERM to a leftover outside the group (setsid) before the end" c_docker_stop_setsid

# ------------------------------------------------------------- kubernetes --

c_kubernetes_yaml() {
	local out
	out=$("$PY" - "$E2E_DIR/kubernetes.yaml" 2>&1 <<'EOF'
import sys, yaml

docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]
errors = []
def err(msg):
    errors.append(msg)

def grace_of(c):
    cmd = c.get("command", [])
    for i, a in enumerate(cmd):
        if a == "--":
            break
        if a in ("--grace", "-t") and i + 1 < len(cmd):
            return float(cmd[i + 1])
        if a.startswith("--grace="):
            return float(a.split("=", 1)[1])
    for e in c.get("env", []) or []:
        if e.get("name") == "SEXTON_GRACE":
            return float(e["value"])
    return 5.0  # sexton's default

if len(docs) < 2:
    err(f"want at least 2 documents, got {len(docs)}")
graced = shared = False
for d in docs:
    name = d.get("metadata", {}).get("name", "?")
    if d.get("apiVersion") != "v1" or d.get("kind") != "Pod":
        err(f"{name}: not a v1 Pod")
        continue
    spec = d.get("spec") or {}
    containers = spec.get("containers") or []
    if not containers:
        err(f"{name}: no containers")
    for c in containers:
        cmd = c.get("command") or []
        if not cmd or cmd[0] != "/sbin/sexton":
            err(f"{name}/{c.get('name')}: command[0] is not /sbin/sexton: {cmd}")
        elif cmd != ["/sbin/sexton", "--pause"]:
            if "--" not in cmd:
                err(f"{name}/{c.get('name')}: no '--' before the program: {cmd}")
            elif cmd.index("--") == len(cmd) - 1 and not c.get("args"):
                err(f"{name}/{c.get('name')}: no program after '--'")
        tgps = spec.get("terminationGracePeriodSeconds", 30)
        if "--pause" not in cmd:
            g = grace_of(c)
            if not tgps > g:
                err(f"{name}: terminationGracePeriodSeconds {tgps} <= sexton grace {g}")
            elif "terminationGracePeriodSeconds" in spec and g != 5.0:
                graced = True
    if spec.get("shareProcessNamespace") is True:
        if containers and containers[0].get("command") == ["/sbin/sexton", "--pause"]:
            shared = True
        else:
            err(f"{name}: shareProcessNamespace pod whose first container is not /sbin/sexton --pause")
if not graced:
    err("no pod sets terminationGracePeriodSeconds above an explicit sexton --grace")
if not shared:
    err("no pod with shareProcessNamespace: true and a first container running /sbin/sexton --pause")
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
EOF
) || why "$out"
}
check "kubernetes.yaml: valid YAML, Pods whose containers run /sbin/sexton" c_kubernetes_yaml

log "all checks done"
