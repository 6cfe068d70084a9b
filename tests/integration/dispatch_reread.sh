#!/bin/bash
# dispatch_reread.sh - a plugin that reads records and dies before handling
# them (here: it reads 8 KiB into nothing and exits 1) loses nothing: its
# successor is sent again what the dead one read in its last tick, so its
# output ends up holding every event of the spool (at least once). No
# kernel, no root needed: the spool is written by the test.
set -u
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/dispatch_lib.sh"

[ -x "$RAUDITD_DISPATCH" ] || fail "$RAUDITD_DISPATCH not built"
make_work
trap 'stop_dispatch; cleanup_work' EXIT
trap 'exit 1' INT TERM
KEY=t
EVENTS=3000
mkdir -p "$WORK/spool" "$WORK/run" "$WORK/plugins"
chmod 700 "$WORK/spool"
awk -v n="$EVENTS" 'BEGIN {
	for (i = 1; i <= n; i++) {
		printf "type=SYSCALL msg=audit(1700000000.%03d:%d): arch=c000003e syscall=124 success=yes exit=1 pid=%d comm=\"x\" key=\"t\"\n", i % 1000, i, i
		printf "type=PROCTITLE msg=audit(1700000000.%03d:%d): proctitle=78\n", i % 1000, i
	}
}' >"$WORK/spool/audit-00000001.log"
cat >"$WORK/rauditd.conf" <<CONF
spool_dir = $WORK/spool
run_dir = $WORK/run
plugin_dir = $WORK/plugins
stats_interval = 1
CONF
chmod 644 "$WORK/rauditd.conf"

# The first instance takes 8 KiB out of its pipe and dies with it unhandled.
cat >"$WORK/rd.sh" <<SH
#!/bin/sh
if [ ! -e "$WORK/rd.once" ]; then
	: >"$WORK/rd.once"
	head -c 8192 >/dev/null
	exit 1
fi
exec cat >>"$WORK/out-rd.txt"
SH
chmod 755 "$WORK/rd.sh"
printf 'active = yes\ndirection = out\npath = %s/rd.sh\ntype = always\nformat = string\n' "$WORK" \
	>"$WORK/plugins/rd.conf"
start_dispatch
wait_for 15 serials_at_least "$WORK/out-rd.txt" "$EVENTS" ||
	fail "the successor got $(file_serials "$WORK/out-rd.txt") of $EVENTS events: what the dead plugin read was lost"
grep -q "rd: pid [0-9]* exited with status 1; restarting" "$WORK/dispatch.log" ||
	fail "the exit is not logged: $(grep rd: "$WORK/dispatch.log")"
log "a plugin that died with 8 KiB read: its successor has all $EVENTS events, $(file_dups "$WORK/out-rd.txt") twice"
stop_dispatch
exit 0
