#!/bin/bash
# rules_daemon.sh - the daemon and the host's rules, on the real kernel:
# with kernel audit disabled beforehand, rauditd turns it on and leaves it
# disabled at stop; a rules file (rules = FILE) is loaded at start, after
# rauditd's own exclude rule, and stays loaded at stop as under auditd;
# when rules are removed behind its back (auditctl -D, as augenrules --load
# starts with) the exclude rule comes back, counted; a SIGHUP leaves a
# DAEMON_CONFIG record and a SIGTERM a DAEMON_END naming the sender's pid
# and auid; a rules file with a bad line is reported by file and line and
# the daemon runs on. The rules this test loads carry its key and are
# deleted on every exit path.
set -u
. "$top_srcdir/tests/integration/lib.sh"

RAUDITCTL="$top_builddir/rauditctl"

require_root
make_work
KEY="rauditd_rules_$$"
del_test_rules() { timeout 5 auditctl -D -k "$KEY" >/dev/null 2>&1 || true; }
trap 'kernel_restore; del_test_rules; cleanup_work' EXIT
trap 'exit 1' INT TERM
kernel_save

# The host's own rules must not be deleted by this test: auditctl -D only
# when there are none.
HOST_RULES=$(timeout 5 auditctl -l) || fail "auditctl -l"

# use_rules FILE: kernel_conf with rules = FILE instead of none.
use_rules() {
	kernel_conf "monitor_interval = 200"
	sed -i "s|^rules = none\$|rules = $1|" "$WORK/rauditd.conf"
	grep -q "^rules = $1\$" "$WORK/rauditd.conf" || fail "rules not set in the config"
}
excluded() { timeout 5 auditctl -l | grep -Eq -- "^-a never,exit .*-F pid=$RPID( |\$)"; }
spool_has() { cat "$WORK"/spool/audit-*.log 2>/dev/null | grep -Eq -- "$1"; }
status_value() {
	timeout 10 "$RAUDITCTL" -c "$WORK/rauditd.conf" -s 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }'
}
# started N: the Nth start is complete (the log is appended to): rules are
# loaded after registration and after the control socket is up, but before
# "started:" is logged.
started() { [ "$(grep -c 'started: spool' "$WORK/rauditd.log")" -ge "$1" ]; }
# The auid the kernel reports for a signal sent from here: the login uid,
# or the uid when there is none.
AUID=$(cat /proc/self/loginuid)
[ "$AUID" = 4294967295 ] && AUID=$(id -u)

# ---- audit disabled beforehand; rules loaded at start -------------------
timeout 5 auditctl -e 0 >/dev/null || fail "auditctl -e 0"
printf '%s\n' "# rauditd_rules test" \
    "-a always,exit -F arch=b64 -S openat -F uid=65534 -k $KEY" >"$WORK/good.rules"
use_rules "$WORK/good.rules"
start_rauditd "$WORK/rauditd.conf"
wait_for 15 registered_as "$RPID" || fail "rauditd did not register: $(cat "$WORK/rauditd.log")"
wait_for 15 test -S "$WORK/run/control.sock" || fail "no control socket"
wait_for 30 started 1 || fail "rauditd did not finish starting: $(cat "$WORK/rauditd.log")"
[ "$(kstat enabled)" = 1 ] || fail "audit was disabled and rauditd did not enable it (enabled $(kstat enabled))"
timeout 5 auditctl -l | grep -q -- "key=$KEY\$" ||
	fail "the rule of $WORK/good.rules is not loaded: $(timeout 5 auditctl -l); log: $(cat "$WORK/rauditd.log")"
excluded || fail "the exclude rule for pid $RPID is not in: $(timeout 5 auditctl -l)"
grep -q "rules: loaded $WORK/good.rules" "$WORK/rauditd.log" || fail "no 'rules: loaded' in the log"

# ---- rules removed behind rauditd's back ---------------------------------
if [ "$HOST_RULES" = "No rules" ]; then
	timeout 5 auditctl -D >/dev/null || fail "auditctl -D"
	timeout 5 auditctl -a always,exit -F arch=b64 -S openat -F uid=65534 -k "$KEY" >/dev/null ||
		fail "re-adding the test rule"
