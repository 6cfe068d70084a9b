#!/bin/bash
# dispatch_plugins.sh - rauditd-dispatch with two plain plugins (scripts
# appending their stdin to a file) and the af_unix output, against the
# real kernel, with a paced audited load (only this test's own processes):
#   1. plugin p1 is SIGSTOPped for 3 s mid-load: intake does not notice
#      (every event in the spool, no audited call slowed, the kernel lost
#      nothing), p2 keeps up with the spool meanwhile, and p1 catches up
#      after SIGCONT with every event; each syscall event reaches the
#      plugins with its EOE;
#   2. p1 is SIGKILLed mid-load: it is restarted, from its cursor, and its
#      file ends up holding every event of both loads (duplicates counted);
#   3. af_unix: a client that reads gets every event; one that never reads
#      is disconnected and counted, and nobody waits for it;
#   4. at stop, the cursors are saved where the list for retention says.
# Prints the lag figures.
set -u
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/dispatch_lib.sh"

EVENTS=${DP_EVENTS:-10000}
RATE=${DP_RATE:-2000}

[ -x "$RAUDITD_DISPATCH" ] || fail "$RAUDITD_DISPATCH not built"
require_root
make_work
KEY="rauditd_dp_$$"
STOPPED=
CLIENTS=()
cleanup() {
	local p
	[ -n "$STOPPED" ] && kill -CONT "$STOPPED" 2>/dev/null
	for p in "${CLIENTS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	[ -n "${LPID:-}" ] && { kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null; }
	stop_dispatch
	kernel_restore
	cleanup_work
}
trap cleanup EXIT
trap 'exit 1' INT TERM
kernel_save

plain_plugin p1
plain_plugin p2
printf 'active = yes\ndirection = out\npath = builtin_af_unix\ntype = builtin\nargs = 0600 %s/af.sock\nformat = string\n' \
	"$WORK" >"$WORK/plugins/af.conf"
kernel_conf "segment_size = 1M" "num_segments = 0" "stats_interval = 1" "plugin_dir = $WORK/plugins"

start_rauditd "$WORK/rauditd.conf"
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log"; fail "rauditd did not register"; }
lost0=$(kstat lost)
start_dispatch
wait_for 10 dstate_is p1 running || fail "p1 not running: $(cat "$WORK/dispatch.log")"
wait_for 10 dstate_is p2 running || fail "p2 not running"
wait_for 10 dstate_is af listening || fail "af_unix not listening"

# af_unix clients: one reads everything, one never reads.
cat >"$WORK/client.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
if sys.argv[2] == "-":
    time.sleep(120)
    sys.exit(0)
with open(sys.argv[2], "wb") as f:
    while True:
        b = s.recv(65536)
        if not b:
            break
        f.write(b)
        f.flush()
PY
timeout 150 python3 "$WORK/client.py" "$WORK/af.sock" "$WORK/out-af.txt" &
CLIENTS+=($!)
timeout 150 python3 "$WORK/client.py" "$WORK/af.sock" - &
CLIENTS+=($!)
clients_are() { [ "$(dstatus af clients)" = "$1" ]; }
wait_for 10 clients_are 2 || fail "af_unix clients did not connect: $(dstatus af clients)"

# eoe_ok FILE: every load event in FILE is followed by its EOE.
eoe_ok() {
	awk -v k="key=\"$KEY\"" '
		/^type=SYSCALL / && index($0, k) { s = $2; sub(/.*:/, "", s); sub(/\).*/, "", s); want[s] = 1 }
		/^type=EOE / { s = $2; sub(/.*:/, "", s); sub(/\).*/, "", s); if (s in want) got[s] = 1 }
		END { n = 0; for (s in want) if (!(s in got)) n++; exit n > 0 }' "$1"
}

