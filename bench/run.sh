#!/bin/bash
# bench/run.sh - rauditd side by side with Debian's auditd, a null reader
# (the physical limit of what kauditd delivers) and a minimal file writer,
# on the real kernel, in one invocation. Run by hand as root, not in CI.
#
# Usage: bench/run.sh [-b BUILDDIR] [-o OUTDIR]
#   BUILDDIR  a configured build with rauditd and tests/helpers/audit_load
#             (default: _build_bench next to this script's parent)
#   OUTDIR    where runs.tsv, the timelines, summary.md and the plots go
#             (default: bench/out); plots are also copied to bench/plots/
# Environment (defaults in brackets):
#   BENCH_RUNS [3]  BENCH_SECONDS [10]  BENCH_PROCS [2]  BENCH_RATE [10000]
#   BENCH_DAEMONS ["null file auditd rauditd"]
#   BENCH_SCENARIOS ["fast enriched slow hang sigstop sigstop_flood"]
#   BENCH_WORK [/var/tmp]: parent of the scratch directory (root filesystem)
#   BENCH_RAUDITD_CONF [""]: extra rauditd.conf lines (\n-separated), for
#   diagnosis only, e.g. BENCH_RAUDITD_CONF="flush = none"
#
# Scenarios: fast (a directory on the root filesystem); slow (faultfs, write
# +100 us and fsync +20 ms); hang (faultfs hangs every write and fsync from
# 3 s into the run until 5 s later); sigstop (the daemon is SIGSTOPped 3 s
# into a load paced at BENCH_RATE calls/s, SIGCONTed 5 s later);
# sigstop_flood (the same under the unpaced load: what the socket's receive
# buffer holds while the daemon cannot read); enriched
# (fast disk, auditd log_format = ENRICHED and rauditd log_format =
# enriched, the load running as uid 4000000, which has no passwd entry).
#
# Per run: the kernel lock is taken, backlog_limit 8192 and enabled 1 are
# set (as a production rules file would), the daemon starts and registers,
# audit_load runs BENCH_PROCS workers for BENCH_SECONDS calling getsid under
# a rule keyed on their parent's pid, auditctl -s is sampled about every
# 200 ms, the daemon is stopped by pid, the kernel state found at the start
# is put back (rules, pid, enabled, backlog_limit, backlog_wait_time,
# failure, rate_limit) and the lock is released. A trap does the same on
# every exit path. Only processes started here are signalled, by pid.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$BENCH_DIR/.." && pwd)
BUILD=$SRC_DIR/_build_bench
OUT=$BENCH_DIR/out
while getopts b:o: ch; do
	case $ch in
	b) BUILD=$(cd "$OPTARG" && pwd) ;;
	o) mkdir -p "$OPTARG" && OUT=$(cd "$OPTARG" && pwd) ;;
	*) echo "usage: $0 [-b builddir] [-o outdir]" >&2; exit 2 ;;
	esac
done

RUNS=${BENCH_RUNS:-3}
DURATION=${BENCH_SECONDS:-10}
PROCS=${BENCH_PROCS:-2}
RATE=${BENCH_RATE:-10000}
DAEMONS=${BENCH_DAEMONS:-null file auditd rauditd}
SCENARIOS=${BENCH_SCENARIOS:-fast enriched slow hang sigstop sigstop_flood}
FAULT_AT=3		# s into the run when the hang / SIGSTOP starts
FAULT_LEN=5		# s it lasts
SLOW_WRITE_US=100
SLOW_FSYNC_US=20000
BACKLOG_LIMIT=8192
UID_PLAIN=65534		# nobody: has a passwd entry
UID_NOPASSWD=4000000	# no passwd entry: every name lookup misses
RECORDS_PER_EVENT=3	# getsid: SYSCALL, PROCTITLE, EOE
DRAIN_MAX=15		# s to wait after the load for the daemon to catch up
LOCK=/tmp/rauditd-kernel-tests.lock

RAUDITD=$BUILD/rauditd
AUDIT_LOAD=$BUILD/tests/helpers/audit_load

