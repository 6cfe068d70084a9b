#!/bin/bash
# node_readers.sh - every reader of the spool takes auditd's "node=NAME "
# prefix (name_format = user). rauditd, fed by the fake kernel (no root, no
# kernel audit), writes a keyed, chained spool across rotations and one
# restart, every line behind a node name long enough (over 128 bytes) to
# push the stamp out of any fixed window. Then:
#   1. the restart resumed the chain (no chain-break record) and
#      `rauditctl verify DIR --key K` passes: every line a record, every
#      segment begins with its marker, every seal checked with the key;
#   2. rauditd-dispatch feeds a plain plugin every record with its node
#      prefix and, after each event's PROCTITLE, its EOE as auditd's
#      dispatcher writes it: "node=NAME type=EOE msg=audit(STAMP):";
#   3. rauditd-ship sends every record intact to rsyslog (imrelp) with the
#      record type as MSGID and the serial of its stamp in the structured
#      data (skipped without rsyslog-relp, required in CI).
set -u
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/dispatch_lib.sh"
. "$top_srcdir/tests/integration/rsyslog.sh"

[ -x "$RAUDITD" ] || fail "$RAUDITD not built"
[ -x "$FAKE_KERNEL" ] || fail "$FAKE_KERNEL not built"
[ -x "$RAUDITD_DISPATCH" ] || fail "$RAUDITD_DISPATCH not built"

# 21 + 120 bytes: printable, no blank, as format_node_name allows.
NODE=node-readers.example-$(printf 'n%.0s' $(seq 1 120))

make_work
RPID=
SPID=
stop_ours() {
	local p
	stop_dispatch
	for p in "${SPID:-}" "${RPID:-}"; do
		[ -n "$p" ] && kill -0 "$p" 2>/dev/null || continue
		kill -TERM "$p" 2>/dev/null
		wait_for 15 not_running "$p" || kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	SPID= RPID=
	rsyslog_stop_all
}
trap 'stop_ours; cleanup_work' EXIT
trap 'exit 1' INT TERM HUP

SPOOL=$WORK/spool
SOCK=$WORK/in.sock
ctl() { "$RAUDITCTL" -c "$WORK/rauditd.conf" "$@"; }
mkdir -m 0700 "$SPOOL" "$WORK/run"
: >"$WORK/rauditd.conf"
VKEY=$(ctl keygen "$WORK/seal.key" "$SPOOL" 2>"$WORK/keygen.err") ||
	fail "keygen: $(cat "$WORK/keygen.err")"
plain_plugin plain
PORT=$(free_port) || fail "no free port"
cat >"$WORK/rauditd.conf" <<CONF
spool_dir = $SPOOL
run_dir = $WORK/run
ring_size = 16M
segment_size = 64K
num_segments = 0
flush = none
seal_key = $WORK/seal.key
name_format = user
name = $NODE
plugin_dir = $WORK/plugins
ship_target = 127.0.0.1:$PORT
ship_timeout = 5
ship_reconnect_min = 50
ship_reconnect_max = 400
$CTL_GROUP
CONF

start_daemon() { start_rauditd_input "$WORK/rauditd.conf" "$SOCK"; }
stop_daemon() { stop_rauditd_ok 30; }
feed() {
	timeout 120 "$FAKE_KERNEL" -s "$SOCK" -n "$1" -S "$2" >>"$WORK/fk.out" 2>&1 ||
		{ tail -5 "$WORK/fk.out" "$WORK/rauditd.log" >&2; fail "fake_kernel failed"; }
}
lines() { cat "$SPOOL"/audit-*.log | wc -l; }
nlines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# ---- the spool: rotations and a restart, all behind the node ---------------
start_daemon
feed 300 1000
stop_daemon
start_daemon
feed 200 2000
stop_daemon
nseg=$(ls "$SPOOL"/audit-*.log | wc -l)
[ "$nseg" -ge 4 ] || fail "expected several segments, got $nseg"
total=$(lines)
bad=$(cat "$SPOOL"/audit-*.log | grep -cv "^node=$NODE type=[A-Z_]* msg=audit(")
[ "$bad" = 0 ] || fail "$bad of $total line(s) without \"node=NAME \" in front"
events=$(cat "$SPOOL"/audit-*.log | grep -c ' type=SYSCALL .*key="fake"')
[ "$events" = 500 ] || fail "$events SYSCALL records in the spool, want 500"

# ---- 1: rauditctl verify ------------------------------------------------------
grep -h 'op=chain-break' "$SPOOL"/audit-*.log >"$WORK/breaks"
[ -s "$WORK/breaks" ] && fail "the restart broke the chain: $(cat "$WORK/breaks")"
out=$(ctl verify "$SPOOL" --key "$VKEY" 2>&1) || { printf '%s\n' "$out" >&2; fail "rauditctl verify fails on a node-prefixed spool"; }
printf '%s\n' "$out" | grep -q 'not an audit record\|does not begin' &&
	{ printf '%s\n' "$out" >&2; fail "rauditctl verify rejects node-prefixed lines"; }
