#!/bin/bash
# ops_metrics.sh - the Prometheus textfile (metrics_file): written every
# stats_interval, replaced atomically (a reader polling it as fast as it can
# never sees it empty, partial or mixed), accepted by promtool's parser and
# linter, named rauditd_* with _total on counters, and counting what the
# daemon was sent. A path that cannot be written is logged once, not every
# interval, and a reload to a good path recovers. It carries which buffer is
# full, the data at risk, the disk policy, and rauditd-dispatch's consumers
# (a hostile consumer name escaped). Runs on the test input (no kernel, no
# root).
set -u
. "$top_srcdir/tests/integration/lib.sh"

if ! command -v promtool >/dev/null 2>&1; then
	[ "${CI:-}" = true ] && fail "promtool missing (apt-get install prometheus)"
	skip "promtool missing (Debian: apt-get install prometheus)"
fi

make_work
cleanup() {
	if [ -n "${RPID:-}" ] && kill -0 "$RPID" 2>/dev/null; then
		kill -KILL "$RPID" 2>/dev/null
		wait "$RPID" 2>/dev/null
	fi
	cleanup_work
}
trap cleanup EXIT
trap 'exit 1' INT TERM

RECORDS=5000
SPOOFED=7
PROM="$WORK/metrics/rauditd.prom"
write_conf() {
	cat >"$WORK/rauditd.conf" <<CONF
spool_dir = $WORK/spool
run_dir = $WORK/run
stats_interval = 1
monitor_interval = 100
metrics_file = $1
CONF
}
# rauditd-dispatch's status file, as it writes it, with one consumer whose
# name no plugins.d file could have: whoever can write run_dir must not be
# able to break or forge a line of the textfile through it.
mkdir -p "$WORK/run"
cat >"$WORK/run/dispatch.status" <<STATUS
dispatch_version 0
dispatch_updated $(date +%s)
dispatch_consumers 2
consumer laurel kind plugin
consumer laurel state running
consumer laurel pid 4321
consumer laurel restarts 2
consumer laurel lag_records 17
consumer laurel lag_bytes 2048
consumer laurel lag_seconds 3
consumer ev"il} x\\ kind plugin
consumer ev"il} x\\ state failed
consumer ev"il} x\\ restarts 9
STATUS
# First a path whose directory does not exist.
write_conf "$WORK/nodir/rauditd.prom"
start_rauditd "$WORK/rauditd.conf" --test-input "$WORK/input.sock"
wait_for 10 test -S "$WORK/input.sock" || { cat "$WORK/rauditd.log" >&2; fail "no test input socket"; }
sleep 3.5
n=$(grep -c "metrics: writing $WORK/nodir/rauditd.prom: No such file or directory" "$WORK/rauditd.log")
[ "$n" = 1 ] || { cat "$WORK/rauditd.log" >&2; fail "the failing metrics path was logged $n times in 3.5 s, expected once"; }
mkdir "$WORK/metrics"
write_conf "$PROM"
kill -HUP "$RPID"
wait_for 5 test -s "$PROM" || { cat "$WORK/rauditd.log" >&2; fail "no metrics file 5 s after the reload"; }
grep -q "metrics: writing $PROM works again" "$WORK/rauditd.log" || fail "recovery not logged"
log "unwritable metrics path logged once in 3.5 s; after reload $PROM written and the recovery logged"

# Feed records while a reader polls the file as fast as it can.
cat >"$WORK/poll.py" <<'PY'
import os, socket, struct, sys, threading, time

prom, sock, records, spoofed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def frame(pid, serial, text):
    body = ("audit(1700000000.%03d:%d): %s" % (serial % 1000, serial, text)).encode()
    # struct sockaddr_nl (the claimed sender), then the netlink message;
    # like the kernel, nlmsg_len counts the payload only.
    return struct.pack("=HHII", 16, 0, pid, 0) + struct.pack("=IHHII", len(body), 1300, 0, 0, 0) + body

def feed():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.connect(sock)
    for i in range(1, records + 1):
        s.send(frame(0, i, "arch=c000003e syscall=124 success=yes exit=1 key=\"ops_metrics\""))
        if i % 100 == 0:
            time.sleep(0.02)
    for i in range(spoofed):
        s.send(frame(4242, records + 1 + i, "spoofed"))

t = threading.Thread(target=feed)
t.start()
reads, versions, inodes, names0 = 0, set(), set(), None
end = time.monotonic() + 4.5
while time.monotonic() < end:
    try:
        with open(prom, "rb") as f:
            ino = os.fstat(f.fileno()).st_ino
            data = f.read()
    except FileNotFoundError:
        sys.exit("the metrics file disappeared")
    reads += 1
    if not data:
        sys.exit("read %d: empty metrics file" % reads)
    if not data.endswith(b"\n"):
        sys.exit("read %d: partial metrics file (%d bytes, no final newline)" % (reads, len(data)))
    lines = data.decode().splitlines()
    names = [l.split()[2] for l in lines if l.startswith("# TYPE ")]
    if names0 is None:
        names0 = names
    elif names != names0:
        sys.exit("read %d: a different set of metrics: %s" % (reads, names))
    if len([l for l in lines if not l.startswith("#")]) < len(names):
        sys.exit("read %d: a metric without samples" % reads)
    versions.add(data)
    inodes.add(ino)
