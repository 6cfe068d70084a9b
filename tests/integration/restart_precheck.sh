#!/bin/bash
# restart_precheck.sh - what rauditd trusts at start about a previous
# daemon (issue 10 item 12), on the real kernel:
# (1) an "audit" descriptor from the fd store that is not a NETLINK_AUDIT
#     socket is not drained: here an AF_UNIX datagram socket holding a
#     forged record from a sender whose address reads as netlink port 0;
#     the record must not reach the spool, and rauditd starts normally;
# (2) the kernel lists as its audit daemon a pid that is alive but holds no
#     audit socket (a dead daemon's pid reused; here a process that
#     registered, closed its socket and stays alive): rauditd takes over
#     instead of exiting 4 ("another audit daemon"), which the unit would
#     not restart.
set -u
. "$top_srcdir/tests/integration/lib.sh"

require_root
make_work
PPID_=
cleanup() {
	local sq=$PPID_
	[ -n "$PPID_" ] && kill "$PPID_" 2>/dev/null && wait "$PPID_" 2>/dev/null
	[ -n "${RPID:-}" ] && timeout 5 auditctl -d never,exit -S all -F pid="$RPID" >/dev/null 2>&1
	# A failed run leaves the dead squatter registered: take the (dead)
	# registration over and drop it, so later tests find pid 0.
	if [ -n "$sq" ] && [ "$(kstat pid)" = "$sq" ] && [ -f "$WORK/squat.py" ]; then
		timeout 10 python3 "$WORK/squat.py" --clear >/dev/null 2>&1
	fi
	kernel_restore
	cleanup_work
}
trap cleanup EXIT
trap 'exit 1' INT TERM
kernel_save

cat >"$WORK/rauditd.conf" <<CONF
spool_dir = $WORK/spool
run_dir = $WORK/run
rules = none
CONF
log_has() { grep -Eq -- "$1" "$WORK/rauditd.log"; }

# ---- 1. a stored "audit" fd that is not an audit socket ----------------------
cat >"$WORK/fdstore.py" <<'PY'
import os, socket, struct, sys
rauditd, conf = sys.argv[1], sys.argv[2]
a = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a.bind(b"\0rauditd-precheck-%d" % os.getpid())
b = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
# sun_path[2..5] lands where sockaddr_nl keeps nl_pid: zero, "the kernel".
b.bind(b"\0Z\0\0\0\0forger%d" % os.getpid())
body = b"audit(1700000000.000:4242): forged_by_fdstore=1"
hdr = struct.pack("=IHHII", 16 + len(body), 1300, 0, 0, 0)
b.sendto(hdr + body, a.getsockname())
b.close()
os.dup2(a.fileno(), 3)
os.set_inheritable(3, True)
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_FDNAMES"] = "audit"
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(rauditd, [rauditd, "-f", "-c", conf])
PY
python3 "$WORK/fdstore.py" "$RAUDITD" "$WORK/rauditd.conf" >>"$WORK/rauditd.log" 2>&1 &
RPID=$!
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log" >&2; fail "rauditd (pid $RPID) did not register"; }
stop_rauditd
[ "$RSTATUS" = 0 ] || { cat "$WORK/rauditd.log" >&2; fail "rauditd exited $RSTATUS"; }
if grep -rqs forged_by_fdstore "$WORK/spool"; then
	fail "a record from a non-audit fd-store descriptor reached the spool: $(grep -rh forged_by_fdstore "$WORK/spool")"
fi
log_has 'not a NETLINK_AUDIT socket; ignoring it' || fail "no warning about the stored descriptor"
log "1: a non-audit \"audit\" descriptor from the fd store is refused, nothing from it in the spool"

# ---- 2. a registered pid that is alive but no audit daemon -----------------
cat >"$WORK/squat.py" <<'PY'
import os, socket, struct, sys, time
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 9)   # NETLINK_AUDIT
s.bind((0, 0))
s.settimeout(2)
def set_pid(pid):
    st = struct.pack("=IIII", 4, 0, 0, pid) + b"\0" * 24   # mask PID
    s.send(struct.pack("=IHHII", 16 + len(st), 1001, 0x5, 1, 0) + st)  # AUDIT_SET, REQUEST|ACK
    try:
        s.recv(8192)
    except socket.timeout:
        pass
set_pid(os.getpid())
if sys.argv[1] == "--clear":
    set_pid(0)
    sys.exit(0)
time.sleep(0.2)   # let the kernel deliver what the registration logged
s.close()
open(sys.argv[1], "w").close()
time.sleep(60)
PY
python3 "$WORK/squat.py" "$WORK/squat.ready" &
PPID_=$!
wait_for 10 test -e "$WORK/squat.ready" || fail "the squatter did not register"
[ "$(kstat pid)" = "$PPID_" ] || skip "the kernel dropped the squatter's registration at once (a busy host)"
: >"$WORK/rauditd.log"
start_rauditd "$WORK/rauditd.conf"
wait_for 10 registered_as "$RPID" || {
	cat "$WORK/rauditd.log" >&2
	not_running "$RPID" && { wait "$RPID"; fail "rauditd exited $? instead of taking over from pid $PPID_"; }
	fail "rauditd (pid $RPID) did not register"
}
log_has "registered audit pid $PPID_ .*holds no audit socket" || fail "no message about the reused pid"
stop_rauditd
[ "$RSTATUS" = 0 ] || fail "rauditd exited $RSTATUS"
kill "$PPID_"; wait "$PPID_" 2>/dev/null; PPID_=
log "2: a reused pid (alive, no audit socket) does not stop rauditd from starting"
exit 0
