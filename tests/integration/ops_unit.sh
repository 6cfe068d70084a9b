#!/bin/bash
# ops_unit.sh - the systemd unit. (1) The unit make generates from
# rauditd.service.in has every placeholder substituted, the hardening and
# restart settings, RestartPreventExitStatus= equal to rauditd's exit codes
# for usage, config, busy and spool errors, and systemd-analyze verify has
# nothing to say about it. (2) Every system call rauditd makes (traced with
# strace on the test input) is in @system-service, the unit's filter.
# (3) As root with kernel audit, the unit runs under a real systemd: a
# private "systemd --user" manager in a private mount namespace (this needs
# no systemd as PID 1): Type=notify start, registration, STATUS=, watchdog
# restart after SIGSTOP, reload, clean stop, no restart on a config or usage
# error, and each capability in CapabilityBoundingSet= shown to be needed
# by starting without it.
set -u
. "$top_srcdir/tests/integration/lib.sh"

RAUDITCTL="$top_builddir/rauditctl"
UNIT="$top_builddir/systemd/rauditd.service"

make_work
CGDIRS=
INNER=
cleanup() {
	if [ -n "$INNER" ] && kill -0 "$INNER" 2>/dev/null; then
		kill -TERM "$INNER" 2>/dev/null
		wait_for 30 not_running "$INNER" || kill -KILL "$INNER" 2>/dev/null
		wait "$INNER" 2>/dev/null
	fi
	# A daemon the private manager started and did not stop.
	if [ -s "$WORK/mainpid" ]; then
		local p; p=$(cat "$WORK/mainpid")
		if kill -0 "$p" 2>/dev/null && [ "$(cat /proc/"$p"/comm 2>/dev/null)" = rauditd ]; then
			kill -TERM "$p"; wait_for 15 not_running "$p" || kill -KILL "$p"
		fi
	fi
	[ -n "${K_ENABLED:-}" ] && kernel_restore
	timeout 5 auditctl -D -k rauditd_unit_rules >/dev/null 2>&1
	local d
	for d in $CGDIRS; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	cleanup_work
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- 1. the generated unit ------------------------------------------------
if [ ! -f "$UNIT" ] || [ "$top_srcdir/systemd/rauditd.service.in" -nt "$UNIT" ]; then
	make -C "$top_builddir" systemd/rauditd.service >/dev/null || fail "make systemd/rauditd.service"
fi
grep -n '@[a-z_]*@' "$UNIT" && fail "placeholders left in $UNIT"
for want in 'Type=notify' 'NotifyAccess=main' 'WatchdogSec=' 'Restart=on-failure' \
	'Conflicts=auditd.service' 'ConditionKernelCommandLine=!audit=0' \
	'ConditionKernelCommandLine=!audit=off' 'ProtectSystem=strict' \
	'RestrictAddressFamilies=AF_NETLINK AF_UNIX' 'NoNewPrivileges=yes' \
	'MemoryDenyWriteExecute=yes' 'SystemCallFilter=@system-service' \
	'SystemCallArchitectures=native' 'LockPersonality=yes' 'RestrictRealtime=yes' \
	'ProtectHome=yes' 'PrivateTmp=yes' 'RuntimeDirectory=rauditd'; do
	grep -q "^$want" "$UNIT" || fail "$UNIT has no $want"
done
# The shipper (which a drop-in may run as another user) must not share
# rauditd's runtime directory: systemd would give it, and the control
# socket in it, to that user.
SHIP_UNIT="$top_builddir/systemd/rauditd-ship.service"
make -C "$top_builddir" systemd/rauditd-ship.service >/dev/null || fail "make systemd/rauditd-ship.service"
[ "$(sed -n 's/^RuntimeDirectory=//p' "$SHIP_UNIT")" = rauditd-ship ] ||
	fail "$SHIP_UNIT: RuntimeDirectory=$(sed -n 's/^RuntimeDirectory=//p' "$SHIP_UNIT"), want rauditd-ship (not rauditd's)"
[ "$(sed -n 's/^ship_status = //p' "$top_srcdir/conf/rauditd.conf")" = /run/rauditd-ship/ship.status ] ||
	fail "conf/rauditd.conf: ship_status is not in rauditd-ship's runtime directory"
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
for c in CAP_AUDIT_CONTROL CAP_NET_ADMIN; do
	case " $caps " in *" $c "*) ;; *) fail "CapabilityBoundingSet= lacks $c" ;; esac
