#!/bin/bash
# ops_status.sh - rauditctl -s against the real kernel. Without a daemon its
# kernel part is auditctl -s line for line, followed by a "not running"
# line; with rauditd running the kernel part (now from rauditd's monitor)
# still matches auditctl -s and names rauditd's pid, the rauditd section
# has its counters, --json parses, top and state work, and the accounting
# identity received = written + dropped + in_ring holds in statuses taken
# while a load runs.
set -u
. "$top_srcdir/tests/integration/lib.sh"

RAUDITCTL="$top_builddir/rauditctl"
# Values the kernel may change between two status requests.
VOLATILE="lost backlog backlog_wait_time_actual"

require_root
make_work
KEY="rauditd_ops_$$"
LPID=
stop_load() {
	if [ -n "$LPID" ] && kill -0 "$LPID" 2>/dev/null; then
		# Its workers first (they would run on for up to -t seconds).
		local kids; kids=$(pgrep -P "$LPID")
		[ -n "$kids" ] && kill -KILL $kids 2>/dev/null
		kill -KILL "$LPID" 2>/dev/null
		wait "$LPID" 2>/dev/null
	fi
	LPID=
}
trap 'stop_load; kernel_restore; cleanup_work' EXIT
trap 'exit 1' INT TERM
kernel_save

kernel_conf "segment_size = 1M" "num_segments = 0" "monitor_interval = 200"

# compare_kernel REF OUT: OUT's first lines are REF's lines, same names in
# the same order, same values but for $VOLATILE. Prints nothing, or fails.
compare_kernel() {
	local ref=$1 out=$2 i=0 rname rval oname oval
	local n; n=$(wc -l <"$ref")
	[ "$n" -ge 9 ] || fail "auditctl -s printed only $n lines"
	while IFS= read -r rline <&3 && IFS= read -r oline <&4; do
		i=$((i + 1))
		rname=${rline%% *}; rval=${rline#* }
		oname=${oline%% *}; oval=${oline#* }
		[ "$rname" = "$oname" ] ||
			fail "line $i: auditctl -s says \"$rline\", rauditctl -s \"$oline\""
		case " $VOLATILE " in
		*" $rname "*) ;;
		*) [ "$rval" = "$oval" ] ||
			fail "line $i: auditctl -s says \"$rline\", rauditctl -s \"$oline\"" ;;
		esac
	done 3<"$ref" 4<"$out"
	[ "$i" = "$n" ] || fail "rauditctl -s has only $i of auditctl's $n kernel lines"
}

# ---- 1. no daemon: the kernel's status, read directly ----------------
timeout 5 auditctl -s >"$WORK/ref0" || fail "auditctl -s"
timeout 10 "$RAUDITCTL" -c "$WORK/rauditd.conf" -s >"$WORK/st0" ||
	fail "rauditctl -s without a daemon exited with $?"
compare_kernel "$WORK/ref0" "$WORK/st0"
n=$(wc -l <"$WORK/ref0")
[ "$(wc -l <"$WORK/st0")" = $((n + 1)) ] || { cat "$WORK/st0" >&2; fail "expected $n kernel lines and one more"; }
tail -1 "$WORK/st0" | grep -q '^rauditd is not running' ||
	fail "last line is not \"rauditd is not running\": $(tail -1 "$WORK/st0")"
timeout 10 "$RAUDITCTL" -c "$WORK/rauditd.conf" -s --json >"$WORK/st0.json" ||
	fail "rauditctl -s --json without a daemon"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["rauditd"] == {"running": False}, d["rauditd"]
assert d["kernel"]["pid"] == 0, d["kernel"]
' "$WORK/st0.json" || fail "--json without a daemon: $(cat "$WORK/st0.json")"
log "not running: $n kernel lines match auditctl -s, then \"$(tail -1 "$WORK/st0" | cut -c1-22)...\""