log() { printf '%s bench: %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root"
for t in auditctl auditd gnuplot gcc pkg-config fusermount3 flock; do
	command -v $t >/dev/null || die "$t missing (apt-get install auditd gnuplot-nox fuse3 libfuse3-dev build-essential)"
done
[ -x "$RAUDITD" ] && [ -x "$AUDIT_LOAD" ] ||
	die "build first: mkdir -p $BUILD && cd $BUILD && ../configure -q && make rauditd tests/helpers/audit_load"
grep -a -q -- '-T timeline' "$AUDIT_LOAD" || die "$AUDIT_LOAD has no -T (rebuild it)"

WORK=$(mktemp -d "${BENCH_WORK:-/var/tmp}/rauditd-bench.XXXXXX") || die "mktemp"
mkdir -p "$OUT/timelines" "$WORK/bin"

# ---- helpers built here ---------------------------------------------------
CFLAGS_B="-std=gnu11 -O2 -Wall -Wextra"
gcc $CFLAGS_B -o "$WORK/bin/null_reader" "$BENCH_DIR/null_reader.c" || die "build null_reader"
gcc $CFLAGS_B -o "$WORK/bin/file_reader" "$BENCH_DIR/file_reader.c" -laudit || die "build file_reader"
gcc $CFLAGS_B -o "$WORK/bin/faultfs" "$SRC_DIR/tests/helpers/faultfs.c" \
	$(pkg-config --cflags --libs fuse3) -pthread || die "build faultfs"
# faultfs has no chown and auditd exits when it cannot chown its log; see
# chown_shim.c. Preloaded into auditd on the faultfs scenarios only.
gcc $CFLAGS_B -shared -fPIC -o "$WORK/bin/chown_shim.so" "$BENCH_DIR/chown_shim.c" -ldl || die "build chown_shim"
NULL_READER=$WORK/bin/null_reader
FILE_READER=$WORK/bin/file_reader
FAULTFS=$WORK/bin/faultfs

# ---- kernel state -------------------------------------------------------

HZ=$(zcat /proc/config.gz 2>/dev/null | sed -n 's/^CONFIG_HZ=//p')
HZ=${HZ:-250}		# backlog_wait_time_actual is in jiffies
CLK_TCK=$(getconf CLK_TCK)

kstatus() { timeout 90 auditctl -s 2>/dev/null; }
kget() { awk -v k="$1" '$1 == k { print $2 }' <<<"$2"; }

LOCKED=
lock_take() {
	exec 9>"$LOCK"
	flock -w 900 9 || die "timed out waiting for $LOCK"
	LOCKED=1
}
lock_release() {
	[ -n "$LOCKED" ] || return 0
	flock -u 9
	exec 9>&-
	LOCKED=
}

# Never take over a live daemon; forget a dead one's registration.
check_no_daemon() {
	local st pid
	st=$(kstatus) || die "auditctl -s failed"
	[ "$(kget enabled "$st")" = 2 ] && die "kernel audit is locked (enabled 2)"
	pid=$(kget pid "$st")
	if [ -n "$pid" ] && [ "$pid" != 0 ]; then
		if [ -d "/proc/$pid" ]; then
			die "another audit daemon is registered: pid $pid ($(cat /proc/$pid/comm 2>/dev/null))"
		fi
		"$NULL_READER" -U >/dev/null 2>&1 9>&-
	fi
}

save_kernel() {
	local st; st=$(kstatus) || die "auditctl -s failed"
	K_ENABLED=$(kget enabled "$st")
	K_BACKLOG=$(kget backlog_limit "$st")
	K_WAIT=$(kget backlog_wait_time "$st")
	K_FAILURE=$(kget failure "$st")
	K_RATE=$(kget rate_limit "$st")
	[ "$K_ENABLED" = 2 ] && die "kernel audit is locked (enabled 2)"
	log "kernel as found: enabled $K_ENABLED backlog_limit $K_BACKLOG backlog_wait_time $K_WAIT failure $K_FAILURE rate_limit $K_RATE"
}

RULE=
restore_kernel() {
	local pid
	if [ -n "$RULE" ]; then
		# shellcheck disable=SC2086
		timeout 90 auditctl -d $RULE >/dev/null 2>&1
		RULE=
	fi
	# A daemon of ours that died with its exclude rule still in place.
	if [ -n "${DPID_LAST:-}" ]; then
		timeout 90 auditctl -l 2>/dev/null | grep -q -- "-F pid=$DPID_LAST " &&
			timeout 90 auditctl -d never,exit -F pid="$DPID_LAST" >/dev/null 2>&1
	fi
	[ -n "${K_ENABLED:-}" ] || return 0
	pid=$(kget pid "$(kstatus)")
	if [ -n "$pid" ] && [ "$pid" != 0 ] && [ ! -d "/proc/$pid" ]; then
		"$NULL_READER" -U >/dev/null 2>&1 9>&-
	fi
	timeout 90 auditctl -e "$K_ENABLED" >/dev/null 2>&1
	timeout 90 auditctl -b "$K_BACKLOG" >/dev/null 2>&1
	timeout 90 auditctl --backlog_wait_time "$K_WAIT" >/dev/null 2>&1
	timeout 90 auditctl -f "$K_FAILURE" >/dev/null 2>&1
	timeout 90 auditctl -r "$K_RATE" >/dev/null 2>&1
}

# ---- processes of ours ----------------------------------------------------

running() { kill -0 "$1" 2>/dev/null; }
# stop_pid PID SECONDS: TERM, wait, KILL; the exit status in STOP_STATUS.
stop_pid() {
	local pid=$1 limit=$2 end
	STOP_STATUS=
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	end=$((SECONDS + limit))
	while running "$pid" && [ $SECONDS -lt $end ]; do sleep 0.05; done
	if running "$pid"; then
		log "pid $pid did not stop in $limit s; KILL"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null; STOP_STATUS=$?
}

DPID= LPID= SPID= FPID= MNT= CTL= RUNDIR=
ff_mode() { printf '%s\n' "$1" >"$CTL.tmp" && mv "$CTL.tmp" "$CTL"; }

teardown_run() {
	[ -n "$CTL" ] && ff_mode ok 2>/dev/null
	[ -n "$DPID" ] && kill -CONT "$DPID" 2>/dev/null
	if [ -n "$LPID" ]; then
		kill -TERM "$LPID" 2>/dev/null	# its workers stop at -t anyway
		wait "$LPID" 2>/dev/null
		LPID=
	fi
	if [ -n "$SPID" ]; then
		touch "$RUNDIR/sampler.stop" 2>/dev/null
		# A sample may sleep in the kernel while the backlog is over the
		# limit; it returns by itself within backlog_wait_time.
		local end=$((SECONDS + 70))
		while running "$SPID" && [ $SECONDS -lt $end ]; do sleep 0.1; done
		running "$SPID" && kill -TERM "$SPID" 2>/dev/null
		wait "$SPID" 2>/dev/null
		SPID=
	fi
	if [ -n "$DPID" ]; then
		stop_pid "$DPID" 30
		DPID=
	fi
	# Only while we hold the lock: otherwise someone else's test owns the
	# kernel state right now (e.g. we were stopped while waiting for it).
	[ -n "$LOCKED" ] && restore_kernel
	if [ -n "$FPID" ]; then
		stop_pid "$FPID" 10
		FPID=
	fi
	if [ -n "$MNT" ]; then
		grep -q " $MNT fuse" /proc/mounts && timeout 10 fusermount3 -u -z "$MNT"
		MNT=
	fi
	CTL=
}

on_exit() {
	local rc=$?
	teardown_run
	lock_release
	[ -n "${WORK:-}" ] && [ -d "$WORK" ] && rm -rf "$WORK"
	[ "$rc" = 0 ] || log "exit $rc; kernel state restored"
}
trap on_exit EXIT
trap 'exit 130' INT TERM HUP

# ---- one run -------------------------------------------------------------

# Unique serials of the load's getsid SYSCALL records in the given files.
count_events() {
	LC_ALL=C grep -h -F "key=\"$KEY\"" "$@" 2>/dev/null | LC_ALL=C grep '^type=SYSCALL msg=audit(' |
		cut -d: -f2 | cut -d')' -f1 | sort -u | wc -l
}

dir_bytes() { du -sb --apparent-size "$1" 2>/dev/null | cut -f1; }

proc_cpu_s() {	# utime + stime of all threads, in seconds
	awk -v hz="$CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null
}
# Busy CPU seconds of the whole machine so far (all but idle and iowait):
# shows kernel threads (kauditd, writeback, journal) the daemon's own
# counters do not.
host_busy_s() {
	awk -v hz="$CLK_TCK" '$1 == "cpu" { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz; exit }' /proc/stat
}
# Wait (bounded) until the machine is quiet: other people build and test on
# it too, and on two cores their work is taken from the audited load. Sets
# PRE_BUSY to the busy cores seen in the last second before the run.
QUIET_BUSY=0.30		# busy cores below which a second counts as quiet
QUIET_WAIT=10		# s to wait for one at most
wait_quiet() {
	local end=$((SECONDS + QUIET_WAIT)) a b
	while :; do
		a=$(host_busy_s); sleep 1; b=$(host_busy_s)
		PRE_BUSY=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b - a }')
		awk -v x="$PRE_BUSY" -v q="$QUIET_BUSY" 'BEGIN { exit !(x < q) }' && return 0
		[ $SECONDS -ge $end ] && { log "machine still busy ($PRE_BUSY cores); running anyway"; return 0; }
	done
}
proc_hwm_kb() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status" 2>/dev/null; }

