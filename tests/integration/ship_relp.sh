#!/bin/bash
# ship_relp.sh - rauditd-ship against a real rsyslog (imrelp writing to a
# file) on loopback, with a spool that rauditd fills from the fake kernel
# (no root needed). Every record must arrive, identified by its spool index,
# with its audit.log line intact:
#   1. a spool shipped from scratch: exactly once; records/s measured;
#   2. the aggregator stopped mid-stream and started again: nothing lost,
#      duplicates at most ship_window;
#   3. the shipper killed with SIGKILL mid-stream and started again: same;
#   4. rotations (rauditctl rotate, SIGUSR1) while the shipper is stopped:
#      exactly once;
#   5. retention: num_segments waits for the shipper; max_spool_size does
#      not, and the segments it deletes unshipped are counted by rauditd
#      (status, DAEMON_ERR records in the spool) and by rauditd-ship;
#   6. TLS: the aggregator's certificate is verified (CA and name).
# Prints the throughput and the duplicate counts.
set -u
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/rsyslog.sh"

WINDOW=${SHIP_WINDOW:-256}
EVENTS=${SHIP_EVENTS:-20000}	# two records each (EOE is not logged)
RATE=${SHIP_RATE:-4000}		# events/s for the mid-stream scenarios

[ -x "$RAUDITD" ] || fail "$RAUDITD not built"
[ -x "$FAKE_KERNEL" ] || fail "$FAKE_KERNEL not built"
if [ ! -x "$RAUDITD_SHIP" ]; then
	[ "${CI:-}" = true ] && fail "$RAUDITD_SHIP not built (configure did not find librelp-dev)"
	skip "$RAUDITD_SHIP not built (configure did not find librelp-dev)"
fi

make_work
RPID=
SPID=
FKPID=
stop_ours() {
	local p
	for p in "${FKPID:-}" "${SPID:-}" "${RPID:-}"; do
		[ -n "$p" ] && kill -0 "$p" 2>/dev/null || continue
		kill -TERM "$p" 2>/dev/null
		wait_for 15 not_running "$p" || kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	FKPID= SPID= RPID=
	rsyslog_stop_all
}
trap 'stop_ours; cleanup_work' EXIT
trap 'exit 1' INT TERM HUP

require_rsyslog imrelp
PORT=$(free_port) || fail "no free port"
SPOOL="$WORK/spool"
RECEIVED="$WORK/received.log"
SHIP_STATUS="$WORK/run/ship.status"
mkdir -p "$WORK/run"

# write_conf [NUM_SEGMENTS [MAX_SPOOL_SIZE]]: the one file rauditd and
# rauditd-ship share.
write_conf() {
	cat >"$WORK/rauditd.conf" <<CONF
spool_dir = $SPOOL
run_dir = $WORK/run
ring_size = 16M
segment_size = 64K
num_segments = ${1:-0}
max_spool_size = ${2:-0}
flush = none
stats_interval = 1
ship_target = 127.0.0.1:$PORT
ship_window = $WINDOW
ship_timeout = 5
ship_reconnect_min = 50
ship_reconnect_max = 400
$CTL_GROUP
CONF
}

start_daemon() { start_rauditd_input "$WORK/rauditd.conf" "$WORK/in.sock"; }
stop_daemon() { stop_rauditd_ok 30; }
# events N FIRST [RATE]: feed rauditd N events from serial FIRST (in the background with RATE).
SERIAL=1000
events() {
	local n=$1 rate=${2:-0}
	if [ "$rate" -gt 0 ]; then
		"$FAKE_KERNEL" -s "$WORK/in.sock" -n "$n" -S "$SERIAL" -r "$rate" >>"$WORK/fk.out" 2>&1 &
		FKPID=$!
	else
		timeout 120 "$FAKE_KERNEL" -s "$WORK/in.sock" -n "$n" -S "$SERIAL" >>"$WORK/fk.out" 2>&1 ||
			fail "fake_kernel failed: $(tail -1 "$WORK/fk.out")"
	fi
	SERIAL=$((SERIAL + n))
}
events_wait() {
	[ -n "$FKPID" ] || return 0
	wait "$FKPID" || fail "fake_kernel failed: $(tail -1 "$WORK/fk.out")"
	FKPID=
}

