#!/bin/bash
# real_kernel.sh - rauditd against the real kernel: register as the audit
# daemon, audit only this test's own child processes (a getsid rule keyed by
# their parent's pid, running as uid 65534), generate a known number of
# events, stop, and check that every event is in the spool by serial, that
# ausearch reads it, that the kernel lost nothing, and that the kernel's
# audit state is back as it was found.
set -u
. "$top_srcdir/tests/integration/lib.sh"

EVENTS=${RT_EVENTS:-20000}
PROCS=2

require_root
make_work
KEY="rauditd_rt_$$"
trap 'kernel_restore; cleanup_work' EXIT
trap 'exit 1' INT TERM
kernel_save

kernel_conf "segment_size = 1M" "num_segments = 0"

start_rauditd "$WORK/rauditd.conf"
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log"; fail "rauditd (pid $RPID) did not register"; }
[ "$(kstat enabled)" = 1 ] || fail "enable = yes did not enable audit"
[ "$(kstat backlog_limit)" = 8192 ] || fail "backlog_limit was not applied"
timeout 5 auditctl -l | grep -q -- "-F pid=$RPID" || fail "exclude_self rule missing"
lost0=$(kstat lost)

# The loader waits for SIGUSR1 so the rule can name its pid first.
"$AUDIT_LOAD" -w -n "$EVENTS" -p "$PROCS" -u 65534 -t 60 >"$WORK/load.out" &
LPID=$!
wait_for 10 grep -q '^pid ' "$WORK/load.out" || fail "audit_load did not start"
rule_add always,exit -F arch=b64 -S getsid -F ppid="$LPID" -k "$KEY"
kill -USR1 "$LPID"
wait "$LPID" || fail "audit_load failed"
rule_del_all
lost1=$(kstat lost)
# Let the last records arrive before stopping (bounded).
wait_for 10 sh -c "cat '$WORK'/spool/*.log | grep -c 'key=\"$KEY\"' | grep -qx '$((EVENTS + 2))'" || true

stop_rauditd 30
[ "$RSTATUS" = 0 ] || { cat "$WORK/rauditd.log"; fail "rauditd exited with $RSTATUS"; }
cat "$WORK/rauditd.log" >&2

# ---- checks -----------------------------------------------------------
cat "$WORK"/spool/audit-*.log >"$WORK/all.log"
got=$(grep "^type=SYSCALL " "$WORK/all.log" | grep "key=\"$KEY\"" | grep ' syscall=124 ' |
	sed -n 's/^type=SYSCALL msg=audit([0-9.]*:\([0-9]*\)).*/\1/p' | sort -u | wc -l)
[ "$got" = "$EVENTS" ] || fail "expected $EVENTS getsid events in the spool, found $got unique serials"
dups=$(grep "^type=SYSCALL " "$WORK/all.log" | grep "key=\"$KEY\"" | grep ' syscall=124 ' |
	sed -n 's/^type=SYSCALL msg=audit([0-9.]*:\([0-9]*\)).*/\1/p' | sort | uniq -d | wc -l)
[ "$dups" = 0 ] || fail "$dups serials appear twice"

if command -v ausearch >/dev/null 2>&1; then
	n=0
	for seg in "$WORK"/spool/audit-*.log; do
		c=$(ausearch -if "$seg" -k "$KEY" -sc getsid --raw 2>/dev/null | grep -c '^type=SYSCALL ')
		n=$((n + c))
	done
	[ "$n" = "$EVENTS" ] || fail "ausearch -if found $n of $EVENTS events"
fi

[ "$lost1" = "$lost0" ] || fail "the kernel lost records: lost went from $lost0 to $lost1"
line=$(grep 'stopped: received' "$WORK/rauditd.log") || fail "no counters line at stop"
recv=$(echo "$line" | sed -n 's/.*received \([0-9]*\),.*/\1/p')
written=$(echo "$line" | sed -n 's/.*written \([0-9]*\),.*/\1/p')
[ "$recv" = "$written" ] || fail "received $recv but wrote $written"
echo "$line" | grep -q 'ring_full 0 oversize 0 shutdown 0' || fail "drops at stop: $line"
lines=$(grep -vc '^type=DAEMON_' "$WORK/all.log")
[ "$lines" = "$written" ] || fail "spool holds $lines kernel records, daemon says $written"
head -1 "$WORK/spool/audit-00000001.log" | grep -q '^type=DAEMON_ROTATE .*segment=1 ' || fail "no segment marker"
tail -1 "$WORK/all.log" | grep -q '^type=DAEMON_END ' || fail "spool does not end with DAEMON_END"

# Kernel state as found: unregistered, our rules gone, settings restored.
[ "$(kstat pid)" = 0 ] || fail "still registered: pid $(kstat pid)"
timeout 5 auditctl -l | grep -q -- "-F pid=" && fail "exclude_self rule left behind"
[ "$(kstat enabled)" = "$K_ENABLED" ] || fail "enabled not restored ($(kstat enabled) != $K_ENABLED)"
[ "$(kstat backlog_limit)" = "$K_BACKLOG_LIMIT" ] || fail "backlog_limit not restored"
[ "$(kstat backlog_wait_time)" = "$K_WAIT" ] || fail "backlog_wait_time not restored"

elapsed=$(awk '/^calls/ { print $4 }' "$WORK/load.out")
rate=$(awk -v r="$written" -v e="$elapsed" 'BEGIN { printf "%.0f", r / e }')
log "load: $(tail -1 "$WORK/load.out")"
log "events $EVENTS, records received $recv, written $written, kernel lost delta $((lost1 - lost0)); the daemon kept up with $rate records/s (SYSCALL and PROCTITLE per event; EOE is not logged) over the load's ${elapsed} s"
exit 0
