#!/bin/bash
# ops_reload.sh - a reload (SIGHUP, rauditctl reload) trusts the
# configuration file no more than a start does (issue 10 item 11): a file
# others can write is refused with a clear log line naming it, and the
# running configuration stays in force; once fixed, the same reload works.
# rauditd runs on its test input (no kernel, no root needed).
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

CONF="$WORK/rauditd.conf"
write_conf() {
	cat >"$CONF" <<CONF
spool_dir = $WORK/spool
run_dir = $WORK/run
flush = $1
CONF
}
write_conf incremental
chmod 644 "$CONF"
ctl() { "$RAUDITCTL" -c "$CONF" "$@"; }
flush_is() { [ "$(ctl -s 2>/dev/null | awk '$1 == "flush" { print $2 }')" = "$1" ]; }
log_count() { grep -c -- "$1" "$WORK/rauditd.log"; }

start_rauditd "$CONF" --test-input "$WORK/input.sock"
wait_for 10 flush_is incremental || { cat "$WORK/rauditd.log" >&2; fail "rauditd did not start"; }

# 1. World-writable: refused, old value kept.
write_conf data
chmod 666 "$CONF"
kill -HUP "$RPID"
wait_for 10 grep -q 'config: reload rejected' "$WORK/rauditd.log" ||
	{ cat "$WORK/rauditd.log" >&2; fail "a world-writable config was not refused at reload"; }
grep -q "config: reload rejected, keeping the running configuration: config file $CONF is writable by others" \
	"$WORK/rauditd.log" || fail "the refusal does not say why: $(grep 'reload rejected' "$WORK/rauditd.log")"
flush_is incremental || fail "flush changed to $(ctl -s | awk '$1 == "flush"') from a refused file"
kill -0 "$RPID" || fail "rauditd died"

# 2. The same through rauditctl reload.
ctl reload >/dev/null 2>&1 || fail "rauditctl reload failed"
wait_for 10 test "$(log_count 'config: reload rejected')" -ge 2 || fail "rauditctl reload: not refused"
flush_is incremental || fail "flush changed through rauditctl reload"

# 3. Fixed: the reload applies.
chmod 644 "$CONF"
kill -HUP "$RPID"
wait_for 10 flush_is data || { cat "$WORK/rauditd.log" >&2; fail "a good reload did not apply flush = data"; }
grep -q 'config: reloaded ' "$WORK/rauditd.log" || fail "no reload message"
stop_rauditd
[ "$RSTATUS" = 0 ] || fail "rauditd exited $RSTATUS"
log "a world-writable config is refused at reload (old config kept); fixed, it applies"
exit 0
