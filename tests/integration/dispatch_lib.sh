# dispatch_lib.sh - helpers for the rauditd-dispatch tests (sourced after
# lib.sh, bash). The dispatcher is started by the test in the foreground
# and stopped by its PID; the plugins are its children, signalled only by
# the PIDs its status file names.

RAUDITD_DISPATCH="$top_builddir/rauditd-dispatch"
DPID=

# start_dispatch [WRAPPER...]: rauditd-dispatch on $WORK/rauditd.conf, its
# log in $WORK/dispatch.log; waits (bounded) for its first status file.
start_dispatch() {
	"$@" "$RAUDITD_DISPATCH" -f -c "$WORK/rauditd.conf" >>"$WORK/dispatch.log" 2>&1 &
	DPID=$!
	wait_for 10 dispatch_up || { cat "$WORK/dispatch.log" >&2; fail "rauditd-dispatch did not start"; }
	kill -0 "$DPID" 2>/dev/null || { cat "$WORK/dispatch.log" >&2; fail "rauditd-dispatch exited at start"; }
}
dispatch_up() { [ -s "$WORK/run/dispatch.status" ] || ! kill -0 "$DPID" 2>/dev/null; }

# stop_dispatch: SIGTERM and wait (bounded); its exit status in DSTATUS.
stop_dispatch() {
	[ -n "${DPID:-}" ] || return 0
	kill -TERM "$DPID" 2>/dev/null
	wait_for 20 not_running "$DPID" || { kill -KILL "$DPID" 2>/dev/null; log "rauditd-dispatch needed SIGKILL"; }
	wait "$DPID" 2>/dev/null; DSTATUS=$?
	DPID=
}

# dstatus NAME FIELD: a consumer's value from the status file.
dstatus() {
	awk -v n="$1" -v f="$2" '$1 == "consumer" && $2 == n && $3 == f { print $4 }' \
		"$WORK/run/dispatch.status" 2>/dev/null
}
dstate_is() { [ "$(dstatus "$1" state)" = "$2" ]; }

# plain_plugin NAME: a plugin that appends its stdin to $WORK/out-NAME.txt.
plain_plugin() {
	mkdir -p "$WORK/plugins"
	printf '#!/bin/sh\nexec cat >>"%s/out-%s.txt"\n' "$WORK" "$1" >"$WORK/$1.sh"
	chmod 755 "$WORK/$1.sh"
	printf 'active = yes\ndirection = out\npath = %s/%s.sh\ntype = always\nformat = string\n' \
		"$WORK" "$1" >"$WORK/plugins/$1.conf"
}

# file_serials FILE: unique serials of the load's SYSCALL records in FILE.
file_serials() {
	grep -a '^type=SYSCALL ' "$1" 2>/dev/null | grep -a "key=\"$KEY\"" |
		sed -n 's/^type=SYSCALL msg=audit([0-9.]*:\([0-9]*\)).*/\1/p' | sort -u | wc -l
}
# file_dups FILE: how many of them came more than once.
file_dups() {
	grep -a '^type=SYSCALL ' "$1" 2>/dev/null | grep -a "key=\"$KEY\"" |
		sed -n 's/^type=SYSCALL msg=audit([0-9.]*:\([0-9]*\)).*/\1/p' | sort | uniq -d | wc -l
}
serials_at_least() { [ "$(file_serials "$1")" -ge "$2" ]; }