# ---- 1. p1 stopped for 3 s in the middle of a paced load --------------------
load_prepare "$EVENTS" 2 -r "$RATE" -t 60
kill -USR1 "$LPID"
sleep 1
P1=$(dstatus p1 pid)
[ -n "$P1" ] && [ "$P1" != 0 ] || fail "no pid for p1"
kill -STOP "$P1"
STOPPED=$P1
sleep 3
# p2 counted first: it must not be behind a spool counted after it.
p2_then=$(file_serials "$WORK/out-p2.txt")
p1_then=$(file_serials "$WORK/out-p1.txt")
spool_then=$(spool_serials "$WORK/spool")
sleep 1.2	# a status update with p1 still stopped
p1_lag=$(dstatus p1 lag_records)
p1_lag_s=$(dstatus p1 lag_seconds)
p2_lag=$(dstatus p2 lag_records)
kill -CONT "$P1"
STOPPED=
wait "$LPID" || fail "audit_load failed"
LPID=
rule_del_all
log "load 1: $(tail -1 "$WORK/load.out")"
log "p1 stopped 3 s: spool had $spool_then events, p2 had $p2_then, p1 had $p1_then; status: p1 lag $p1_lag records ($p1_lag_s s), p2 lag $p2_lag records"
[ "$(load_field slow_calls)" = 0 ] || fail "audited calls were slowed: $(tail -1 "$WORK/load.out")"
[ "$p2_then" -ge $((spool_then - RATE)) ] || fail "p2 fell behind while p1 was stopped: $p2_then of $spool_then"
[ "$p1_then" -lt $((spool_then - RATE)) ] || fail "p1 was not held up by SIGSTOP ($p1_then of $spool_then): the test proves nothing"
[ "${p1_lag:-0}" -gt 0 ] || fail "the status shows no lag for the stopped p1"
wait_for 20 serials_at_least "$WORK/out-p1.txt" "$EVENTS" || fail "p1 has $(file_serials "$WORK/out-p1.txt") of $EVENTS events after SIGCONT"
wait_for 10 serials_at_least "$WORK/out-p2.txt" "$EVENTS" || fail "p2 has $(file_serials "$WORK/out-p2.txt") of $EVENTS events"
[ "$(spool_serials "$WORK/spool")" = "$EVENTS" ] || fail "the spool has $(spool_serials "$WORK/spool") of $EVENTS events"
eoe_ok "$WORK/out-p1.txt" || fail "p1: events without their EOE"
eoe_ok "$WORK/out-p2.txt" || fail "p2: events without their EOE"
wait_for 10 serials_at_least "$WORK/out-af.txt" "$EVENTS" || fail "the af_unix reader has $(file_serials "$WORK/out-af.txt") of $EVENTS events"
wait_for 5 clients_are 1 || fail "the af_unix client that never reads is still connected"
[ "$(dstatus af clients_dropped)" -ge 1 ] || fail "the dropped af_unix client is not counted"

# ---- 2. p1 killed in the middle of a paced load ----------------------------------
load_prepare "$EVENTS" 2 -r "$RATE" -t 60
kill -USR1 "$LPID"
sleep 1
P1=$(dstatus p1 pid)
kill -KILL "$P1"
wait "$LPID" || fail "audit_load failed"
LPID=
rule_del_all
log "load 2: $(tail -1 "$WORK/load.out")"
[ "$(load_field slow_calls)" = 0 ] || fail "audited calls were slowed: $(tail -1 "$WORK/load.out")"
restarted() { [ "$(dstatus p1 restarts)" -ge 1 ] && dstate_is p1 running && [ "$(dstatus p1 pid)" != "$P1" ]; }
wait_for 10 restarted || fail "p1 was not restarted: $(grep p1 "$WORK/run/dispatch.status")"
grep -q "p1: pid $P1 was killed by signal 9; restarting" "$WORK/dispatch.log" || fail "the restart is not logged"
ALL=$((2 * EVENTS))
wait_for 20 serials_at_least "$WORK/out-p1.txt" "$ALL" || fail "p1 has $(file_serials "$WORK/out-p1.txt") of $ALL events after its restart"
wait_for 10 serials_at_least "$WORK/out-p2.txt" "$ALL" || fail "p2 has $(file_serials "$WORK/out-p2.txt") of $ALL events"
[ "$(spool_serials "$WORK/spool")" = "$ALL" ] || fail "the spool has $(spool_serials "$WORK/spool") of $ALL events"
lost1=$(kstat lost)
[ "$lost1" = "$lost0" ] || fail "the kernel lost records: $lost0 -> $lost1"
log "p1 killed: restarted, all $ALL events, $(file_dups "$WORK/out-p1.txt") sent twice; p2 $(file_dups "$WORK/out-p2.txt") twice"
[ "$(file_dups "$WORK/out-p2.txt")" = 0 ] || fail "p2, never disturbed, got events twice"

# ---- 3. stop: cursors saved -------------------------------------------------------------
stop_dispatch
[ "$DSTATUS" = 0 ] || { tail -20 "$WORK/dispatch.log" >&2; fail "rauditd-dispatch exited with $DSTATUS"; }
for p in p1 p2; do
	head -1 "$WORK/spool/plugin-$p.cursor" | grep -qx 'rauditd-ship cursor 1' || fail "no cursor for $p"
done
[ ! -e "$WORK/spool/plugin-af.cursor" ] || fail "af_unix keeps a cursor"
[ ! -S "$WORK/af.sock" ] || fail "the af_unix socket was left behind"
stop_rauditd 30
[ "$RSTATUS" = 0 ] || fail "rauditd exited with $RSTATUS"
exit 0
