#!/bin/bash
# bench/enriched_cpu.sh - rauditd's CPU per record, log_format = raw then
# enriched, on the real kernel under the same unpaced flood (audit_load:
# 2 processes of uid 65534 calling getsid, audited by a rule on their
# parent's pid), with the records kept and dropped. CPU is the daemon's
# utime + stime (/proc/PID/stat) just before it is stopped, divided by the
# records it wrote. Holds the kernel test lock; kernel state is restored.
#
# usage: top_builddir=_b top_srcdir=. bench/enriched_cpu.sh [EVENTS] [RUNS]
set -u
: "${top_builddir:=$(pwd)/_b}" "${top_srcdir:=$(pwd)}"
export top_builddir top_srcdir
. "$top_srcdir/tests/integration/lib.sh"

EVENTS=${1:-200000}
RUNS=${2:-1}
require_root
make_work
KEY="rauditd_ecpu_$$"
trap 'kernel_restore; cleanup_work' EXIT
trap 'exit 1' INT TERM
kernel_save
HZ=$(getconf CLK_TCK)

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

for run in $(seq "$RUNS"); do
	for fmt in raw enriched; do
		rm -rf "$WORK/spool" "$WORK/run"
		: >"$WORK/rauditd.log"
		kernel_conf "log_format = $fmt" "segment_size = 64M" "num_segments = 0"
		start_rauditd "$WORK/rauditd.conf"
		wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log"; fail "rauditd did not register"; }
		t0=$(cpu_ticks "$RPID")
		load_prepare "$EVENTS" 2
		load_go
		rule_del_all
		# Bounded wait for the records to reach the spool.
		wait_for 30 sh -c "[ \$(cat '$WORK'/spool/*.log | grep -c 'key=\"$KEY\"') -ge $EVENTS ]" || true
		t1=$(cpu_ticks "$RPID")
		stop_rauditd 60
		written=$(stop_counter written)
		ring=$(stop_counter ring_full)
		kept=$(spool_serials "$WORK/spool")
		rate=$(load_field rate)
		awk -v f="$fmt" -v t="$((t1 - t0))" -v hz="$HZ" -v w="$written" -v k="$kept" \
		    -v e="$EVENTS" -v r="$ring" -v c="$rate" 'BEGIN {
			printf "%-8s run %d: %.2f us CPU/record (%.2f s for %d records), kept %d/%d events (%.1f %%), ring_full %s, load %s calls/s\n",
			    f, '"$run"', t / hz * 1e6 / w, t / hz, w, k, e, 100 * k / e, r, c }'
	done
done
