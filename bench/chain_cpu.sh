#!/bin/bash
# bench/chain_cpu.sh - rauditd's CPU per record written, for comparing two
# builds (the chain's digest on and off): no kernel, the fake kernel sends
# EVENTS events (2 records each, plus EOE) as fast as the daemon takes them
# (-T), with seal_key set (a key made by rauditctl keygen) and
# segment_size 64M. CPU is utime + stime (/proc/PID/task/TID/stat) spent
# until everything is written, divided by the records written: of the
# writer thread (the busiest thread but the main one, which receives), and
# of the whole daemon.
#
# usage: top_builddir=_b top_srcdir=. bench/chain_cpu.sh [EVENTS] [RUNS] [RAUDITD...]
#   each RAUDITD binary (default: the build's) is run RUNS times, interleaved.
set -u
: "${top_builddir:=$(pwd)/_b}" "${top_srcdir:=$(pwd)}"
export top_builddir top_srcdir
. "$top_srcdir/tests/integration/lib.sh"

EVENTS=${1:-200000}
RUNS=${2:-3}
shift 2 2>/dev/null || shift $#
BINS=("$@")
[ ${#BINS[@]} -gt 0 ] || BINS=("$RAUDITD")
make_work
RPID=
trap '[ -n "$RPID" ] && kill -TERM "$RPID" 2>/dev/null; cleanup_work' EXIT
trap 'exit 1' INT TERM
HZ=$(getconf CLK_TCK)
CTL=$top_builddir/rauditctl
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# tasks PID: "TID TICKS" for every thread but the main one.
tasks() { for t in /proc/"$1"/task/*; do [ "${t##*/}" = "$1" ] || echo "${t##*/} $(cpu_ticks "$1/task/${t##*/}")"; done; }
sock_there() { [ -S "$WORK/in.sock" ]; }
drained() { "$CTL" -c "$WORK/c" -s 2>/dev/null | grep -qx 'in_ring 0'; }

for run in $(seq "$RUNS"); do
	for bin in "${BINS[@]}"; do
		rm -rf "$WORK/spool" "$WORK/run" "$WORK/k" "$WORK/in.sock"
		mkdir -m 0700 "$WORK/spool" "$WORK/run"
		: >"$WORK/c"
		"$CTL" -c "$WORK/c" keygen "$WORK/k" "$WORK/spool" >/dev/null 2>&1 || fail "keygen"
		printf 'spool_dir = %s\nrun_dir = %s\nsegment_size = 64M\nring_size = 64M\nflush = incremental\nseal_key = %s\n' \
			"$WORK/spool" "$WORK/run" "$WORK/k" >"$WORK/c"
		: >"$WORK/rauditd.log"
		"$bin" -f -c "$WORK/c" -T "$WORK/in.sock" >>"$WORK/rauditd.log" 2>&1 &
		RPID=$!
		wait_for 10 sock_there || fail "no test-input socket"
		t0=$(cpu_ticks "$RPID"); tasks "$RPID" >"$WORK/tasks0"
		"$FAKE_KERNEL" -s "$WORK/in.sock" -n "$EVENTS" -S 1 >/dev/null || fail "fake_kernel"
		wait_for 120 drained || fail "not drained"
		t1=$(cpu_ticks "$RPID"); tasks "$RPID" >"$WORK/tasks1"
		w=$(awk 'NR == FNR { a[$1] = $2; next } { d = $2 - a[$1]; if (d > m) m = d } END { print m + 0 }' \
			"$WORK/tasks0" "$WORK/tasks1")
		kill -TERM "$RPID"; wait "$RPID"; RPID=
		recs=$(cat "$WORK"/spool/audit-*.log | grep -vc '^type=DAEMON_')
		awk -v b="$bin" -v r="$run" -v t=$((t1 - t0)) -v w="$w" -v hz="$HZ" -v n="$recs" 'BEGIN {
			printf "%s run %d: writer %.3f us CPU/record, daemon %.3f (%.2f s, %.2f s for %d records)\n",
			    b, r, w / hz / n * 1e6, t / hz / n * 1e6, w / hz, t / hz, n }'
	done
done