# The kernel status sampler: one line per auditctl -s, about every 200 ms.
sampler() {
	local st
	while [ ! -e "$RUNDIR/sampler.stop" ]; do
		st=$(auditctl -s 2>/dev/null)
		printf '%s %s %s %s\n' "$EPOCHREALTIME" "$(kget backlog "$st")" \
			"$(kget lost "$st")" "$(kget backlog_wait_time_actual "$st")"
		sleep 0.2
	done
}

write_auditd_conf() {	# DIR LOGDIR FORMAT
	# Debian's /etc/audit/auditd.conf as shipped, except log_file,
	# log_format and no rotation/retention (so the log can be counted).
	cat >"$1/auditd.conf" <<EOF
local_events = yes
write_logs = yes
log_file = $2/audit.log
log_group = adm
log_format = $3
flush = INCREMENTAL_ASYNC
freq = 50
max_log_file = 8
num_logs = 5
priority_boost = 4
name_format = NONE
max_log_file_action = IGNORE
space_left = 75
space_left_action = SYSLOG
verify_email = yes
action_mail_acct = root
admin_space_left = 50
admin_space_left_action = SUSPEND
disk_full_action = SUSPEND
disk_error_action = SUSPEND
use_libwrap = yes
tcp_listen_queue = 5
tcp_max_per_addr = 1
tcp_client_max_idle = 0
transport = TCP
krb5_principal = auditd
distribute_network = no
q_depth = 2000
overflow_action = SYSLOG
max_restarts = 10
plugin_dir = /etc/audit/plugins.d
end_of_event_timeout = 2
EOF
	chmod 0640 "$1/auditd.conf"
}

