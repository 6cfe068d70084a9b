#!/bin/bash
# dispatch_supervise.sh - rauditd-dispatch's supervision on a spool written
# by the test (no kernel, no root needed):
#   1. a plugin that never reads is SIGKILLed with its pipe full: its
#      successor gets every record from the start (the cursor follows what
#      the plugin read, not what was written into its pipe);
#   2. a plugin that keeps exiting is restarted with back-off and left
#      failed after max_restarts exits in a row, logged once each;
#   3. SIGHUP: a new plugin starts, a removed one stops, a changed one is
#      restarted, the failed one gets another chance; a bad file is
#      refused with file:line and changes nothing;
#   4. a dispatcher stopped (with a plugin SIGSTOPped: it is continued
#      with SIGTERM) and started again resumes each plugin from its
#      cursor: new records arrive, nothing is sent twice;
#   5. a plugin's cursor file exists from its start (its registration
#      with retention); the status file's temp file is never followed
#      through a planted symlink; a bad plugins.d file stops the start
#      with status 3;
#   6. the generated unit file is complete and systemd-analyze accepts it.
set -u
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/dispatch_lib.sh"

[ -x "$RAUDITD_DISPATCH" ] || fail "$RAUDITD_DISPATCH not built"
make_work
RPID=
stop_ours() {
	if [ -n "$RPID" ] && kill -0 "$RPID" 2>/dev/null; then
		kill -KILL "$RPID" 2>/dev/null
		wait "$RPID" 2>/dev/null
	fi
}
trap 'stop_ours; stop_dispatch; cleanup_work' EXIT
trap 'exit 1' INT TERM
KEY=t
mkdir -p "$WORK/spool" "$WORK/run" "$WORK/plugins"
chmod 700 "$WORK/spool"

# add_records FIRST N: N events (SYSCALL and PROCTITLE) from serial FIRST.
add_records() {
	awk -v f="$1" -v n="$2" 'BEGIN {
		for (i = f; i < f + n; i++) {
			printf "type=SYSCALL msg=audit(1700000000.%03d:%d): arch=c000003e syscall=124 success=yes exit=1 pid=%d comm=\"x\" key=\"t\"\n", i % 1000, i, i
			printf "type=PROCTITLE msg=audit(1700000000.%03d:%d): proctitle=78\n", i % 1000, i
		}
	}' >>"$WORK/spool/audit-00000001.log"
}
add_records 1 3000
cat >"$WORK/rauditd.conf" <<CONF
spool_dir = $WORK/spool
run_dir = $WORK/run
plugin_dir = $WORK/plugins
stats_interval = 1
max_restarts = 2
CONF
chmod 644 "$WORK/rauditd.conf"

# ---- 1. killed with a full pipe ------------------------------------------------
# The first instance holds its stdin and reads nothing; later ones append.
cat >"$WORK/p1.sh" <<SH
#!/bin/sh
if [ ! -e "$WORK/p1.once" ]; then
	: >"$WORK/p1.once"
	exec sleep 600
fi
exec cat >>"$WORK/out-p1.txt"
SH
chmod 755 "$WORK/p1.sh"
printf 'active = yes\ndirection = out\npath = %s/p1.sh\ntype = always\nformat = string\n' "$WORK" \
	>"$WORK/plugins/p1.conf"
start_dispatch
wait_for 10 dstate_is p1 running || fail "p1 not running"
P1=$(dstatus p1 pid)
# Its pipe is full: more was written than a pipe holds, nothing read.
full() { [ "$(dstatus p1 bytes)" -ge 65536 ]; }
wait_for 5 full || fail "the pipe of p1 did not fill: $(dstatus p1 bytes) bytes"
[ "$(dstatus p1 cursor_offset)" = 0 ] || fail "the cursor moved past records p1 never read: $(dstatus p1 cursor_offset)"
# Registered with retention from its start, before it read anything.
[ "$(sed -n 3p "$WORK/spool/plugin-p1.cursor")" = "offset 0" ] || fail "no cursor file for p1 at its start"
# rauditctl -s and top show the consumers as this dispatcher's status file
# has them (rauditd on its test input, its own spool, the same run_dir).
sed "s|^spool_dir = .*|spool_dir = $WORK/rspool|" "$WORK/rauditd.conf" >"$WORK/rd.conf"
start_rauditd "$WORK/rd.conf" -T "$WORK/input.sock"
wait_for 10 test -S "$WORK/input.sock" || { cat "$WORK/rauditd.log" >&2; fail "rauditd did not start"; }
"$top_builddir/rauditctl" -c "$WORK/rd.conf" -s >"$WORK/st" 2>&1 || fail "rauditctl -s: $(cat "$WORK/st")"
for f in kind state pid restarts lag_records lag_bytes lag_seconds; do
	v=$(awk -v f="$f" '$1 == "consumer" && $2 == "p1" && $3 == f { print $4 }' "$WORK/st")
	[ -n "$v" ] || fail "rauditctl -s has no \"consumer p1 $f\" line: $(grep '^consumer' "$WORK/st")"
