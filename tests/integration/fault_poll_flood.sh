#!/bin/bash
# fault_poll_flood.sh - status polls every 100 ms during an unpaced flood
# with a tiny kernel backlog_limit (64), so the kernel queue runs over its
# limit and audited processes wait in the kernel's backlog wait queue. A
# status request that reached the kernel then would sleep in that same
# exclusive queue and could swallow the wake-up meant for an audited
# process, leaving it blocked for the whole backlog_wait_time. rauditctl -s
# is answered from the daemon's monitor, which polls the kernel only when
# its queue is quiet. Checks: no audited call blocked longer than 2 s, no
# monitor poll parked, and every audited event in the spool.
set -u
. "$top_srcdir/tests/integration/lib.sh"

EVENTS=200000
BOUND_US=2000000

require_root
make_work
KEY="rauditd_poll_$$"
trap '[ -n "${PPID_POLL:-}" ] && kill "$PPID_POLL" 2>/dev/null; kernel_restore; cleanup_work' EXIT
trap 'exit 1' INT TERM
kernel_save

cat >"$WORK/rauditd.conf" <<CONF
spool_dir = $WORK/spool
run_dir = $WORK/run
rules = none
enable = yes
backlog_limit = 64
monitor_interval = 100
CONF

start_rauditd "$WORK/rauditd.conf"
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log"; fail "rauditd did not register"; }
lost0=$(kstat lost)
load_prepare "$EVENTS" 4 -t 60
(
	end=$((SECONDS + 60))
	while [ $SECONDS -lt $end ]; do
		"$top_builddir/rauditctl" -c "$WORK/rauditd.conf" -s >/dev/null 2>&1
		sleep 0.1
	done
) &
PPID_POLL=$!
load_go
kill "$PPID_POLL" 2>/dev/null; wait "$PPID_POLL" 2>/dev/null; PPID_POLL=
rule_del_all
"$top_builddir/rauditctl" -c "$WORK/rauditd.conf" -s >"$WORK/status"
lost1=$(kstat lost)
stop_rauditd 30

maxlat=$(load_field max_latency_us)
parked=$(awk '$1 == "monitor_parked" { print $2 }' "$WORK/status")
log "$(tail -1 "$WORK/load.out"); monitor: $(grep -E '^monitor_(polls|skipped|parked)' "$WORK/status" | tr '\n' ' ')"
[ "$maxlat" -lt "$BOUND_US" ] || fail "an audited call was blocked for $maxlat us"
[ "$parked" = 0 ] || fail "$parked monitor polls parked in the kernel"
got=$(spool_serials "$WORK/spool")
[ "$got" = "$EVENTS" ] || fail "$((EVENTS - got)) events missing"
# A backlog_limit of 64 makes the kernel drop records it may not sleep for
# (generated in atomic context, none of ours): reported, not asserted here;
# the tests with a sane backlog_limit assert it.
log "kernel lost $lost0 -> $lost1"
exit 0
