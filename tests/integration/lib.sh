# lib.sh - shared helpers for the integration tests (sourced, bash).
#
# Every test that touches kernel audit state calls kernel_save first and
# installs kernel_restore in its trap, so rules, pid registration, enabled,
# backlog_limit and backlog_wait_time are put back on every exit path.
# Processes are stopped only by the PIDs the test started.

: "${top_builddir:?top_builddir must be set}"
: "${top_srcdir:?top_srcdir must be set}"

RAUDITD="$top_builddir/rauditd"
AUDIT_LOAD="$top_builddir/tests/helpers/audit_load"
FAKE_KERNEL="$top_builddir/tests/helpers/fake_kernel"

# Automake's convention: 77 means skipped, 99 a hard error.
SKIP=77

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
skip() { log "SKIP: $*"; exit $SKIP; }

# Root is needed for kernel audit. Without it we skip; as root under CI the
# test must run, so a missing capability is a failure there, not a skip.
require_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (CAP_AUDIT_CONTROL)"
	command -v auditctl >/dev/null 2>&1 ||
		{ [ "${CI:-}" = true ] && fail "auditctl missing (apt-get install auditd)"; skip "auditctl missing"; }
	if ! timeout 5 auditctl -s >/dev/null 2>&1; then
		[ "${CI:-}" = true ] && fail "kernel audit is not usable here"
		skip "kernel audit is not usable here"
	fi
	# One audit daemon per kernel: kernel tests take turns (make -j check).
	exec 9>"${TMPDIR:-/tmp}/rauditd-kernel-tests.lock"
	flock -w 900 9 || fail "timed out waiting for the kernel test lock"
}

kstat() { timeout 5 auditctl -s | awk -v k="$1" '$1 == k { print $2 }'; }

# Kernel state as found. The test aborts if audit is locked or another
# daemon holds the registration (we never take over a live daemon).
kernel_save() {
	K_ENABLED=$(kstat enabled)
	K_BACKLOG_LIMIT=$(kstat backlog_limit)
	K_WAIT=$(kstat backlog_wait_time)
	K_FAILURE=$(kstat failure)
	K_RATE=$(kstat rate_limit)
	[ "$K_ENABLED" = 2 ] && skip "kernel audit is locked (enabled 2)"
	local pid; pid=$(kstat pid)
	if [ -n "$pid" ] && [ "$pid" != 0 ] && [ -d "/proc/$pid" ]; then
		[ "${CI:-}" = true ] && fail "another audit daemon is registered: pid $pid ($(cat /proc/$pid/comm))"
		skip "another audit daemon is registered: pid $pid"
	fi
	K_RULES=()
}

# Add a rule and remember it for kernel_restore. Arguments as for auditctl -a.
rule_add() {
	timeout 5 auditctl -a "$@" >/dev/null || fail "auditctl -a $*"
	K_RULES+=("$*")
}

rule_del_all() {
	local r
	for r in "${K_RULES[@]}"; do
		# shellcheck disable=SC2086
		timeout 5 auditctl -d $r >/dev/null 2>&1 || true
	done
	K_RULES=()
}

