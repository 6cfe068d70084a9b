#!/bin/bash
# bench/soak.sh - rauditd under an unpaced audited flood for a long time
# (10 minutes by default) with small segments and a short retention, so
# rotation and retention run all the time. Every SOAK_INTERVAL seconds it
# samples the daemon's resident memory (VmRSS), its open descriptors
# (/proc/PID/fd), its counters (rauditctl -s) and the spool; at the end it
# checks that RSS and descriptors stayed flat, that retention kept the
# spool to num_segments, and that the counters reconcile (received =
# written + dropped + in_ring) in every sample and after the drain. Run by
# hand as root, not in CI; results in bench/SOAK.md.
#
# Usage: bench/soak.sh [-b BUILDDIR] [-o OUTDIR]
#   BUILDDIR  a configured build with rauditd, rauditctl and
#             tests/helpers/audit_load (default: _build next to bench/)
#   OUTDIR    samples.tsv and summary.md (default: bench/out/soak)
# Environment (defaults in brackets):
#   SOAK_SECONDS [600]  SOAK_INTERVAL [10]  SOAK_PROCS [2]
#   SOAK_SEGMENT_SIZE [1M]  SOAK_NUM_SEGMENTS [4]
#   SOAK_RSS_SLACK_KB [4096]: RSS may end this much above its first sample
#     under load and still count as flat
#
# The kernel test lock (/tmp/rauditd-kernel-tests.lock) is held for the
# whole soak, the kernel state found at the start is put back on every exit
# path (tests/integration/lib.sh), and only processes started here are
# signalled, by pid.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$BENCH_DIR/.." && pwd)
BUILD=$SRC_DIR/_build
OUT=$BENCH_DIR/out/soak
while getopts b:o: ch; do
	case $ch in
	b) BUILD=$(cd "$OPTARG" && pwd) ;;
	o) mkdir -p "$OPTARG" && OUT=$(cd "$OPTARG" && pwd) ;;
	*) echo "usage: $0 [-b builddir] [-o outdir]" >&2; exit 2 ;;
	esac
done
mkdir -p "$OUT"

SECS=${SOAK_SECONDS:-600}
INTERVAL=${SOAK_INTERVAL:-10}
PROCS=${SOAK_PROCS:-2}
SEGMENT_SIZE=${SOAK_SEGMENT_SIZE:-1M}
NUM_SEGMENTS=${SOAK_NUM_SEGMENTS:-4}
RSS_SLACK_KB=${SOAK_RSS_SLACK_KB:-4096}
DRAIN_MAX=30		# s to wait after the flood for the ring to empty
LOCK=/tmp/rauditd-kernel-tests.lock

top_srcdir=$SRC_DIR
top_builddir=$BUILD
. "$SRC_DIR/tests/integration/lib.sh"
RAUDITCTL=$BUILD/rauditctl

[ "$(id -u)" = 0 ] || fail "needs root"
command -v auditctl >/dev/null || fail "auditctl missing (apt-get install auditd)"
[ -x "$RAUDITD" ] && [ -x "$RAUDITCTL" ] && [ -x "$AUDIT_LOAD" ] ||
	fail "build first: cd $BUILD && make rauditd rauditctl tests/helpers/audit_load"

# The lock for the whole soak: one audit daemon per kernel.
exec 9>"$LOCK"
log "waiting for the kernel test lock ($LOCK)"
flock -w 900 9 || fail "timed out waiting for $LOCK"

make_work
KEY="rauditd_soak_$$"
trap 'kernel_restore; cleanup_work' EXIT
trap 'exit 1' INT TERM
kernel_save

cat >"$WORK/rauditd.conf" <<CONF
spool_dir = $WORK/spool
run_dir = $WORK/run
enable = yes
backlog_limit = 8192
segment_size = $SEGMENT_SIZE
num_segments = $NUM_SEGMENTS
CONF

status() { timeout 10 "$RAUDITCTL" -c "$WORK/rauditd.conf" -s 2>/dev/null >"$WORK/status"; }
sv() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/status"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$RPID/status"; }
nfds() { ls "/proc/$RPID/fd" | wc -l; }

start_rauditd "$WORK/rauditd.conf"
wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log" >&2; fail "rauditd did not register"; }
wait_for 10 status || fail "rauditd does not answer status"
lost0=$(kstat lost)

load_prepare 4000000000 "$PROCS" -t "$SECS" -T "$WORK/timeline"
S="$OUT/samples.tsv"
# Kernel figures (the auditctl -s lines "lost", "backlog" of rauditctl -s)
# come from the daemon's monitor: an AUDIT_GET of our own could sleep in
# the kernel while its backlog is over the limit (DESIGN.md).
printf 't_s\trss_kb\tfds\treceived\twritten\tdropped\tin_ring\treconciles\tsegment\tspool_segments\tspool_files\tspool_bytes\tsegments_deleted\tkernel_lost\tkernel_backlog\n' >"$S"
mismatches=0 max_files=0 max_segs=0
sample() {
	local t=$1 r w d i ok files
	status || { log "status failed at ${t}s"; return; }
	r=$(sv received) w=$(sv written) d=$(sv dropped) i=$(sv in_ring)
	ok=yes
	[ $((w + d + i)) = "$r" ] || { ok=no; mismatches=$((mismatches + 1)); }
	files=$(ls "$WORK/spool" | grep -c '^audit-.*\.log$')
	[ "$files" -gt "$max_files" ] && max_files=$files
	[ "$(sv spool_segments)" -gt "$max_segs" ] && max_segs=$(sv spool_segments)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$(rss_kb)" "$(nfds)" \
		"$r" "$w" "$d" "$i" "$ok" "$(sv spool_segment)" "$(sv spool_segments)" "$files" "$(sv spool_bytes)" \
		"$(sv spool_segments_deleted)" "$(sv lost)" "$(sv backlog)" >>"$S"
}

