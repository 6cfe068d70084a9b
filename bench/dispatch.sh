#!/bin/bash
# bench/dispatch.sh - the fast-disk flood (an unpaced audited load of the
# bench's own processes) three times: rauditd alone; with rauditd-dispatch
# running laurel (Debian's package); with rauditd-dispatch and a plain
# plugin that is SIGSTOPped for the whole flood. Reports for each the
# audited call rate, the slowest call, slow calls, the kernel's lost delta,
# the events kept in the spool, and for the plugins the events they got
# and how long they took to catch up. Run by hand as root, not in CI;
# results in bench/DISPATCH.md.
#
# Usage: bench/dispatch.sh [-b BUILDDIR]   (default: _build next to bench/)
# Environment: DB_EVENTS [200000] events per run, DB_PROCS [2] workers.
# The kernel test lock is held, kernel state is put back on every exit
# path (tests/integration/lib.sh), and only processes started here are
# signalled, by pid.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$BENCH_DIR/.." && pwd)
top_builddir=$top_srcdir/_build
while getopts b: ch; do
	case $ch in
	b) top_builddir=$(cd "$OPTARG" && pwd) ;;
	*) echo "usage: $0 [-b builddir]" >&2; exit 2 ;;
	esac
done
export top_srcdir top_builddir
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/dispatch_lib.sh"

EVENTS=${DB_EVENTS:-200000}
PROCS=${DB_PROCS:-2}
require_root
[ -x /usr/sbin/laurel ] || fail "laurel missing (apt-get install laurel)"
KEY="rauditd_db_$$"
STOPPED=
cleanup() {
	[ -n "$STOPPED" ] && kill -CONT "$STOPPED" 2>/dev/null
	stop_dispatch
	kernel_restore
	cleanup_work
}
trap cleanup EXIT
trap 'exit 1' INT TERM
kernel_save

printf '| run | calls/s | max call latency | slow calls | kernel lost | events in spool | plugin got | plugin caught up after |\n'
printf '|---|---|---|---|---|---|---|---|\n'

# run NAME: one flood with what $WORK/plugins holds.
run() {
	local name=$1 lost0 lost1 t0 got caught=- plugin_out=-
	kernel_conf "plugin_dir = $WORK/plugins" "stats_interval = 1"
	start_rauditd "$WORK/rauditd.conf"
	wait_for 10 registered_as "$RPID" || fail "rauditd did not register"
	if [ "$name" != alone ]; then
		start_dispatch
		sleep 1
	fi
	if [ "$name" = stopped ]; then
		wait_for 10 dstate_is p1 running || fail "p1 not running"
		STOPPED=$(dstatus p1 pid)
		kill -STOP "$STOPPED"
	fi
	lost0=$(kstat lost)
	load_prepare "$EVENTS" "$PROCS" -t 120
	load_go
	rule_del_all
	lost1=$(kstat lost)
	t0=$SECONDS
	case $name in
	laurel)
		lcount() { grep -c "\"key\":\"$KEY\"" "$WORK/laurel/audit.log" 2>/dev/null || echo 0; }
		lall() { [ "$(lcount)" -ge "$EVENTS" ]; }
		wait_for 300 lall
		plugin_out=$(lcount); caught="$((SECONDS - t0)) s (counted by grep every 50 ms)" ;;
	stopped)
		kill -CONT "$STOPPED"; STOPPED=
		# The status (every second) says when its cursor reached the end.
		nolag() { [ "$(dstatus p1 lag_records)" = 0 ]; }
		wait_for 300 nolag
		caught="$((SECONDS - t0)) s after SIGCONT (status: 1 s steps)"
		plugin_out=$(file_serials "$WORK/out-p1.txt") ;;
	esac
	stop_dispatch
	stop_rauditd 60
	got=$(spool_serials "$WORK/spool")
	printf '| %s | %s | %s us | %s | %s | %s of %s | %s | %s |\n' "$name" \
		"$(load_field rate)" "$(load_field max_latency_us)" "$(load_field slow_calls)" \
		"$((lost1 - lost0))" "$got" "$EVENTS" "$plugin_out" "$caught"
}

for name in alone laurel stopped; do
	make_work
	mkdir -p "$WORK/plugins" "$WORK/laurel"
	case $name in
	laurel)
		printf 'active = yes\ndirection = out\ntype = always\nformat = string\npath = /usr/sbin/laurel\nargs = --config %s/laurel.toml\n' \
			"$WORK" >"$WORK/plugins/laurel.conf"
		printf 'directory = "%s/laurel"\nstatusreport-period = 0\n[auditlog]\nfile = "audit.log"\nsize = 4000000000\ngenerations = 2\n' \
			"$WORK" >"$WORK/laurel.toml" ;;
	stopped) plain_plugin p1 ;;
	esac
	run "$name"
	cleanup_work
done