write_rauditd_conf() {	# DIR LOGDIR FORMAT
	cat >"$1/rauditd.conf" <<EOF
spool_dir = $2
run_dir = $1/run
enable = yes
num_segments = 0
log_format = $3
rules = none
EOF
	# Diagnosis only (e.g. "flush = none"); the reported run leaves it empty.
	[ -n "${BENCH_RAUDITD_CONF:-}" ] && printf '%b\n' "$BENCH_RAUDITD_CONF" >>"$1/rauditd.conf"
	return 0
}

# run_one DAEMON SCENARIO N: one measured run; appends a line to runs.tsv.
run_one() {
	local daemon=$1 scen=$2 n=$3 logdir fmt uid st0 st1 go line
	local calls elapsed rate maxlat slow wait0 wait1 lost0 lost1 bmax events cpu hwm
	local countdir dstatus extra="" size prev_size end rec_base pidfile_existed state_existed host0 host1 dcpu0 dcpu1 wcpu other

	RUNDIR=$WORK/$scen-$daemon-$n
	KEY="rauditd_bench_$$_${scen}_${daemon}_$n"
	mkdir -p "$RUNDIR"
	uid=$UID_PLAIN
	fmt=raw
	[ "$scen" = enriched ] && { uid=$UID_NOPASSWD; fmt=enriched; }

	lock_take
	check_no_daemon
	wait_quiet

	case $scen in
	slow|hang)
		mkdir -p "$RUNDIR/back" "$RUNDIR/mnt"
		CTL=$RUNDIR/faultfs.ctl
		if [ "$scen" = slow ]; then ff_mode "delay $SLOW_WRITE_US $SLOW_FSYNC_US"; else ff_mode ok; fi
		"$FAULTFS" "$RUNDIR/back" "$RUNDIR/mnt" -c "$CTL" -f >"$RUNDIR/faultfs.log" 2>&1 9>&- &
		FPID=$!
		MNT=$RUNDIR/mnt
		end=$((SECONDS + 10))
		until grep -q " $MNT fuse" /proc/mounts; do
			[ $SECONDS -ge $end ] && die "faultfs did not mount: $(cat "$RUNDIR/faultfs.log")"
			sleep 0.05
		done
		logdir=$MNT/log
		# Read back through the backing directory, not through FUSE.
		countdir=$RUNDIR/back/log
		;;
	*)	logdir=$RUNDIR/log; countdir=$logdir ;;
	esac
	mkdir -p "$logdir"

	timeout 90 auditctl -b "$BACKLOG_LIMIT" >/dev/null || die "auditctl -b"
	timeout 90 auditctl -e 1 >/dev/null || die "auditctl -e 1"

	pidfile_existed=; [ -e /var/run/auditd.pid ] && pidfile_existed=1
	state_existed=; [ -e /var/run/auditd.state ] && state_existed=1
	case $daemon in
	null)	nice -n -4 "$NULL_READER" -k "$KEY" >"$RUNDIR/daemon.out" 2>&1 9>&- & ;;
	file)	nice -n -4 "$FILE_READER" -o "$logdir/audit.log" >"$RUNDIR/daemon.out" 2>&1 9>&- & ;;
	auditd)
		mkdir -p "$RUNDIR/etc"
		write_auditd_conf "$RUNDIR/etc" "$logdir" "$( [ $fmt = enriched ] && echo ENRICHED || echo RAW)"
		if [ -n "$MNT" ]; then
			LD_PRELOAD=$WORK/bin/chown_shim.so auditd -n -c "$RUNDIR/etc" >"$RUNDIR/daemon.out" 2>&1 9>&- &
		else
			auditd -n -c "$RUNDIR/etc" >"$RUNDIR/daemon.out" 2>&1 9>&- &
		fi ;;
	rauditd)
		write_rauditd_conf "$RUNDIR" "$logdir" "$fmt"
		"$RAUDITD" -f -c "$RUNDIR/rauditd.conf" >"$RUNDIR/daemon.out" 2>&1 9>&- & ;;
	esac
	DPID=$!
	DPID_LAST=$DPID
	end=$((SECONDS + 15))
	until [ "$(kget pid "$(kstatus)")" = "$DPID" ]; do
		running "$DPID" || die "$daemon exited before registering: $(cat "$RUNDIR/daemon.out")"
		[ $SECONDS -ge $end ] && die "$daemon (pid $DPID) did not register"
		sleep 0.05
	done
	sleep 0.5	# let the daemon settle (rauditd: monitor, control, first poll)

	"$AUDIT_LOAD" -w -n 4000000000 -p "$PROCS" -t "$DURATION" -u "$uid" \
		$( [ "$scen" = sigstop ] && echo "-r $RATE" ) -T "$RUNDIR/load.timeline" \
		>"$RUNDIR/load.out" 2>&1 9>&- &
	LPID=$!
	end=$((SECONDS + 10))
	until grep -q '^pid ' "$RUNDIR/load.out" 2>/dev/null; do
		[ $SECONDS -ge $end ] && die "audit_load did not start"
		sleep 0.02
	done
	RULE="always,exit -F arch=b64 -S getsid -F ppid=$LPID -k $KEY"
	# shellcheck disable=SC2086
	timeout 90 auditctl -a $RULE >/dev/null || die "auditctl -a $RULE"

	st0=$(kstatus)
	wait0=$(kget backlog_wait_time_actual "$st0")
	lost0=$(kget lost "$st0")
	rm -f "$RUNDIR/sampler.stop"
	sampler >"$RUNDIR/kernel.samples" 9>&- &
	SPID=$!
	host0=$(host_busy_s)
	dcpu0=$(proc_cpu_s "$DPID")
	kill -USR1 "$LPID"
	go=$EPOCHREALTIME
	case $scen in
	hang)
		sleep "$FAULT_AT"; ff_mode hang
		sleep "$FAULT_LEN"; ff_mode ok ;;
	sigstop|sigstop_flood)
		sleep "$FAULT_AT"; kill -STOP "$DPID"
		sleep "$FAULT_LEN"; kill -CONT "$DPID" ;;
	esac
	wait "$LPID" || die "audit_load failed: $(cat "$RUNDIR/load.out")"
	LPID=
	host1=$(host_busy_s)
	dcpu1=$(proc_cpu_s "$DPID")
	# shellcheck disable=SC2086
	timeout 90 auditctl -d $RULE >/dev/null 2>&1
	RULE=

	# Let the daemon catch up: kernel backlog empty and the log not growing.
	end=$((SECONDS + DRAIN_MAX)); prev_size=-1
	while [ $SECONDS -lt $end ]; do
		sleep 0.5
		size=$(dir_bytes "$countdir")
		[ "$(kget backlog "$(kstatus)")" = 0 ] && [ "$size" = "$prev_size" ] && break
		prev_size=$size
	done
	st1=$(kstatus)
	wait1=$(kget backlog_wait_time_actual "$st1")
	lost1=$(kget lost "$st1")
	touch "$RUNDIR/sampler.stop"
	cpu=$(proc_cpu_s "$DPID")
	hwm=$(proc_hwm_kb "$DPID")

	stop_pid "$DPID" 30
	dstatus=$STOP_STATUS
	DPID=
	wait "$SPID" 2>/dev/null; SPID=

	# ---- what the run left --------------------------------------------
	line=$(grep '^calls ' "$RUNDIR/load.out")
	calls=$(awk '{ print $2 }' <<<"$line")
	elapsed=$(awk '{ print $4 }' <<<"$line")
	rate=$(awk '{ print $6 }' <<<"$line")
	maxlat=$(awk '{ print $8 }' <<<"$line")
	slow=$(awk '{ print $10 }' <<<"$line")
	case $daemon in
	null)
		events=$(sed -n 's/.*keyed_syscall_records \([0-9]*\).*/\1/p' "$RUNDIR/daemon.out")
		extra=$(grep '^records' "$RUNDIR/daemon.out") ;;
	file)
		events=$(count_events "$countdir/audit.log")
		extra=$(grep '^records' "$RUNDIR/daemon.out") ;;
	auditd)
		events=$(count_events "$countdir"/audit.log*) ;;
	rauditd)
		events=$(count_events "$countdir"/audit-*.log)
		extra=$(grep -E 'stopped: received|kernel: lost' "$RUNDIR/daemon.out" |
			sed 's/^.*rauditd[^:]*: //' | tr '\n' ' ') ;;
	esac
	events=${events:-0}
	bmax=$(awk '$2 != "" && $2 > m { m = $2 } END { print m + 0 }' "$RUNDIR/kernel.samples")
	rec_base=$((events * RECORDS_PER_EVENT))
	# CPU of the machine during the load that was neither the load's
	# workers nor the daemon: kauditd, writeback and journal threads, and
	# whatever else ran on the machine.
	wcpu=$(awk '$1 == "#" && $2 == "workers_cpu_s" { print $3 }' "$RUNDIR/load.timeline")
	other=$(awk -v h0="$host0" -v h1="$host1" -v w="${wcpu:-0}" -v d0="$dcpu0" -v d1="$dcpu1" \
		'BEGIN { printf "%.2f", (h1 - h0) - w - (d1 - d0) }')
	# CPU seconds per million records = microseconds per record.
	local cpu_per=NA
	[ "$rec_base" -gt 0 ] && cpu_per=$(awk -v c="$cpu" -v r="$rec_base" 'BEGIN { printf "%.2f", c * 1e6 / r }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$scen" "$daemon" "$n" "$calls" "$elapsed" "$rate" "$maxlat" "$slow" \
		"$(awk -v a="$wait0" -v b="$wait1" -v hz="$HZ" 'BEGIN { print (b - a) / hz }')" \
		"$bmax" "$((lost1 - lost0))" "$events" "$((calls - events))" "$cpu" "$cpu_per" \
		"$hwm" "$dstatus" "$(awk -v a="$host0" -v b="$host1" 'BEGIN { printf "%.2f", b - a }')" \
		"$other" "$PRE_BUSY" "$extra" >>"$OUT/runs.tsv"
	log "$scen/$daemon/$n: pre-run busy $PRE_BUSY cores, other CPU $other s; rate $rate calls/s, events $events of $calls, wait +$(( (wait1 - wait0) )) jiffies, backlog max $bmax, lost +$((lost1 - lost0)), max latency ${maxlat} us, cpu $cpu s ($cpu_per us/record), hwm $hwm kB, exit $dstatus"

	# Timelines for the plots: t relative to the go signal.
	awk -v g="$go" 'BEGIN { pc = 0; pt = 0 } $1 != "#" { t = $1 - g; r = ($3 - pc) / ($2 - pt); print t, r; pc = $3; pt = $2 }' \
		"$RUNDIR/load.timeline" >"$OUT/timelines/$scen-$daemon-$n.rate"
	awk -v g="$go" '$2 != "" { print $1 - g, $2 }' "$RUNDIR/kernel.samples" \
		>"$OUT/timelines/$scen-$daemon-$n.backlog"
	cp "$RUNDIR/daemon.out" "$OUT/timelines/$scen-$daemon-$n.daemon.out" 2>/dev/null

	[ -z "$pidfile_existed" ] && grep -qx "$DPID_LAST" /var/run/auditd.pid 2>/dev/null && rm -f /var/run/auditd.pid
	[ -z "$state_existed" ] && [ "$daemon" = auditd ] && rm -f /var/run/auditd.state

	teardown_run
	lock_release
	rm -rf "$RUNDIR"
}

