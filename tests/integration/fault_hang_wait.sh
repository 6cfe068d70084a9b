#!/bin/bash
# fault_hang_wait.sh - the socket as the second buffer, on the real kernel:
# the spool's disk (faultfs) hangs for a few seconds while an unpaced flood
# of audited calls, small enough for the socket's receive buffer, runs. The
# small ring fills, the receiver stops reading (ring_full_action = wait, the
# default) and the records wait in the socket. Checks, all counters: nothing
# dropped, no serial gap, every event in the spool once, the kernel's lost
# counter unchanged; status answers during the hang and shows the ring full;
# and WATCHDOG=1 keeps coming during the hang (waiting for a hung disk is
# not a hung receive loop), with this test as the service manager.
set -u
. "$top_srcdir/tests/integration/lib.sh"

EVENTS=30000
HANG_S=4
# WATCHDOG_USEC given to the daemon; it pings every half of it.
WD_USEC=1000000

require_root
require_fuse
make_work
KEY="rauditd_hangwait_$$"
NPID=
trap 'faultfs_umount; [ -n "$NPID" ] && kill "$NPID" 2>/dev/null; kernel_restore; cleanup_work' EXIT
trap 'exit 1' INT TERM
kernel_save

faultfs_mount
# A 1 MiB ring holds a few thousand records: the flood fills it at once. The
# socket gets 512 MiB (a limit, not an allocation), far more than the flood
# takes in kernel memory (about 3 records of some 1.5 KiB truesize an event).
cat >"$WORK/rauditd.conf" <<CONF
spool_dir = $MNT/spool
run_dir = $WORK/run
rules = none
enable = yes
backlog_limit = 8192
ring_size = 1M
rcvbuf = 512M
retry_interval = 100
CONF

# The service manager's notify socket: every message with its time.
python3 - "$WORK/notify.sock" "$WORK/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "w", buffering=1) as f:
    while True:
        data = s.recv(4096).decode(errors="replace")
        for line in data.split("\n"):
            if line:
                f.write("%.3f %s\n" % (time.time(), line))
PY
NPID=$!
wait_for 10 test -S "$WORK/notify.sock" || fail "notify listener did not start"

# Like systemd: WATCHDOG_PID names the main process, which the shell becomes.
NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=$WD_USEC \
	sh -c 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$0" "$@"' \
	"$RAUDITD" -f -c "$WORK/rauditd.conf" >>"$WORK/rauditd.log" 2>&1 &
RPID=$!
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log"; fail "rauditd did not register"; }
wait_for 10 grep -q 'WATCHDOG=1' "$WORK/notify.log" || fail "no WATCHDOG=1 before the hang"
lost0=$(kstat lost)

load_prepare "$EVENTS" 2 -t 60
ff_mode hang
t_hang=$(date +%s.%N)
kill -USR1 "$LPID"
sleep "$HANG_S"
timeout 5 "$top_builddir/rauditctl" -c "$WORK/rauditd.conf" -s >"$WORK/status.hang" ||
	fail "no status while the disk hung"
t_ok=$(date +%s.%N)
ff_mode ok
wait "$LPID" || fail "audit_load failed"
LPID=
rule_del_all
wait_for 60 sh -c "'$top_builddir/rauditctl' -c '$WORK/rauditd.conf' -s | grep -qx 'in_ring 0'" ||
	fail "the writer did not catch up"
# What waited in the socket is read once the ring has room: wait for all of it.
wait_for 60 sh -c "[ \$(cat '$MNT'/spool/audit-*.log | grep -c 'key=\"$KEY\"') -ge $EVENTS ]" || true
lost1=$(kstat lost)
stop_rauditd 30
[ "$RSTATUS" = 0 ] || { cat "$WORK/rauditd.log" >&2; fail "rauditd exited $RSTATUS"; }

got=$(spool_serials "$MNT/spool")
gaps=$(grep 'stopped: received' "$WORK/rauditd.log" | sed -n 's/.*serial gaps \([0-9]*\).*/\1/p')
used=$(awk '$1 == "ring_used_bytes" { print $2 }' "$WORK/status.hang")
cap=$(awk '$1 == "ring_capacity_bytes" { print $2 }' "$WORK/status.hang")
log "events $EVENTS, in spool $got, ring_full $(stop_counter ring_full), serial gaps $gaps," \
	"kernel lost $lost0 -> $lost1, ring during the hang $used of $cap bytes; $(tail -1 "$WORK/load.out")"
[ "$(stop_counter ring_full)" = 0 ] || fail "records dropped at ring-full"
# The disk hung for seconds under a flood far bigger than the ring: the
# receiver must have stopped reading, and the status said so at the time.
waits=$(awk '$1 == "ring_full_waits" { print $2 }' "$WORK/status.hang")
[ -n "$waits" ] && [ "$waits" -ge 1 ] || fail "status during the hang: ring_full_waits '$waits', want >= 1"
grep -Eq '^ring_full_ms [0-9]+$' "$WORK/status.hang" || fail "status during the hang has no ring_full_ms"
[ "$gaps" = 0 ] || fail "$gaps serial gaps"
[ "$got" = "$EVENTS" ] || fail "$((EVENTS - got)) events missing from the spool"
[ "$lost1" = "$lost0" ] || fail "kernel lost moved"
# The ring was full during the hang: the rest waited in the socket.
[ -n "$used" ] && [ -n "$cap" ] && [ "$used" -ge $((cap / 2)) ] ||
	fail "the ring was not full during the hang ($used of $cap bytes)"
"$top_builddir/rauditctl" verify "$MNT/spool" >/dev/null || fail "spool does not verify"

# WATCHDOG=1 all through the hang: no gap longer than WATCHDOG_USEC.
awk -v a="$t_hang" -v b="$t_ok" -v us="$WD_USEC" '
	BEGIN { lim = us / 1000000 }
	$2 == "WATCHDOG=1" { t[n++] = $1 }
	END {
		prev = a; seen = 0
		for (i = 0; i < n; i++) {
			if (t[i] < a) continue
			if (t[i] > b) break
			if (t[i] - prev > lim) { printf "no WATCHDOG=1 for %.2f s\n", t[i] - prev; exit 1 }
			prev = t[i]; seen++
		}
		if (b - prev > lim) { printf "no WATCHDOG=1 for the last %.2f s of the hang\n", b - prev; exit 1 }
		printf "%d WATCHDOG=1 during the %.1f s hang\n", seen, b - a
	}' "$WORK/notify.log" >"$WORK/wd.out" || fail "watchdog: $(cat "$WORK/wd.out")"
log "$(cat "$WORK/wd.out")"
faultfs_umount
exit 0
