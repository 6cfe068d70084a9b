#!/bin/bash
# ops_rundir.sh - the run directory and the control socket against a less
# privileged user who can write where they live (issue 10 item 6), with
# rauditd on its test input (no kernel):
# (1) a symbolic link planted in place of control.sock is not followed by
#     the chmod a reload (SIGHUP) does: its target keeps its mode;
# (2) as root: rauditctl refuses to talk to a control socket served by
#     another uid (an impostor bound by nobody), and sends it nothing;
# (3) as root: rauditd refuses a run_dir owned by another user.
set -u
. "$top_srcdir/tests/integration/lib.sh"

RAUDITCTL="$top_builddir/rauditctl"
NOBODY=65534

make_work
SPID=
cleanup() {
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	if [ -n "${RPID:-}" ] && kill -0 "$RPID" 2>/dev/null; then
		kill -TERM "$RPID" 2>/dev/null
		wait_for 10 not_running "$RPID" || kill -KILL "$RPID" 2>/dev/null
		wait "$RPID" 2>/dev/null
	fi
	cleanup_work
}
trap cleanup EXIT
trap 'exit 1' INT TERM

write_conf() {	# write_conf FILE RUN_DIR
	cat >"$1" <<CONF
spool_dir = $WORK/spool
run_dir = $2
CONF
	chmod 644 "$1"
}

# ---- 1. a link planted at control.sock, then SIGHUP ------------------------
write_conf "$WORK/rauditd.conf" "$WORK/run"
SOCK="$WORK/run/control.sock"
start_rauditd "$WORK/rauditd.conf" --test-input "$WORK/input.sock"
wait_for 10 test -S "$SOCK" || { cat "$WORK/rauditd.log" >&2; fail "no control socket"; }
echo precious >"$WORK/victim"
chmod 644 "$WORK/victim"
rm -f "$SOCK"
ln -s "$WORK/victim" "$SOCK"
kill -HUP "$RPID"
wait_for 10 grep -q 'config: reload' "$WORK/rauditd.log" ||
	{ cat "$WORK/rauditd.log" >&2; fail "no reload logged after SIGHUP"; }
[ "$(stat -c %a "$WORK/victim")" = 644 ] ||
	fail "the reload chmod'ed the target of a link planted at control.sock: mode $(stat -c %a "$WORK/victim")"
[ "$(cat "$WORK/victim")" = precious ] || fail "the link's target changed"
stop_rauditd
[ -L "$SOCK" ] || fail "the planted link is gone (only our own socket may be unlinked)"
log "1: a link planted at control.sock is not followed on reload"

[ "$(id -u)" = 0 ] || skip "parts 2 and 3 need root (to act as uid $NOBODY)"

# ---- 2. an impostor control socket served by nobody ------------------------
mkdir -p "$WORK/imp"
chown "$NOBODY:$NOBODY" "$WORK/imp"
chmod 755 "$WORK"
write_conf "$WORK/imp.conf" "$WORK/imp"
cat >"$WORK/imp.py" <<'PY'
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
os.chmod(path, 0o777)
s.listen(4)
open(out + ".ready", "w").close()
while True:
    c, _ = s.accept()
    c.settimeout(2)
    try:
        data = c.recv(4096)
    except socket.timeout:
        data = b""
    with open(out, "ab") as f:
        f.write(b"got %d bytes\n" % len(data))
    c.close()
PY
# A python3 uid 65534 can run (a per-user shim in root's home cannot).
PY3=/usr/bin/python3
[ -x "$PY3" ] || PY3=$(command -v python3)
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
	"$PY3" "$WORK/imp.py" "$WORK/imp/control.sock" "$WORK/imp/got" 2>"$WORK/imp.err" &
SPID=$!
wait_for 10 test -e "$WORK/imp/got.ready" || fail "impostor did not start: $(cat "$WORK/imp.err")"
"$RAUDITCTL" -c "$WORK/imp.conf" stop >"$WORK/ctl.out" 2>"$WORK/ctl.err" &&
	fail "rauditctl stop succeeded against a socket served by uid $NOBODY"
grep -q "not root: refusing" "$WORK/ctl.err" || fail "no clear refusal: $(cat "$WORK/ctl.err")"
"$RAUDITCTL" -c "$WORK/imp.conf" -s >"$WORK/ctl.out" 2>"$WORK/ctl.err"
grep -q "not root: refusing" "$WORK/ctl.err" || fail "rauditctl -s: no clear refusal: $(cat "$WORK/ctl.err")"
sleep 0.3
if grep -q 'got [1-9]' "$WORK/imp/got" 2>/dev/null; then
	fail "rauditctl sent a request to the impostor: $(cat "$WORK/imp/got")"
fi
kill "$SPID"; wait "$SPID" 2>/dev/null; SPID=
log "2: rauditctl refuses a control socket served by uid $NOBODY and sends it nothing"

# ---- 3. a run_dir owned by another user ------------------------------------
rm -f "$WORK/imp/control.sock"
write_conf "$WORK/imp.conf" "$WORK/imp"
"$RAUDITD" -f -c "$WORK/imp.conf" --test-input "$WORK/input2.sock" >"$WORK/r3.log" 2>&1 &
RPID=$!
wait_for 10 not_running "$RPID" || fail "rauditd started with a run_dir owned by uid $NOBODY"
wait "$RPID"; RPID=
grep -q "run directory is owned by another user" "$WORK/r3.log" ||
	fail "no clear error for a foreign run_dir: $(cat "$WORK/r3.log")"
log "3: a run_dir owned by another user is refused at start"
exit 0
