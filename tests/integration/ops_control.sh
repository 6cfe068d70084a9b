#!/bin/bash
# ops_control.sh - the control socket under hostile or broken clients, with
# rauditd on its test input (no kernel): a client of another uid is refused
# (by the socket's mode, and by the daemon's own peer check), an idle client
# is dropped after the timeout without delaying others, garbage gets an
# error or a close, a client that never reads its reply does not stall the
# loop, clients beyond the limit are closed and the daemon keeps serving;
# control_group lets a group read status but not stop the daemon.
#
# The other-uid parts need root (to switch to uid 65534); without root they
# are skipped and the rest runs with control_group set to our own group,
# since the daemon answers only root or that group.
set -u
. "$top_srcdir/tests/integration/lib.sh"

RAUDITCTL="$top_builddir/rauditctl"
NOBODY=65534
IS_ROOT=false
[ "$(id -u)" = 0 ] && IS_ROOT=true

make_work
TMPGROUP=
HPID=
cleanup() {
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null && wait "$HPID" 2>/dev/null
	if [ -n "${RPID:-}" ] && kill -0 "$RPID" 2>/dev/null; then
		kill -TERM "$RPID" 2>/dev/null
		wait_for 10 not_running "$RPID" || kill -KILL "$RPID" 2>/dev/null
		wait "$RPID" 2>/dev/null
	fi
	[ -n "$TMPGROUP" ] && groupdel "$TMPGROUP" 2>/dev/null
	cleanup_work
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# uid 65534 must reach the config file and the socket.
chmod 755 "$WORK"
SOCK="$WORK/run/control.sock"

write_conf() {
	cat >"$WORK/rauditd.conf" <<CONF
spool_dir = $WORK/spool
run_dir = $WORK/run
control_group = $1
CONF
	chmod 644 "$WORK/rauditd.conf"
}
if $IS_ROOT; then write_conf ""; else write_conf "$(id -gn)"; fi

# A client speaking the wire format of control_proto.h.
cat >"$WORK/cli.py" <<'PY'
import os, socket, struct, sys, time

HDR = struct.Struct("=HHII")      # version, type, len, reserved
END = 199

def conn(path, rcvbuf=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(path)
    return s

def replies(s, timeout):
    """Read messages until END or EOF: [(type, payload)], and how it ended."""
    s.settimeout(timeout)
    buf, out = b"", []
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return out, "closed"
            buf += d
            while len(buf) >= HDR.size:
                v, t, n, r = HDR.unpack_from(buf)
                if len(buf) < HDR.size + n:
                    break
                out.append((t, buf[HDR.size:HDR.size + n]))
                buf = buf[HDR.size + n:]
                if t == END:
                    return out, "end"
    except socket.timeout:
        return out, "timeout"
    except ConnectionResetError:
        return out, "reset"

def show(out, how):
    for t, p in out:
        line = p.decode(errors="replace").split("\n")[0]
        print("reply %d %s" % (t, line))
    print(how)

cmd, path = sys.argv[1], sys.argv[2]
if cmd == "send":
    # send SOCK KIND: one malformed or unusual request, print the answer.
    kind = sys.argv[3]
    msg = {
        "random": os.urandom(512),
        "huge": HDR.pack(1, 1, 0xFFFFFFF0, 0),
        "version": HDR.pack(7, 1, 0, 0),
        "reserved": HDR.pack(1, 1, 0, 0xdeadbeef),
        "unknown": HDR.pack(1, 9999, 0, 0),
        "short": b"\x01\x00\x01",
        "status": HDR.pack(1, 1, 0, 0),
    }[kind]
    s = conn(path)
    try:
        s.sendall(msg)
    except (BrokenPipeError, ConnectionResetError):
        print("closed")
        sys.exit(0)
    show(*replies(s, 10))
elif cmd == "idle":
    # idle SOCK: connect, send nothing; print when the daemon hangs up.
    s = conn(path)
    t0 = time.monotonic()
    out, how = replies(s, 30)
    print("%s %.2f %d" % (how, time.monotonic() - t0, len(out)))
elif cmd == "noread":
    # noread SOCK SECONDS: tiny receive buffer, ask for status, never read.
    s = conn(path, rcvbuf=1)
    s.sendall(HDR.pack(1, 1, 0, 0))
    print("sent", flush=True)
    time.sleep(float(sys.argv[3]))
    print("done")
elif cmd == "many":
    # many SOCK N HOLD: N idle clients; after HOLD seconds print how many
    # the daemon closed at once (within 1 s) and how many it closed later.
    n, hold = int(sys.argv[3]), float(sys.argv[4])
    socks = [conn(path) for _ in range(n)]
    def closed(s):
        s.setblocking(False)
        try:
            return s.recv(1) == b""
        except BlockingIOError:
            return False
        except ConnectionResetError:
            return True
    time.sleep(1)
    early = [s for s in socks if closed(s)]
    print("early %d" % len(early), flush=True)
    time.sleep(hold)
    late = [s for s in socks if s not in early and closed(s)]
    print("late %d" % len(late), flush=True)
PY

ctl() { timeout 10 "$RAUDITCTL" -c "$WORK/rauditd.conf" "$@"; }
as_nobody() { timeout 10 setpriv --reuid=$NOBODY --regid=$NOBODY "$@"; }
py() { timeout 40 python3 "$WORK/cli.py" "$@"; }
ms() { date +%s%3N; }
# status_ok: rauditctl -s answers with counters, within 1 s.
status_ok() {
	local t0; t0=$(ms)
	ctl -s >"$WORK/st.out" 2>"$WORK/st.err" || { cat "$WORK/st.err" >&2; return 1; }
	grep -q '^received [0-9]' "$WORK/st.out" || return 1
	[ $(($(ms) - t0)) -lt 1000 ] || { log "status took $(($(ms) - t0)) ms"; return 1; }
}
alive() { kill -0 "$RPID" 2>/dev/null || fail "rauditd died ($1)"; }
counter() { ctl -s | awk -v k="$1" '$1 == k { print $2 }'; }

start_rauditd "$WORK/rauditd.conf" --test-input "$WORK/input.sock"
wait_for 10 test -S "$SOCK" || { cat "$WORK/rauditd.log" >&2; fail "no control socket"; }
wait_for 10 status_ok || fail "rauditctl -s does not work"

# ---- 1. another uid -----------------------------------------------------
if $IS_ROOT; then
	[ "$(stat -c %a "$SOCK")" = 600 ] || fail "control socket mode is $(stat -c %a "$SOCK"), not 600"
	as_nobody --clear-groups "$RAUDITCTL" -c "$WORK/rauditd.conf" -s >"$WORK/nb.out" 2>"$WORK/nb.err" &&
		fail "uid $NOBODY got a status"
	grep -qi 'permission denied' "$WORK/nb.err" || fail "uid $NOBODY: $(cat "$WORK/nb.err")"
	grep -q '^received' "$WORK/nb.out" && fail "uid $NOBODY saw counters"
	# Past the file mode, the daemon's own peer check must refuse too.
	chmod 666 "$SOCK"
	refused0=$(counter control_refused)
	as_nobody --clear-groups "$RAUDITCTL" -c "$WORK/rauditd.conf" -s >"$WORK/nb.out" 2>"$WORK/nb.err" &&
		fail "uid $NOBODY got a status through a 0666 socket"
	grep -q 'permission denied: the control socket is for root' "$WORK/nb.err" ||
		fail "daemon did not refuse uid $NOBODY: $(cat "$WORK/nb.err")"
	grep -q '^received' "$WORK/nb.out" && fail "uid $NOBODY saw counters"
	as_nobody --clear-groups "$RAUDITCTL" -c "$WORK/rauditd.conf" stop 2>"$WORK/nb.err" &&
		fail "uid $NOBODY could stop the daemon"
	chmod 600 "$SOCK"
	[ "$(counter control_refused)" -ge $((refused0 + 2)) ] || fail "refusals not counted"
	alive "after other-uid clients"
	log "other uid: refused by the socket mode and by the daemon's peer check"
else
	log "SKIP other-uid checks: not root (cannot switch to uid $NOBODY)"
fi

# ---- 2. an idle client is dropped, others are not delayed ----------------
dropped0=$(counter control_dropped)
py idle "$SOCK" >"$WORK/idle.out" &
HPID=$!
sleep 0.3
status_ok || fail "status was slow or failed with an idle client connected"
wait "$HPID"; HPID=
read -r how secs nrep <"$WORK/idle.out"
[ "$how" = closed ] && [ "$nrep" = 0 ] || fail "idle client: $(cat "$WORK/idle.out")"
awk -v s="$secs" 'BEGIN { exit !(s >= 4 && s <= 8) }' || fail "idle client was dropped after $secs s, expected about 5"
[ "$(counter control_dropped)" -gt "$dropped0" ] || fail "the idle drop was not counted"
log "idle client dropped after $secs s; a concurrent status took < 1 s"

# ---- 3. garbage ---------------------------------------------------------------
for kind in random huge version reserved unknown short; do
	t0=$(ms)
	py send "$SOCK" "$kind" >"$WORK/g.out" 2>&1 || fail "client ($kind): $(cat "$WORK/g.out")"
	took=$(($(ms) - t0))
	case $kind in
	huge|reserved|random)
		# random bytes: a non-zero reserved word or a huge length, or both.
		grep -q '^reply 103 malformed request$' "$WORK/g.out" ||
			grep -q '^reply 103 unsupported control protocol version$' "$WORK/g.out" ||
			fail "$kind: no error reply: $(cat "$WORK/g.out")" ;;
	version)
		grep -q '^reply 103 unsupported control protocol version$' "$WORK/g.out" ||
			fail "$kind: no version error: $(cat "$WORK/g.out")" ;;
	unknown)
		grep -Eq '^reply 103 (unknown request type 9999|permission denied)' "$WORK/g.out" ||
			fail "$kind: no error reply: $(cat "$WORK/g.out")" ;;
	short)
		# Not even a header: nothing to answer, closed at the timeout.
		grep -Eq '^(closed|end)$' "$WORK/g.out" || fail "$kind: $(cat "$WORK/g.out")" ;;
	esac
	[ "$kind" = short ] || grep -q '^end$' "$WORK/g.out" || fail "$kind: reply without END: $(cat "$WORK/g.out")"
	alive "after $kind"
	status_ok || fail "no status after the $kind client"
	log "garbage ($kind): $(grep '^reply' "$WORK/g.out" | head -1 | cut -c1-60)${kind:+ }($(tail -1 "$WORK/g.out")) in $took ms; daemon still serves"