kernel_restore() {
	rule_del_all
	[ -n "${K_ENABLED:-}" ] || return 0
	# A daemon of ours still running (the test failed midway): stop it by
	# pid. Once its socket is closed the kernel drops the registration at
	# its next delivery attempt.
	if [ -n "${RPID:-}" ] && kill -0 "$RPID" 2>/dev/null; then
		kill -TERM "$RPID" 2>/dev/null || true
		wait_for 15 not_running "$RPID" || kill -KILL "$RPID" 2>/dev/null || true
		wait "$RPID" 2>/dev/null || true
	fi
	timeout 5 auditctl -e "$K_ENABLED" >/dev/null 2>&1 || true
	timeout 5 auditctl -b "$K_BACKLOG_LIMIT" >/dev/null 2>&1 || true
	timeout 5 auditctl --backlog_wait_time "$K_WAIT" >/dev/null 2>&1 || true
	timeout 5 auditctl -f "$K_FAILURE" >/dev/null 2>&1 || true
	timeout 5 auditctl -r "$K_RATE" >/dev/null 2>&1 || true
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds; 1 on timeout.
wait_for() {
	local limit=$1; shift
	local end=$((SECONDS + limit))
	while ! "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.05
	done
	return 0
}

registered_as() { [ "$(kstat pid)" = "$1" ]; }
not_running() { ! kill -0 "$1" 2>/dev/null; }

# start_rauditd CONF [args...]: start in the foreground, log to $WORK/rauditd.log.
start_rauditd() {
	local conf=$1; shift
	"$RAUDITD" -f -c "$conf" "$@" >>"$WORK/rauditd.log" 2>&1 &
	RPID=$!
}

# sock_or_dead SOCK: the test-input socket is there, or our daemon died.
sock_or_dead() { [ -S "$1" ] || ! kill -0 "$RPID" 2>/dev/null; }

# start_rauditd_input CONF SOCK [ARGS...]: our daemon on a new test-input
# socket (the fake kernel's side), waited for (bounded) until it is there.
start_rauditd_input() {
	local conf=$1 sock=$2
	shift 2
	rm -f "$sock"
	start_rauditd "$conf" -T "$sock" "$@"
	wait_for 10 sock_or_dead "$sock" || fail "no test-input socket $sock after 10 s"
	kill -0 "$RPID" 2>/dev/null || { cat "$WORK/rauditd.log" >&2; fail "rauditd exited at start"; }
}

# stop_rauditd_ok [SECONDS]: stop our daemon, which must exit with 0.
stop_rauditd_ok() {
	stop_rauditd "${1:-30}"
	[ "$RSTATUS" = 0 ] || { tail -20 "$WORK/rauditd.log" >&2; fail "rauditd exited with $RSTATUS"; }
}

# stop_rauditd [SECONDS]: SIGTERM our daemon and wait; its status in RSTATUS.
stop_rauditd() {
	local limit=${1:-30}
	[ -n "${RPID:-}" ] || return 0
	kill -TERM "$RPID" 2>/dev/null || true
	local end=$((SECONDS + limit))
	while kill -0 "$RPID" 2>/dev/null; do
		if [ $SECONDS -ge $end ]; then
			kill -KILL "$RPID" 2>/dev/null
			wait "$RPID" 2>/dev/null
			RPID=
			fail "rauditd did not stop within $limit s"
		fi
		sleep 0.05
	done
	wait "$RPID"; RSTATUS=$?
	RPID=
}

# A work directory removed on exit.
make_work() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/rauditd-test.XXXXXX")
}

cleanup_work() {
	[ -n "${WORK:-}" ] && [ -d "$WORK" ] && rm -rf "$WORK"
}

# ---- audited load ---------------------------------------------------------

# load_prepare EVENTS PROCS [extra audit_load args...]: start audit_load
# waiting for the go signal, and add the rule that audits only its children
# (getsid, uid 65534, keyed $KEY). Sets LPID.
load_prepare() {
	local events=$1 procs=$2; shift 2
	"$AUDIT_LOAD" -w -n "$events" -p "$procs" -u 65534 "$@" >"$WORK/load.out" &
	LPID=$!
	wait_for 10 grep -q '^pid ' "$WORK/load.out" || fail "audit_load did not start"
	rule_add always,exit -F arch=b64 -S getsid -F ppid="$LPID" -k "$KEY"
}

# load_go: release the load; returns when it finished.
load_go() {
	kill -USR1 "$LPID"
	wait "$LPID" || fail "audit_load failed"
	LPID=
}

