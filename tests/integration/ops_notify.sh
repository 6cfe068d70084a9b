#!/bin/bash
# ops_notify.sh - rauditd's sd_notify conversation, with this test playing
# the service manager: a datagram socket in NOTIFY_SOCKET records every
# message with its time and sender. Checked: READY=1 (with STATUS=) first,
# STATUS= every stats_interval, WATCHDOG=1 every WATCHDOG_USEC/2, none
# while the daemon is frozen (SIGSTOP) and again after SIGCONT, RELOADING=1
# then READY=1 around SIGHUP, STOPPING=1 on SIGTERM; all from the daemon's
# pid (NotifyAccess=main). And no WATCHDOG=1 when WATCHDOG_PID names
# another process or WATCHDOG_USEC is unset, as sd_watchdog_enabled() says.
# Runs on the test input: no kernel, no root.
set -u
. "$top_srcdir/tests/integration/lib.sh"

make_work
trap cleanup_work EXIT
trap 'exit 1' INT TERM

cat >"$WORK/rauditd.conf" <<CONF
spool_dir = $WORK/spool
run_dir = $WORK/run
stats_interval = 1
CONF

cat >"$WORK/manager.py" <<'PY'
import os, signal, socket, struct, subprocess, sys, time

rauditd, work, mode = sys.argv[1], sys.argv[2], sys.argv[3]
path = os.path.join(work, "notify-%s.sock" % mode)
WD_USEC = 400000

srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
srv.bind(path)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
# Kernel receive timestamps, so our own scheduling does not blur the
# times (29 is SO_TIMESTAMP in asm-generic; Python does not export it).
SO_TIMESTAMP = getattr(socket, "SO_TIMESTAMP", 29)
try:
    srv.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMP, 1)
except OSError:
    pass
env = dict(os.environ, NOTIFY_SOCKET=path)
env.pop("WATCHDOG_PID", None)
env.pop("WATCHDOG_USEC", None)
if mode != "nowatchdog":
    env["WATCHDOG_USEC"] = str(WD_USEC)
# Like systemd: WATCHDOG_PID names the service's main process. The shell
# learns its pid and execs rauditd in its place.
wdpid = {"main": "$$", "otherpid": "1", "nowatchdog": "$$"}[mode]
argv = ["/bin/sh", "-c", 'WATCHDOG_PID=%s; export WATCHDOG_PID; exec "$0" "$@"' % wdpid,
        rauditd, "-f", "-c", os.path.join(work, "rauditd.conf"),
        "--test-input", os.path.join(work, "input-%s.sock" % mode)]
t0 = time.time()
log = open(os.path.join(work, "rauditd-%s.log" % mode), "w")
p = subprocess.Popen(argv, env=env, stdout=log, stderr=log)

def on_term(sig, frame):
    # The test was interrupted: take our daemon with us.
    if p.poll() is None:
        p.kill()
    sys.exit(1)
signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)
msgs = []          # (t, pid, [lines]), t in seconds since start
marks = {}

def fail(why):
    for t, pid, lines in msgs:
        print("  %7.3f pid %d %s" % (t, pid, " | ".join(lines)), file=sys.stderr)
    print("FAIL: " + why, file=sys.stderr)
    if p.poll() is None:
        p.kill()
    sys.exit(1)

def pump(seconds):
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        srv.settimeout(left)
        try:
            data, anc, _, _ = srv.recvmsg(4096, socket.CMSG_SPACE(12) + socket.CMSG_SPACE(16))
        except socket.timeout:
            return
        pid, t = -1, time.time()
        for lvl, typ, d in anc:
            if lvl == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                pid = struct.unpack("=iII", d[:12])[0]
            if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMP:
                sec, usec = struct.unpack("=qq", d[:16])
                t = sec + usec / 1e6
        msgs.append((t - t0, pid, data.decode().split("\n")))

def has(lines, key):
    return any(l.startswith(key) for l in lines)

def wait_for(key, seconds):
    end = time.monotonic() + seconds
    start = len(msgs)
    while time.monotonic() < end:
        pump(0.05)
        for m in msgs[start:]:
            if has(m[2], key):
                return m
    fail("no %s within %.1f s" % (key, seconds))

def sig(s):
    marks[s] = time.time() - t0
    os.kill(p.pid, s)

def between(key, a, b):
    return [m for m in msgs if a <= m[0] < b and has(m[2], key)]

ready = wait_for("READY=1", 10)
if mode != "main":
    pump(1.5)
    wd = between("WATCHDOG=1", 0, 1e9)
    if wd:
        fail("%d WATCHDOG=1 with %s" % (len(wd), mode))
    sig(signal.SIGTERM)
    wait_for("STOPPING=1", 10)
    rc = p.wait(10)
    if rc != 0:
        fail("exit status %d" % rc)
    print("%s: READY=1, no WATCHDOG=1 in 1.5 s, STOPPING=1, exit 0" % mode)
    sys.exit(0)