done
grep -qx "consumer p1 pid $P1" "$WORK/st" || fail "rauditctl -s: $(grep '^consumer p1 pid' "$WORK/st"), want $P1"
grep -qx "consumer p1 state running" "$WORK/st" || fail "rauditctl -s: $(grep '^consumer p1 state' "$WORK/st")"
[ "$(awk '$1 == "consumer" && $3 == "lag_records" { print $4 }' "$WORK/st")" -gt 0 ] ||
	fail "p1 reads nothing, yet rauditctl -s shows no lag: $(grep '^consumer p1 lag' "$WORK/st")"
"$top_builddir/rauditctl" -c "$WORK/rd.conf" top -i 0.2 -n 2 >"$WORK/top" || fail "rauditctl top"
grep -qE "^  p1 +running +$P1 " "$WORK/top" || fail "rauditctl top: no p1 line: $(cat "$WORK/top")"
stop_rauditd 30
kill -KILL "$P1"
wait_for 10 serials_at_least "$WORK/out-p1.txt" 3000 ||
	fail "p1's successor got $(file_serials "$WORK/out-p1.txt") of 3000 events: the records in the dead pipe were lost"
grep -q "p1: pid $P1 was killed by signal 9; restarting in 100 ms from segment 0 offset 0\|p1: pid $P1 was killed by signal 9; restarting in 100 ms from segment 1 offset 0" \
	"$WORK/dispatch.log" || fail "restart not logged as expected: $(grep p1 "$WORK/dispatch.log")"

# ---- 2. a plugin that keeps exiting ----------------------------------------------------
printf '#!/bin/sh\nexit 3\n' >"$WORK/bad.sh"
chmod 755 "$WORK/bad.sh"
printf 'active = yes\ndirection = out\npath = %s/bad.sh\ntype = always\nformat = string\n' "$WORK" \
	>"$WORK/plugins/bad.conf"
printf '#!/bin/sh\nexec cat >>"%s/out-p2.txt"\n' "$WORK" >"$WORK/p2.sh"
chmod 755 "$WORK/p2.sh"
printf 'active = yes\ndirection = out\npath = %s/p2.sh\ntype = always\nformat = string\n' "$WORK" \
	>"$WORK/plugins/p2.conf"
kill -HUP "$DPID"
wait_for 10 dstate_is bad failed || fail "bad is not failed: $(grep '^consumer bad' "$WORK/run/dispatch.status")"
[ "$(dstatus bad restarts)" = 3 ] || fail "bad restarted $(dstatus bad restarts) times, want 3 exits with max_restarts 2"
[ "$(grep -c 'bad: pid [0-9]* exited with status 3; restarting' "$WORK/dispatch.log")" = 2 ] || fail "restarts not logged once each"
grep -q 'bad: pid [0-9]* exited with status 3; 3 exits in a row: not restarted until a reload' "$WORK/dispatch.log" ||
	fail "giving up is not logged"
wait_for 10 serials_at_least "$WORK/out-p2.txt" 3000 || fail "new plugin p2 was not started by the reload"
dstate_is p1 running || fail "p1 was disturbed by the reload"
[ "$(dstatus p1 pid)" != "$P1" ] || fail "p1 has its old pid"
P1=$(dstatus p1 pid)

# ---- 3. reload: remove, change, retry, refuse -----------------------------------------------
rm "$WORK/plugins/p2.conf"
printf 'active = yes\ndirection = out\npath = %s/p1.sh\ntype = always\nargs = changed\nformat = string\n' "$WORK" \
	>"$WORK/plugins/p1.conf"
printf '#!/bin/sh\nexec cat >>"%s/out-bad.txt"\n' "$WORK" >"$WORK/bad.sh"
kill -HUP "$DPID"
gone() { ! grep -q '^consumer p2 ' "$WORK/run/dispatch.status"; }
wait_for 10 gone || fail "removed p2 is still there"
p1_new() { dstate_is p1 running && [ "$(dstatus p1 pid)" != "$P1" ]; }
wait_for 10 p1_new || fail "changed p1 was not restarted"
wait_for 10 serials_at_least "$WORK/out-bad.txt" 3000 || fail "the failed plugin was not retried by the reload"
grep -q 'p2: stopped by the reload' "$WORK/dispatch.log" || fail "p2's stop not logged"
printf 'active = yes\npath = %s/p1.sh\nwhat = ever\n' "$WORK" >"$WORK/plugins/zz.conf"
P1=$(dstatus p1 pid)
kill -HUP "$DPID"
wait_for 5 grep -q "reload: $WORK/plugins/zz.conf:3: unknown key \"what\"; keeping the plugins as they are" "$WORK/dispatch.log" ||
	fail "a bad file at reload is not reported with file:line"