# ---- 2. with rauditd running ------------------------------------------
# rauditd-dispatch's status file, with a consumer name no plugins.d file
# could have (whoever can write run_dir must not forge a status line).
mkdir -p "$WORK/run"
cat >"$WORK/run/dispatch.status" <<STATUS
dispatch_updated $(date +%s)
consumer laurel kind plugin
consumer laurel state running
consumer laurel pid 4321
consumer laurel restarts 2
consumer laurel lag_records 17
consumer laurel lag_bytes 2048
consumer laurel lag_seconds 3
consumer ev il
kernel_pid 1 kind plugin
consumer b\\ad state failed
STATUS
start_rauditd "$WORK/rauditd.conf"
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log" >&2; fail "rauditd (pid $RPID) did not register"; }
# The kernel part comes from the monitor once it has polled.
monitor_polled() {
	"$RAUDITCTL" -c "$WORK/rauditd.conf" -s 2>/dev/null | grep -q '^kernel_age_ms '
}
wait_for 10 monitor_polled || fail "the monitor's kernel status never appeared"
# Let the monitor see the settings rauditd applied at start (one more poll).
sleep 0.5
timeout 10 "$RAUDITCTL" -c "$WORK/rauditd.conf" -s >"$WORK/st1" || fail "rauditctl -s exited with $?"
timeout 5 auditctl -s >"$WORK/ref1" || fail "auditctl -s"
compare_kernel "$WORK/ref1" "$WORK/st1"
[ "$(awk '$1 == "pid" { print $2; exit }' "$WORK/st1")" = "$RPID" ] ||
	fail "kernel pid line is not rauditd's pid $RPID"
n=$(wc -l <"$WORK/ref1")
sed -n "$((n + 1))p" "$WORK/st1" | grep -q "^rauditd running pid $RPID version " ||
	fail "no \"rauditd running pid $RPID\" line after the kernel part: $(sed -n "$((n + 1))p" "$WORK/st1")"
for k in received written dropped in_ring writer_state spool_segment; do
	grep -q "^$k [^ ]" "$WORK/st1" || fail "rauditd section has no \"$k\" line"
done
grep -q '^writer_state ok$' "$WORK/st1" || fail "writer is not ok: $(grep '^writer_state' "$WORK/st1")"
# Issue 15: which buffer is full and since when, the data at risk; issue 12:
# the disk policy; issue 13: the consumers.
st1() { awk -v k="$1" '$1 == k { print $2; exit }' "$WORK/st1"; }
[ "$(st1 ring_full_action)" = wait ] || fail "ring_full_action: \"$(st1 ring_full_action)\""
[ "$(st1 ring_full_ms)" = 0 ] || fail "ring_full_ms $(st1 ring_full_ms) on an idle daemon"
[ "$(st1 socket_valid)" = 1 ] || fail "the monitor never sampled the socket: socket_valid $(st1 socket_valid)"
[ "$(st1 socket_rcvbuf_bytes)" -gt 0 ] || fail "socket_rcvbuf_bytes $(st1 socket_rcvbuf_bytes)"
[ "$(st1 socket_full_ms)" = 0 ] || fail "socket_full_ms $(st1 socket_full_ms) on an idle daemon"
for k in ring_full_waits ring_full_wait_us socket_queued_bytes socket_drops writer_unsynced_records \
    writer_unsynced_bytes writer_unsynced_age_ms writer_sync_in_flight writer_syncs_deferred \
    writer_sync_rewrites writer_sync_failed_records diskpolicy_exec_started; do
	st1 "$k" | grep -q '^[0-9][0-9]*$' || fail "no number on a \"$k\" line: $(grep "^$k" "$WORK/st1")"
done
for ev in space_left admin_space_left disk_full disk_error; do
	[ "$(st1 "diskpolicy_${ev}_fired")" = 0 ] && [ "$(st1 "diskpolicy_${ev}_active")" = 0 ] ||
		fail "diskpolicy $ev: $(grep "^diskpolicy_$ev" "$WORK/st1" | tr '\n' ' ')"
done
[ "$(st1 diskpolicy_loss_fired)" = 0 ] || fail "diskpolicy_loss_fired $(st1 diskpolicy_loss_fired)"
for l in "consumer laurel state running" "consumer laurel pid 4321" "consumer laurel restarts 2" \
    "consumer laurel lag_records 17" "consumer laurel lag_bytes 2048" "consumer laurel lag_seconds 3" \
    'consumer b\x5cad state failed'; do
	grep -qxF "$l" "$WORK/st1" || fail "no \"$l\" line: $(grep '^consumer' "$WORK/st1")"
done
# The planted line break made "kernel_pid 1 ..." a line of its own: it is
# no consumer and forges no line of rauditd's.
[ "$(grep -c '^kernel_pid' "$WORK/st1")" = 0 ] || fail "a status line was forged from dispatch.status"
[ "$(st1 dispatch_consumers)" = 2 ] || fail "dispatch_consumers $(st1 dispatch_consumers), want 2"

