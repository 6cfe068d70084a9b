#!/bin/bash
# fault_enospc.sh - a full disk under a flood of audited events. The spool
# lives on a 2 MiB tmpfs and the ring is small, so the disk fills, the ring
# overflows and records are dropped. Checks: the audited processes were
# never blocked, the kernel lost nothing, every record is accounted for
# (written + dropped = received), and once space is freed the writer resumes
# by itself and writes an overflow record stating exactly how many records
# were lost and between which serials.
set -u
. "$top_srcdir/tests/integration/lib.sh"

EVENTS=30000

require_root
make_work
KEY="rauditd_enospc_$$"
FS="$WORK/fs"
trap 'kernel_restore; umount "$FS" 2>/dev/null; cleanup_work' EXIT
trap 'exit 1' INT TERM
kernel_save
mkdir -p "$FS"
mount -t tmpfs -o size=2m,mode=0700 tmpfs "$FS" || fail "cannot mount a tmpfs"

cat >"$WORK/rauditd.conf" <<CONF
spool_dir = $FS/spool
run_dir = $WORK/run
rules = none
enable = yes
backlog_limit = 8192
ring_size = 1M
# Drop at ring-full: this test is about the accounting of the drops and the
# overflow record (with the default, wait, the socket would hold them).
ring_full_action = drop
batch_size = 64K
segment_size = 64M
num_segments = 0
retry_interval = 50
flush = none
CONF

start_rauditd "$WORK/rauditd.conf" -d
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log"; fail "rauditd did not register"; }
lost0=$(kstat lost)

load_prepare "$EVENTS" 2 -t 60
load_go
rule_del_all
grep -q 'cannot write segment .*No space left on device' "$WORK/rauditd.log" ||
	fail "the disk never filled (test too small?)"
"$top_builddir/rauditctl" -c "$WORK/rauditd.conf" -s >"$WORK/status.full"
grep -q '^writer_state disk_full' "$WORK/status.full" || fail "writer not in disk_full: $(grep writer_state "$WORK/status.full")"

# Free the space: the writer resumes on its own retry timer.
mount -o remount,size=256m "$FS" || fail "remount"
wait_for 20 grep -q 'writable again' "$WORK/rauditd.log" || fail "writer did not resume by itself"
wait_for 20 sh -c "'$top_builddir/rauditctl' -c '$WORK/rauditd.conf' -s | grep -qx 'in_ring 0'" ||
	fail "ring did not drain"
lost1=$(kstat lost)
stop_rauditd 30
[ "$RSTATUS" = 0 ] || fail "rauditd exited $RSTATUS"

received=$(stop_counter received); written=$(stop_counter written)
ring_full=$(stop_counter ring_full)
log "received $received written $written dropped ring_full $ring_full"
[ "$ring_full" -gt 0 ] || fail "expected ring overflow drops"
[ $((written + ring_full)) = "$received" ] || fail "written $written + dropped $ring_full != received $received"

# The overflow records account for every drop, with serial ranges.
lost_in_spool=$(cat "$FS"/spool/audit-*.log | grep '^type=DAEMON_ERR .*op=overflow reason=ring_full' |
	sed -n 's/.* lost=\([0-9]*\) .*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
[ "$lost_in_spool" = "$ring_full" ] || fail "overflow records say $lost_in_spool lost, counters $ring_full"
cat "$FS"/spool/audit-*.log | grep '^type=DAEMON_ERR .*op=overflow' | head -3 >&2
grep -q 'first_serial=[0-9]* last_serial=[0-9]*' "$FS"/spool/audit-*.log || fail "overflow record without serials"

kernel_records=$(cat "$FS"/spool/audit-*.log | grep -vc '^type=DAEMON_')
[ "$kernel_records" = "$written" ] || fail "spool holds $kernel_records records, daemon wrote $written"
"$top_builddir/rauditctl" verify "$FS/spool" >&2 || fail "rauditctl verify found problems"

[ "$lost1" = "$lost0" ] || fail "kernel lost moved from $lost0 to $lost1"
slow=$(load_field slow_calls)
[ "$slow" = 0 ] || fail "$slow audited calls took over 100 ms: the kernel waited"
log "ok: $(tail -1 "$WORK/load.out")"
exit 0