sleep 1
[ "$(dstatus p1 pid)" = "$P1" ] || fail "a refused reload changed p1"
rm "$WORK/plugins/zz.conf"

# ---- 4. stop, more records, start: resume from the cursors ----------------------------------
# A stopped plugin does not hold the stop up: it gets SIGCONT with SIGTERM.
kill -STOP "$(dstatus p1 pid)"
t0=$SECONDS
stop_dispatch
[ "$DSTATUS" = 0 ] || fail "rauditd-dispatch exited with $DSTATUS"
[ $((SECONDS - t0)) -lt 5 ] || fail "the stop took $((SECONDS - t0)) s with a stopped plugin"
! grep -q 'p1: pid [0-9]* did not exit on SIGTERM' "$WORK/dispatch.log" || fail "the stopped plugin needed SIGKILL"
add_records 3001 500
start_dispatch
wait_for 10 serials_at_least "$WORK/out-p1.txt" 3500 || fail "p1 did not resume: $(file_serials "$WORK/out-p1.txt") of 3500"
wait_for 10 serials_at_least "$WORK/out-bad.txt" 3500 || fail "bad did not resume"
sleep 0.5
[ "$(file_dups "$WORK/out-bad.txt")" = 0 ] || fail "bad got $(file_dups "$WORK/out-bad.txt") events twice across a clean restart"
[ "$(grep -c '^type=EOE ' "$WORK/out-bad.txt")" = 3500 ] || fail "bad: $(grep -c '^type=EOE ' "$WORK/out-bad.txt") EOE records for 3500 events"
grep -q '^dispatch_consumers 2$' "$WORK/run/dispatch.status" || fail "status: consumers"
for f in kind state pid restarts records bytes eoe cursor_segment cursor_offset lag_records lag_bytes lag_seconds; do
	[ -n "$(dstatus p1 "$f")" ] || fail "status: p1 has no $f"
done

# ---- 5. a planted temp file; a bad plugins.d at start ------------------------------------------
stop_dispatch
echo victim >"$WORK/victim"
ln -s "$WORK/victim" "$WORK/run/dispatch.status.tmp"
start_dispatch
sleep 1.5
[ "$(cat "$WORK/victim")" = victim ] || fail "the status file was written through a planted symlink"
[ -L "$WORK/run/dispatch.status" ] && fail "the status file is a symlink"
stop_dispatch
printf 'active = yes\npath = relative\n' >"$WORK/plugins/rel.conf"
"$RAUDITD_DISPATCH" -f -c "$WORK/rauditd.conf" >"$WORK/bad-start.log" 2>&1
rc=$?
[ "$rc" = 3 ] || fail "a bad plugin file: exit $rc, want 3"
grep -q "$WORK/plugins/rel.conf:2: path \"relative\" is neither an absolute path" "$WORK/bad-start.log" ||
	fail "no file:line error: $(cat "$WORK/bad-start.log")"

# ---- 6. the unit file ---------------------------------------------------------------------------
UNIT="$top_builddir/systemd/rauditd-dispatch.service"
make -C "$top_builddir" systemd/rauditd-dispatch.service >/dev/null || fail "make systemd/rauditd-dispatch.service"
! grep -q '@[a-z]*@' "$UNIT" || fail "placeholders left in $UNIT: $(grep '@[a-z]*@' "$UNIT")"
for l in 'PartOf=rauditd.service' 'After=rauditd.service' 'Type=notify' 'KillMode=mixed' \
    'RestartPreventExitStatus=2 3' 'WantedBy=multi-user.target'; do
	grep -qx "$l" "$UNIT" || fail "$UNIT lacks $l"
done
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$WORK/man/man5" "$WORK/man/man8"
	for m in "$top_srcdir"/man/*.[58]; do cp "$m" "$WORK/man/man${m##*.}/"; done
	sed "s|^ExecStart=[^ ]*|ExecStart=$RAUDITD_DISPATCH|" "$UNIT" >"$WORK/rauditd-dispatch.service"
	MANPATH="$WORK/man" systemd-analyze verify "$WORK/rauditd-dispatch.service" >"$WORK/verify.out" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$WORK/verify.out")"
	! grep -v 'rauditd.service' "$WORK/verify.out" | grep -q . || fail "systemd-analyze verify: $(cat "$WORK/verify.out")"
fi
exit 0