# ---- summary ------------------------------------------------------------

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() {	# SCEN DAEMON COLUMN: the column's values over the runs
	awk -F'\t' -v s="$1" -v d="$2" -v c="$3" '$1 == s && $2 == d && $c != "NA" { print $c }' "$OUT/runs.tsv"
}
med() { col "$@" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b == 0) print "–"; else printf "%.2f", a / b }'; }

summarize() {
	local s d
	{
	echo "Medians of $RUNS run(s) per daemon and scenario; $PROCS load processes, ${DURATION} s per run."
	echo
	for s in $SCENARIOS; do
		echo "### $s"
		echo
		echo "| daemon | calls/s | vs null | vs auditd | kernel wait s | max backlog | lost Δ | events in log / calls | missing | max latency ms | CPU s | other CPU s | CPU µs/record | vs file_reader | vs auditd | peak RSS MiB |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		local rn ra cf ca
		rn=$(med "$s" null 6); ra=$(med "$s" auditd 6)
		cf=$(med "$s" file 15); ca=$(med "$s" auditd 15)
		for d in $DAEMONS; do
			local rate ev calls cpu_per
			rate=$(med "$s" "$d" 6)
			ev=$(med "$s" "$d" 12); calls=$(med "$s" "$d" 4)
			cpu_per=$(med "$s" "$d" 15)
			printf '| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
				"$d" "$rate" "$(ratio "$rate" "$rn")" "$(ratio "$rate" "$ra")" \
				"$(med "$s" "$d" 9)" "$(med "$s" "$d" 10)" "$(med "$s" "$d" 11)" \
				"$ev" "$calls" "$(med "$s" "$d" 13)" \
				"$(awk -v u="$(med "$s" "$d" 7)" 'BEGIN { printf "%.1f", u / 1000 }')" \
				"$(med "$s" "$d" 14)" "$(med "$s" "$d" 19)" "$cpu_per" "$(ratio "$cpu_per" "$cf")" "$(ratio "$cpu_per" "$ca")" \
				"$(awk -v k="$(med "$s" "$d" 16)" 'BEGIN { printf "%.0f", k / 1024 }')"
		done
		echo
	done
	} >"$OUT/summary.md"
}

