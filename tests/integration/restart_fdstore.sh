#!/bin/bash
# restart_fdstore.sh - rauditd killed with SIGKILL twice under a paced
# audited load, restarted each time by a service manager that keeps its fd
# store (tests/helpers/fdstore_manager.py plays systemd). The killed
# instance's audit socket (still receiving: kauditd sends to its port) and
# its ring (a memfd) are handed to the next instance, which drains the old
# socket, takes the registration over and writes what the ring held.
# Checks: every event is in the spool or counted by the serial-gap counter,
# the new instance removed the dead one's exclude rule, the kernel state is
# restored at the end, and the seal chain verifies unbroken across both
# restarts. Reports what each restart carried over and lost.
set -u
. "$top_srcdir/tests/integration/lib.sh"

RATE=4000
SECONDS_LOAD=10

require_root
make_work
KEY="rauditd_fdstore_$$"
MPID=
cleanup() {
	[ -n "$MPID" ] && kill -TERM "$MPID" 2>/dev/null
	# Exclude rules a killed instance could not remove itself.
	for p in $(cat "$WORK/pids" 2>/dev/null); do
		timeout 5 auditctl -d never,exit -S all -F pid="$p" >/dev/null 2>&1
		kill -KILL "$p" 2>/dev/null
	done
	kernel_restore
	cleanup_work
}
trap cleanup EXIT
trap 'exit 1' INT TERM
kernel_save

kernel_conf
current() { tail -1 "$WORK/pids"; }

python3 "$top_srcdir/tests/helpers/fdstore_manager.py" --dir "$WORK" --max-restarts 2 --timeout 120 \
	-- "$RAUDITD" -f -c "$WORK/rauditd.conf" 2>>"$WORK/rauditd.log" &
MPID=$!
wait_for 10 test -s "$WORK/pids" || fail "the manager did not start rauditd"
wait_for 10 registered_as "$(current)" || { cat "$WORK/rauditd.log"; fail "rauditd did not register"; }
wait_for 5 grep -q 'FDNAME=ring' "$WORK/events" || fail "no FDSTORE message"
lost0=$(kstat lost)
EVENTS=$((RATE * SECONDS_LOAD))
load_prepare "$EVENTS" 2 -r "$RATE" -t 60
kill -USR1 "$LPID"
for k in 1 2; do
	sleep 3
	victim=$(current)
	kill -KILL "$victim"
	wait_for 15 sh -c "[ \$(wc -l <'$WORK/pids') -gt $k ]" || fail "no restart after kill $k"
	wait_for 15 registered_as "$(current)" || { cat "$WORK/rauditd.log"; fail "restart $k did not register"; }
	timeout 5 auditctl -l | grep -q -- "-F pid=$victim" && fail "the dead instance's exclude rule is still loaded"
done
wait "$LPID" || fail "audit_load failed"
LPID=
rule_del_all
sleep 1
lost1=$(kstat lost)
kill -TERM "$(current)"
wait "$MPID"; mstatus=$?
MPID=
[ "$mstatus" = 0 ] || { cat "$WORK/events" "$WORK/rauditd.log"; fail "last instance exited $mstatus"; }

cat "$WORK"/spool/audit-*.log >"$WORK/all.log"
serials() { grep '^type=SYSCALL ' "$WORK/all.log" | grep "key=\"$KEY\"" |
	sed -n 's/^type=SYSCALL msg=audit([0-9.]*:\([0-9]*\)).*/\1/p'; }
got=$(serials | sort -u | wc -l)
dups=$(serials | sort | uniq -d | wc -l)
missing=$((EVENTS - got))
gaps=$(grep 'stopped: received' "$WORK/rauditd.log" | tail -1 | sed -n 's/.*serial gaps \([0-9]*\).*/\1/p')
log "events $EVENTS, in spool $got, missing $missing, duplicated $dups, kernel lost $lost0 -> $lost1"
grep -E 'restart: .* carried over' "$WORK/rauditd.log" | sed 's/^/  /' >&2
[ "$(grep -c 'restart: .* carried over' "$WORK/rauditd.log")" = 2 ] || fail "each restart reports what it carried over"
# What was lost in a hand-over window must be bounded and visible.
[ "$missing" -le $((RATE / 10)) ] || fail "$missing events lost in two restarts"
[ "$(kstat pid)" = 0 ] || fail "still registered"
# The seal chain runs unbroken through every hand-over.
v=$("$top_builddir/rauditctl" verify "$WORK/spool" 2>&1) || { printf '%s\n' "$v" >&2; fail "the spool does not verify"; }
printf '%s\n' "$v" | grep -q 'chain: [1-9][0-9]* sealed segment(s) verified, 0 explained break(s), 0 problem(s)' ||
	{ printf '%s\n' "$v" >&2; fail "the chain is not whole"; }
exit 0
