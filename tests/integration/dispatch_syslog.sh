#!/bin/bash
# dispatch_syslog.sh - audisp-syslog, from Debian's auditd package, as a
# plugin of rauditd-dispatch, delivering to a real rsyslog: Debian's own
# /etc/audit/plugins.d/syslog.conf (only active = yes changed) in a test
# plugins.d; rsyslog listens with imuxsock on a socket in the work
# directory, which the dispatcher and its plugins see as /dev/log in a
# private mount namespace (the host's /dev is not touched). Every event of
# a paced audited load (only this test's processes) must reach rsyslog's
# output file.
set -u
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/rsyslog.sh"
. "$top_srcdir/tests/integration/dispatch_lib.sh"

EVENTS=${DS_EVENTS:-2000}
RATE=${DS_RATE:-500}
SYSLOG_CONF=/etc/audit/plugins.d/syslog.conf

[ -x "$RAUDITD_DISPATCH" ] || fail "$RAUDITD_DISPATCH not built"
if [ ! -r "$SYSLOG_CONF" ] || ! grep -q '^path *= *' "$SYSLOG_CONF"; then
	[ "${CI:-}" = true ] && fail "$SYSLOG_CONF missing (apt-get install auditd)"
	skip "$SYSLOG_CONF missing (apt-get install auditd)"
fi
command -v unshare >/dev/null 2>&1 || skip "unshare missing"
require_root
make_work
KEY="rauditd_ds_$$"
cleanup() {
	[ -n "${LPID:-}" ] && { kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null; }
	stop_dispatch
	rsyslog_stop_all
	kernel_restore
	cleanup_work
}
trap cleanup EXIT
trap 'exit 1' INT TERM
kernel_save
require_rsyslog imuxsock

# rsyslog: imuxsock on a test socket, every message's text into a file.
mkdir -p "$WORK/rs.work" "$WORK/plugins"
cat >"$WORK/rs.conf" <<CONF
global(workDirectory="$WORK/rs.work" maxMessageSize="64k")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$WORK/log.sock" RateLimit.Interval="0" CreatePath="on")
template(name="text" type="string" string="%syslogtag% %msg%\n")
action(type="omfile" file="$WORK/syslog.out" template="text")
CONF
rsyslog_start syslog "$WORK/rs.conf"
wait_for 15 test -S "$WORK/log.sock" || { cat "$WORK/syslog.rsyslog.log" >&2; fail "rsyslog did not create $WORK/log.sock"; }

sed 's/^active *=.*/active = yes/' "$SYSLOG_CONF" >"$WORK/plugins/syslog.conf"
prog=$(sed -n 's/^path *= *//p' "$WORK/plugins/syslog.conf" | tr -d ' ')
[ -x "$prog" ] || skip "$prog (from $SYSLOG_CONF) missing"
kernel_conf "stats_interval = 1" "plugin_dir = $WORK/plugins"

# /dev/log for the dispatcher and its plugins only: a private mount
# namespace with a /dev of our own (the devices bound, log our socket).
cat >"$WORK/ns.sh" <<NS
set -e
mkdir -p "$WORK/dev"
for f in null zero full random urandom; do
	touch "$WORK/dev/\$f"
	mount --bind "/dev/\$f" "$WORK/dev/\$f"
done
ln -s "$WORK/log.sock" "$WORK/dev/log"
mount --rbind "$WORK/dev" /dev
exec "\$@"
NS

start_rauditd "$WORK/rauditd.conf"
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log"; fail "rauditd did not register"; }
start_dispatch unshare -m --propagation private bash "$WORK/ns.sh"
wait_for 10 dstate_is syslog running || fail "audisp-syslog not running: $(cat "$WORK/dispatch.log")"

load_prepare "$EVENTS" 2 -r "$RATE" -t 60
load_go
rule_del_all
log "load: $(tail -1 "$WORK/load.out")"
syslog_serials() {
	grep -a "key=\"$KEY\"" "$WORK/syslog.out" 2>/dev/null |
		sed -n 's/.*type=SYSCALL msg=audit([0-9.]*:\([0-9]*\)).*/\1/p' | sort -u | wc -l
}
syslog_has_all() { [ "$(syslog_serials)" -ge "$EVENTS" ]; }
wait_for 20 syslog_has_all || { tail -5 "$WORK/dispatch.log" >&2; fail "rsyslog got $(syslog_serials) of $EVENTS events"; }
[ "$(spool_serials "$WORK/spool")" = "$EVENTS" ] || fail "the spool has $(spool_serials "$WORK/spool") of $EVENTS events"
log "rsyslog got all $EVENTS events from audisp-syslog: $(grep -ac . "$WORK/syslog.out") messages; e.g. $(grep -a -m1 "key=\"$KEY\"" "$WORK/syslog.out" | cut -c1-100)"

stop_dispatch
[ "$DSTATUS" = 0 ] || { tail -20 "$WORK/dispatch.log" >&2; fail "rauditd-dispatch exited with $DSTATUS"; }
[ -e /dev/log ] && [ "$(readlink /dev/log)" = "$WORK/log.sock" ] && fail "the host's /dev/log was changed"
stop_rauditd 30
[ "$RSTATUS" = 0 ] || fail "rauditd exited with $RSTATUS"
exit 0