printf '%s\n' "$out" | grep -q "chain: $((nseg - 1)) sealed segment(s) verified with the verification key, 0 explained break(s), 0 problem(s)" ||
	{ printf '%s\n' "$out" >&2; fail "verify did not check the $((nseg - 1)) seals with the key"; }
log "1: $total lines in $nseg segments behind a ${#NODE}-byte node; rauditctl verify passes with the key"

# ---- 2: rauditd-dispatch -----------------------------------------------------
OUT=$WORK/out-plain.txt
start_dispatch
out_has() { [ "$(nlines "$OUT")" -ge $((total + events)) ]; }
wait_for 30 out_has || { tail -5 "$WORK/dispatch.log" >&2; fail "the plugin got $(nlines "$OUT") lines, want $total records and $events EOE"; }
stop_dispatch
[ "$(wc -l <"$OUT")" = $((total + events)) ] || fail "the plugin got $(wc -l <"$OUT") lines, want $((total + events))"
bad=$(grep -cv "^node=$NODE type=[A-Z_]* msg=audit(" "$OUT")
[ "$bad" = 0 ] || fail "$bad line(s) fed to the plugin without the node prefix"
# The records in spool order, each PROCTITLE followed by its event's EOE.
grep -v ' type=EOE ' "$OUT" | cmp -s - <(cat "$SPOOL"/audit-*.log) ||
	fail "the plugin's records differ from the spool's"
eoe=$(awk -v n="node=$NODE" '
	prev != "" {
		s = prev; sub(/.* msg=audit\(/, "", s); sub(/\).*/, "", s)
		if ($0 != n " type=EOE msg=audit(" s "):") { print "no EOE after: " prev > "/dev/stderr"; bad++ }
		else ok++
	}
	{ prev = ($0 ~ / type=PROCTITLE /) ? $0 : "" }
	END { print ok + 0; exit bad > 0 }' "$OUT") || fail "a PROCTITLE without its EOE right after it"
[ "$eoe" = "$events" ] && [ "$(grep -c ' type=EOE ' "$OUT")" = "$events" ] ||
	fail "$eoe EOE after PROCTITLE, $(grep -c ' type=EOE ' "$OUT") in all, want $events"
log "2: the plugin got all $total records behind the node and $eoe EOE as auditd writes them"

# ---- 3: rauditd-ship -----------------------------------------------------------
why=
[ -x "$RAUDITD_SHIP" ] || why="$RAUDITD_SHIP not built (configure did not find librelp-dev)"
if [ -z "$why" ]; then
	( require_rsyslog imrelp ) >"$WORK/rscheck.out" 2>&1 || why=$(tail -1 "$WORK/rscheck.out")
fi
if [ -n "$why" ]; then
	[ "${CI:-}" = true ] && fail "$why"
	log "3: skipped: $why"
	exit 0
fi
RECEIVED=$WORK/received.log
agg_conf "$WORK/agg.conf" "$PORT" "$RECEIVED"
rsyslog_start agg "$WORK/agg.conf" "$PORT"
"$RAUDITD_SHIP" -f -c "$WORK/rauditd.conf" >>"$WORK/ship.log" 2>&1 &
SPID=$!
received_all() { [ "$(nlines "$RECEIVED")" -ge "$total" ]; }
wait_for 60 received_all || { tail -5 "$WORK/ship.log" >&2; fail "$(nlines "$RECEIVED") of $total records arrived"; }
VERIFY=$(ship_verify "$SPOOL" "$RECEIVED")
for f in missing mismatched unknown duplicates; do
	[ "$(verify_field "$VERIFY" $f)" = 0 ] || fail "shipped records: $VERIFY"
done
# "HOSTNAME MSGID [SD] MSG": MSGID the record's type, serial= its stamp's.
bad=$(awk '{
	type = $0; sub(/.*\] node=[^ ]* type=/, "", type); sub(/ .*/, "", type)
	ser = $0; sub(/.* msg=audit\([0-9]+\.[0-9]+:/, "", ser); sub(/\).*/, "", ser)
	if ($2 != type || index($0, " serial=\"" ser "\"]") == 0) { if (bad++ < 3) print > "/dev/stderr" }
	} END { print bad + 0 }' "$RECEIVED")
[ "$bad" = 0 ] || fail "$bad record(s) shipped without their type as MSGID or their serial"
log "3: rauditd-ship sent all $total records intact, with type and serial"
