#!/bin/bash
# auditview.sh - auditd's tools with no -if find rauditd's records through
# the auditd-compatible view: segments are written in a spool directory, the
# view is kept by the auditview module (tests/helpers/auditview_update) at
# the log_file of /etc/audit/auditd.conf, and the real `ausearch -k` (on a
# terminal with no option; without one with --input-logs, as cron jobs run
# it, never -if) and `aureport --summary` must find every event after the
# start, after a rotation and after a retention deletion, plus auditd's own
# audit.log found in the view's place (moved aside, never destroyed). ausearch reads
# /etc/audit/auditd.conf only: the test points its log_file at a temporary
# directory and restores the host's file on every exit path, holding the
# kernel test lock so no other test sees the change. No kernel audit is
# touched. Needs root (to edit /etc/audit); exits 77 without it.
set -u

. "$top_srcdir/tests/integration/lib.sh"

VIEW_HELPER=$top_builddir/tests/helpers/auditview_update
AUDITD_CONF=/etc/audit/auditd.conf
EVENTS=20	# events per segment
KEY=rauditd_view_test

[ "$(id -u)" = 0 ] || skip "needs root (edits $AUDITD_CONF)"
for t in ausearch aureport; do
	command -v $t >/dev/null 2>&1 ||
		{ [ "${CI:-}" = true ] && fail "$t missing (apt-get install auditd)"; skip "$t missing"; }
done
[ -x "$VIEW_HELPER" ] || fail "$VIEW_HELPER not built"
exec 9>"${TMPDIR:-/tmp}/rauditd-kernel-tests.lock"
flock -w 900 9 || fail "timed out waiting for the kernel test lock"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/auditview.XXXXXX") || exit 99
had_conf=no
restore() {
	if [ "$had_conf" = yes ]; then
		cp -p "$WORK/auditd.conf.orig" "$AUDITD_CONF"
	elif [ "$had_conf" = none ]; then
		rm -f "$AUDITD_CONF"
	fi
	rm -rf "$WORK"
}
trap restore EXIT
trap 'exit 1' HUP INT TERM

if [ -e "$AUDITD_CONF" ]; then
	cp -p "$AUDITD_CONF" "$WORK/auditd.conf.orig" || fail "cannot back up $AUDITD_CONF"
	had_conf=yes
else
	mkdir -p /etc/audit
	had_conf=none
fi
mkdir -m 0700 "$WORK/spool" "$WORK/audit"
LOG_FILE=$WORK/audit/audit.log
{
	[ "$had_conf" = yes ] && grep -v '^ *log_file *=' "$WORK/auditd.conf.orig"
	printf 'log_file = %s\n' "$LOG_FILE"
} >"$WORK/auditd.conf.new"
install -m 0640 "$WORK/auditd.conf.new" "$AUDITD_CONF"

# write_events FILE FIRST_SERIAL: EVENTS SYSCALL+PROCTITLE events with KEY,
# serials FIRST_SERIAL.., as the kernel writes them (RAW).
write_events() {
	local i s
	for ((i = 0; i < EVENTS; i++)); do
		s=$(($2 + i))
		printf 'type=SYSCALL msg=audit(1765000000.%03d:%d): arch=c000003e syscall=124 success=yes exit=1 a0=0 a1=0 a2=0 a3=0 items=0 ppid=1 pid=4242 auid=65534 uid=65534 gid=65534 euid=65534 suid=65534 fsuid=65534 egid=65534 sgid=65534 fsgid=65534 tty=(none) ses=4294967295 comm="audit_load" exe="/usr/bin/audit_load" subj=unconfined key="%s"\n' $((s % 1000)) "$s" "$KEY"
		printf 'type=PROCTITLE msg=audit(1765000000.%03d:%d): proctitle=61756469745F6C6F6164\n' $((s % 1000)) "$s"
	done >>"$1"
}
segment() { printf '%s/spool/audit-%08d.log' "$WORK" "$1"; }

# The count of KEY events ausearch finds with no file given. Without a
# terminal on standard input ausearch and aureport read standard input;
# --input-logs is what cron jobs and scripts give them to read log_file
# instead. On a terminal (script(1) gives them one) they need nothing.
found() {
	ausearch --input-logs -k "$KEY" --raw 2>/dev/null | grep -c '^type=SYSCALL '
}
found_tty() {
	script -qec "ausearch -k $KEY --raw" /dev/null </dev/null 2>/dev/null | grep -c '^type=SYSCALL '
}
summary() {
	aureport --input-logs --summary 2>/dev/null | awk -F': *' '/^Number of events/ { print $2 }'
}
check() {
	local want=$1 what=$2 n r
	n=$(found)
	[ "$n" = "$want" ] || fail "$what: ausearch -k found $n events, want $want ($(ls -l "$WORK/audit" | tr '\n' ' '))"
	if command -v script >/dev/null 2>&1; then
		n=$(found_tty)
		[ "$n" = "$want" ] || fail "$what: ausearch -k on a terminal found $n events, want $want"
	fi
	r=$(summary)
	[ "$r" = "$want" ] || fail "$what: aureport --summary counted ${r:-no} events, want $want"
	log "$what: ausearch and aureport find all $want events"
}

# auditd ran here before: its audit.log holds events too.
write_events "$LOG_FILE" 1
chmod 0600 "$LOG_FILE"
sum_before=$(md5sum <"$LOG_FILE")

for n in 1 2; do write_events "$(segment $n)" $((1000 * n)); done
: >"$(segment 3)"
out=$("$VIEW_HELPER" "$LOG_FILE" "$WORK/spool" 1 2 3) || fail "view at start"
[ "$out" = "saved 1" ] || fail "auditd's audit.log not moved aside: $out"
saved=$WORK/audit/audit.log.before-rauditd/audit.log
[ "$(md5sum <"$saved")" = "$sum_before" ] || fail "auditd's audit.log changed"
write_events "$(segment 3)" 3000
check $((4 * EVENTS)) "start (3 segments, auditd's log)"

# Rotation: 4 opens; the segments keep their names.
write_events "$(segment 4)" 4000
"$VIEW_HELPER" "$LOG_FILE" "$WORK/spool" 1 2 3 4 >/dev/null || fail "view after rotation"
check $((5 * EVENTS)) "rotation"
[ "$(readlink "$LOG_FILE")" = "$(segment 4)" ] || fail "audit.log does not name the open segment"

# Retention deletes 1 and 2: their events are gone, no other.
rm -f "$(segment 1)" "$(segment 2)"
"$VIEW_HELPER" "$LOG_FILE" "$WORK/spool" 3 4 >/dev/null || fail "view after retention"
check $((3 * EVENTS)) "retention"
[ -e "$WORK/audit/audit.log.4" ] && fail "stale audit.log.4 left"
for n in 3 4; do [ -f "$(segment "$n")" ] || fail "segment $n renamed or gone"; done
exit 0
