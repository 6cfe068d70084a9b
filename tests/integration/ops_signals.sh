#!/bin/bash
# ops_signals.sh - the signals an operator sends through auditctl --signal
# (which asks the kernel for the audit daemon's pid, then kill(2)s it), to a
# rauditd registered with the real kernel: USR1 rotates to a new segment
# that starts with its marker, HUP reloads (a reloadable key applied, a
# restart-only key reported), USR2 resumes, CONT writes the state report,
# TERM stops with status 0, DAEMON_END last and the registration gone.
set -u
. "$top_srcdir/tests/integration/lib.sh"

require_root
make_work
trap 'kernel_restore; cleanup_work' EXIT
trap 'exit 1' INT TERM
kernel_save

write_conf() {
	cat >"$WORK/rauditd.conf" <<CONF
spool_dir = $WORK/spool
run_dir = $WORK/run
rules = none
segment_size = 1M
num_segments = 0
freq = $1
ring_size = $2
CONF
}
write_conf 1000 64M

# log_has PATTERN: the daemon's log has a line matching PATTERN (grep -E).
log_has() { grep -Eq -- "$1" "$WORK/rauditd.log"; }
segments() { find "$WORK/spool" -maxdepth 1 -name 'audit-*.log' | wc -l; }
sig() { timeout 5 auditctl --signal "$1" >/dev/null 2>&1 || fail "auditctl --signal $1 failed"; }

start_rauditd "$WORK/rauditd.conf" -d
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log" >&2; fail "rauditd (pid $RPID) did not register"; }
wait_for 10 log_has '^rauditd: started' || fail "no start message"
[ "$(segments)" = 1 ] || fail "expected one segment at start, found $(segments)"

# ---- USR1: rotate -------------------------------------------------------
# Sent from a process whose pid is known: the marker names the sender (its
# login uid, or its uid when it has none) as auditd's DAEMON_ROTATE does.
bash -c 'echo $$ >"$1"; exec /bin/kill -USR1 "$2"' usr1 "$WORK/usr1.pid" "$RPID" || fail "kill -USR1"
USR1_PID=$(cat "$WORK/usr1.pid")
USR1_AUID=$(cat /proc/self/loginuid)
[ "$USR1_AUID" = 4294967295 ] && USR1_AUID=$(id -u)
wait_for 10 test -e "$WORK/spool/audit-00000002.log" || fail "USR1 did not open segment 2"
log_has 'rotating on SIGUSR1' || fail "no rotation message"
# The marker is the writer's first record in the new segment.
first_line() { [ -n "$(head -1 "$WORK/spool/audit-00000002.log")" ]; }
wait_for 10 first_line || fail "segment 2 stays empty"
head -1 "$WORK/spool/audit-00000002.log" |
	grep -Eq '^type=DAEMON_ROTATE msg=audit\([0-9]+\.[0-9]{3}:[0-9]+\): op=rotate-logs segment=2 reason=request auid='"$USR1_AUID"' pid='"$USR1_PID"' subj=[^ ]+ chain=sha256 chain_seg=1 chain_digest=[0-9a-f]{64} chain_link=[0-9a-f]{64} res=success$' ||
	fail "segment 2 does not start with its marker: $(head -1 "$WORK/spool/audit-00000002.log")"
head -1 "$WORK/spool/audit-00000001.log" | grep -q '^type=DAEMON_ROTATE .* segment=1 reason=start ' ||
	fail "segment 1 does not start with its marker"
log "USR1: segment 2 opened with $(head -1 "$WORK/spool/audit-00000002.log" | cut -d' ' -f3-5)"

# ---- HUP: reload ---------------------------------------------------------
write_conf 50 32M
sig HUP
wait_for 10 log_has 'config: reloaded ' || { cat "$WORK/rauditd.log" >&2; fail "HUP did not reload"; }
log_has 'config: freq changed$' || fail "the freq change was not applied"
log_has 'config: ring_size changed; the new value requires a restart' ||
	fail "no \"requires a restart\" message for ring_size"
log_has 'config: reloaded .*\(2 key\(s\) changed\)' || fail "reload did not count 2 changed keys"
kill -0 "$RPID" 2>/dev/null || fail "rauditd died on HUP"
# A broken file is rejected and the running configuration kept.
echo 'no_such_key = 1' >>"$WORK/rauditd.conf"
sig HUP
wait_for 10 log_has 'config: reload rejected, keeping the running configuration' ||
	fail "a broken config file was not rejected"
kill -0 "$RPID" 2>/dev/null || fail "rauditd died on a rejected reload"
write_conf 50 32M
log "HUP: reloaded (freq applied, ring_size needs a restart), broken file rejected"

# ---- USR2: resume ----------------------------------------------------------
sig USR2
wait_for 10 log_has 'resuming on SIGUSR2' || fail "USR2 was not logged as resuming"
kill -0 "$RPID" 2>/dev/null || fail "rauditd died on USR2"

# ---- CONT: state report -----------------------------------------------------
rm -f "$WORK/run/rauditd.state"
sig CONT
wait_for 10 test -s "$WORK/run/rauditd.state" || fail "CONT did not write run_dir/rauditd.state"
grep -q "^rauditd_pid $RPID\$" "$WORK/run/rauditd.state" || fail "state report does not name pid $RPID"
grep -q '^spool_segment 2$' "$WORK/run/rauditd.state" || fail "state report does not show segment 2"
log_has "state: report written to $WORK/run/rauditd.state" || fail "no state report message"
log "USR2 resumed; CONT wrote $(wc -l <"$WORK/run/rauditd.state") lines to rauditd.state"

# ---- TERM: stop -----------------------------------------------------------
sig TERM
end=$((SECONDS + 30))
while kill -0 "$RPID" 2>/dev/null; do
	[ $SECONDS -ge $end ] && fail "rauditd did not stop within 30 s of SIGTERM"
	sleep 0.05
done
wait "$RPID"; RSTATUS=$?
RPID=
[ "$RSTATUS" = 0 ] || { cat "$WORK/rauditd.log" >&2; fail "rauditd exited with $RSTATUS on SIGTERM"; }
log_has 'stopping \(SIGTERM\)' || fail "no stop message"
last=$(ls "$WORK/spool"/audit-*.log | sort | tail -1)
tail -1 "$last" | grep -q '^type=DAEMON_END .*op=terminate ' || fail "the spool does not end with DAEMON_END: $(tail -1 "$last")"
[ "$(kstat pid)" = 0 ] || fail "still registered after stop: pid $(kstat pid)"
[ -e "$WORK/run/control.sock" ] && fail "control socket left behind"
log "TERM: exit 0, $(basename "$last") ends with DAEMON_END, kernel pid 0"
exit 0