sample 0
log "flood for $SECS s: $PROCS workers, segment_size $SEGMENT_SIZE, num_segments $NUM_SEGMENTS"
kill -USR1 "$LPID"
t0=$SECONDS
while kill -0 "$LPID" 2>/dev/null; do
	sleep "$INTERVAL"
	kill -0 "$RPID" 2>/dev/null || fail "rauditd died during the soak"
	sample $((SECONDS - t0))
	tail -1 "$S" | awk -F'\t' '{ printf "soak: t=%ss rss=%s kB fds=%s received=%s in_ring=%s segment=%s\n", $1, $2, $3, $4, $7, $9 }' >&2
done
wait "$LPID" || fail "audit_load failed"
LPID=
rule_del_all

# Drain: the ring empties and nothing new arrives.
drained() { status && [ "$(sv in_ring)" = 0 ] && [ "$(sv loss_pending)" = 0 ]; }
wait_for "$DRAIN_MAX" drained || log "ring not empty after $DRAIN_MAX s"
sample $((SECONDS - t0))
lost1=$(kstat lost)
cp "$WORK/status" "$OUT/status.final"
stop_rauditd 60
[ "$RSTATUS" = 0 ] || fail "rauditd exited $RSTATUS"
stopline=$(grep 'stopped: received' "$WORK/rauditd.log" | tail -1)

# ---- summary ------------------------------------------------------------
# The first sample under load is the baseline: the ring (MAP_POPULATE) and
# the receive buffers are resident from the start, the caches fill in the
# first seconds.
read -r rss_start fds_start < <(awk -F'\t' 'NR == 3 { print $2, $3 }' "$S")
read -r rss_idle fds_idle < <(awk -F'\t' 'NR == 2 { print $2, $3 }' "$S")
read -r rss_end fds_end r_end w_end d_end i_end seg_end del_end < <(awk -F'\t' 'END { print $2, $3, $4, $5, $6, $7, $9, $13 }' "$S")
read -r rss_min rss_max fds_min fds_max < <(awk -F'\t' 'NR > 2 {
	if (n++ == 0) { a = b = $2; c = d = $3 }
	if ($2 < a) a = $2; if ($2 > b) b = $2; if ($3 < c) c = $3; if ($3 > d) d = $3
	} END { print a, b, c, d }' "$S")
calls=$(load_field calls)
rate=$(load_field rate)
verdict=ok
[ $((rss_end - rss_start)) -le "$RSS_SLACK_KB" ] || verdict="RSS grew"
[ "$fds_end" = "$fds_start" ] || verdict="$verdict; fds changed"
[ "$mismatches" = 0 ] || verdict="$verdict; $mismatches samples do not reconcile"
[ $((w_end + d_end + i_end)) = "$r_end" ] || verdict="$verdict; final counters do not reconcile"
# The writer opens the next segment, then retention deletes the oldest: a
# sample may see one file more than num_segments, never two, and the
# writer's own count after retention never exceeds it.
[ "$max_segs" -le "$NUM_SEGMENTS" ] || verdict="$verdict; the writer kept $max_segs segments"
[ "$max_files" -le $((NUM_SEGMENTS + 1)) ] || verdict="$verdict; $max_files segment files at once"

{
	echo "## soak $(date -u +%Y-%m-%dT%H:%MZ), $SECS s, kernel $(uname -r), $(nproc) CPUs"
	echo
	echo "- flood: $PROCS workers, $calls audited getsid calls ($rate/s), segment_size $SEGMENT_SIZE, num_segments $NUM_SEGMENTS"
	echo "- RSS: $rss_idle kB idle before the flood, $rss_start kB at the first sample under load, $rss_end kB at the end (min $rss_min, max $rss_max)"
	echo "- open fds: $fds_idle idle, $fds_start at the first sample, $fds_end at the end (min $fds_min, max $fds_max)"
	echo "- counters at the end: received $r_end = written $w_end + dropped $d_end + in_ring $i_end; $mismatches of $(($(wc -l <"$S") - 1)) samples failed to reconcile"
	echo "- spool: segment $seg_end open at the end, $del_end segments deleted by retention; at most $max_segs segments after retention, $max_files files at a sample (the next segment opens before the oldest goes)"
	echo "- kernel lost: $lost0 -> $lost1"
	echo "- stop: ${stopline#*rauditd: }"
	echo "- verdict: $verdict"
} >"$OUT/summary.md"
cat "$OUT/summary.md"
[ "$verdict" = ok ] || exit 1
exit 0
