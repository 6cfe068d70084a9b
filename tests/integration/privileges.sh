#!/bin/bash
# privileges.sh - what rauditd keeps of root and what it refuses to trust:
# once running, every thread has only CAP_AUDIT_CONTROL (bounding set too)
# and no_new_privs; only the receive thread runs with the priority boost;
# a config file or spool directory writable by others is refused with a
# clear error (exit 3 / 5); log_group gives the spool 0750 and its segments
# 0640 to that group.
set -u
. "$top_srcdir/tests/integration/lib.sh"

require_root
make_work
trap 'kernel_restore; cleanup_work' EXIT
trap 'exit 1' INT TERM
kernel_save

conf() {
	cat >"$WORK/rauditd.conf" <<-CONF
	spool_dir = $WORK/spool
	run_dir = $WORK/run
	rules = none
	priority_boost = 4
	CONF
	printf '%s\n' "$@" >>"$WORK/rauditd.conf"
}

conf
start_rauditd "$WORK/rauditd.conf"
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log"; fail "rauditd did not register"; }
wait_for 5 sh -c "[ \$(ls /proc/$RPID/task | wc -l) -ge 3 ]" || fail "threads did not start"
# CAP_AUDIT_CONTROL is bit 30.
for t in /proc/"$RPID"/task/*; do
	eff=$(awk '/^CapEff/ { print $2 }' "$t/status")
	bnd=$(awk '/^CapBnd/ { print $2 }' "$t/status")
	[ "$eff" = 0000000040000000 ] || fail "thread ${t##*/} has CapEff $eff"
	[ "$bnd" = 0000000040000000 ] || fail "thread ${t##*/} has CapBnd $bnd"
done
[ "$(awk '/^NoNewPrivs/ { print $2 }' /proc/"$RPID"/status)" = 1 ] || fail "no_new_privs not set"
main_nice=$(awk '{ print $19 }' /proc/"$RPID"/stat)
boosted=0
for t in /proc/"$RPID"/task/*; do
	[ "$(awk '{ print $19 }' "$t/stat")" = "$main_nice" ] && boosted=$((boosted + 1))
done
[ "$main_nice" -lt 0 ] || fail "receive thread not boosted (nice $main_nice)"
[ "$boosted" = 1 ] || fail "$boosted threads run boosted, expected only the receiver"
[ "$(stat -c %a "$WORK/spool")" = 700 ] || fail "spool dir mode $(stat -c %a "$WORK/spool")"
for f in "$WORK"/spool/audit-*.log; do
	[ "$(stat -c %a "$f")" = 600 ] || fail "$f mode $(stat -c %a "$f")"
done
stop_rauditd 30
[ "$RSTATUS" = 0 ] || fail "rauditd exited $RSTATUS"
[ "$(kstat pid)" = 0 ] || fail "still registered after stop"

# A configuration anyone may write is refused, as auditd refuses it.
chmod 0666 "$WORK/rauditd.conf"
"$RAUDITD" -f -c "$WORK/rauditd.conf" 2>"$WORK/err"; rc=$?
[ "$rc" = 3 ] || fail "world-writable config: exit $rc, expected 3"
grep -q "config file $WORK/rauditd.conf is writable by others" "$WORK/err" || fail "message: $(cat "$WORK/err")"
chmod 0644 "$WORK/rauditd.conf"

chmod 0777 "$WORK/spool"
"$RAUDITD" -f -c "$WORK/rauditd.conf" 2>"$WORK/err"; rc=$?
[ "$rc" = 5 ] || fail "world-writable spool: exit $rc, expected 5"
grep -q "spool directory $WORK/spool is writable by others" "$WORK/err" || fail "message: $(cat "$WORK/err")"
chmod 0700 "$WORK/spool"
[ "$(kstat pid)" = 0 ] || fail "a refused start registered"

# log_group: readable by a group, still written by root only.
conf "log_group = nogroup"
start_rauditd "$WORK/rauditd.conf"
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log"; fail "rauditd with log_group did not register"; }
[ "$(stat -c '%a %G' "$WORK/spool")" = "750 nogroup" ] || fail "spool dir: $(stat -c '%a %G' "$WORK/spool")"
for f in "$WORK"/spool/audit-*.log; do
	[ "$(stat -c '%a %G' "$f")" = "640 nogroup" ] || fail "$f: $(stat -c '%a %G' "$f")"
done
stop_rauditd 30
[ "$RSTATUS" = 0 ] || fail "rauditd exited $RSTATUS"
exit 0
