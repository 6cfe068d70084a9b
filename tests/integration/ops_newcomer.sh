#!/bin/bash
# ops_newcomer.sh - the README's first steps agree (issue 12): a daemon
# started with the shipped conf/rauditd.conf listens where a plain
# "rauditctl -s" (no -c, whatever the configure prefix) looks for it. It
# used to look in $(runstatedir)/rauditd, /usr/local/var/run/rauditd for a
# default build, while the shipped file (and the unit's RuntimeDirectory=)
# say /run/rauditd. No root, no kernel: the paths are compared, and
# rauditctl's "not running" message must name the shipped run_dir.
set -u
. "$top_srcdir/tests/integration/lib.sh"

RAUDITCTL="$top_builddir/rauditctl"
SHIPPED="$top_srcdir/conf/rauditd.conf"
make_work
trap cleanup_work EXIT

"$RAUDITD" -n -c "$SHIPPED" >"$WORK/shipped.out" 2>&1 || fail "rauditd -n $SHIPPED: $(cat "$WORK/shipped.out")"
: >"$WORK/empty.conf"
"$RAUDITD" -n -c "$WORK/empty.conf" >"$WORK/default.out" 2>&1 || fail "rauditd -n (defaults): $(cat "$WORK/default.out")"
shipped=$(sed -n 's/^run_dir = //p' "$WORK/shipped.out")
default=$(sed -n 's/^run_dir = //p' "$WORK/default.out")
[ -n "$shipped" ] || fail "no run_dir in rauditd -n output"
[ "$shipped" = "$default" ] ||
	fail "the shipped config's run_dir ($shipped) and the compiled-in default ($default) differ: rauditctl -s would look in the wrong place"

# rauditctl with no -c reads the compiled-in config path, usually absent
# in a build tree; then its defaults apply. Where does it look?
cfg=$("$RAUDITCTL" -h 2>&1 | sed -n 's/.*(default \(.*\))$/\1/p' | head -1)
if [ -n "$cfg" ] && [ -e "$cfg" ]; then
	skip "an installed $cfg decides where rauditctl looks"
fi
"$RAUDITCTL" -s >"$WORK/ctl.out" 2>"$WORK/ctl.err"
if grep -q 'rauditd is not running' "$WORK/ctl.out"; then
	grep -q "nothing listens on $shipped/control.sock" "$WORK/ctl.out" ||
		fail "rauditctl -s looks elsewhere: $(grep 'not running' "$WORK/ctl.out")"
elif ! grep -q '^received ' "$WORK/ctl.out"; then
	# No kernel access as a normal user is fine: the message still names the path.
	grep -q "$shipped/control.sock" "$WORK/ctl.err" "$WORK/ctl.out" ||
		fail "rauditctl -s: $(cat "$WORK/ctl.out" "$WORK/ctl.err")"
fi
log "the shipped config and rauditctl agree on $shipped/control.sock"
exit 0
