#!/bin/bash
# dispatch_retention.sh - retention and rauditd-dispatch's plugins, fed by
# tests/helpers/fake_kernel through the test input (no kernel, no root):
#   0. plugins.d names two active plugins but no dispatcher ever ran: their
#      cursors do not exist, so retention (num_segments) does not wait;
#   1. plugin p1 is SIGSTOPped while events arrive: num_segments keeps every
#      segment from p1's cursor on (spool_segments_held > 0) while p2 keeps
#      up; after SIGCONT p1 receives every event and retention proceeds;
#   2. p1 stopped again, max_spool_size (set by a SIGHUP reload) forces
#      deletions: counted for plugin:p1 and not for the caught-up p2, a
#      DAEMON_ERR op=retention-unshipped names consumer=plugin:p1, and p1's
#      own missing_segments (rauditd-dispatch restarted, so it reads from its
#      cursor) equals the daemon's count.
set -u
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/dispatch_lib.sh"

RAUDITCTL=$top_builddir/rauditctl
[ -x "$RAUDITD" ] || fail "$RAUDITD not built"
[ -x "$FAKE_KERNEL" ] || fail "$FAKE_KERNEL not built"
[ -x "$RAUDITD_DISPATCH" ] || fail "$RAUDITD_DISPATCH not built"