# The run whose call rate is the median of its (scenario, daemon): its
# timeline stands for the daemon in the plot.
median_run() {
	awk -F'\t' -v s="$1" -v d="$2" '$1 == s && $2 == d { print $6, $3 }' "$OUT/runs.tsv" |
		sort -g | awk '{ a[NR] = $2 } END { print a[int((NR + 1) / 2)] }'
}

plot() {	# SCENARIO TITLE
	local s=$1 title=$2 d n pr="" pb="" sep="" name lat i=0
	for d in $DAEMONS; do
		n=$(median_run "$s" "$d")
		[ -n "$n" ] || continue
		name=$d; [ "$d" = null ] && name=null_reader; [ "$d" = file ] && name=file_reader
		# The key names the run's worst call: a stall may outlast the plot.
		lat=$(awk -F'\t' -v s="$s" -v d="$d" -v n="$n" '$1 == s && $2 == d && $3 == n {
			if ($7 >= 1e6) printf "%.1f s", $7 / 1e6; else if ($7 >= 1e4) printf "%.0f ms", $7 / 1e3; else printf "%.1f ms", $7 / 1e3 }' "$OUT/runs.tsv")
		pr+="$sep'$OUT/timelines/$s-$d-$n.rate' using 1:(\$2/1000) with lines lw 2 lc $((i + 1)) title '$name (slowest call $lat)'"
		pb+="$sep'$OUT/timelines/$s-$d-$n.backlog' using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc $((i + 1)) title '$name'"
		sep=", "; i=$((i + 1))
	done
	gnuplot <<EOF
set terminal pngcairo size 1100,760 font "DejaVu Sans,11" noenhanced
set output '$OUT/$s.png'
set multiplot layout 2,1 title "$title\n(median run per daemon by call rate; grey: $( [ "$s" = hang ] && echo "disk hung" || echo "daemon SIGSTOPped"))"
set object 1 rect from $FAULT_AT, graph 0 to $((FAULT_AT + FAULT_LEN)), graph 1 behind fillcolor rgb "#e8e8e8" fillstyle solid noborder
set xrange [0:$((DURATION + 5))]
set grid
set key outside right top
set lmargin at screen 0.08
set rmargin at screen 0.70
set ylabel "audited getsid calls/s (thousands)"
set yrange [0:*]
plot $pr
set xlabel "seconds since the load started"
set ylabel "kernel backlog (records, auditctl -s)"
set yrange [0:$((BACKLOG_LIMIT * 11 / 10))]
plot $pb, $BACKLOG_LIMIT with lines dt 2 lc rgb "black" title 'backlog_limit'
unset multiplot
EOF
	mkdir -p "$BENCH_DIR/plots"
	cp "$OUT/$s.png" "$BENCH_DIR/plots/$s.png"
}

