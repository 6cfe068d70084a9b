#!/bin/bash
# rules_load.sh - the rules loader (daemon/rules.c) on the real kernel with
# the real augenrules and auditctl, through tests/helpers/rules_load:
#  - a rules file with a key rule for uid 65534 loads; the rule is in the
#    kernel afterwards;
#  - a file with a bad rule on line 3 is reported with that file, line,
#    text and auditctl's reason;
#  - "augenrules" regenerates /etc/audit/audit.rules from a test file in
#    /etc/audit/rules.d and loads it; its "-D" runs before the hook, so the
#    rule the hook adds (the daemon's self-exclusion) is still there after;
#  - augenrules that cannot install what it compiled (a read-only
#    /etc/audit/audit.rules) exits 0, but the loader counts the compile as
#    failed, names why, and loads the file that is there.
# Kernel state is saved and restored (lib.sh), /etc/audit/audit.rules and
# rules.d are restored on every exit path, under the kernel test lock. The
# augenrules part runs only when the kernel holds no rules of the host's
# (its -D would delete them).
set -u

. "$top_srcdir/tests/integration/lib.sh"

HELPER=$top_builddir/tests/helpers/rules_load
KEY=rauditd_rules_test
RULE="always,exit -F arch=b64 -S getsid -F uid=65534 -k $KEY"
HOOK_RULE="never,exit -F arch=b64 -S getsid -F uid=65533 -k rauditd_rules_hook"
TEST_RULES_D=/etc/audit/rules.d/zz-rauditd-test.rules

require_root
[ -x "$HELPER" ] || fail "$HELPER not built"
kernel_save
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rules_load.XXXXXX") || exit 99
RO_MOUNT=
cleanup() {
	[ -n "$RO_MOUNT" ] && umount /etc/audit/audit.rules
	rm -f "$TEST_RULES_D"
	for f in audit.rules audit.rules.prev; do
		if [ -e "$WORK/$f.orig" ]; then
			cp -p "$WORK/$f.orig" "/etc/audit/$f"
		elif [ -e "$WORK/$f.absent" ]; then
			rm -f "/etc/audit/$f"
		fi
	done
	kernel_restore
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
K_RULES+=("$RULE" "$HOOK_RULE" "always,exit -F arch=b64 -S getsid -F uid=65534 -k ${KEY}_2"
	"always,exit -F arch=b64 -S getsid -F uid=65534 -k ${KEY}_4")

in_kernel() { timeout 5 auditctl -l | grep -q -- "key=$1\$"; }

# 1. A rules file loads.
printf '## rauditd rules test\n-a %s\n' "$RULE" >"$WORK/good.rules"
chmod 0640 "$WORK/good.rules"
out=$("$HELPER" "$WORK/good.rules" 10000)
case $out in "rc 0 deleted 0 hook 0 line 0 "*) ;; *) fail "good file: $out" ;; esac
in_kernel "$KEY" || fail "the rule of $WORK/good.rules is not in the kernel"
timeout 5 auditctl -d $RULE >/dev/null || fail "cannot delete the test rule"
log "a rules file loads"

# 2. A bad rule is named by file and line; the rules before it load.
printf '# two good, one bad\n-a %s_2\n-a always,exit -F arch=b64 -S no_such_syscall -k x\n' \
    "$RULE" >"$WORK/bad.rules"
out=$("$HELPER" "$WORK/bad.rules" 10000)
case $out in
"rc -22 deleted 0 hook 0 line 3 file $WORK/bad.rules rule -a always,exit -F arch=b64 -S no_such_syscall -k x message "*"no_such_syscall"*) ;;
*) fail "bad rule not named: $out" ;;
esac
in_kernel "${KEY}_2" || fail "the rule before the bad one did not load"
log "a bad rule is reported as $WORK/bad.rules:3"

# 3. augenrules, with its -D, keeps what the hook added.
timeout 5 auditctl -d always,exit -F arch=b64 -S getsid -F uid=65534 -k "${KEY}_2" >/dev/null 2>&1
if [ "$(timeout 5 auditctl -l)" != "No rules" ]; then
	[ "${CI:-}" = true ] && fail "the kernel holds rules of the host; cannot test augenrules' -D"
	log "SKIP augenrules part: the kernel holds rules of the host"
	exit 0
fi
[ -d /etc/audit/rules.d ] || fail "no /etc/audit/rules.d"
for f in audit.rules audit.rules.prev; do
	if [ -e "/etc/audit/$f" ]; then cp -p "/etc/audit/$f" "$WORK/$f.orig"; else : >"$WORK/$f.absent"; fi
done
printf -- '-D\n-a %s\n' "$RULE" >"$TEST_RULES_D"
chmod 0640 "$TEST_RULES_D"
out=$("$HELPER" augenrules 20000 "$HOOK_RULE")
case $out in "rc 0 deleted 1 hook 1 line 0 file /etc/audit/audit.rules "*) ;; *) fail "augenrules: $out" ;; esac
grep -q -- "-a $RULE" /etc/audit/audit.rules || fail "augenrules did not regenerate /etc/audit/audit.rules"
in_kernel "$KEY" || fail "the rule from rules.d is not in the kernel"
in_kernel rauditd_rules_hook || fail "the hook's rule did not survive the rules' -D"
log "augenrules: compiled, loaded, the hook's rule kept"

# 4. augenrules cannot install its output: /etc/audit/audit.rules read-only.
# Its cp fails, it exits 0; rauditd asks augenrules --check and finds the
# installed file out of date. The old file is loaded, and that is said.
case $(/sbin/augenrules --check 2>&1) in
*"No change"*) ;;
*) fail "augenrules --check after a compile: $(/sbin/augenrules --check 2>&1)" ;;
esac
printf -- '-D\n-a %s_4\n' "$RULE" >"$TEST_RULES_D"
case $(/sbin/augenrules --check 2>&1) in
*"Rules have changed and should be updated"*) ;;
*) fail "augenrules --check does not say what daemon/rules.h expects: $(/sbin/augenrules --check 2>&1)" ;;
esac
mount --bind /etc/audit/audit.rules /etc/audit/audit.rules || fail "cannot bind-mount audit.rules"
RO_MOUNT=1
mount -o remount,bind,ro /etc/audit/audit.rules || fail "cannot make audit.rules read-only"
out=$("$HELPER" augenrules 20000 "$HOOK_RULE")
umount /etc/audit/audit.rules && RO_MOUNT=
case $out in
"rc 0 deleted 1 hook 1 line 0 file /etc/audit/audit.rules "*"did not install"*"compile_failed 1") ;;
*) fail "augenrules with a read-only audit.rules: $out" ;;
esac
in_kernel "$KEY" || fail "the installed file's rule is not in the kernel"
in_kernel "${KEY}_4" && fail "a rule the compile could not install is in the kernel"
log "augenrules that cannot install: ${out#*message }"
exit 0
