#!/bin/bash
# upgrade_reexec.sh - ten in-place upgrades (rauditctl upgrade: re-exec,
# same pid) during a paced audited load on the real kernel. The kernel's
# registration stays with the pid and the socket, the ring is handed over
# as a memfd. Checks: every event's serial is in the spool exactly once (no
# duplicates, none missing), the kernel's lost counter is unchanged, the
# registered pid never changes, each image reports what it carried over,
# and the seal chain verifies unbroken across the ten re-executions.
set -u
. "$top_srcdir/tests/integration/lib.sh"

RATE=4000
SECONDS_LOAD=14
UPGRADES=10

require_root
make_work
KEY="rauditd_upgrade_$$"
trap 'kernel_restore; cleanup_work' EXIT
trap 'exit 1' INT TERM
kernel_save

kernel_conf
ctl() { "$top_builddir/rauditctl" -c "$WORK/rauditd.conf" "$@"; }

start_rauditd "$WORK/rauditd.conf"
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log"; fail "rauditd did not register"; }
lost0=$(kstat lost)
EVENTS=$((RATE * SECONDS_LOAD))
load_prepare "$EVENTS" 2 -r "$RATE" -t 60
kill -USR1 "$LPID"
sleep 1
for ((i = 1; i <= UPGRADES; i++)); do
	ctl upgrade || fail "upgrade $i refused"
	# The new image answers on its own control socket and says so.
	wait_for 10 sh -c "'$top_builddir/rauditctl' -c '$WORK/rauditd.conf' -s 2>/dev/null | grep -qx 'reexecs $i'" ||
		{ cat "$WORK/rauditd.log"; fail "image $i did not come up"; }
	[ "$(kstat pid)" = "$RPID" ] || fail "registered pid changed to $(kstat pid) after upgrade $i"
	kill -0 "$RPID" || fail "rauditd died at upgrade $i"
	sleep 0.9
done
wait "$LPID" || fail "audit_load failed"
LPID=
rule_del_all
wait_for 20 sh -c "[ \$(cat '$WORK'/spool/audit-*.log | grep '^type=SYSCALL ' | grep -c 'key=\"$KEY\"') -ge $EVENTS ]" || true
lost1=$(kstat lost)
stop_rauditd 30
[ "$RSTATUS" = 0 ] || fail "rauditd exited $RSTATUS"

cat "$WORK"/spool/audit-*.log >"$WORK/all.log"
serials() { grep '^type=SYSCALL ' "$WORK/all.log" | grep "key=\"$KEY\"" |
	sed -n 's/^type=SYSCALL msg=audit([0-9.]*:\([0-9]*\)).*/\1/p'; }
got=$(serials | sort -u | wc -l)
dups=$(serials | sort | uniq -d | wc -l)
dup_lines=$(grep -v '^type=DAEMON_' "$WORK/all.log" | sort | uniq -d | wc -l)
carried=$(grep -c 'upgrade: .* carried over' "$WORK/rauditd.log")
log "events $EVENTS, in spool $got, duplicate serials $dups, duplicate lines $dup_lines, kernel lost $lost0 -> $lost1"
grep 'carried over' "$WORK/rauditd.log" | sed 's/^/  /' >&2
[ "$got" = "$EVENTS" ] || fail "$((EVENTS - got)) events missing"
[ "$dups" = 0 ] || fail "$dups serials written twice"
[ "$dup_lines" = 0 ] || fail "$dup_lines records written twice"
[ "$lost1" = "$lost0" ] || fail "kernel lost moved"
[ "$carried" = "$UPGRADES" ] || fail "$carried of $UPGRADES images reported what they carried over"
[ "$(grep -c '^type=DAEMON_START ' "$WORK/all.log")" = $((UPGRADES + 1)) ] || fail "expected one DAEMON_START per image"
[ "$(grep -c '^type=DAEMON_END ' "$WORK/all.log")" = 1 ] || fail "expected one DAEMON_END"
# The seal chain runs unbroken through every hand-over.
v=$("$top_builddir/rauditctl" verify "$WORK/spool" 2>&1) || { printf '%s\n' "$v" >&2; fail "the spool does not verify"; }
printf '%s\n' "$v" | grep -q 'chain: [1-9][0-9]* sealed segment(s) verified, 0 explained break(s), 0 problem(s)' ||
	{ printf '%s\n' "$v" >&2; fail "the chain is not whole"; }
exit 0