# ---- main -----------------------------------------------------------------

START=$SECONDS
log "out $OUT, work $WORK, build $BUILD ($(git -C "$SRC_DIR" describe --always --dirty 2>/dev/null))"
log "machine: $(nproc) cores, kernel $(uname -r), HZ $HZ"
lock_take
save_kernel
check_no_daemon
lock_release
printf 'scenario\tdaemon\trun\tcalls\telapsed_s\trate\tmax_latency_us\tslow_calls\twait_actual_s\tbacklog_max\tlost_delta\tevents\tmissing\tcpu_s\tcpu_us_per_record\thwm_kb\texit\thost_busy_s\tother_cpu_s\tpre_busy_cores\textra\n' >"$OUT/runs.tsv"
for s in $SCENARIOS; do
	for n in $(seq 1 "$RUNS"); do
		for d in $DAEMONS; do
			run_one "$d" "$s" "$n"
		done
	done
done
summarize
for s in $SCENARIOS; do
	case $s in
	hang) plot hang "disk hangs ${FAULT_LEN} s (faultfs) under an unpaced load of $PROCS processes" ;;
	sigstop) plot sigstop "daemon SIGSTOPped ${FAULT_LEN} s under a load paced at $RATE calls/s" ;;
	sigstop_flood) plot sigstop_flood "daemon SIGSTOPped ${FAULT_LEN} s under an unpaced load of $PROCS processes" ;;
	esac
done
log "done in $((SECONDS - START)) s; $OUT/summary.md"
cat "$OUT/summary.md"