done
# RestartPreventExitStatus= is the usage, config, busy and spool codes.
# A code may be a constant shared through progstart.h (usage, config).
exit_code() {
	local v
	v=$(sed -n "s/^[[:space:]]*$1 = \([A-Z_0-9]*\),.*/\1/p" "$top_srcdir/daemon/rauditd.c")
	case $v in
	[0-9]*) echo "$v" ;;
	*) sed -n "s/^#define[[:space:]]*$v[[:space:]]*\([0-9]*\).*/\1/p" "$top_srcdir/daemon/progstart.h" ;;
	esac
}
codes=$(for n in EXIT_USAGE EXIT_CONFIG EXIT_BUSY EXIT_SPOOL; do
	exit_code "$n"
done | tr '\n' ' ' | sed 's/ $//')
[ "$(sed -n 's/^RestartPreventExitStatus=//p' "$UNIT")" = "$codes" ] ||
	fail "RestartPreventExitStatus=$(sed -n 's/^RestartPreventExitStatus=//p' "$UNIT"), rauditd's codes are \"$codes\""
log "generated unit: placeholders substituted, hardening present, RestartPreventExitStatus=$codes"

if command -v systemd-analyze >/dev/null 2>&1; then
	# verify checks that ExecStart= exists and that man: pages resolve, so
	# point ExecStart= at the built binary and MANPATH at our pages.
	mkdir -p "$WORK/man/man5" "$WORK/man/man8"
	for m in "$top_srcdir"/man/*.[58]; do
		cp "$m" "$WORK/man/man${m##*.}/"
	done
	sed "s|^ExecStart=[^ ]*|ExecStart=$top_builddir/rauditd|" "$UNIT" >"$WORK/rauditd.service"
	MANPATH="$WORK/man" systemd-analyze verify "$WORK/rauditd.service" >"$WORK/verify.out" 2>&1 ||
		{ cat "$WORK/verify.out" >&2; fail "systemd-analyze verify failed"; }
	[ -s "$WORK/verify.out" ] && { cat "$WORK/verify.out" >&2; fail "systemd-analyze verify had something to say"; }
	exposure=$(MANPATH="$WORK/man" systemd-analyze security --offline=yes "$WORK/rauditd.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: //p')
	log "systemd-analyze verify: silent (ExecStart= pointed at the build); security exposure: ${exposure:-n/a}"
else
	log "SKIP systemd-analyze verify: systemd-analyze missing"
fi

# ---- 2. system calls against @system-service -----------------------------
# expand SET: the system calls in a systemd syscall set, nested sets
# resolved, from one listing of all sets.
expand() {
	systemd-analyze syscall-filter 2>/dev/null | python3 -c '
import sys
sets, cur = {}, None
for line in sys.stdin:
    w = line.strip()
    if not w or w.startswith("#"):
        continue
    if not line[0].isspace() and w.startswith("@"):
        cur = sets.setdefault(w, [])
    elif cur is not None:
        cur.append(w)
def calls(name, seen=set()):
    if name in seen:
        return set()
    seen.add(name)
    out = set()
    for w in sets.get(name, []):
        out |= calls(w) if w.startswith("@") else {w}
    return out
print("\n".join(sorted(calls(sys.argv[1]))))
' "$1"
}
if command -v strace >/dev/null 2>&1 && command -v systemd-analyze >/dev/null 2>&1; then
	expand @system-service | sort -u >"$WORK/allowed"
	[ "$(wc -l <"$WORK/allowed")" -gt 100 ] || fail "could not expand @system-service"
	cat >"$WORK/trace.conf" <<CONF
spool_dir = $WORK/tspool
run_dir = $WORK/trun
rules = none
stats_interval = 1
metrics_file = $WORK/trace.prom
control_group = $(id -gn)
ring_size = 1M
CONF
	# mlock, as with lock_ring = yes, where the memlock limit allows it.
	[ "$(id -u)" = 0 ] && echo 'lock_ring = yes' >>"$WORK/trace.conf"
	# LeakSanitizer cannot work under ptrace (an ASan build of check-all).
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -o "$WORK/strace.out" "$RAUDITD" -f -c "$WORK/trace.conf" \
		--test-input "$WORK/tinput.sock" >"$WORK/trace.log" 2>&1 &
	TPID=$!
	wait_for 10 test -S "$WORK/trun/control.sock" || { cat "$WORK/trace.log" >&2; fail "traced rauditd did not start"; }
	dpid=$(pgrep -P "$TPID" -x rauditd || true)
	[ -n "$dpid" ] || fail "no traced rauditd process"
	"$RAUDITCTL" -c "$WORK/trace.conf" -s >/dev/null 2>&1
	for s in USR1 HUP CONT USR2; do kill -"$s" "$dpid"; sleep 0.3; done
	sleep 1.2
	kill -TERM "$dpid"
	wait "$TPID" || { cat "$WORK/trace.log" >&2; fail "traced rauditd failed"; }
	awk '{ s = $2; sub(/\(.*/, "", s); if (s ~ /^[a-z_0-9]+$/) print s }' "$WORK/strace.out" | sort -u >"$WORK/used"
	missing=$(comm -23 "$WORK/used" "$WORK/allowed" | tr '\n' ' ')
	[ -z "$missing" ] || fail "system calls outside @system-service: $missing"
	log "system calls: all $(wc -l <"$WORK/used") that rauditd made on the test input are in @system-service"
