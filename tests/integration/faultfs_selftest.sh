#!/bin/bash
# faultfs_selftest.sh - checks the faultfs test helper itself before other
# tests trust it: mounted over a scratch directory, plain passthrough works
# (create, O_EXCL, offset writes, truncate, fsync, fdatasync, chmod, rename,
# unlink, readdir, statfs), "delay" slows writes and fsyncs by at least the
# delay, "hang" blocks a write and an fsync while reads and stat still answer
# and releases them when the mode changes, "eio" and "enospc" fail dd with
# the right error, and SIGTERM unmounts even with a write hanging.
# Every wait is bounded; only the PIDs started here are ever signalled.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$top_srcdir/tests/integration/lib.sh"

# require_fuse, ff_mode, is_mounted and mounted_or_gone come from lib.sh.


# Microseconds since the epoch; strips the locale's decimal separator.
now_us() { local t=${EPOCHREALTIME//[!0-9]/}; echo $((10#$t)); }

# bg_wait PID SECONDS: wait for a child to end, its status in BG_STATUS;
# 1 if it is still running at the deadline.
bg_wait() {
	wait_for "$2" not_running "$1" || return 1
	wait "$1"; BG_STATUS=$?
	return 0
}

cleanup() {
	local rc=$? pid
	# Release anything hanging first: a write stuck in the daemon cannot be
	# killed (the kernel waits uninterruptibly for the reply).
	[ -n "${CTL:-}" ] && [ -d "${CTL%/*}" ] && ff_mode ok 2>/dev/null
	for pid in ${BG_PIDS:-}; do
		kill -0 "$pid" 2>/dev/null || continue
		kill -TERM "$pid" 2>/dev/null
		wait_for 5 not_running "$pid" || kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [ -n "${FPID:-}" ] && kill -0 "$FPID" 2>/dev/null; then
		kill -TERM "$FPID" 2>/dev/null
		wait_for 10 not_running "$FPID" || kill -KILL "$FPID" 2>/dev/null
		wait "$FPID" 2>/dev/null
	fi
	if [ -n "${MNT:-}" ] && [ -d "$MNT" ]; then
		is_mounted && timeout 10 fusermount3 -u -z "$MNT"
		if is_mounted; then
			log "leaving $MNT mounted"
		else
			rmdir "$MNT"
		fi
	fi
	if [ "$rc" != 0 ] && [ -s "${WORK:-}/faultfs.log" ]; then
		log "faultfs log:"; cat "$WORK/faultfs.log" >&2
	fi
	cleanup_work
	exit "$rc"
}

require_fuse
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
make_work
MNT=$(mktemp -d "${TMPDIR:-/tmp}/faultfs-mnt.XXXXXX")
CTL="$WORK/control"
B="$WORK/backing"
mkdir "$B"
BG_PIDS=

ff_mode ok
"$FAULTFS" "$B" "$MNT" -c "$CTL" -f >"$WORK/faultfs.log" 2>&1 &
FPID=$!
wait_for 10 mounted_or_gone || fail "faultfs did not mount within 10 s"
if ! is_mounted; then
	wait "$FPID"; FPID=
	cat "$WORK/faultfs.log" >&2
	[ "${CI:-}" = true ] && fail "faultfs could not mount"
	skip "faultfs could not mount FUSE here"
fi

# T CMD...: run a command against the mount, bounded.
T() { timeout 10 "$@"; }

# ---- ok: passthrough ---------------------------------------------------
T sh -c "printf 'hello\n' >'$MNT/a'" || fail "write through the mount"
[ "$(cat "$B/a")" = hello ] || fail "write did not reach the backing dir"
[ "$(T cat "$MNT/a")" = hello ] || fail "read through the mount"
printf 'XY' | T dd of="$MNT/a" bs=1 seek=1 conv=notrunc status=none || fail "offset write"
[ "$(cat "$B/a")" = hXYlo ] || fail "offset write landed wrong: $(cat "$B/a")"
T truncate -s 3 "$MNT/a" || fail "truncate"
[ "$(cat "$B/a")" = hXY ] || fail "truncate back: $(cat "$B/a")"
printf 'Z' >>"$MNT/a" || fail "append"
[ "$(cat "$B/a")" = hXYZ ] || fail "append after truncate: $(cat "$B/a")"
T dd if=/dev/null of="$MNT/a" conv=excl status=none 2>"$WORK/err" && fail "O_EXCL create of an existing file succeeded"
grep -q 'File exists' "$WORK/err" || fail "O_EXCL: $(cat "$WORK/err")"
T dd if=/dev/zero of="$MNT/new" bs=4k count=2 conv=excl,fsync status=none || fail "O_EXCL create + fsync"
T dd if=/dev/zero of="$MNT/new" bs=4k count=1 conv=notrunc,fdatasync status=none || fail "fdatasync"
[ "$(stat -c %s "$B/new")" = 8192 ] || fail "size after writes: $(stat -c %s "$B/new")"
T mkdir "$MNT/d" || fail "mkdir"
[ -d "$B/d" ] || fail "mkdir did not reach the backing dir"
T sync "$MNT/d" || fail "directory fsync"
T chmod 600 "$MNT/a" || fail "chmod"
[ "$(stat -c %a "$B/a")" = 600 ] || fail "chmod did not reach the backing dir"
T mv "$MNT/new" "$MNT/d/new" || fail "rename"
[ "$(T ls "$MNT/d")" = new ] || fail "readdir: $(ls "$MNT/d")"
T rm "$MNT/d/new" || fail "unlink"
[ ! -e "$B/d/new" ] || fail "unlink did not reach the backing dir"
T stat -f "$MNT" >/dev/null || fail "statfs"
log "ok: passthrough works"

# ---- delay ---------------------------------------------------------------
ff_mode delay 300000 500000
t0=$(now_us)
T dd if=/dev/zero of="$MNT/slow" bs=4k count=1 status=none || fail "write in delay mode"
dt=$(( $(now_us) - t0 ))
[ "$dt" -ge 300000 ] || fail "delay: a write took $dt us, expected >= 300000"
t0=$(now_us)
T dd if=/dev/null of="$MNT/slow" conv=notrunc,fsync status=none || fail "fsync in delay mode"
dt2=$(( $(now_us) - t0 ))
[ "$dt2" -ge 500000 ] || fail "delay: an fsync took $dt2 us, expected >= 500000"
ff_mode ok
log "delay: write ${dt} us, fsync ${dt2} us"

# ---- hang ----------------------------------------------------------------
printf 'readable\n' >"$MNT/r"
ff_mode hang
dd if=/dev/zero of="$MNT/hung" bs=4k count=1 status=none 2>"$WORK/hung.err" &
WPID=$!
dd if=/dev/null of="$MNT/r" conv=notrunc,fsync status=none 2>"$WORK/hungsync.err" &
SPID=$!
BG_PIDS="$WPID $SPID"
sleep 1
kill -0 "$WPID" 2>/dev/null || fail "hang: the write finished instead of blocking"
kill -0 "$SPID" 2>/dev/null || fail "hang: the fsync finished instead of blocking"
# Reads, getattr and readdir keep answering while both are stuck.
[ "$(T cat "$MNT/r")" = readable ] || fail "hang: read blocked or failed"
T stat "$MNT/hung" >/dev/null || fail "hang: stat of the hung file blocked or failed"
T ls "$MNT" >/dev/null || fail "hang: readdir blocked or failed"
t0=$(now_us)
ff_mode ok
bg_wait "$WPID" 5 || fail "hang: the write did not complete within 5 s of mode ok"
[ "$BG_STATUS" = 0 ] || fail "hang: released write failed: $(cat "$WORK/hung.err")"
bg_wait "$SPID" 5 || fail "hang: the fsync did not complete within 5 s of mode ok"
[ "$BG_STATUS" = 0 ] || fail "hang: released fsync failed: $(cat "$WORK/hungsync.err")"
dt=$(( $(now_us) - t0 ))
BG_PIDS=
[ "$(stat -c %s "$B/hung")" = 4096 ] || fail "hang: released write did not land"
log "hang: blocked >= 1 s, released in ${dt} us"

# ---- eio -------------------------------------------------------------------
ff_mode eio
T dd if=/dev/zero of="$MNT/e" bs=4k count=1 status=none 2>"$WORK/err" && fail "eio: write succeeded"
grep -q 'error writing.*Input/output error' "$WORK/err" || fail "eio write: $(cat "$WORK/err")"
T dd if=/dev/null of="$MNT/r" conv=notrunc,fsync status=none 2>"$WORK/err" && fail "eio: fsync succeeded"
grep -q 'fsync failed.*Input/output error' "$WORK/err" || fail "eio fsync: $(cat "$WORK/err")"
T sync "$MNT/d" 2>"$WORK/err" && fail "eio: directory fsync succeeded"
grep -q 'Input/output error' "$WORK/err" || fail "eio dir fsync: $(cat "$WORK/err")"
[ "$(T cat "$MNT/r")" = readable ] || fail "eio: reads must still work"
log "eio: write and fsync fail with EIO"

# ---- enospc ----------------------------------------------------------------
ff_mode enospc
T dd if=/dev/zero of="$MNT/e" bs=4k count=1 status=none 2>"$WORK/err" && fail "enospc: write succeeded"
grep -q 'error writing.*No space left on device' "$WORK/err" || fail "enospc write: $(cat "$WORK/err")"
T dd if=/dev/null of="$MNT/r" conv=notrunc,fsync status=none || fail "enospc: fsync must pass"
log "enospc: write fails with ENOSPC, fsync passes"

# ---- back to ok ------------------------------------------------------------
ff_mode ok
T dd if=/dev/zero of="$MNT/e" bs=4k count=1 conv=fsync status=none || fail "write after recovery"
[ "$(stat -c %s "$B/e")" = 4096 ] || fail "write after recovery did not land"
log "ok again: writes pass"

# ---- SIGTERM with a write hanging -----------------------------------------
ff_mode hang
dd if=/dev/zero of="$MNT/last" bs=4k count=1 status=none 2>"$WORK/last.err" &
WPID=$!
BG_PIDS=$WPID
sleep 0.5
kill -0 "$WPID" 2>/dev/null || fail "hang: the last write did not block"
kill -TERM "$FPID"
bg_wait "$FPID" 10 || fail "faultfs did not exit within 10 s of SIGTERM with a write hanging"
FSTATUS=$BG_STATUS
FPID=
[ "$FSTATUS" = 0 ] || fail "faultfs exited with $FSTATUS"
is_mounted && fail "faultfs exited but $MNT is still mounted"
# The writer is released; whether its close() saw the connection go is
# not ours to check, only that it ends.
bg_wait "$WPID" 5 || fail "the hung writer did not end after faultfs stopped"
BG_PIDS=
log "SIGTERM: unmounted with a write hanging"
exit 0
