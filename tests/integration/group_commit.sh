#!/bin/bash
# group_commit.sh - group commit on the real kernel (issue 15): a slow disk
# (faultfs: every write +100 us, every fsync +20 ms) under an unpaced flood
# of a bounded number of audited calls, with the default flush =
# incremental: not one record dropped at ring-full, every event in the
# spool, at most one sync in flight while the writer goes on writing. Then
# an idle daemon: a handful of events, far fewer than freq, is synced within
# flush_interval (before, it stayed unsynced until freq more records came).
# Counters, not timings; the rates are logged for the record.
set -u
. "$top_srcdir/tests/integration/lib.sh"

FLOOD=${GC_EVENTS:-300000}

require_root
require_fuse
make_work
trap 'faultfs_umount; kernel_restore; cleanup_work' EXIT
trap 'exit 1' INT TERM
kernel_save

status_field() {
	timeout 5 "$top_builddir/rauditctl" -c "$WORK/rauditd.conf" -s |
		awk -v k="$1" '$1 == k { print $2 }'
}
caught_up() { [ "$(status_field in_ring)" = 0 ]; }
synced() { [ "$(status_field writer_unsynced_bytes)" = 0 ]; }

# ---- 1: slow disk, unpaced flood ---------------------------------------------
KEY="rauditd_gc_flood_$$"
mkdir -p "$WORK/run"
faultfs_mount
cat >"$WORK/rauditd.conf" <<CONF
spool_dir = $MNT/spool
run_dir = $WORK/run
enable = yes
backlog_limit = 8192
flush = ${GC_FLUSH:-incremental}
CONF
ff_mode delay 100 20000
start_rauditd "$WORK/rauditd.conf"
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log"; fail "flood: rauditd did not register"; }
load_prepare "$FLOOD" 2 -t 120
load_go
rule_del_all
wait_for 60 caught_up || fail "flood: the writer did not catch up"
fsyncs=$(status_field writer_fsyncs)
stop_rauditd 60
[ "$RSTATUS" = 0 ] || { cat "$WORK/rauditd.log" >&2; fail "flood: rauditd exited $RSTATUS"; }
got=$(spool_serials "$MNT/spool")
dropped=$(stop_counter ring_full)
log "flood on a slow disk (write +100 us, fsync +20 ms): events $FLOOD, in spool $got," \
	"ring_full $dropped, fsyncs $fsyncs; $(tail -1 "$WORK/load.out")"
[ "$dropped" = 0 ] || fail "flood: $dropped records dropped at ring-full"
[ "$got" = "$FLOOD" ] || fail "flood: $((FLOOD - got)) events missing"
[ "${fsyncs:-0}" -ge 1 ] || fail "flood: no sync at all"
faultfs_umount
rm -rf "$WORK/backing"

# ---- 2: an idle daemon's records are synced within flush_interval ------------
KEY="rauditd_gc_idle_$$"
: >"$WORK/rauditd.log"
kernel_conf "flush = incremental" "freq = 1000" "flush_interval = 500"
start_rauditd "$WORK/rauditd.conf"
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log"; fail "idle: rauditd did not register"; }
# The start records are synced within the bound too.
wait_for 5 synced || fail "idle: the start records were not synced"
fsyncs0=$(status_field writer_fsyncs)
load_prepare 5 1
load_go
rule_del_all
wait_for 5 sh -c "[ \"\$(cat '$WORK'/spool/audit-*.log | grep -c 'key=\"$KEY\"')\" -ge 5 ]" ||
	fail "idle: the 5 events did not reach the spool"
# Bound 500 ms; allow for the status polling, never for freq more records.
wait_for 3 synced || fail "idle: $(status_field writer_unsynced_bytes) bytes still unsynced after 3 s"
fsyncs1=$(status_field writer_fsyncs)
[ "$fsyncs1" -gt "$fsyncs0" ] || fail "idle: no sync after the events"
stop_rauditd 30
[ "$RSTATUS" = 0 ] || fail "idle: rauditd exited $RSTATUS"
log "idle: 5 events synced within the bound (fsyncs $fsyncs0 -> $fsyncs1)"
log "PASS"