start_ship() {
	"$RAUDITD_SHIP" -f -c "$WORK/rauditd.conf" >>"$WORK/ship.log" 2>&1 &
	SPID=$!
}
stop_ship() {
	local sig=${1:-TERM} rc
	# (bash reports a job killed by a signal on stderr when it reaps it)
	{
		kill "-$sig" "$SPID" 2>/dev/null
		wait_for 20 not_running "$SPID" || { kill -KILL "$SPID"; fail "rauditd-ship did not stop on SIG$sig"; }
		wait "$SPID"; rc=$?
	} 2>/dev/null
	SPID=
	if [ "$sig" = TERM ] && [ "$rc" != 0 ]; then
		tail -20 "$WORK/ship.log" >&2
		fail "rauditd-ship exited with $rc"
	fi
}

received() { [ -f "$RECEIVED" ] && wc -l <"$RECEIVED" || echo 0; }
received_over() { [ "$(received)" -ge "$1" ]; }
# The spool is complete (rauditd wrote all it got) and all of it arrived.
# Checked in this order, so a segment opened after the snapshot cannot
# hide records that are missing.
all_arrived() {
	if [ -n "$RPID" ] && kill -0 "$RPID" 2>/dev/null; then
		drained || return 1
	fi
	VERIFY=$(ship_verify "$SPOOL" "$RECEIVED")
	[ "$(verify_field "$VERIFY" missing)" = 0 ]
}
# settle SECONDS: every spool record arrived (bounded); VERIFY holds the
# counts. Until retention deletes segments (scenario 5), nothing arrives
# that is not in the spool.
UNKNOWN_OK=
settle() {
	wait_for "${1:-60}" all_arrived || { tail -20 "$WORK/ship.log" >&2; fail "records missing at the aggregator: $VERIFY"; }
	[ "$(verify_field "$VERIFY" mismatched)" = 0 ] || fail "records changed on the way: $VERIFY"
	[ -n "$UNKNOWN_OK" ] || [ "$(verify_field "$VERIFY" unknown)" = 0 ] ||
		fail "records arrived that are not in the spool: $VERIFY"
}
dups() { verify_field "$VERIFY" duplicates; }

agg_conf "$WORK/agg.conf" "$PORT" "$RECEIVED"
rsyslog_start agg "$WORK/agg.conf" "$PORT"

