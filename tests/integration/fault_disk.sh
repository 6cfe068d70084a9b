#!/bin/bash
# fault_disk.sh - rauditd's spool on a disk that is slow, hangs, or fails
# with EIO (faultfs), on the real kernel under an audited load. For each:
# every event that fit in the ring reaches the spool once the disk is back
# (the writer catches up by itself), the kernel's lost counter does not
# move, no audited call blocked, and the kernel's backlog_wait_time_actual
# grows by at most a small bound. Status queries keep answering while the
# writer is stuck inside a write.
set -u
. "$top_srcdir/tests/integration/lib.sh"

# Kernel ticks audited processes may spend waiting over a whole scenario
# (backlog_wait_time_actual): well under one tick per thousand events.
WAIT_BOUND=50

require_root
require_fuse
make_work
trap 'faultfs_umount; kernel_restore; cleanup_work' EXIT
trap 'exit 1' INT TERM
kernel_save

status() { "$top_builddir/rauditctl" -c "$WORK/rauditd.conf" -s; }
status_field() { status | awk -v k="$1" '$1 == k { print $2 }'; }

# scenario NAME EVENTS RATE FAULT SECONDS_BEFORE SECONDS_FAULTY [extra config]
scenario() {
	local name=$1 events=$2 rate=$3 fault=$4 before=$5 during=$6; shift 6
	KEY="rauditd_disk_${name}_$$"
	: >"$WORK/rauditd.log"
	faultfs_mount
	cat >"$WORK/rauditd.conf" <<-CONF
	spool_dir = $MNT/spool
	run_dir = $WORK/run
	rules = none
	enable = yes
	backlog_limit = 8192
	retry_interval = 100
	CONF
	printf '%s\n' "$@" >>"$WORK/rauditd.conf"
	start_rauditd "$WORK/rauditd.conf"
	wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log"; fail "$name: rauditd did not register"; }
	local lost0 wait0 lost1 wait1 got
	lost0=$(kstat lost); wait0=$(kstat backlog_wait_time_actual)
	load_prepare "$events" 2 ${rate:+-r "$rate"} -t 60
	[ "$before" = 0 ] && ff_mode $fault
	kill -USR1 "$LPID"
	if [ "$fault" != none ]; then
		sleep "$before"
		ff_mode $fault
		sleep "$during"
		# While faulty the daemon still answers: the receive path is untouched.
		timeout 5 "$top_builddir/rauditctl" -c "$WORK/rauditd.conf" -s >"$WORK/status.$name" ||
			fail "$name: no status while the disk was faulty"
		ff_mode ok
	fi
	wait "$LPID" || fail "$name: audit_load failed"
	LPID=
	rule_del_all
	wait_for 30 sh -c "'$top_builddir/rauditctl' -c '$WORK/rauditd.conf' -s | grep -qx 'in_ring 0'" ||
		fail "$name: the writer did not catch up"
	lost1=$(kstat lost); wait1=$(kstat backlog_wait_time_actual)
	stop_rauditd 30
	[ "$RSTATUS" = 0 ] || fail "$name: rauditd exited $RSTATUS"
	got=$(spool_serials "$MNT/spool")
	log "$name: events $events, in spool $got, kernel lost +$((lost1 - lost0)), wait_actual +$((wait1 - wait0)) ticks; $(tail -1 "$WORK/load.out")"
	[ "$got" = "$events" ] || fail "$name: $((events - got)) events missing"
	[ "$(stop_counter ring_full)" = 0 ] || fail "$name: ring overflowed"
	[ "$lost1" = "$lost0" ] || fail "$name: kernel lost moved"
	[ $((wait1 - wait0)) -le $WAIT_BOUND ] || fail "$name: audited processes waited $((wait1 - wait0)) ticks"
	[ "$(load_field slow_calls)" = 0 ] || fail "$name: audited calls blocked over 100 ms"
	"$top_builddir/rauditctl" verify "$MNT/spool" >/dev/null || fail "$name: spool does not verify"
	faultfs_umount
	rm -rf "$WORK/backing"
}

# Slow: every write +100 us, every fsync +150 ms (an fsync per batch), for
# the whole of a paced load.
scenario slow 60000 20000 "delay 100 150000" 0 2 "flush = data"
grep -q '^writer_state slow' "$WORK/status.slow" || fail "slow: writer state $(grep writer_state "$WORK/status.slow")"

# Hang: every write and fsync blocks for 4 s in the middle of a paced flood.
scenario hang 80000 20000 hang 1 4 "ring_size = 256M"
grep -q '^writer_state stalled' "$WORK/status.hang" || fail "hang: writer state $(grep writer_state "$WORK/status.hang")"

# EIO for 2 s: the writer degrades, keeps the records, and resumes.
scenario eio 40000 20000 eio 0.5 2 "ring_size = 256M"
grep -q '^writer_state error' "$WORK/status.eio" || fail "eio: writer state $(grep writer_state "$WORK/status.eio")"
grep -q 'writable again' "$WORK/rauditd.log" || fail "eio: no recovery logged"
exit 0
