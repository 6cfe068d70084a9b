#!/bin/bash
# auditd_view_node.sh - the daemon keeps auditd's tools working: with
# auditd_view = yes and name_format = user, events from the fake kernel are
# written across rotations and retention deletions, and `ausearch -k KEY
# --input-logs` and `aureport --summary --input-logs` (no -if: they read
# log_file of /etc/audit/auditd.conf) find every event still in the spool,
# while it runs and after it stopped; every line starts with "node=NAME "
# exactly as auditd writes it, `ausearch -if SEGMENT --node NAME` finds the
# events and another node finds none. /etc/audit/auditd.conf is pointed at a
# temporary directory and restored on every exit path, under the kernel test
# lock (auditview.sh does the same). No kernel audit is touched (fake
# kernel). Needs root (edits /etc/audit); exits 77 without it.
set -u
. "$top_srcdir/tests/integration/lib.sh"

AUDITD_CONF=/etc/audit/auditd.conf
NODE=dropin-node.example
KEY=fake		# the fake kernel's events carry key="fake"

[ "$(id -u)" = 0 ] || skip "needs root (edits $AUDITD_CONF)"
for t in ausearch aureport; do
	command -v $t >/dev/null 2>&1 ||
		{ [ "${CI:-}" = true ] && fail "$t missing (apt-get install auditd)"; skip "$t missing"; }
done
[ -x "$FAKE_KERNEL" ] || fail "$FAKE_KERNEL not built"
exec 9>"${TMPDIR:-/tmp}/rauditd-kernel-tests.lock"
flock -w 900 9 || fail "timed out waiting for the kernel test lock"

