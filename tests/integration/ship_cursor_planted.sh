#!/bin/bash
# ship_cursor_planted.sh - a file the shipper's user plants at ship_cursor
# cannot stop the daemon (issue 10 item 2). The cursor lives in a directory
# the network-facing shipper owns; a FIFO there used to block the writer
# thread in open() at its first retention pass, so no record reached the
# spool and SIGTERM could not stop the daemon. For a FIFO, a symlink to a
# FIFO and a directory at ship_cursor: every record of a fake-kernel stream
# reaches the spool across many rotations while the daemon runs, the log
# names the refused cursor, and SIGTERM stops the daemon within 10 s with
# status 0. No root and no kernel needed (the fake kernel feeds --test-input).
set -u
. "$top_srcdir/tests/integration/lib.sh"

EVENTS=3000

[ -x "$RAUDITD" ] || fail "$RAUDITD not built"
[ -x "$FAKE_KERNEL" ] || fail "$FAKE_KERNEL not built"

make_work
RPID=
stop_ours() {
	if [ -n "${RPID:-}" ] && kill -0 "$RPID" 2>/dev/null; then
		kill -KILL "$RPID" 2>/dev/null || true
		wait "$RPID" 2>/dev/null || true
	fi
	RPID=
}
trap 'stop_ours; cleanup_work' EXIT
trap 'exit 1' INT TERM HUP

# syscalls_in_spool: how many SYSCALL records the spool holds.
syscalls_in_spool() { cat "$WORK"/spool/audit-*.log 2>/dev/null | grep -c '^type=SYSCALL '; }
all_written() { [ "$(syscalls_in_spool)" -ge "$EVENTS" ]; }

run_case() {
	local kind=$1 cur="$WORK/shipdir/ship.cursor" sock="$WORK/input.sock" t0 nseg
	rm -rf "$WORK/spool" "$WORK/shipdir" "$WORK/run" "$sock"
	mkdir -p "$WORK/shipdir" "$WORK/run"
	case $kind in
	fifo) mkfifo "$cur" ;;
	symlink) mkfifo "$WORK/shipdir/elsewhere" && ln -s elsewhere "$cur" ;;
	directory) mkdir "$cur" ;;
	esac
	cat >"$WORK/rauditd.conf" <<CONF
spool_dir = $WORK/spool
run_dir = $WORK/run
ring_size = 16M
segment_size = 64K
num_segments = 2
flush = none
ship_target = 127.0.0.1:9
ship_cursor = $cur
CONF
	: >"$WORK/rauditd.log"
	start_rauditd "$WORK/rauditd.conf" -T "$sock"
	wait_for 10 sock_or_dead "$sock" || fail "$kind: no test-input socket after 10 s"
	kill -0 "$RPID" 2>/dev/null || { cat "$WORK/rauditd.log" >&2; fail "$kind: rauditd exited at start"; }
	timeout 60 "$FAKE_KERNEL" -s "$sock" -n "$EVENTS" -S 1000 >"$WORK/fk.out" ||
		{ cat "$WORK/fk.out" "$WORK/rauditd.log" >&2; fail "$kind: fake_kernel failed"; }
	# While the daemon runs: the writer keeps writing across rotations.
	wait_for 20 all_written ||
		{ cat "$WORK/rauditd.log" >&2; fail "$kind: only $(syscalls_in_spool) of $EVENTS events reached the spool: the writer is blocked"; }
	nseg=$(ls "$WORK"/spool/audit-*.log | wc -l)
	[ "$nseg" -ge 5 ] || fail "$kind: expected many rotations at 64K, got $nseg segment(s)"
	# An unreadable cursor means nothing is shipped: the count limit keeps all.
	[ -e "$WORK/spool/audit-00000001.log" ] || fail "$kind: retention deleted an unshipped segment"
	grep -q "ship's cursor: a symlink or not a regular file" "$WORK/rauditd.log" ||
		{ cat "$WORK/rauditd.log" >&2; fail "$kind: the refused cursor is not named in the log"; }
	t0=$SECONDS
	stop_rauditd 10
	[ "$RSTATUS" = 0 ] || { cat "$WORK/rauditd.log" >&2; fail "$kind: rauditd exited with $RSTATUS"; }
	log "$kind at ship_cursor: $EVENTS events in $nseg segments, stopped in $((SECONDS - t0)) s"
}

for kind in fifo symlink directory; do
	run_case "$kind"
done
log "PASS"