make_work
RPID=
STOPPED=
cleanup() {
	[ -n "$STOPPED" ] && kill -CONT "$STOPPED" 2>/dev/null
	stop_dispatch
	if [ -n "${RPID:-}" ] && kill -0 "$RPID" 2>/dev/null; then
		kill -TERM "$RPID" 2>/dev/null
		wait_for 10 not_running "$RPID" || kill -KILL "$RPID" 2>/dev/null
		wait "$RPID" 2>/dev/null
	fi
	cleanup_work
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

SPOOL=$WORK/spool
CONF=$WORK/rauditd.conf
SOCK=$WORK/in.sock
NSEG=4
ctl() { timeout 30 "$RAUDITCTL" -c "$CONF" "$@"; }
status() { ctl -s 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }'; }
drained() { ctl -s 2>/dev/null | grep -qx 'in_ring 0'; }
nsegs() { local f=("$SPOOL"/audit-*.log); [ -e "${f[0]}" ] && echo ${#f[@]} || echo 0; }
oldest() { ls "$SPOOL" | sed -n 's/^audit-0*\([0-9][0-9]*\)\.log$/\1/p' | sort -n | head -1; }
# feed COUNT FIRST RATE: events with serials FIRST.., paced.
feed() {
	timeout 120 "$FAKE_KERNEL" -s "$SOCK" -n "$1" -S "$2" -r "$3" >"$WORK/fk.out" 2>&1 ||
		{ cat "$WORK/fk.out" "$WORK/rauditd.log" >&2; fail "fake_kernel failed"; }
	wait_for 30 drained || fail "rauditd did not write everything"
}
# got FILE FIRST COUNT: how many of the serials FIRST..FIRST+COUNT-1 FILE holds.
got() {
	grep -a '^type=SYSCALL ' "$1" 2>/dev/null |
		sed -n 's/^type=SYSCALL msg=audit([0-9.]*:\([0-9]*\)).*/\1/p' |
		awk -v a="$2" -v b="$(($2 + $3 - 1))" '$1 >= a && $1 <= b && !s[$1]++ { n++ } END { print n + 0 }'
}
has_all() { [ "$(got "$1" "$2" "$3")" = "$3" ]; }
write_conf() {	# NUM_SEGMENTS MAX_SPOOL_SIZE
	cat >"$CONF.tmp" <<CONF
spool_dir = $SPOOL
run_dir = $WORK/run
segment_size = 64K
num_segments = $1
max_spool_size = $2
flush = none
stats_interval = 1
plugin_dir = $WORK/plugins
metrics_file = $WORK/run/metrics.prom
CONF
	mv -f "$CONF.tmp" "$CONF"
}

mkdir -m 0700 "$SPOOL" "$WORK/run"
plain_plugin p1
plain_plugin p2
write_conf $NSEG 0
start_rauditd "$CONF" -T "$SOCK"
wait_for 10 sock_or_dead "$SOCK" || fail "no test-input socket after 10 s"
kill -0 "$RPID" 2>/dev/null || { cat "$WORK/rauditd.log" >&2; fail "rauditd exited at start"; }

# ---- 0: plugins that never started are not waited for ------------------------
feed 1500 1000 3000
n=$(nsegs)
[ "$n" -le "$NSEG" ] && [ "$(status spool_segments_held)" = 0 ] ||
	fail "0: plugins never started held retention: $n segments, held $(status spool_segments_held)"
log "0: no dispatcher yet: num_segments = $NSEG kept $n segments"

# ---- 1: a stopped plugin holds its segments ------------------------------------
start_dispatch
wait_for 10 dstate_is p1 running || fail "p1 not running: $(cat "$WORK/dispatch.log")"
wait_for 10 dstate_is p2 running || fail "p2 not running"
wait_for 10 test -s "$SPOOL/plugin-p1.cursor" || fail "no cursor for p1"
wait_for 10 test -s "$SPOOL/plugin-p2.cursor" || fail "no cursor for p2"
miss1=$(dstatus p1 missing_segments)
P1=$(dstatus p1 pid)
STOPPED=$P1
kill -STOP "$P1"
feed 3000 100000 3000
wait_for 20 has_all "$WORK/out-p2.txt" 100000 3000 || fail "1: p2 did not keep up with p1 stopped"
# What retention reads: the cursor file, which cannot move while p1 sleeps.
cur1=$(awk '$1 == "segment" { print $2 }' "$SPOOL/plugin-p1.cursor")
n=$(nsegs)
old=$(oldest)
held=$(status spool_segments_held)
[ "$n" -gt "$NSEG" ] && [ "${held:-0}" -gt 0 ] ||
	fail "1: p1 stopped: num_segments = $NSEG left $n segments, held ${held:-none}"
[ "$old" -le "$cur1" ] || fail "1: segment $cur1 (p1's cursor) deleted, oldest is $old"
has_all "$WORK/out-p1.txt" 100000 3000 && fail "1: p1 got every event while stopped?"
kill -CONT "$P1"
STOPPED=
wait_for 30 has_all "$WORK/out-p1.txt" 100000 3000 ||
	fail "1: p1 has $(got "$WORK/out-p1.txt" 100000 3000) of 3000 events after SIGCONT"
[ "$(dstatus p1 missing_segments)" = "$miss1" ] || fail "1: p1 missed segments"
below() { [ "$(nsegs)" -le "$NSEG" ]; }
wait_for 20 below || fail "1: retention did not proceed once p1 caught up: $(nsegs) segments"
log "1: p1 stopped at segment $cur1: $n segments kept ($held held, oldest $old), every event after SIGCONT, then $(nsegs)"

# ---- 2: max_spool_size forces it, and counts it for p1 only -----------------------
[ "$(status spool_unconsumed_deleted.plugin:p1)" = "" ] || fail "2: a loss counted before any"
write_conf 0 512K
kill -HUP "$RPID"
wait_for 10 grep -q 'config: reloaded' "$WORK/rauditd.log" || fail "2: no reload"
P1=$(dstatus p1 pid)
STOPPED=$P1
kill -STOP "$P1"
# Slow enough that p2's cursor, rewritten once a second, stays inside the spool.
feed 3000 200000 300
wait_for 20 has_all "$WORK/out-p2.txt" 200000 3000 || fail "2: p2 did not keep up"
lost1=$(status spool_unconsumed_deleted.plugin:p1)
lost2=$(status spool_unconsumed_deleted.plugin:p2)
all=$(status spool_unshipped_deleted)
[ "${lost1:-0}" -ge 1 ] || fail "2: max_spool_size deleted nothing counted for p1: $(ctl -s | grep spool_)"
[ "${lost2:-0}" = 0 ] || fail "2: p2 was caught up, yet $lost2 segment(s) counted for it"
[ "$all" = "$lost1" ] || fail "2: spool_unshipped_deleted $all, plugin:p1 $lost1"
cat "$WORK/out-p2.txt" "$SPOOL"/audit-*.log |
	grep -q "op=retention-unshipped segment=[0-9]* bytes=[0-9]* reason=max_spool_size consumer=plugin:p1 res=failed" ||
	fail "2: no DAEMON_ERR naming consumer=plugin:p1"
ctl -s --json | grep -q '"spool_unconsumed_deleted.plugin:p1":' || fail "2: not in --json"
wait_for 10 grep -qx "rauditd_spool_unconsumed_deleted_segments_total{consumer=\"plugin:p1\"} $lost1" \
	"$WORK/run/metrics.prom" || fail "2: not in the metrics file: $(grep unconsumed "$WORK/run/metrics.prom")"
# A dispatcher restart reads p1 from its cursor: it must find what was deleted.
stop_dispatch
kill -CONT "$P1" 2>/dev/null
STOPPED=
start_dispatch
wait_for 30 has_all "$WORK/out-p1.txt" $((200000 + 3000 - 300)) 300 ||
	fail "2: p1 did not catch up after the restart"
missing=$(dstatus p1 missing_segments)
[ "$missing" = "$lost1" ] || fail "2: rauditd counted $lost1 segment(s) for plugin:p1, p1 found $missing missing"
[ "$(dstatus p2 missing_segments)" = 0 ] || fail "2: p2 found segments missing"
log "2: max_spool_size = 512K with p1 stopped: $lost1 segment(s) counted for plugin:p1 (p1 found $missing missing), 0 for p2"

# ---- 3: SIGHUP rereads plugins.d --------------------------------------------------
# p3 appears with a cursor at the oldest segment, as a stopped p3 would have
# left it (the dispatcher is not told, so it never moves): it holds
# retention; removed from plugins.d, it holds nothing.
old=$(oldest)
printf 'rauditd-ship cursor 1\nsegment %s\noffset 0\n' "$old" >"$SPOOL/plugin-p3.cursor"
plain_plugin p3
write_conf $NSEG 0
: >"$WORK/rauditd.log"
kill -HUP "$RPID"
wait_for 10 grep -q 'config: reloaded' "$WORK/rauditd.log" || fail "3: no reload"
feed 1500 300000 3000
held=$(status spool_segments_held)
[ "${held:-0}" -gt 0 ] && [ "$(oldest)" = "$old" ] ||
	fail "3: p3 added by a reload: held ${held:-none}, oldest $(oldest), its cursor at $old"
rm -f "$WORK/plugins/p3.conf"
: >"$WORK/rauditd.log"
kill -HUP "$RPID"
wait_for 10 grep -q 'config: reloaded' "$WORK/rauditd.log" || fail "3: no reload"
wait_for 20 below || fail "3: p3 removed by a reload still holds $(nsegs) segments"
log "3: a plugin added by SIGHUP held $held segment(s) from its cursor, removed released them"
exit 0
