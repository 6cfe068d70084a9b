#!/bin/sh
# config_check.sh - configuration regression test of `rauditd -n`: each
# tests/config/NN.in is checked and its output (stdout, stderr, then a line
# "exit N") compared with NN.ok; `config_check.sh --update` rewrites the .ok
# files instead. It also checks that the shipped conf/rauditd.conf parses,
# states the built-in defaults and prints a configuration that parses back
# to the same output; that bad command lines exit with status 2; and that
# every key `rauditd -n` prints is documented in man/rauditd.conf.5 and in
# conf/rauditd.conf. Runs from automake with top_builddir and top_srcdir
# exported; POSIX sh.
#
# rauditd runs from inside tests/config with the relative path NN.in, so the
# file names in error messages, and thus the .ok files, do not depend on
# where the tree is. A good NN.in sets spool_dir and run_dir: their built-in
# defaults depend on the configure prefix.
set -u

: "${top_builddir:?top_builddir must be set}"
: "${top_srcdir:?top_srcdir must be set}"
top_builddir=$(cd "$top_builddir" && pwd) || exit 99
top_srcdir=$(cd "$top_srcdir" && pwd) || exit 99

RAUDITD=$top_builddir/rauditd
CONFIG_DIR=$top_srcdir/tests/config
SHIPPED=$top_srcdir/conf/rauditd.conf
MAN=$top_srcdir/man/rauditd.conf.5

update=no
case ${1:-} in
--update) update=yes ;;
"") ;;
*) echo "usage: config_check.sh [--update]" >&2; exit 99 ;;
esac

[ -x "$RAUDITD" ] || { echo "config_check: $RAUDITD not built" >&2; exit 99; }

work=$(mktemp -d "${TMPDIR:-/tmp}/config_check.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM

failures=0
fail() {
	printf 'config_check: FAIL: %s\n' "$*" >&2
	failures=$((failures + 1))
}

# check_output DIR FILE: run `rauditd -n -c FILE` in DIR; print its stdout,
# its stderr and "exit STATUS".
check_output() {
	(cd "$1" && "$RAUDITD" -n -c "$2" >"$work/stdout.raw" 2>"$work/stderr")
	status=$?
	# Where auditd's tools look depends on this host's auditd.conf.
	grep -v '^# auditd_view: ' "$work/stdout.raw" >"$work/stdout"
	cat "$work/stdout" "$work/stderr"
	echo "exit $status"
}

# ---- 1. tests/config/NN.in against NN.ok ------------------------------------
count=0
for f in "$CONFIG_DIR"/*.in; do
	[ -f "$f" ] || continue
	name=${f##*/}
	ok=${f%.in}.ok
	count=$((count + 1))
	check_output "$CONFIG_DIR" "$name" >"$work/actual"
	if [ "$update" = yes ]; then
		if ! cmp -s "$work/actual" "$ok" 2>/dev/null; then
			cp "$work/actual" "$ok" || exit 99
			echo "config_check: updated ${ok##*/}"
		fi
	elif [ ! -f "$ok" ]; then
		fail "$name: no ${ok##*/} (run config_check.sh --update)"
	elif ! diff -u "$ok" "$work/actual" >"$work/diff"; then
		fail "$name: output differs from ${ok##*/}:"
		cat "$work/diff" >&2
	fi
done
[ "$count" -gt 0 ] || fail "no tests/config/*.in files"
[ "$update" = yes ] && exit 0

# ---- 2. the shipped configuration -----------------------------------------
if "$RAUDITD" -n -c "$SHIPPED" >"$work/shipped.out" 2>"$work/shipped.err"; then
	# What -n prints is a configuration file that means the same.
	if "$RAUDITD" -n -c "$work/shipped.out" >"$work/reparsed.out" 2>"$work/reparsed.err"; then
		diff -u "$work/shipped.out" "$work/reparsed.out" >"$work/diff" ||
			{ fail "rauditd -n output does not parse back to itself:"; cat "$work/diff" >&2; }
	else
		fail "rauditd -n output of conf/rauditd.conf does not parse: $(cat "$work/reparsed.err")"
	fi
	# The shipped file lists every key with its default. The two paths
	# are left out: their defaults follow the configure prefix.
	: >"$work/empty.conf"
	if "$RAUDITD" -n -c "$work/empty.conf" >"$work/defaults.out" 2>"$work/defaults.err"; then
		grep -v -e '^spool_dir = ' -e '^run_dir = ' -e '^ship_status =' "$work/defaults.out" >"$work/d1"
		grep -v -e '^spool_dir = ' -e '^run_dir = ' -e '^ship_status =' "$work/shipped.out" >"$work/d2"
		diff -u "$work/d1" "$work/d2" >"$work/diff" ||
			{ fail "conf/rauditd.conf does not state the built-in defaults:"; cat "$work/diff" >&2; }
	else
		fail "an empty configuration file is rejected: $(cat "$work/defaults.err")"
	fi
else
	fail "conf/rauditd.conf does not parse: $(cat "$work/shipped.err")"
fi

# ---- 3. bad command lines exit with status 2 --------------------------------
usage_status() {
	"$RAUDITD" "$@" >"$work/usage.out" 2>"$work/usage.err" </dev/null
	status=$?
	[ "$status" -eq 2 ] || fail "rauditd $*: exit status $status, want 2"
	grep -q '^usage: rauditd' "$work/usage.err" || fail "rauditd $*: no usage on stderr"
	[ -s "$work/usage.out" ] && fail "rauditd $*: wrote to stdout"
}
usage_status --no-such-option
usage_status -x
usage_status -n -c "$SHIPPED" extra-argument
usage_status -n -c

# ---- 4. every key is documented ----------------------------------------------
# Keys as rauditd -n prints them (the parser's own table).
keys=$(sed -n 's/^\([a-z_][a-z_0-9]*\) = .*/\1/p' "$work/shipped.out")
[ -n "$keys" ] || fail "rauditd -n printed no keys"
for k in $keys; do
	# conf/rauditd.conf: "key = value", possibly commented out.
	grep -Eq "^#?[[:space:]]*$k[[:space:]]*=" "$SHIPPED" ||
		fail "key $k is not in conf/rauditd.conf"
	# The man page: an mdoc list item (.It Cm key ..., .It Ic key, .It key)
	# or a man(7) tag line (.B key, .BR key ...).
	grep -Eq "^\.(It([[:space:]]+(Cm|Ic|Va|Sy|Li|Fl))?|B|BR|IP)[[:space:]]+\"?$k([[:space:]\"]|\$)" "$MAN" 2>/dev/null ||
		fail "key $k is not in man/rauditd.conf.5 (as an .It line)"
done

if [ "$failures" -gt 0 ]; then
	echo "config_check: $failures failure(s)" >&2
	exit 1
fi
echo "config_check: $count config files, shipped config, usage and documentation: ok"
exit 0