t.join()
print(reads, len(versions), len(inodes), len(names0))
PY
timeout 30 python3 "$WORK/poll.py" "$PROM" "$WORK/input.sock" "$RECORDS" "$SPOOFED" >"$WORK/poll.out" ||
	fail "polling the metrics file: $(cat "$WORK/poll.out")"
read -r reads versions inodes nmetrics <"$WORK/poll.out"
[ "$versions" -ge 2 ] || fail "only $versions different contents in 4.5 s (stats_interval = 1)"
[ "$inodes" -ge 3 ] || fail "the file was rewritten in place, not replaced ($inodes inodes in $versions versions)"
log "polled $reads times in 4.5 s: $versions versions in $inodes inodes, never empty or partial, always the same $nmetrics metrics"

# Counters after the feed, once the next file is out.
value() { awk -v m="$1" '$1 == m { print $2 }' "$PROM"; }
fed() { [ "$(value rauditd_written_records_total)" = "$RECORDS" ]; }
wait_for 10 fed || fail "metrics never showed $RECORDS written: $(grep -v '^#' "$PROM" | head -5)"
[ "$(value rauditd_received_records_total)" = "$RECORDS" ] || fail "received_records_total $(value rauditd_received_records_total), sent $RECORDS"
[ "$(value 'rauditd_rejected_messages_total{reason="spoofed"}')" = "$SPOOFED" ] ||
	fail "rejected spoofed: $(value 'rauditd_rejected_messages_total{reason="spoofed"}'), sent $SPOOFED"
[ "$(value rauditd_ring_records)" = 0 ] || fail "ring not empty after the feed"
# Issue 15: which buffer is full, the data at risk; issue 12: the disk policy.
for m in rauditd_ring_full_seconds rauditd_ring_full_waits_total rauditd_ring_full_wait_seconds_total \
    rauditd_writer_unsynced_records rauditd_writer_unsynced_bytes rauditd_writer_unsynced_age_seconds \
    rauditd_writer_sync_in_flight rauditd_writer_syncs_deferred_total rauditd_writer_sync_rewrites_total \
    rauditd_writer_sync_failed_records_total rauditd_diskpolicy_exec_started_total; do
	[ -n "$(value "$m")" ] || fail "no $m in the metrics file"
done
[ "$(value 'rauditd_ring_full_action{action="wait"}')" = 1 ] || fail "ring_full_action wait is not 1"
[ "$(value 'rauditd_diskpolicy_fired_total{event="loss"}')" = 0 ] || fail "diskpolicy loss fired without a loss"
[ "$(value 'rauditd_diskpolicy_active{event="disk_full"}')" = 0 ] || fail "disk_full active on a disk with room"
# Issue 13: the consumers of rauditd-dispatch's status file.
[ "$(value 'rauditd_consumer_lag_records{consumer="laurel"}')" = 17 ] ||
	fail "consumer laurel lag_records: $(grep consumer_lag_records "$PROM")"
[ "$(value 'rauditd_consumer_state{consumer="laurel",state="running"}')" = 1 ] ||
	fail "consumer laurel is not running: $(grep consumer_state "$PROM")"
[ "$(value 'rauditd_consumer_restarts_total{consumer="laurel"}')" = 2 ] || fail "consumer laurel restarts"
[ "$(value 'rauditd_consumer_lag_seconds{consumer="laurel"}')" = 3 ] || fail "consumer laurel lag_seconds"
hostile='rauditd_consumer_restarts_total{consumer="ev\\x22il\\x7d\\x20x\\x5c"}'
grep -qxF "$hostile 9" "$PROM" || fail "the hostile consumer name is not escaped: $(grep 'consumer="ev' "$PROM" | head -3)"
[ "$(grep -c '^rauditd_consumer_' "$PROM")" = $((2 * (6 + 5))) ] ||
	fail "consumer samples: $(grep -c '^rauditd_consumer_' "$PROM"), want 22 (6 states and 5 values each)"

# promtool: the Prometheus text parser plus its naming lint.
cp "$PROM" "$WORK/check.prom"
promtool check metrics <"$WORK/check.prom" >"$WORK/promtool.out" 2>&1 ||
	{ cat "$WORK/promtool.out" >&2; fail "promtool check metrics failed"; }
[ -s "$WORK/promtool.out" ] && { cat "$WORK/promtool.out" >&2; fail "promtool check metrics reported problems"; }
python3 - "$WORK/check.prom" <<'PY' || fail "metric naming"
import re, sys
types = {}
for l in open(sys.argv[1]):
    if l.startswith("# TYPE "):
        _, _, name, t = l.split()
        types[name] = t
bad = [n for n in types if not n.startswith("rauditd_")]
bad += [n for n, t in types.items() if t == "counter" and not n.endswith("_total")]
bad += [n for n, t in types.items() if t != "counter" and n.endswith("_total")]
if bad:
    sys.exit("badly named: %s" % bad)
PY
log "promtool check metrics: no problems; $nmetrics metrics, rauditd_* with _total on every counter; counters match the $RECORDS records and $SPOOFED spoofed messages sent"

stop_rauditd 30
[ "$RSTATUS" = 0 ] || fail "rauditd exited with $RSTATUS"
left=$(find "$WORK/metrics" -name '*.tmp.*' | wc -l)
[ "$left" = 0 ] || fail "$left temporary metrics file(s) left behind"
exit 0