done

# ---- 4. a client that never reads its reply ---------------------------------
py noread "$SOCK" 7 >"$WORK/nr.out" &
HPID=$!
wait_for 5 grep -qs sent "$WORK/nr.out" || fail "noread client did not start"
for _ in 1 2 3; do
	status_ok || fail "status failed while a client does not read its reply"
done
alive "with a client that does not read"
wait "$HPID"; HPID=
status_ok || fail "status failed after the non-reading client"
log "a client that never reads: three concurrent statuses answered at once"

# ---- 5. more clients than slots --------------------------------------------
py many "$SOCK" 20 6 >"$WORK/many.out" &
HPID=$!
wait_for 5 grep -qs '^early' "$WORK/many.out" || fail "many: $(cat "$WORK/many.out")"
early=$(awk '$1 == "early" { print $2 }' "$WORK/many.out")
[ "$early" = 4 ] || fail "with 20 idle clients, $early were closed at once (expected the 4 beyond 16)"
# All 16 slots are busy: a status now is refused quickly, not hung.
t0=$(ms)
ctl -s >/dev/null 2>&1 && fail "a 17th client was served while 16 slots were busy"
[ $(($(ms) - t0)) -lt 2000 ] || fail "the 17th client waited $(($(ms) - t0)) ms"
wait "$HPID"; HPID=
late=$(awk '$1 == "late" { print $2 }' "$WORK/many.out")
[ "$late" = 16 ] || fail "only $late of 16 idle clients were dropped at the timeout"
alive "after 20 idle clients"
status_ok || fail "no status after 20 idle clients"
log "20 idle clients: 4 closed at accept, 16 dropped at the timeout; status works afterwards"