make_work
RPID=
had_conf=no
restore() {
	if [ -n "${RPID:-}" ] && kill -0 "$RPID" 2>/dev/null; then
		kill -TERM "$RPID" 2>/dev/null
		wait_for 10 not_running "$RPID" || kill -KILL "$RPID" 2>/dev/null
		wait "$RPID" 2>/dev/null
	fi
	if [ "$had_conf" = yes ]; then
		cp -p "$WORK/auditd.conf.orig" "$AUDITD_CONF"
	elif [ "$had_conf" = none ]; then
		rm -f "$AUDITD_CONF"
	fi
	cleanup_work
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
chmod 0755 "$WORK"
mkdir -m 0700 "$WORK/audit" "$WORK/run"
LOG_FILE=$WORK/audit/audit.log
{
	[ "$had_conf" = yes ] && grep -v '^ *log_file *=' "$WORK/auditd.conf.orig"
	printf 'log_file = %s\n' "$LOG_FILE"
} >"$WORK/auditd.conf.new"
install -m 0640 "$WORK/auditd.conf.new" "$AUDITD_CONF"

# The shipped configuration, with the test's directories, small segments,
# retention, and a node name.
grep -Ev '^(spool_dir|run_dir|segment_size|num_segments|name_format|name|flush) *=' \
    "$top_srcdir/conf/rauditd.conf" >"$WORK/rauditd.conf"
cat >>"$WORK/rauditd.conf" <<CONF
spool_dir = $WORK/spool
run_dir = $WORK/run
segment_size = 64K
num_segments = 3
flush = none
name_format = user
name = $NODE
CONF
grep -qx 'auditd_view = yes' "$WORK/rauditd.conf" || fail "the shipped config does not keep the view"

# This test is the one that wants the view: the suite turns it off elsewhere.
export RAUDITD_AUDITD_CONF=$AUDITD_CONF
"$RAUDITD" -n -c "$WORK/rauditd.conf" | grep -qx "# auditd_view: ausearch and aureport will look at $LOG_FILE (log_file of $AUDITD_CONF)" ||
	fail "rauditd -n does not say where auditd's tools look: $("$RAUDITD" -n -c "$WORK/rauditd.conf" | tail -1)"

SOCK=$WORK/input.sock
start_rauditd "$WORK/rauditd.conf" -T "$SOCK"
wait_for 10 sock_or_dead "$SOCK" || fail "no test-input socket after 10 s"
kill -0 "$RPID" 2>/dev/null || { cat "$WORK/rauditd.log" >&2; fail "rauditd exited at start"; }

# In the spool: SYSCALL lines with the key (what ausearch must find).
in_spool() { cat "$WORK"/spool/audit-*.log 2>/dev/null | grep -c "type=SYSCALL .*key=\"$KEY\""; }
found() { ausearch --input-logs -k "$KEY" --raw 2>/dev/null | grep -c ' type=SYSCALL '; }
summary() { aureport --input-logs --summary 2>/dev/null | awk -F': *' '/^Number of events/ { print $2 }'; }
spool_has() { [ "$(in_spool)" = "$1" ]; }
check() {
	local want n r
	want=$(in_spool)
	[ "$want" -gt 0 ] || fail "$1: no events in the spool"
	n=$(found)
	[ "$n" = "$want" ] || fail "$1: ausearch -k found $n events, the spool holds $want ($(ls -l "$WORK/audit" | tr '\n' ' '))"
	# aureport counts every event: ours plus the daemon's own records.
	r=$(summary)
	want=$(cat "$WORK"/spool/audit-*.log | grep -c '^node=')
	[ "$((r))" -gt 0 ] && [ "$r" -le "$want" ] && [ "$r" -ge "$(in_spool)" ] ||
		fail "$1: aureport --summary counted ${r:-no} events, the spool has $(in_spool) keyed events in $want lines"
	log "$1: ausearch finds all $n events in $(ls "$WORK/spool" | grep -c '^audit-') segments; aureport $r events"
}

# 1: a first batch, all in the open segment (and maybe one rotation).
timeout 60 "$FAKE_KERNEL" -s "$SOCK" -n 40 -S 1000 >"$WORK/fk1.out" ||
	{ cat "$WORK/fk1.out" "$WORK/rauditd.log" >&2; fail "fake_kernel failed"; }
wait_for 20 spool_has 40 || fail "40 events not in the spool after 20 s: $(in_spool)"
check "running, before retention"
[ "$(readlink "$LOG_FILE")" = "$(ls -d "$WORK"/spool/audit-*.log | tail -1)" ] ||
	fail "audit.log does not name the open segment: $(readlink "$LOG_FILE")"

# 2: enough for several rotations at 64K and retention at 3 segments.
timeout 120 "$FAKE_KERNEL" -s "$SOCK" -n 1500 -S 2000 >"$WORK/fk2.out" ||
	{ cat "$WORK/fk2.out" "$WORK/rauditd.log" >&2; fail "fake_kernel failed"; }
last_has() { grep -q "audit([0-9.]*:3499): " "$(ls -d "$WORK"/spool/audit-*.log | tail -1)"; }
wait_for 30 last_has || fail "the last event did not reach the spool in 30 s"
[ ! -e "$WORK/spool/audit-00000001.log" ] || fail "retention deleted nothing"
[ "$(ls "$WORK/spool" | grep -c '^audit-')" -le 4 ] || fail "retention kept too much: $(ls "$WORK/spool")"
check "running, after rotations and retention"
[ -e "$LOG_FILE.3" ] && fail "a link names a deleted segment: $(ls -l "$WORK/audit")"

# 3: stopped, the links stay and still find everything.
stop_rauditd 30
[ "$RSTATUS" = 0 ] || { cat "$WORK/rauditd.log" >&2; fail "rauditd exited with $RSTATUS"; }
check "stopped"

# The node prefix, exactly as auditd writes it, on every line.
bad=$(cat "$WORK"/spool/audit-*.log | grep -cv "^node=$NODE type=[A-Z_]* msg=audit(")
[ "$bad" = 0 ] || fail "$bad line(s) without \"node=$NODE \" in front"
seg=$(ls -d "$WORK"/spool/audit-*.log | head -1)
want=$(grep -c "type=SYSCALL .*key=\"$KEY\"" "$seg")
n=$(ausearch -if "$seg" --node "$NODE" -k "$KEY" --raw 2>/dev/null | grep -c ' type=SYSCALL ')
[ "$n" = "$want" ] && [ "$n" -gt 0 ] || fail "ausearch -if $seg --node $NODE found $n events, want $want"
n=$(ausearch -if "$seg" --node other-node --raw 2>/dev/null | grep -c 'type=' || true)
[ "$n" = 0 ] || fail "ausearch --node other-node found $n records"
log "ok: ausearch --node $NODE finds the $want events of ${seg##*/}"
