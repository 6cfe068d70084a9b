#!/bin/bash
# ops_status_text.sh - text that is not rauditd's own never reaches a
# status reply, the state file or rauditctl's output raw (issue 10 item 1,
# the status side), with rauditd on its test input (no kernel, no root):
# (1) a spool_dir with an escape sequence and a carriage return in its name
#     shows as \xNN in rauditctl -s, in --json and in rauditd.state;
# (2) rauditd-ship's status file, which the shipper (perhaps another user)
#     writes: a symbolic link planted there is not followed (rauditctl would
#     print another file as root), a FIFO does not hang rauditctl, control
#     bytes are escaped, and lines not named ship_* (posing as rauditd's own
#     counters) are not printed.
set -u
. "$top_srcdir/tests/integration/lib.sh"

RAUDITCTL="$top_builddir/rauditctl"
make_work
cleanup() {
	if [ -n "${RPID:-}" ] && kill -0 "$RPID" 2>/dev/null; then
		kill -TERM "$RPID" 2>/dev/null
		wait_for 10 not_running "$RPID" || kill -KILL "$RPID" 2>/dev/null
		wait "$RPID" 2>/dev/null
	fi
	cleanup_work
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ESC=$(printf '\033')
CR=$(printf '\r')
SPOOL="$WORK/spool${ESC}[2J${CR}x"
mkdir -p "$WORK/shipdir"
CONF="$WORK/rauditd.conf"
cat >"$CONF" <<CONF
spool_dir = $SPOOL
run_dir = $WORK/run
ship_target = 127.0.0.1:1
ship_status = $WORK/shipdir/ship.status
CONF
chmod 644 "$CONF"
ctl() { timeout 10 "$RAUDITCTL" -c "$CONF" "$@"; }
raw() { LC_ALL=C grep -q "[$ESC$CR]" "$@"; }

start_rauditd "$CONF" --test-input "$WORK/input.sock"
wait_for 10 test -S "$WORK/run/control.sock" || { cat "$WORK/rauditd.log" >&2; fail "no control socket"; }

# ---- 1. a configured path with control bytes -------------------------------
ctl -s >"$WORK/st.out" 2>&1 || fail "rauditctl -s: $(cat "$WORK/st.out")"
grep -q '^spool_dir ' "$WORK/st.out" || fail "no spool_dir line: $(cat -v "$WORK/st.out")"
raw "$WORK/st.out" && fail "raw control bytes in rauditctl -s: $(grep spool_dir "$WORK/st.out" | cat -v)"
grep -qF 'spool\x1b[2J\x0dx' "$WORK/st.out" || fail "spool_dir not shown escaped: $(grep spool_dir "$WORK/st.out" | cat -v)"
ctl -s --json >"$WORK/st.json" 2>&1 || fail "rauditctl -s --json"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/st.json" || fail "--json output is not JSON"
raw "$WORK/st.json" && fail "raw control bytes in --json"
kill -CONT "$RPID"
wait_for 10 test -s "$WORK/run/rauditd.state" || fail "no state file after SIGCONT"
raw "$WORK/run/rauditd.state" && fail "raw control bytes in rauditd.state"
log "1: a spool_dir with ESC and CR is escaped in status, --json and the state file"

# ---- 2. the shipper's status file -------------------------------------------
echo "ship_secret sekrit-from-another-file" >"$WORK/secret"
ln -s "$WORK/secret" "$WORK/shipdir/ship.status"
ctl -s >"$WORK/st2.out" 2>&1
grep -q sekrit "$WORK/st2.out" && fail "rauditctl followed a link planted at ship_status"
rm -f "$WORK/shipdir/ship.status"
mkfifo "$WORK/shipdir/ship.status"
ctl -s >"$WORK/st3.out" 2>&1; rc=$?
[ "$rc" = 124 ] && fail "rauditctl -s hung on a FIFO at ship_status"
grep -q '^received ' "$WORK/st3.out" || fail "rauditctl -s with a FIFO at ship_status: $(cat "$WORK/st3.out")"
rm -f "$WORK/shipdir/ship.status"
printf 'ship_acked 5\nship_state up%s[31mRED%sfake\ndropped_ring_full 999\nship_updated %s\n' \
	"$ESC" "$CR" "$(date +%s)" >"$WORK/shipdir/ship.status"
ctl -s >"$WORK/st4.out" 2>&1 || fail "rauditctl -s: $(cat "$WORK/st4.out")"
grep -q '^ship_acked 5$' "$WORK/st4.out" || fail "the shipper's status is not shown: $(cat -v "$WORK/st4.out")"
raw "$WORK/st4.out" && fail "raw control bytes from ship.status: $(grep ship_state "$WORK/st4.out" | cat -v)"
grep -q '^dropped_ring_full 999$' "$WORK/st4.out" && fail "a line from ship.status posed as rauditd's dropped_ring_full"
ctl -s --json >"$WORK/st4.json" 2>&1
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "dropped_ring_full" not in d["ship"], d["ship"]' \
	"$WORK/st4.json" || fail "--json: a non-ship_ key from ship.status"
log "2: ship.status: no link followed, no FIFO hang, control bytes escaped, no forged rauditd lines"
stop_rauditd
exit 0