timeout 10 "$RAUDITCTL" -c "$WORK/rauditd.conf" -s --json >"$WORK/st1.json" || fail "rauditctl -s --json"
python3 -m json.tool "$WORK/st1.json" >/dev/null || fail "--json does not parse: $(cat "$WORK/st1.json")"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
pid = int(sys.argv[2])
assert d["kernel"]["pid"] == pid, ("kernel.pid", d["kernel"]["pid"], pid)
assert d["rauditd"]["running"] is True
assert d["rauditd"]["rauditd_pid"] == pid, d["rauditd"]["rauditd_pid"]
for k in ("received", "written", "dropped", "in_ring", "ring_full_waits", "writer_unsynced_records",
    "diskpolicy_disk_full_fired"):
	assert isinstance(d["rauditd"][k], int), k
assert d["rauditd"]["ring_full_action"] == "wait", d["rauditd"]["ring_full_action"]
c = d["dispatch"]["consumers"]
assert c["laurel"] == {"kind": "plugin", "state": "running", "pid": 4321, "restarts": 2,
    "lag_records": 17, "lag_bytes": 2048, "lag_seconds": 3}, c["laurel"]
assert c["b\\x5cad"]["state"] == "failed", c
assert sorted(c) == ["b\\x5cad", "laurel"], sorted(c)
' "$WORK/st1.json" "$RPID" || fail "--json content is wrong: $(cat "$WORK/st1.json")"

timeout 10 "$RAUDITCTL" -c "$WORK/rauditd.conf" top -i 0.2 -n 3 >"$WORK/top" || fail "rauditctl top exited with $?"
head -1 "$WORK/top" | grep -q 'in/s' || fail "top: no header: $(head -1 "$WORK/top")"
rows=$(awk 'NR > 1 && $1 ~ /^[0-9]+$/ && NF == 11' "$WORK/top" | wc -l)
[ "$rows" = 2 ] || { cat "$WORK/top" >&2; fail "top -n 3 printed $rows rows, expected 2 (the first sample is the base)"; }
n=$(grep -cE '^  laurel +running +4321 +2 +17 +2048 +3$' "$WORK/top")
[ "$n" = 2 ] || { cat "$WORK/top" >&2; fail "top: $n laurel lines, expected one per row"; }

timeout 10 "$RAUDITCTL" -c "$WORK/rauditd.conf" state >"$WORK/state" || fail "rauditctl state exited with $?"
grep -q "^rauditd_pid $RPID\$" "$WORK/state" || fail "state report does not name pid $RPID"
grep -q '^received [0-9]' "$WORK/state" || fail "state report has no counters"
log "running: kernel part matches auditctl -s (pid $RPID), --json, top ($rows rows), state ($(wc -l <"$WORK/state") lines) fine"

# ---- 3. accounting identity under load ----------------------------------
"$AUDIT_LOAD" -w -n 60000 -p 2 -r 15000 -u 65534 -t 60 >"$WORK/load.out" &
LPID=$!
wait_for 10 grep -q '^pid ' "$WORK/load.out" || fail "audit_load did not start"
rule_add always,exit -F arch=b64 -S getsid -F ppid="$LPID" -k "$KEY"
kill -USR1 "$LPID"
samples=0 moving=0 prev=0 max_in_ring=0
: >"$WORK/samples"
while kill -0 "$LPID" 2>/dev/null && [ "$samples" -lt 200 ]; do
	timeout 10 "$RAUDITCTL" -c "$WORK/rauditd.conf" -s >"$WORK/stl" || fail "rauditctl -s under load exited with $?"
	read -r r w dr ir < <(awk '$1 == "received" { r = $2 } $1 == "written" { w = $2 }
		$1 == "dropped" { d = $2 } $1 == "in_ring" { i = $2 }
		END { print r, w, d, i }' "$WORK/stl")
	echo "$r $w $dr $ir" >>"$WORK/samples"
	[ "$r" = $((w + dr + ir)) ] ||
		fail "received $r != written $w + dropped $dr + in_ring $ir (sample $samples)"
	samples=$((samples + 1))
	[ "$r" -gt "$prev" ] && [ "$prev" -gt 0 ] && moving=$((moving + 1))
	[ "$ir" -gt "$max_in_ring" ] && max_in_ring=$ir
	prev=$r
	sleep 0.05
done
wait "$LPID" || fail "audit_load failed"
LPID=
rule_del_all
[ "$moving" -ge 3 ] || fail "only $moving of $samples statuses were taken while records arrived"

stop_rauditd 30
[ "$RSTATUS" = 0 ] || { cat "$WORK/rauditd.log" >&2; fail "rauditd exited with $RSTATUS"; }
log "load: $(tail -1 "$WORK/load.out")"
log "identity held in $samples statuses ($moving taken while received grew, in_ring up to $max_in_ring); last: $(tail -1 "$WORK/samples")"
exit 0
