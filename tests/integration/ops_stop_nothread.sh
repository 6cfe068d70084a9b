#!/bin/bash
# ops_stop_nothread.sh - "rauditctl stop" when the unregister thread cannot
# be created (issue 10 item 8). The stop used to run inside the control
# request's callback and, with pthread_create failing, freed the control
# server that was still handling the request (a use-after-free; the client
# got no reply). Now every stop runs from its own loop iteration and, with
# no thread, unregisters on the main thread: rauditctl gets its OK, the
# daemon exits 0 and the kernel's registration and the self-exclusion rule
# are gone. pthread_create is made to fail, once a trigger file exists, by
# a small LD_PRELOAD shim built here.
set -u
. "$top_srcdir/tests/integration/lib.sh"

RAUDITCTL="$top_builddir/rauditctl"
require_root
command -v "${CC:-cc}" >/dev/null 2>&1 || skip "no C compiler for the shim"
make_work
P=
# A daemon that crashed (the bug) leaves its self-exclusion rule behind.
drop_rule() {
	[ -n "$P" ] && timeout 5 auditctl -l 2>/dev/null | grep -q "pid=$P" &&
		timeout 5 auditctl -d never,exit -S all -F pid="$P" >/dev/null 2>&1
	return 0
}
trap 'kernel_restore; drop_rule; cleanup_work' EXIT
trap 'exit 1' INT TERM
kernel_save

cat >"$WORK/shim.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

int
pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
	const char *f = getenv("SHIM_FAIL_FILE");

	if (f != NULL && access(f, F_OK) == 0)
		return EAGAIN;
	*(void **)&real = dlsym(RTLD_NEXT, "pthread_create");
	return real(t, a, fn, arg);
}
C
"${CC:-cc}" -shared -fPIC -o "$WORK/shim.so" "$WORK/shim.c" -ldl || fail "building the shim"

cat >"$WORK/rauditd.conf" <<CONF
spool_dir = $WORK/spool
run_dir = $WORK/run
rules = none
exclude_self = yes
CONF
log_has() { grep -Eq -- "$1" "$WORK/rauditd.log"; }

# Under AddressSanitizer (scripts/check-all) the shim comes before the ASan
# runtime in the library list, which ASan refuses unless told it is meant.
SHIM_FAIL_FILE="$WORK/fail" LD_PRELOAD="$WORK/shim.so" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$RAUDITD" -f -d -c "$WORK/rauditd.conf" >>"$WORK/rauditd.log" 2>&1 &
RPID=$!
P=$RPID
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log" >&2; fail "rauditd (pid $RPID) did not register"; }
wait_for 10 log_has '^rauditd: started' || fail "no start message"
timeout 5 auditctl -l | grep -q "pid=$RPID" || fail "no self-exclusion rule for pid $RPID"

touch "$WORK/fail"
timeout 20 "$RAUDITCTL" -c "$WORK/rauditd.conf" stop >"$WORK/ctl.out" 2>"$WORK/ctl.err" ||
	fail "rauditctl stop failed: $(cat "$WORK/ctl.err")"
wait_for 15 not_running "$RPID" || fail "rauditd did not stop"
wait "$RPID"; st=$?; RPID=
[ "$st" = 0 ] || { cat "$WORK/rauditd.log" >&2; fail "rauditd exited $st"; }
log_has 'cannot start the unregister thread' || fail "the thread failure was not injected/logged"
log_has "kernel: unregistered pid $P" || { cat "$WORK/rauditd.log" >&2; fail "no unregistration"; }
[ "$(kstat pid)" = 0 ] || fail "the kernel still lists pid $(kstat pid)"
timeout 5 auditctl -l | grep -q "pid=$P" && fail "the self-exclusion rule for pid $P is left behind"
log "stop with no unregister thread: reply OK, exit 0, registration and rule removed"
exit 0