if msgs[0] is not ready:
    fail("READY=1 is not the first message")
if not has(ready[2], "STATUS="):
    fail("READY=1 came without STATUS=")
t_ready = ready[0]
# READY=1 comes after the spool is open and control listens.
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    c.connect(os.path.join(work, "run", "control.sock"))
except OSError as e:
    fail("control socket not listening at READY=1: %s" % e)
c.close()
if not os.path.exists(os.path.join(work, "spool", "audit-00000001.log")):
    fail("no spool segment at READY=1")
pump(3.2)

# STATUS= on its own every stats_interval (1 s).
st = [m for m in between("STATUS=", t_ready + 0.01, 1e9) if not has(m[2], "READY=1")]
if len(st) < 2:
    fail("%d STATUS= updates in 3.2 s, expected about 3" % len(st))
for m in st:
    s = [l for l in m[2] if l.startswith("STATUS=")][0]
    if not s.startswith("STATUS=received ") or "writer ok" not in s:
        fail("unexpected status text: " + s)
gaps = [b[0] - a[0] for a, b in zip(st, st[1:])]
if not all(0.7 < g < 1.4 for g in gaps):
    fail("STATUS= intervals %s, expected about 1 s" % gaps)

# WATCHDOG=1 every WATCHDOG_USEC / 2 = 200 ms.
wd = between("WATCHDOG=1", t_ready, 1e9)
iv = sorted(b[0] - a[0] for a, b in zip(wd, wd[1:]))
if len(wd) < 10:
    fail("%d WATCHDOG=1 in 3.2 s, expected about 16" % len(wd))
median = iv[len(iv) // 2]
if not 0.15 < median < 0.3 or iv[-1] > 0.4:
    fail("WATCHDOG=1 intervals: median %.3f s, max %.3f s; expected 0.2 s" % (median, iv[-1]))

# Frozen: no WATCHDOG=1 while stopped, then it resumes.
sig(signal.SIGSTOP)
pump(1.5)
sig(signal.SIGCONT)
t_stop, t_cont = marks[signal.SIGSTOP], marks[signal.SIGCONT]
pump(1.0)
frozen = between("WATCHDOG=1", t_stop + 0.05, t_cont)
if frozen:
    fail("%d WATCHDOG=1 while the daemon was stopped" % len(frozen))
after = between("WATCHDOG=1", t_cont, 1e9)
if len(after) < 3 or after[0][0] - t_cont > 0.5:
    fail("WATCHDOG=1 did not resume after SIGCONT (%d in 1 s)" % len(after))
state = os.path.join(work, "run", "rauditd.state")

# Reload: RELOADING=1 (with MONOTONIC_USEC), then READY=1.
sig(signal.SIGHUP)
t_hup = marks[signal.SIGHUP]
wait_for("READY=1", 5)
rl = between("RELOADING=1", t_hup, 1e9)
rd = between("READY=1", t_hup, 1e9)
if len(rl) != 1 or not has(rl[0][2], "MONOTONIC_USEC="):
    fail("expected one RELOADING=1 with MONOTONIC_USEC= after SIGHUP")
if not rl[0][0] <= rd[0][0] or msgs.index(rl[0]) > msgs.index(rd[0]):
    fail("READY=1 came before RELOADING=1")
pump(0.5)

# Stop: STOPPING=1, exit 0.
sig(signal.SIGTERM)
wait_for("STOPPING=1", 10)
rc = p.wait(10)
pump(0.2)
if rc != 0:
    fail("exit status %d" % rc)
bad = [m for m in msgs if m[1] != p.pid]
if bad:
    fail("%d message(s) not from the daemon's pid %d" % (len(bad), p.pid))
i = [k for k, m in enumerate(msgs) if has(m[2], "STOPPING=1")][0]
if any(not has(m[2], "WATCHDOG=1") for m in msgs[i + 1:]):
    fail("messages other than WATCHDOG=1 after STOPPING=1")
print("main: %d messages from pid %d; READY=1+STATUS= at %.2f s; %d STATUS= updates (every %.2f s);"
      " WATCHDOG=1 median interval %.3f s, max %.3f s, none in the %.2f s frozen, %d in the 1 s after;"
      " RELOADING=1 -> READY=1 in %.1f ms; STOPPING=1, exit 0; state report %s"
      % (len(msgs), p.pid, t_ready, len(st), sum(gaps) / len(gaps), median, iv[-1],
         t_cont - t_stop, len(after), (rd[0][0] - rl[0][0]) * 1000,
         "written on SIGCONT" if os.path.exists(state) else "missing"))
PY

for mode in main otherpid nowatchdog; do
	out=$(timeout 60 python3 "$WORK/manager.py" "$RAUDITD" "$WORK" "$mode") ||
		{ cat "$WORK/rauditd-$mode.log" >&2; fail "service manager run \"$mode\" failed"; }
	log "$out"
done
exit 0
