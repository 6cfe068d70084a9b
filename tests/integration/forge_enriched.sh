#!/bin/bash
# forge_enriched.sh - issue 10 item 1 on the real kernel: with
# log_format = enriched, an unprivileged process (uid 65534) binds an
# AF_UNIX socket whose name holds a newline followed by a complete
# USER_LOGIN record. The SOCKADDR record's interpreted path must stay on its
# line (its control bytes escaped), so the spool holds no forged line and
# ausearch finds no USER_LOGIN. Only the binding process is audited: the
# rule names its pid, and it waits for the rule before binding.
set -u
. "$top_srcdir/tests/integration/lib.sh"

require_root
# The system python: a per-user install (pyenv) may not be readable by uid 65534.
PY=/usr/bin/python3
[ -x "$PY" ] || { [ "${CI:-}" = true ] && fail "$PY missing"; skip "$PY missing"; }
command -v ausearch >/dev/null 2>&1 || { [ "${CI:-}" = true ] && fail "ausearch missing"; skip "ausearch missing"; }
make_work
KEY="rauditd_forge_$$"
trap 'kernel_restore; cleanup_work' EXIT
trap 'exit 1' INT TERM
kernel_save

kernel_conf "log_format = enriched"
mkdir -p "$WORK/sock"
chown 65534 "$WORK/sock"
chmod 755 "$WORK"

start_rauditd "$WORK/rauditd.conf"
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log"; fail "rauditd (pid $RPID) did not register"; }

# The binder prints its pid, waits (bounded) for the go file, then binds a
# relative name (short enough for sun_path) in a directory it owns.
cd "$WORK/sock" || fail "cd $WORK/sock"
setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" -c '
import os, socket, sys, time
print(os.getpid(), flush=True)
end = time.time() + 20
while not os.path.exists("go") and time.time() < end:
    time.sleep(0.02)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("x\ntype=USER_LOGIN msg=audit(1700000000.000:1): pid=1 uid=0 auid=0 res=success")
print("bound", flush=True)
' >"$WORK/binder.out" 2>&1 &
BPID=$!
cd / || fail "cd /"
wait_for 10 grep -q '^[0-9]' "$WORK/binder.out" || fail "binder did not start: $(cat "$WORK/binder.out")"
rule_add always,exit -F arch=b64 -S bind -F pid="$BPID" -F uid=65534 -k "$KEY"
touch "$WORK/sock/go"
wait "$BPID" || fail "binder failed: $(cat "$WORK/binder.out")"
grep -q '^bound' "$WORK/binder.out" || fail "binder did not bind: $(cat "$WORK/binder.out")"
rule_del_all
wait_for 10 sh -c "grep -q '^type=SOCKADDR ' '$WORK'/spool/audit-*.log" ||
	{ cat "$WORK/rauditd.log"; fail "no SOCKADDR record reached the spool"; }

stop_rauditd 30
[ "$RSTATUS" = 0 ] || { cat "$WORK/rauditd.log"; fail "rauditd exited with $RSTATUS"; }

# ---- checks -----------------------------------------------------------
cat "$WORK"/spool/audit-*.log >"$WORK/all.log"
bad=$(grep -vc '^type=' "$WORK/all.log")
[ "$bad" = 0 ] || fail "$bad spool lines do not start with type=: $(grep -v '^type=' "$WORK/all.log" | head -3)"
n=$(grep -c '^type=USER_LOGIN ' "$WORK/all.log")
[ "$n" = 0 ] || fail "the spool holds $n forged USER_LOGIN lines"
grep '^type=SOCKADDR ' "$WORK/all.log" |
	grep -qF "SADDR={ saddr_fam=local path=x\\012type=USER_LOGIN msg=audit(1700000000.000:1): pid=1" ||
	fail "SOCKADDR line lacks the escaped interpreted path: $(grep '^type=SOCKADDR ' "$WORK/all.log")"
for seg in "$WORK"/spool/audit-*.log; do
	if out=$(ausearch -if "$seg" -m USER_LOGIN 2>/dev/null) && [ -n "$out" ]; then
		fail "ausearch -m USER_LOGIN found a forged event in $seg: $out"
	fi
done
# The genuine event is still readable, interpreted, by ausearch.
found=0
for seg in "$WORK"/spool/audit-*.log; do
	ausearch -if "$seg" -k "$KEY" -i 2>/dev/null | grep -q 'type=SOCKADDR' && found=1
done
[ "$found" = 1 ] || fail "ausearch -k $KEY does not find the bind event"
[ "$(kstat pid)" = 0 ] || fail "still registered: pid $(kstat pid)"
log "ok: no forged line; the socket path is escaped in the SOCKADDR interpretation"
