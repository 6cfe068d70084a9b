#!/bin/bash
# dispatch_laurel.sh - laurel, from Debian's package, as a plugin of
# rauditd-dispatch against the real kernel: configured through a test
# plugins.d (Debian's laurel.conf with the test's own laurel config, output
# in the work directory), it must write every event of a paced audited load
# (only this test's processes), each within a second of the event: laurel
# closes an event on its EOE, which the spool does not hold, so this fails
# without the synthesized EOE (laurel would wait for later records).
# Prints the latency figures.
set -u
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/dispatch_lib.sh"

EVENTS=${DL_EVENTS:-3000}
RATE=${DL_RATE:-500}
LAUREL=/usr/sbin/laurel

[ -x "$RAUDITD_DISPATCH" ] || fail "$RAUDITD_DISPATCH not built"
if [ ! -x "$LAUREL" ]; then
	[ "${CI:-}" = true ] && fail "laurel missing (apt-get install laurel)"
	skip "laurel missing (apt-get install laurel)"
fi
require_root
make_work
KEY="rauditd_dl_$$"
WPID=
cleanup() {
	[ -n "$WPID" ] && { kill "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null; }
	[ -n "${LPID:-}" ] && { kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null; }
	stop_dispatch
	kernel_restore
	cleanup_work
}
trap cleanup EXIT
trap 'exit 1' INT TERM
kernel_save

mkdir -p "$WORK/plugins" "$WORK/laurel"
# Debian's /etc/audit/plugins.d/laurel.conf, but for the test's config.
cat >"$WORK/plugins/laurel.conf" <<CONF
active = yes
direction = out
type = always
format = string
path = $LAUREL
args = --config $WORK/laurel.toml
CONF
cat >"$WORK/laurel.toml" <<CONF
directory = "$WORK/laurel"
statusreport-period = 0
[auditlog]
file = "audit.log"
size = 100000000
generations = 2
CONF
kernel_conf "stats_interval = 1" "plugin_dir = $WORK/plugins"

start_rauditd "$WORK/rauditd.conf"
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log"; fail "rauditd did not register"; }
start_dispatch
wait_for 10 dstate_is laurel running || fail "laurel not running: $(cat "$WORK/dispatch.log")"

# Follow laurel's output: when each event of the load appears, against its
# audit time stamp (both CLOCK_REALTIME).
cat >"$WORK/watch.py" <<'PY'
import json, os, sys, time
path, key, want, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
lat, seen, buf, pos = [], set(), b"", 0
end = time.time() + limit
while len(seen) < want and time.time() < end:
    try:
        with open(path, "rb") as f:
            f.seek(pos)
            chunk = f.read()
    except FileNotFoundError:
        chunk = b""
    now = time.time()
    pos += len(chunk)
    buf += chunk
    *lines, buf = buf.split(b"\n")
    for line in lines:
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        sc = ev.get("SYSCALL", {})
        if sc.get("key") != key:
            continue
        stamp, serial = ev["ID"].split(":")
        if serial in seen:
            continue
        seen.add(serial)
        lat.append(now - float(stamp))
    time.sleep(0.01)
lat.sort()
p99 = lat[int(len(lat) * 0.99) - 1] if lat else -1
print("events %d max_latency_s %.3f p99_s %.3f median_s %.3f" % (
    len(seen), lat[-1] if lat else -1, p99, lat[len(lat) // 2] if lat else -1))
PY
python3 "$WORK/watch.py" "$WORK/laurel/audit.log" "$KEY" "$EVENTS" 60 >"$WORK/watch.out" &
WPID=$!

load_prepare "$EVENTS" 2 -r "$RATE" -t 60
load_go
rule_del_all
wait "$WPID"
WPID=
log "load: $(tail -1 "$WORK/load.out")"
log "laurel: $(cat "$WORK/watch.out")"
got=$(awk '{ print $2 }' "$WORK/watch.out")
max=$(awk '{ print $4 }' "$WORK/watch.out")
[ "$got" = "$EVENTS" ] || fail "laurel wrote $got of $EVENTS events"
awk -v m="$max" 'BEGIN { exit !(m < 1.0) }' || fail "an event took $max s to reach laurel's log"
[ "$(spool_serials "$WORK/spool")" = "$EVENTS" ] || fail "the spool has $(spool_serials "$WORK/spool") of $EVENTS events"
! grep -q 'for EOE marker not found\|duplicate event id' "$WORK/dispatch.log" ||
	fail "laurel complained about our EOE records: $(grep -m3 'EOE\|duplicate' "$WORK/dispatch.log")"

stop_dispatch
[ "$DSTATUS" = 0 ] || { tail -20 "$WORK/dispatch.log" >&2; fail "rauditd-dispatch exited with $DSTATUS"; }
# The status file written at the stop.
[ "$(dstatus laurel eoe)" -ge "$EVENTS" ] || fail "fewer EOE records than events: $(dstatus laurel eoe)"
stop_rauditd 30
[ "$RSTATUS" = 0 ] || fail "rauditd exited with $RSTATUS"
exit 0
