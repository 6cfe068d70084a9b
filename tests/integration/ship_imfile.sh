#!/bin/bash
# ship_imfile.sh - the rsyslog imfile configuration shipped in
# conf/rsyslog-rauditd-imfile.conf, as it is, follows rauditd's spool (filled
# from the fake kernel, no root needed) and forwards over RELP to an
# aggregator rsyslog on loopback. Across rotations (rauditctl rotate,
# SIGUSR1, segment_size) and restarts of the following rsyslog, every record
# must arrive exactly once, identified by its segment and offset, with its
# audit.log line intact.
set -u
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/rsyslog.sh"

RATE=${SHIP_RATE:-3000}		# events/s, two records each
SNIPPET="$top_srcdir/conf/rsyslog-rauditd-imfile.conf"

[ -x "$RAUDITD" ] || fail "$RAUDITD not built"
[ -x "$FAKE_KERNEL" ] || fail "$FAKE_KERNEL not built"
[ -f "$SNIPPET" ] || fail "$SNIPPET missing"

make_work
RPID=
FKPID=
stop_ours() {
	local p
	for p in "${FKPID:-}" "${RPID:-}"; do
		[ -n "$p" ] && kill -0 "$p" 2>/dev/null || continue
		kill -TERM "$p" 2>/dev/null
		wait_for 15 not_running "$p" || kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	FKPID= RPID=
	rsyslog_stop_all
}
trap 'stop_ours; cleanup_work' EXIT
trap 'exit 1' INT TERM HUP

require_rsyslog imfile omrelp imrelp
PORT=$(free_port) || fail "no free port"
SPOOL="$WORK/spool"
RECEIVED="$WORK/received.log"
mkdir -p "$WORK/run" "$WORK/tail.work"

cat >"$WORK/rauditd.conf" <<CONF
spool_dir = $SPOOL
run_dir = $WORK/run
ring_size = 16M
segment_size = 64K
num_segments = 0
flush = none
$CTL_GROUP
CONF

# The snippet as shipped; only the spool path and the target change. The
# main file around it sets what rsyslog.conf sets on a host.
sed -e "s|/var/log/rauditd/|$SPOOL/|" -e 's|target="aggregator.example.com"|target="127.0.0.1"|' \
	-e "s|port=\"2514\"|port=\"$PORT\"|" "$SNIPPET" >"$WORK/imfile.conf"
grep -q "target=\"127.0.0.1\"" "$WORK/imfile.conf" && grep -q "port=\"$PORT\"" "$WORK/imfile.conf" &&
	grep -q "file=\"$SPOOL/audit-\*.log\"" "$WORK/imfile.conf" || fail "cannot adapt $SNIPPET"
cat >"$WORK/tail.conf" <<CONF
global(workDirectory="$WORK/tail.work" maxMessageSize="64k")
include(file="$WORK/imfile.conf")
CONF
rsyslogd -N1 -f "$WORK/tail.conf" >"$WORK/tail.check" 2>&1 || { cat "$WORK/tail.check" >&2; fail "the imfile configuration does not validate"; }

agg_conf "$WORK/agg.conf" "$PORT" "$RECEIVED"
rsyslog_start agg "$WORK/agg.conf" "$PORT"

start_rauditd "$WORK/rauditd.conf" -T "$WORK/in.sock"
wait_for 10 sock_or_dead "$WORK/in.sock" || fail "rauditd: no test-input socket"

SERIAL=1000
events() {
	"$FAKE_KERNEL" -s "$WORK/in.sock" -n "$1" -S "$SERIAL" -r "$RATE" >>"$WORK/fk.out" 2>&1 &
	FKPID=$!
	SERIAL=$((SERIAL + $1))
}
events_wait() { wait "$FKPID" || fail "fake_kernel failed: $(tail -1 "$WORK/fk.out")"; FKPID=; }
# The spool is complete, then all of it arrived (in this order: a segment
# opened after the snapshot must not hide missing records).
all_arrived() {
	drained || return 1
	VERIFY=$(ship_verify "$SPOOL" "$RECEIVED")
	[ "$(verify_field "$VERIFY" missing)" = 0 ]
}
settle() {
	wait_for 90 all_arrived || { tail "$WORK/tail.rsyslog.log" >&2; fail "records missing at the aggregator: $VERIFY"; }
	[ "$(verify_field "$VERIFY" mismatched)" = 0 ] || fail "records changed on the way: $VERIFY"
	[ "$(verify_field "$VERIFY" duplicates)" = 0 ] || fail "records arrived twice: $VERIFY"
	[ "$(verify_field "$VERIFY" unknown)" = 0 ] || fail "records that are not in the spool: $VERIFY"
}
received() { [ -f "$RECEIVED" ] && wc -l <"$RECEIVED" || echo 0; }
received_over() { [ "$(received)" -ge "$1" ]; }
nsegs() { ls "$SPOOL"/audit-*.log 2>/dev/null | wc -l; }

# ---- a stream with rotations of every kind and a restart in the middle ------
rsyslog_start tail "$WORK/tail.conf"
events $((RATE * 6))
wait_for 30 received_over $((RATE / 2)) || { cat "$WORK/tail.rsyslog.log" >&2; fail "imfile forwards nothing"; }
rotate_daemon
wait_for 30 received_over $((RATE * 3)) || fail "imfile stalled"
rsyslog_stop tail TERM
sleep 0.5
rsyslog_start tail "$WORK/tail.conf"
kill -USR1 "$RPID"
wait_for 30 received_over $((RATE * 6)) || fail "imfile stalled after its restart"
rsyslog_stop tail TERM		# a restart that spans a rotation
kill -USR1 "$RPID"
sleep 0.5
rsyslog_start tail "$WORK/tail.conf"
events_wait
settle
seg=$(nsegs)
[ "$seg" -ge 10 ] || fail "expected many segments, got $seg"
log "imfile: $(verify_field "$VERIFY" spool) records in $seg segments, 2 restarts, rotations by size, rauditctl rotate and SIGUSR1: exactly once ($VERIFY)"

# ---- rotations while the following rsyslog is stopped -------------------------
rsyslog_stop tail TERM
events 2000
rotate_daemon
events_wait
kill -USR1 "$RPID"
sleep 0.5
rsyslog_start tail "$WORK/tail.conf"
settle
log "imfile: rotations while rsyslog was stopped: exactly once; $VERIFY"
stop_rauditd 30
exit 0