else
	log "SKIP system call check: needs strace and systemd-analyze"
fi

# ---- 3. under a private systemd --user manager, with the real kernel ------
skip_c() { log "SKIP systemd manager run: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip_c "needs root"
command -v auditctl >/dev/null 2>&1 || { [ "${CI:-}" = true ] && fail "auditctl missing"; skip_c "auditctl missing"; }
timeout 5 auditctl -s >/dev/null 2>&1 || { [ "${CI:-}" = true ] && fail "kernel audit is not usable here"; skip_c "kernel audit is not usable"; }
SYSTEMD=
for p in /lib/systemd/systemd /usr/lib/systemd/systemd; do [ -x "$p" ] && { SYSTEMD=$p; break; }; done
[ -n "$SYSTEMD" ] || skip_c "no systemd binary"
command -v unshare >/dev/null 2>&1 || skip_c "no unshare"
exec 9>"${TMPDIR:-/tmp}/rauditd-kernel-tests.lock"
flock -w 900 9 || fail "timed out waiting for the kernel test lock"
kpid=$(kstat pid)
if [ -n "$kpid" ] && [ "$kpid" != 0 ] && [ -d "/proc/$kpid" ]; then
	[ "${CI:-}" = true ] && fail "another audit daemon is registered: pid $kpid"
	skip_c "another audit daemon is registered: pid $kpid"
fi
kernel_save

# The manager needs a cgroup of its own. With systemd as PID 1, ask it for a
# delegated scope; without, make one beside ours in each hierarchy.
WRAP=()
if [ -d /run/systemd/system ]; then
	WRAP=(systemd-run --scope --quiet -p Delegate=yes --)
elif [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
	CGDIRS="/sys/fs/cgroup/rauditd-ops-$$"
else
	for h in systemd unified; do
		[ -d "/sys/fs/cgroup/$h" ] && CGDIRS="$CGDIRS /sys/fs/cgroup/$h/rauditd-ops-$$"
	done
fi
for d in $CGDIRS; do mkdir "$d" || skip_c "cannot create cgroup $d"; done

cat >"$WORK/inner.sh" <<'INNER'
# Runs in a private mount namespace. Exit 77: the manager could not be set
# up here (skip); 1: a check failed.
set -u
. "$top_srcdir/tests/integration/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
note() { echo "$*"; }

# A tmpfs over /run/systemd: "booted with systemd" for the user manager,
# with the inaccessible nodes PID 1 would have made for ProtectHome= and
# friends.
mount -t tmpfs -o mode=0755 tmpfs /run/systemd || exit 77
mkdir -p /run/systemd/system /run/systemd/inaccessible
( cd /run/systemd/inaccessible && mkdir dir && touch reg && mknod chr c 0 0 &&
	mknod blk b 0 0 && mkfifo fifo &&
	python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("sock")' &&
	chmod 0000 dir reg chr blk fifo sock ) || exit 77
for d in $CGDIRS; do echo $$ >"$d/cgroup.procs" || exit 77; done
# Room for everything the unit may see: a tmpfs where neither ProtectHome=
# nor PrivateTmp= hides it (a build tree under /home or /tmp would be), and
# not under /run/systemd, where ProtectKernelTunables= and
# ProtectControlGroups= fail to set up.
B=
for m in /mnt /srv /opt; do
	[ -d "$m" ] && mount -t tmpfs -o mode=0755 tmpfs "$m" && { B=$m/rauditd-ops; break; }
done
[ -n "$B" ] || exit 77
mkdir -p "$B/w" "$B/home/.config/systemd/user" "$B/xdg"
chmod 700 "$B/xdg"
cp "$RAUDITD" "$B/rauditd"
export HOME="$B/home" XDG_RUNTIME_DIR="$B/xdg" XDG_CONFIG_HOME="$B/home/.config"
unset DBUS_SESSION_BUS_ADDRESS NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID
"$SYSTEMD" --user >/dev/null 2>&1 &
M=$!
trap 'kill -TERM $M 2>/dev/null; wait $M 2>/dev/null' EXIT
up() { case $(systemctl --user is-system-running 2>/dev/null) in running|degraded) return 0 ;; esac; return 1; }
wait_for 20 up || exit 77

SC() { timeout 30 systemctl --user "$@"; }
prop() { systemctl --user show rauditd-ops -p "$1" --value; }
CONF="$B/w/rauditd.conf"
write_conf() {
	cat >"$CONF" <<CONF
spool_dir = $B/w/spool
run_dir = $B/w/run
rules = none
stats_interval = 1
exclude_self = no
lock_ring = yes
ring_size = 16M
control_group = $(id -gn 65534)
$*
CONF
}
# install_unit NAME [sed expressions]: the generated unit with ExecStart=
# on our copy of rauditd, the work directory writable, stderr to a file.
install_unit() {
	local name=$1; shift
	LOGF="$B/w/$name.log"
	: >"$LOGF"
	sed -e "s|^ExecStart=[^ ]* |ExecStart=$B/rauditd |" \
	    -e "s|-c [^ ]*rauditd.conf|-c $CONF|" \
	    -e "/^\[Service\]/a ReadWritePaths=$B/w\nStandardOutput=append:$LOGF\nStandardError=append:$LOGF\nLimitCORE=0" \
	    "$@" "$UNIT" >"$HOME/.config/systemd/user/rauditd-ops.service"
	SC daemon-reload || fail "daemon-reload"
	SC reset-failed rauditd-ops 2>/dev/null
}
unregistered() { [ "$(kstat pid)" = 0 ]; }
gone() { [ "$(prop ActiveState)" = inactive ] || [ "$(prop ActiveState)" = failed ]; }

# -- as shipped (watchdog shortened to 2 s) --
write_conf
install_unit main -e 's/^WatchdogSec=.*/WatchdogSec=2s/'
SC start rauditd-ops || { cat "$LOGF"; fail "start failed: $(prop Result) $(prop ExecMainStatus)"; }
pid=$(prop MainPID)
echo "$pid" >"$WORK/mainpid"
[ "$(prop ActiveState)/$(prop SubState)" = active/running ] || fail "not active/running after start"
[ "$(prop StatusText)" = running ] || fail "StatusText after READY=1: $(prop StatusText)"
wait_for 10 registered_as "$pid" || fail "MainPID $pid is not the kernel's audit pid ($(kstat pid))"
"$RAUDITCTL" -c "$CONF" -s >"$B/w/st" || fail "rauditctl -s"
grep -q "^rauditd running pid $pid " "$B/w/st" || fail "rauditctl -s does not show pid $pid"
setpriv --reuid=65534 --regid=65534 --clear-groups "$RAUDITCTL" -c "$CONF" -s >/dev/null 2>&1 ||
	fail "control_group member refused (CAP_CHOWN)"
status_moved() { prop StatusText | grep -q '^received '; }
wait_for 5 status_moved || fail "no STATUS= update: $(prop StatusText)"
w1=$(prop WatchdogTimestampMonotonic); sleep 1.2; w2=$(prop WatchdogTimestampMonotonic)
[ "$w2" -gt "$w1" ] || fail "no WATCHDOG=1 in 1.2 s (WatchdogSec=2s)"
grep -E 'warn|receive buffer|priority_boost|Permission|denied' "$LOGF" && fail "warnings in the daemon's log"
note "Type=notify start: MainPID $pid registered, StatusText updates, watchdog pings, no warnings (rcvbuf, priority_boost, lock_ring, control_group all effective)"

SC reload rauditd-ops || fail "reload"
wait_for 5 grep -q 'config: reloaded' "$LOGF" || fail "reload not logged"
[ "$(prop MainPID)" = "$pid" ] && [ "$(prop ActiveState)" = active ] || fail "not the same running daemon after reload"
note "systemctl reload: configuration reloaded, same pid $pid"

kill -STOP "$pid"
restarted() { [ "$(prop NRestarts)" = 1 ] && [ "$(prop ActiveState)" = active ] && [ "$(prop MainPID)" != "$pid" ]; }
wait_for 20 restarted || { kill -CONT "$pid"; fail "no watchdog restart (NRestarts $(prop NRestarts), $(prop ActiveState))"; }
not_running "$pid" || fail "the frozen daemon $pid still exists"
pid2=$(prop MainPID)
echo "$pid2" >"$WORK/mainpid"
wait_for 10 registered_as "$pid2" || fail "the restarted daemon $pid2 did not register"
note "watchdog: SIGSTOP'd daemon $pid killed and restarted as $pid2 within WatchdogSec=2s plus the stop"

SC stop rauditd-ops || fail "stop"
[ "$(prop Result)" = success ] && [ "$(prop ExecMainStatus)" = 0 ] || fail "stop: Result $(prop Result), status $(prop ExecMainStatus)"
wait_for 10 unregistered || fail "still registered after stop: $(kstat pid)"
tail -1 "$(ls "$B"/w/spool/audit-*.log | tail -1)" | grep -q '^type=DAEMON_END ' || fail "no DAEMON_END after stop"
note "systemctl stop: Result=success, exit 0, DAEMON_END last, kernel pid 0"

# -- rules = augenrules in the sandbox: augenrules compiles rules.d into
# /etc/audit/audit.rules (ReadWritePaths=) and auditctl loads it, with
# rauditd's capabilities. /etc/audit is a copy bind-mounted in this private
# mount namespace, holding only a rule of this test.
cp -a /etc/audit "$B/etc-audit" && rm -f "$B"/etc-audit/rules.d/* &&
	printf -- '-a always,exit -F arch=b64 -S openat -F uid=65534 -k rauditd_unit_rules\n' \
	    >"$B/etc-audit/rules.d/rauditd-unit.rules" || fail "copying /etc/audit"
mount --bind "$B/etc-audit" /etc/audit || fail "bind-mounting the copy of /etc/audit"
write_conf
sed -i 's/^rules = none$/rules = augenrules/' "$CONF"
install_unit rules
SC start rauditd-ops || { cat "$LOGF"; fail "start with rules = augenrules failed"; }
pid=$(prop MainPID)
echo "$pid" >"$WORK/mainpid"
timeout 5 auditctl -l | grep -q 'key=rauditd_unit_rules$' ||
	fail "rules.d's rule is not loaded: $(timeout 5 auditctl -l); log: $(cat "$LOGF")"
grep -q 'rauditd_unit_rules' /etc/audit/audit.rules || fail "augenrules did not write /etc/audit/audit.rules"
grep -q 'rules: loaded /etc/audit/audit.rules' "$LOGF" || fail "no 'rules: loaded' in the log: $(cat "$LOGF")"
SC stop rauditd-ops || fail "stop"
timeout 5 auditctl -D -k rauditd_unit_rules >/dev/null || fail "deleting the test rule"
umount /etc/audit
note "rules = augenrules: rules.d compiled into /etc/audit/audit.rules and loaded before READY"

# -- no restart on a config or usage error --
write_conf 'no_such_key = 1'
install_unit badconf
SC start rauditd-ops 2>/dev/null && fail "started with a broken config"
sleep 1
[ "$(prop ExecMainStatus)" = 3 ] && [ "$(prop NRestarts)" = 0 ] && [ "$(prop ActiveState)" = failed ] ||
	fail "broken config: status $(prop ExecMainStatus), NRestarts $(prop NRestarts), $(prop ActiveState)"
write_conf
install_unit badusage -e 's|^\(ExecStart=[^ ]*\) |\1 --no-such-option |'
SC start rauditd-ops 2>/dev/null && fail "started with a bad option"
sleep 1
[ "$(prop ExecMainStatus)" = 2 ] && [ "$(prop NRestarts)" = 0 ] && [ "$(prop ActiveState)" = failed ] ||
	fail "bad option: status $(prop ExecMainStatus), NRestarts $(prop NRestarts), $(prop ActiveState)"
note "RestartPreventExitStatus: exit 3 (config) and 2 (usage) left failed, 0 restarts"

# -- each capability is needed: start without it --
all=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
without() {
	local cap=$1 expect=$2 pattern=$3 rest
	rest=$(echo " $all " | sed "s/ $cap / /; s/^ //; s/ $//")
	write_conf
	install_unit "no_$cap" -e "s/^CapabilityBoundingSet=.*/CapabilityBoundingSet=$rest/" -e 's/^Restart=.*/Restart=no/'
	if [ "$expect" = fails ]; then
		SC start rauditd-ops 2>/dev/null && fail "started without $cap"
	else
		SC start rauditd-ops || fail "did not start without $cap: $(cat "$LOGF")"
		SC stop rauditd-ops
	fi
	wait_for 10 gone || fail "without $cap: still $(prop ActiveState)"
	grep -Eq "$pattern" "$LOGF" || fail "without $cap: log lacks /$pattern/: $(cat "$LOGF")"
	wait_for 10 unregistered || fail "without $cap: still registered"
	note "without $cap: $expect, \"$(grep -Eo "$pattern" "$LOGF" | head -1)\""
}
without CAP_AUDIT_CONTROL fails 'needs CAP_AUDIT_CONTROL'
without CAP_NET_ADMIN starts 'SO_RCVBUFFORCE needs CAP_NET_ADMIN'
without CAP_SYS_NICE starts 'priority_boost 4: Permission denied'
without CAP_IPC_LOCK fails 'ring: allocating [0-9]+ bytes \(locked\)'
without CAP_CHOWN fails 'control: .*: chmod'
exit 0
INNER

export top_srcdir top_builddir RAUDITD RAUDITCTL UNIT SYSTEMD CGDIRS WORK
"${WRAP[@]}" unshare -m --propagation private bash "$WORK/inner.sh" >"$WORK/inner.out" 2>&1 &
INNER=$!
wait "$INNER"; rc=$?
INNER=
while IFS= read -r l; do log "manager: $l"; done <"$WORK/inner.out"
case $rc in
0) ;;
77) skip_c "could not set up a private systemd --user manager here" ;;
*) fail "under the systemd manager (exit $rc)" ;;
esac
[ "$(kstat pid)" = 0 ] || fail "kernel pid $(kstat pid) after the manager run"
exit 0