else
	log "the host has rules: deleting only the exclude rule"
	timeout 5 auditctl -d never,exit -S all -F pid="$RPID" >/dev/null || fail "auditctl -d the exclude rule"
fi
wait_for 10 excluded || fail "the exclude rule did not come back after the rules were removed: $(timeout 5 auditctl -l)"
wait_for 10 test "$(status_value exclude_rule_restored)" -ge 1 2>/dev/null ||
	fail "exclude_rule_restored is '$(status_value exclude_rule_restored)', not >= 1"
[ "$(grep -c "put it back" "$WORK/rauditd.log")" = 1 ] ||
	fail "the restore is not logged exactly once: $(grep "put it back" "$WORK/rauditd.log")"

# ---- who sent SIGHUP and SIGTERM ------------------------------------------
# bash's $$ is the pid the exec'd kill runs as.
bash -c 'echo $$ >"$1"; exec /bin/kill -HUP "$2"' hup "$WORK/hup.pid" "$RPID" || fail "kill -HUP"
HPID=$(cat "$WORK/hup.pid")
wait_for 10 spool_has "^type=DAEMON_CONFIG msg=audit\([0-9.:]+\): op=reconfigure state=changed auid=$AUID pid=$HPID subj=[^ ]+ res=success\$" ||
	fail "no DAEMON_CONFIG naming auid $AUID pid $HPID: $(cat "$WORK"/spool/audit-*.log | grep DAEMON_CONFIG)"
bash -c 'echo $$ >"$1"; exec /bin/kill -TERM "$2"' term "$WORK/term.pid" "$RPID" || fail "kill -TERM"
TPID=$(cat "$WORK/term.pid")
wait_for 30 not_running "$RPID" || fail "rauditd did not stop"
wait "$RPID"; RSTATUS=$?
RPID=
[ "$RSTATUS" = 0 ] || fail "rauditd exited with $RSTATUS"
spool_has "^type=DAEMON_END msg=audit\([0-9.:]+\): op=terminate auid=$AUID pid=$TPID subj=[^ ]+ .*res=success\$" ||
	fail "DAEMON_END does not name auid $AUID pid $TPID: $(cat "$WORK"/spool/audit-*.log | grep DAEMON_END)"
[ "$(kstat enabled)" = 0 ] || fail "audit was disabled before; after stop it is enabled $(kstat enabled)"
# As auditd: the host's rules stay loaded at stop.
timeout 5 auditctl -l | grep -q -- "key=$KEY\$" || fail "the loaded rules were removed at stop"
del_test_rules
timeout 5 auditctl -e "$K_ENABLED" >/dev/null || true

# ---- a bad rule: reported by file and line, the daemon runs on ------------
printf '%s\n' "-a always,exit -F arch=b64 -S openat -F uid=65534 -k $KEY" \
    "-a always,exit -F no_such_field=1 -k $KEY" >"$WORK/bad.rules"
rm -rf "$WORK/run"
use_rules "$WORK/bad.rules"
start_rauditd "$WORK/rauditd.conf"
wait_for 15 registered_as "$RPID" || fail "rauditd did not register with a bad rule: $(cat "$WORK/rauditd.log")"
wait_for 15 test -S "$WORK/run/control.sock" || fail "no control socket with a bad rule"
wait_for 30 started 2 || fail "rauditd did not finish starting with a bad rule: $(cat "$WORK/rauditd.log")"
grep -q "rules: $WORK/bad.rules:2: " "$WORK/rauditd.log" ||
	fail "the bad rule is not reported as $WORK/bad.rules:2: $(grep rules: "$WORK/rauditd.log")"
kill -0 "$RPID" || fail "rauditd died after a bad rule"
stop_rauditd
[ "$RSTATUS" = 0 ] || fail "rauditd exited with $RSTATUS after a bad rule"
log "ok"