load_field() { awk -v k="$1" '/^calls/ { for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$WORK/load.out"; }

# spool_serials DIR: unique serials of the load's getsid events in DIR.
spool_serials() {
	cat "$1"/audit-*.log 2>/dev/null | grep '^type=SYSCALL ' | grep "key=\"$KEY\"" |
		sed -n 's/^type=SYSCALL msg=audit([0-9.]*:\([0-9]*\)).*/\1/p' | sort -u | wc -l
}

# counter NAME: a value from the daemon's stop line ("stopped: received N, ...").
stop_counter() {
	grep 'stopped: received' "$WORK/rauditd.log" | tail -1 |
		sed -n "s/.*[ ,]$1 \([0-9]*\)[,]*.*/\1/p"
}

# ---- faultfs: a disk that is slow, hangs or fails on command ----------------

FAULTFS="$top_builddir/tests/helpers/faultfs"

# Root mounts FUSE here. Without root we skip; as root under CI every piece
# must be present, so a missing one is a failure there, not a skip.
require_fuse() {
	[ "$(id -u)" = 0 ] || skip "needs root (mounts a FUSE filesystem)"
	local why=
	[ -c /dev/fuse ] || why="/dev/fuse missing"
	command -v fusermount3 >/dev/null 2>&1 || why="${why:+$why; }fusermount3 missing (apt-get install fuse3)"
	[ -x "$FAULTFS" ] || why="${why:+$why; }$FAULTFS not built (configure without libfuse3-dev?)"
	if [ -n "$why" ]; then
		[ "${CI:-}" = true ] && fail "$why"
		skip "$why"
	fi
}

is_mounted() { awk -v m="$MNT" '$2 == m { f = 1 } END { exit !f }' /proc/self/mounts; }
mounted_or_gone() { is_mounted || not_running "$FPID"; }

# ff_mode MODE...: replace the control file atomically (write, then rename),
# so faultfs never reads a half-written mode. In force on return.
ff_mode() { printf '%s\n' "$*" >"$CTL.tmp" && mv -f "$CTL.tmp" "$CTL"; }

# faultfs_mount: mirror $WORK/backing at $MNT (a new directory), control
# file $CTL. Sets FPID. Pair with faultfs_umount in the trap.
faultfs_mount() {
	MNT=$(mktemp -d "${TMPDIR:-/tmp}/faultfs-mnt.XXXXXX")
	CTL="$WORK/faultfs.control"
	mkdir -p "$WORK/backing"
	ff_mode ok
	"$FAULTFS" "$WORK/backing" "$MNT" -c "$CTL" -f >"$WORK/faultfs.log" 2>&1 &
	FPID=$!
	wait_for 10 mounted_or_gone || fail "faultfs did not mount within 10 s"
	is_mounted || { cat "$WORK/faultfs.log" >&2; fail "faultfs could not mount"; }
}

# Release anything hung, stop faultfs by pid, unmount, remove the mountpoint.
faultfs_umount() {
	[ -n "${CTL:-}" ] && [ -d "${CTL%/*}" ] && ff_mode ok 2>/dev/null
	if [ -n "${FPID:-}" ] && kill -0 "$FPID" 2>/dev/null; then
		kill -TERM "$FPID" 2>/dev/null
		wait_for 10 not_running "$FPID" || kill -KILL "$FPID" 2>/dev/null
		wait "$FPID" 2>/dev/null
	fi
	FPID=
	if [ -n "${MNT:-}" ] && [ -d "$MNT" ]; then
		is_mounted && timeout 10 fusermount3 -u -z "$MNT"
		is_mounted || rmdir "$MNT"
	fi
	MNT=
}

# kernel_conf [LINE...]: write $WORK/rauditd.conf for a real-kernel test:
# spool and run directory under $WORK, audit enabled and a production
# backlog_limit (both put back at stop), none of the host's rules (a test
# adds its own), then the given "key = value" lines.
kernel_conf() {
	{
		printf 'spool_dir = %s/spool\nrun_dir = %s/run\n' "$WORK" "$WORK"
		printf 'enable = yes\nbacklog_limit = 8192\nrules = none\n'
		[ $# -gt 0 ] && printf '%s\n' "$@"
	} >"$WORK/rauditd.conf"
}