# ---- 6. control_group ----------------------------------------------------------
if $IS_ROOT; then
	# nogroup is uid 65534's primary group on Debian.
	grp=$(id -gn $NOBODY)
	write_conf "$grp"
	kill -HUP "$RPID"
	mode_is() { [ "$(stat -c '%a %G' "$SOCK")" = "$1" ]; }
	wait_for 10 mode_is "660 $grp" || fail "control_group did not change the socket to 660 $grp: $(stat -c '%a %G' "$SOCK")"
	as_nobody --clear-groups "$RAUDITCTL" -c "$WORK/rauditd.conf" -s >"$WORK/nb.out" 2>"$WORK/nb.err" ||
		fail "group $grp (primary) could not read status: $(cat "$WORK/nb.err")"
	grep -q '^received [0-9]' "$WORK/nb.out" || fail "group $grp: no counters"
	as_nobody --clear-groups "$RAUDITCTL" -c "$WORK/rauditd.conf" state >"$WORK/nb.out" 2>"$WORK/nb.err" ||
		fail "group $grp could not read the state report"
	for c in stop rotate reload resume; do
		as_nobody --clear-groups "$RAUDITCTL" -c "$WORK/rauditd.conf" "$c" >/dev/null 2>"$WORK/nb.err"
		rc=$?
		[ "$rc" = 1 ] || fail "group $grp: $c exited with $rc, expected 1 (refused)"
		grep -q 'permission denied: only root may do that' "$WORK/nb.err" || fail "group $grp: $c: $(cat "$WORK/nb.err")"
	done
	alive "after group members tried stop"
	log "control_group $grp (primary group): status and state allowed, stop/rotate/reload/resume refused"

	# A supplementary group (SO_PEERGROUPS), created for this test.
	if command -v groupadd >/dev/null 2>&1; then
		TMPGROUP="rdt$$"
		groupadd "$TMPGROUP" || fail "groupadd $TMPGROUP"
		gid=$(getent group "$TMPGROUP" | cut -d: -f3)
		write_conf "$TMPGROUP"
		kill -HUP "$RPID"
		wait_for 10 mode_is "660 $TMPGROUP" || fail "socket group did not change to $TMPGROUP"
		as_nobody --groups="$gid" "$RAUDITCTL" -c "$WORK/rauditd.conf" -s >"$WORK/nb.out" 2>"$WORK/nb.err" ||
			fail "supplementary group $TMPGROUP could not read status: $(cat "$WORK/nb.err")"
		grep -q '^received [0-9]' "$WORK/nb.out" || fail "group $TMPGROUP: no counters"
		as_nobody --groups="$gid" "$RAUDITCTL" -c "$WORK/rauditd.conf" stop 2>"$WORK/nb.err" &&
			fail "group $TMPGROUP could stop the daemon"
		as_nobody --clear-groups "$RAUDITCTL" -c "$WORK/rauditd.conf" -s >/dev/null 2>&1 &&
			fail "uid $NOBODY without the group still got a status"
		log "control_group $TMPGROUP (supplementary): status allowed, stop refused, non-members refused"
	fi
	write_conf ""
	kill -HUP "$RPID"
	wait_for 10 mode_is "600 $(stat -c %G "$SOCK")" || fail "socket mode not back to 600"
	# The records a control request leaves name who asked, as auditd's do
	# for a signal: the client's login uid (its uid, 0, when unset) and pid
	# from the socket, not -1.
	auid_of() { local a; a=$(cat "$1" 2>/dev/null || echo 4294967295); [ "$a" = 4294967295 ] && a=0; echo "$a"; }
	AUID=$(auid_of /proc/self/loginuid)
	# rotate from a login session of uid 65534 (root may set its own login
	# uid while it is not immutable; the records then name 65534).
	(
		echo 65534 >/proc/self/loginuid 2>/dev/null
		cat /proc/self/loginuid >"$WORK/rot.auid"
		exec "$RAUDITCTL" -c "$WORK/rauditd.conf" rotate
	) & cpid=$!
	wait "$cpid" || fail "rauditctl rotate exited with $?"
	who="auid=$(auid_of "$WORK/rot.auid") pid=$cpid subj=[^ ]+"
	wait_for 10 grep -Eq "^type=DAEMON_ROTATE .* reason=request $who " "$WORK"/spool/audit-*.log ||
		fail "DAEMON_ROTATE does not name rauditctl rotate ($who): $(grep -h '^type=DAEMON_ROTATE' "$WORK"/spool/audit-*.log | tail -1)"
	"$RAUDITCTL" -c "$WORK/rauditd.conf" reload & cpid=$!
	wait "$cpid" || fail "rauditctl reload exited with $?"
	who="auid=$AUID pid=$cpid subj=[^ ]+"
	wait_for 10 grep -Eq "^type=DAEMON_CONFIG .*op=reconfigure state=[a-z-]+ $who res=success" "$WORK"/spool/audit-*.log ||
		fail "DAEMON_CONFIG does not name rauditctl reload ($who): $(grep -h '^type=DAEMON_CONFIG' "$WORK"/spool/audit-*.log | tail -1)"
	"$RAUDITCTL" -c "$WORK/rauditd.conf" stop & cpid=$!
	wait "$cpid" || fail "root could not stop the daemon with rauditctl stop"
	STOP_WHO="auid=$AUID pid=$cpid subj=[^ ]+"
	log "rotate (auid $(auid_of "$WORK/rot.auid")), reload and stop (auid $AUID) by rauditctl are named in their records with rauditctl's pid"
else
	log "SKIP control_group checks with another uid: not root"
	kill -TERM "$RPID"
fi
wait_for 10 not_running "$RPID" || fail "rauditd did not stop"
wait "$RPID"; rc=$?
RPID=
[ "$rc" = 0 ] || { cat "$WORK/rauditd.log" >&2; fail "rauditd exited with $rc"; }
last=$(tail -1 "$(ls "$WORK"/spool/audit-*.log | tail -1)")
case $last in type=DAEMON_END\ *) ;; *) fail "no DAEMON_END after stop: $last" ;; esac
[ -z "${STOP_WHO:-}" ] || echo "$last" | grep -Eq "op=terminate $STOP_WHO " ||
	fail "DAEMON_END does not name rauditctl stop ($STOP_WHO): $last"
exit 0