# ---- 1: a spool shipped from scratch -----------------------------------------
write_conf
start_daemon
events "$EVENTS"
stop_daemon
total=$(cat "$SPOOL"/audit-*.log | wc -l)
nseg=$(ls "$SPOOL"/audit-*.log | wc -l)
[ "$nseg" -ge 5 ] || fail "expected several segments, got $nseg"
t0=$EPOCHREALTIME
start_ship
wait_for 120 received_over "$total" || { tail "$WORK/ship.log" >&2; fail "only $(received) of $total records arrived"; }
t1=$EPOCHREALTIME
settle 30
stop_ship
rate=$(awk -v n="$total" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
[ "$(dups)" = 0 ] || fail "duplicates in the normal case: $VERIFY"
[ "$(ship_status ship_acked)" = "$total" ] || fail "ship_acked $(ship_status ship_acked), want $total"
[ "$(ship_status ship_lag_records)" = 0 ] && [ "$(ship_status ship_lag_bytes)" = 0 ] ||
	fail "lag after everything shipped: $(ship_status ship_lag_records) records $(ship_status ship_lag_bytes) bytes"
grep -q '^rauditd-ship cursor 1$' "$SPOOL/ship.cursor" || fail "no cursor file"
log "1: $total records in $nseg segments shipped exactly once at $rate records/s (window $WINDOW)"
RATE_MEASURED=$rate

# The spool goes on growing from here: rauditd runs, the shipper follows.
# ---- 2: the aggregator stopped mid-stream -----------------------------------
start_daemon
start_ship
before=$(received)
events $((RATE * 4)) "$RATE"
wait_for 30 received_over $((before + RATE)) || fail "shipping did not resume"
rsyslog_stop agg TERM
sleep 1
rsyslog_start agg "$WORK/agg.conf" "$PORT"
events_wait
settle 60
d2=$(dups)
[ "$d2" -le "$WINDOW" ] || fail "aggregator restart: $d2 duplicates, more than the window $WINDOW"
[ "$(ship_status ship_reconnects)" -ge 1 ] || fail "no reconnect counted after the aggregator restart"
log "2: aggregator restarted mid-stream: nothing lost, $d2 duplicate(s) (window $WINDOW), reconnects $(ship_status ship_reconnects)"

# ---- 3: the shipper killed with SIGKILL mid-stream ---------------------------
before=$(received)
events $((RATE * 4)) "$RATE"
wait_for 30 received_over $((before + RATE)) || fail "shipping stalled"
stop_ship KILL
sleep 0.5
start_ship
events_wait
settle 60
d3=$(( $(dups) - d2 ))
[ "$d3" -le "$WINDOW" ] || fail "shipper SIGKILL: $d3 duplicates, more than the window $WINDOW"
log "3: shipper killed with SIGKILL mid-stream: nothing lost, $d3 duplicate(s) (window $WINDOW)"

# ---- 4: rotations while the shipper is stopped -------------------------------
stop_ship TERM
seg0=$(ls "$SPOOL"/audit-*.log | wc -l)
events 1000
rotate_daemon
events 1000
kill -USR1 "$RPID"
wait_for 10 sh -c "[ \$(ls '$SPOOL'/audit-*.log | wc -l) -ge $((seg0 + 2)) ]" || fail "no rotation"
events 1000
start_ship
settle 60
d4=$(( $(dups) - d2 - d3 ))
[ "$d4" = 0 ] || fail "rotations while stopped: $d4 duplicates after a graceful stop"
log "4: $(( $(ls "$SPOOL"/audit-*.log | wc -l) - seg0 )) segment(s) opened while the shipper was stopped: exactly once"
stop_ship TERM
stop_daemon
VERIFY4=$VERIFY

# ---- 5: retention and the shipper -------------------------------------------------
UNKNOWN_OK=1	# the segments retention deletes were shipped before
# 5a: num_segments waits for the shipper.
write_conf 3
start_daemon
events 3000
wait_for 30 drained || fail "rauditd did not write everything"
nseg=$(ls "$SPOOL"/audit-*.log | wc -l)
held=$(ctl_status | awk '$1 == "spool_segments_held" { print $2 }')
[ "$nseg" -gt 3 ] && [ "${held:-0}" -gt 0 ] ||
	fail "num_segments = 3 with the shipper behind: $nseg segments, spool_segments_held ${held:-none}"
start_ship
settle 60
stop_ship TERM		# the cursor is in the open segment now
rotate_daemon
wait_for 10 sh -c "[ \$(ls '$SPOOL'/audit-*.log 2>/dev/null | wc -l) -le 3 ]" ||
	fail "shipped segments not deleted by num_segments = 3: $(ls "$SPOOL" | tr '\n' ' ')"
log "5a: num_segments = 3 kept $nseg segments while the shipper was behind ($held held), 3 once shipped"
stop_daemon

# 5b: max_spool_size deletes unshipped segments, and both sides count them.
write_conf 0 128K
start_daemon
events 6000
wait_for 30 drained || fail "rauditd did not write everything: $(ctl_status | grep -E '^(received|written|in_ring) ')"
line=$(ctl_status)
unshipped=$(echo "$line" | awk '$1 == "spool_unshipped_deleted" { print $2 }')
[ "${unshipped:-0}" -ge 1 ] || fail "max_spool_size deleted no unshipped segment: $(echo "$line" | grep spool_)"
stop_daemon
start_ship
settle 60
stop_ship TERM
missing=$(ship_status ship_missing_segments)
[ "$missing" = "$unshipped" ] ||
	fail "rauditd counted $unshipped unshipped segment(s) deleted, rauditd-ship $missing missing"
marks=$(grep -c ' op=retention-unshipped segment=' "$RECEIVED")
[ "$marks" -ge 1 ] || fail "no DAEMON_ERR op=retention-unshipped record reached the aggregator"
grep -q 'deleted before' "$WORK/ship.log" || fail "rauditd-ship did not log the missing segments"
log "5b: max_spool_size = 128K deleted $unshipped unshipped segment(s): rauditd counted $unshipped ($marks DAEMON_ERR record(s) shipped), rauditd-ship found $missing missing"

# ---- 6: TLS, as librelp does it ------------------------------------------------
# rsyslog's imrelp (librelp with GnuTLS) offers certificate suites only when
# it authenticates clients, so both sides have certificates from a test CA.
if command -v openssl >/dev/null 2>&1; then
	T="$WORK/tls"
	mkdir -p "$T/spool"
	tls_cert() {	# NAME CN: a certificate for CN signed by the test CA
		openssl req -newkey rsa:2048 -nodes -keyout "$T/$1.key" -out "$T/$1.csr" \
			-subj "/CN=$2" >/dev/null 2>&1 &&
		printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\n' "$2" >"$T/$1.ext" &&
		openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
			-CAcreateserial -out "$T/$1.pem" -days 2 -extfile "$T/$1.ext" >/dev/null 2>&1
	}
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 \
		-subj "/CN=rauditd test CA" >/dev/null 2>&1 &&
		tls_cert srv aggregator.test && tls_cert cli shipper.test &&
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other.key" -out "$T/other.pem" \
			-days 2 -subj "/CN=another CA" >/dev/null 2>&1 || fail "openssl could not make test certificates"
	for i in 1 2 3; do
		printf 'type=SYSCALL msg=audit(1700000100.%03d:%d): arch=c000003e syscall=59 success=yes exit=0 key="tls"\n' \
			"$i" "$((9000 + i))"
	done >"$T/spool/audit-00000001.log"
	TPORT=$(free_port) || fail "no free port"
	agg_conf "$T/agg.conf" "$TPORT" "$T/received.log"
	sed -i "s|ruleset=\"relp\")|ruleset=\"relp\" tls=\"on\" tls.caCert=\"$T/ca.pem\" tls.myCert=\"$T/srv.pem\" tls.myPrivKey=\"$T/srv.key\" tls.authMode=\"certvalid\")|" "$T/agg.conf"
	rsyslog_start tls "$T/agg.conf" "$TPORT"
	tls_conf() {	# CA PEER: a configuration for the TLS aggregator
		cat >"$T/ship.conf" <<CONF
spool_dir = $T/spool
run_dir = $WORK/run
ship_target = 127.0.0.1:$TPORT
ship_timeout = 5
ship_status = $T/ship.status
ship_tls = yes
ship_tls_ca = $1
ship_tls_peer = $2
ship_tls_cert = $T/cli.pem
ship_tls_key = $T/cli.key
CONF
	}
	tls_try() {	# run the shipper for a moment
		rm -f "$T/spool/ship.cursor"
		timeout -s TERM 3 "$RAUDITD_SHIP" -f -c "$T/ship.conf" >>"$T/ship.log" 2>&1
		awk -v k="$1" '$1 == k { print $2 }' "$T/ship.status"
	}
	tls_conf "$T/ca.pem" aggregator.test
	[ "$(tls_try ship_acked)" = 3 ] || { cat "$T/ship.log" >&2; fail "TLS: the records were not acknowledged"; }
	v=$(ship_verify "$T/spool" "$T/received.log")
	[ "$(verify_field "$v" unique)" = 3 ] && [ "$(verify_field "$v" duplicates)" = 0 ] || fail "TLS: $v"
	tls_conf "$T/ca.pem" wrong.test
	[ "$(tls_try ship_acked)" = 0 ] && [ "$(awk '$1 == "ship_connect_failures" { print $2 }' "$T/ship.status")" -ge 1 ] ||
		fail "TLS: a certificate with another name was accepted"
	tls_conf "$T/other.pem" aggregator.test
	[ "$(tls_try ship_acked)" = 0 ] || fail "TLS: a certificate from another CA was accepted"
	[ "$(wc -l <"$T/received.log")" = 3 ] || fail "TLS: records arrived over a connection that should have failed"
	grep -q 'no permited name found\|permitted' "$T/ship.log" && grep -q 'certificate validation failed' "$T/ship.log" ||
		{ cat "$T/ship.log" >&2; fail "TLS: the refusals were not logged"; }
	rsyslog_stop tls
	log "6: TLS: shipped with the aggregator's certificate verified; a wrong name and a wrong CA refused"
else
	log "6: openssl missing: TLS not tested"
fi

log "results: $RATE_MEASURED records/s shipped on loopback; duplicates: aggregator restart $d2, shipper SIGKILL $d3, rotations while stopped $d4 (window $WINDOW); after scenario 4: $VERIFY4"
exit 0
