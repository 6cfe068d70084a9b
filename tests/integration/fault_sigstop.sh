#!/bin/bash
# fault_sigstop.sh - rauditd stopped (SIGSTOP) for 3 s under a paced load of
# 10,000 events/s, then continued. Its netlink receive buffer (rcvbuf, 1 GiB
# here; a limit, not an allocation) is the only buffer that works
# while the daemon is stopped. Checks: every event reaches the spool, no
# serial gap, the kernel's lost counter does not move and no audited call
# waited.
set -u
. "$top_srcdir/tests/integration/lib.sh"

RATE=10000
SECONDS_LOAD=6

require_root
make_work
KEY="rauditd_stop_$$"
trap 'kill -CONT "${RPID:-0}" 2>/dev/null; kernel_restore; cleanup_work' EXIT
trap 'exit 1' INT TERM
kernel_save

# The default follows the host's RAM; this test is about what 1 GiB holds.
kernel_conf "rcvbuf = 1G"

start_rauditd "$WORK/rauditd.conf"
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log"; fail "rauditd did not register"; }
lost0=$(kstat lost)
EVENTS=$((RATE * SECONDS_LOAD))
load_prepare "$EVENTS" 2 -r "$RATE" -t 30
kill -USR1 "$LPID"
sleep 1.5
kill -STOP "$RPID"
sleep 3
kill -CONT "$RPID"
wait "$LPID" || fail "audit_load failed"
LPID=
rule_del_all
wait_for 20 sh -c "[ \$(cat '$WORK'/spool/audit-*.log | grep -c 'key=\"$KEY\"') -ge $EVENTS ]" || true
lost1=$(kstat lost)
stop_rauditd 30
[ "$RSTATUS" = 0 ] || fail "rauditd exited $RSTATUS"

got=$(spool_serials "$WORK/spool")
gaps=$(grep 'stopped: received' "$WORK/rauditd.log" | sed -n 's/.*serial gaps \([0-9]*\).*/\1/p')
log "events $EVENTS, in spool $got, serial gaps $gaps, kernel lost $lost0 -> $lost1; $(tail -1 "$WORK/load.out")"
[ "$got" = "$EVENTS" ] || fail "$((EVENTS - got)) events missing from the spool"
[ "$gaps" = 0 ] || fail "$gaps serial gaps"
[ "$lost1" = "$lost0" ] || fail "kernel lost moved"
[ "$(load_field slow_calls)" = 0 ] || fail "audited calls waited over 100 ms"
exit 0
