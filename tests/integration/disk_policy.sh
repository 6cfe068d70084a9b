#!/bin/bash
# disk_policy.sh - auditd.conf's disk-space policy on a small tmpfs: with
# every action "exec" of a script that writes its argument to a marker file,
# space_left fires exactly once when free space falls below it, again only
# after free space came back (a state=recovered record in the spool) and fell
# again; admin_space_left fires once below the lower threshold; a full disk
# (ENOSPC) fires disk_full_action once however many writes fail, and when
# space is freed the writer catches up with nothing lost from the ring. A
# restart with a tiny ring that drops (ring_full_action = drop) while the
# disk is full fires loss_action; one with space_left_action = rotate deletes
# the oldest sealed segment. Each threshold or disk firing leaves a DAEMON_ERR
# op=EVENT record (a loss has its own op=overflow record).
# Fake kernel, no kernel audit touched; root for the tmpfs mount.
set -u
. "$top_srcdir/tests/integration/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (mounts a tmpfs)"
[ -x "$FAKE_KERNEL" ] || fail "$FAKE_KERNEL not built"

make_work
FS=$WORK/fs
RPID=
finish() {
	if [ -n "${RPID:-}" ] && kill -0 "$RPID" 2>/dev/null; then
		kill -TERM "$RPID" 2>/dev/null
		wait_for 10 not_running "$RPID" || kill -KILL "$RPID" 2>/dev/null
		wait "$RPID" 2>/dev/null
	fi
	umount "$FS" 2>/dev/null
	cleanup_work
}
trap finish EXIT
trap 'exit 1' HUP INT TERM
mkdir -p "$FS" "$WORK/run"
mount -t tmpfs -o size=4m,mode=0700 tmpfs "$FS" || fail "cannot mount a tmpfs"

MARK=$WORK/marker
cat >"$WORK/act.sh" <<EOF2
#!/bin/sh
echo "\$#:\$1" >>"$MARK"
EOF2
chmod 0700 "$WORK/act.sh"

fired() { local n; n=$(grep -cx "1:$1" "$MARK" 2>/dev/null); echo "${n:-0}"; }
fired_is() { [ "$(fired "$1")" = "$2" ]; }
spool_grep() { local n; n=$(cat "$FS"/spool/audit-*.log 2>/dev/null | grep -c -- "$1"); echo "${n:-0}"; }
spool_has() { [ "$(spool_grep "$1")" -ge "$2" ]; }
expect_fired() {	# EVENT COUNT: reached within 10 s, and no more 1 s later
	wait_for 10 fired_is "$1" "$2" || fail "$1 fired $(fired "$1") time(s), want $2 ($(tr '\n' ' ' <"$MARK" 2>/dev/null))"
	sleep 1
	fired_is "$1" "$2" || fail "$1 fired $(fired "$1") time(s) after a second, want $2"
}
# rauditctl -s: the value of a status line; st_is NAME VALUE.
st() { "$top_builddir/rauditctl" -c "$WORK/rauditd.conf" -s 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }'; }
st_is() { [ "$(st "$1")" = "$2" ]; }
expect_st() {	# NAME VALUE: the status shows it within 5 s
	wait_for 5 st_is "$1" "$2" || fail "status: $1 $(st "$1"), want $2"
}
fill() { dd if=/dev/zero of="$FS/$1" bs=64K count="$2" status=none 2>/dev/null; }
SOCK=$WORK/input.sock
start() {
	start_rauditd_input "$1" "$SOCK"
	wait_for 10 spool_has "type=DAEMON_START" "$2" || fail "no DAEMON_START in the spool"
}

base_conf() {
	cat <<CONF
spool_dir = $FS/spool
run_dir = $WORK/run
segment_size = 64K
num_segments = 0
flush = none
retry_interval = 50
space_left = 2M
admin_space_left = 1M
space_left_action = exec $WORK/act.sh
admin_space_left_action = exec $WORK/act.sh
disk_full_action = exec $WORK/act.sh
disk_error_action = syslog
loss_action = exec $WORK/act.sh
CONF
}

# ---- 1: thresholds, once per crossing ---------------------------------------
base_conf >"$WORK/rauditd.conf"
start "$WORK/rauditd.conf" 1
sleep 0.5
[ -e "$MARK" ] && fail "an action fired with 4 MiB free: $(cat "$MARK")"

fill a 40			# 2.5 MiB: below space_left (2M), above admin (1M)
expect_fired space_left 1
fired_is admin_space_left 0 || fail "admin_space_left fired above its threshold"
rm -f "$FS/a"
wait_for 10 spool_has "op=space_left free=[0-9]* threshold=2097152 state=recovered res=success" 1 ||
	fail "no recovery record for space_left"
fill a 40
expect_fired space_left 2
fill b 16			# 1 MiB more: below admin_space_left
expect_fired admin_space_left 1
# The writer's policy, as the status shows it.
expect_st diskpolicy_space_left_fired 2
expect_st diskpolicy_space_left_active 1
expect_st diskpolicy_admin_space_left_fired 1
expect_st diskpolicy_admin_space_left_active 1
expect_st diskpolicy_exec_started 3
expect_st diskpolicy_disk_full_active 0
[ "$(spool_grep "type=DAEMON_ERR msg=audit([0-9.:]*): op=space_left free=[0-9]* threshold=2097152 action=exec res=failed")" = 2 ] ||
	fail "want 2 op=space_left records: $(grep -h op=space_left "$FS"/spool/*)"

# ---- 2: a full disk: disk_full once, nothing lost ----------------------------
fill c 64			# until ENOSPC
EVENTS=400
timeout 60 "$FAKE_KERNEL" -s "$SOCK" -n $EVENTS -S 5000 >"$WORK/fk.out" ||
	{ cat "$WORK/fk.out" "$WORK/rauditd.log" >&2; fail "fake_kernel failed"; }
expect_fired disk_full 1
[ "$(spool_grep 'key="fake"')" -lt $EVENTS ] || fail "the disk was not full"
expect_st diskpolicy_disk_full_fired 1
expect_st diskpolicy_disk_full_active 1
rm -f "$FS/a" "$FS/b" "$FS/c"
wait_for 20 spool_has 'key="fake"' $EVENTS || fail "after freeing space $(spool_grep 'key="fake"') of $EVENTS events in the spool"
expect_fired disk_full 1
wait_for 10 spool_has "op=disk_full errno=0 state=recovered res=success" 1 || fail "no disk_full recovery record"
expect_st diskpolicy_disk_full_active 0
expect_st diskpolicy_disk_full_fired 1
spool_has "op=disk_full errno=28 action=exec res=failed" 1 || fail "no disk_full record"
stop_rauditd 30
[ "$RSTATUS" = 0 ] || { cat "$WORK/rauditd.log" >&2; fail "rauditd exited with $RSTATUS"; }
grep -q "stopped: received $((2 * EVENTS)), written $((2 * EVENTS)), dropped ring_full 0" "$WORK/rauditd.log" ||
	fail "records lost: $(grep 'stopped:' "$WORK/rauditd.log")"
[ "$(spool_grep 'key="fake"')" = $EVENTS ] || fail "$(spool_grep 'key="fake"') events in the spool, want exactly $EVENTS"
fired_is loss 0 || fail "loss fired with nothing lost"
log "thresholds and disk_full fired once per crossing; $EVENTS events all written"

# ---- 3: records rauditd loses: loss_action -----------------------------------
rm -rf "$FS/spool" "$MARK"
{ base_conf; printf 'ring_size = 64K\nbatch_size = 16K\nring_full_action = drop\n'; } >"$WORK/rauditd.conf"
start "$WORK/rauditd.conf" 1
fill c 64
timeout 60 "$FAKE_KERNEL" -s "$SOCK" -n 2000 -S 9000 >"$WORK/fk.out" ||
	{ cat "$WORK/fk.out" "$WORK/rauditd.log" >&2; fail "fake_kernel failed"; }
rm -f "$FS/c"
wait_for 20 fired_is loss 1 || fail "loss_action did not fire after ring drops ($(tr '\n' ' ' <"$MARK" 2>/dev/null))"
spool_has "op=overflow reason=ring_full lost=[0-9]*" 1 || fail "no op=overflow record for the drops"
[ "$(st diskpolicy_loss_fired)" -ge 1 ] || fail "status: diskpolicy_loss_fired $(st diskpolicy_loss_fired) after ring drops"
stop_rauditd 30
log "ring drops fired loss_action; the status counted each firing and showed the events in progress"

# ---- 4: rotate deletes the oldest sealed segment ----------------------------
rm -rf "$FS/spool" "$MARK"
base_conf | sed "s|^space_left_action = .*|space_left_action = rotate|" >"$WORK/rauditd.conf"
start "$WORK/rauditd.conf" 1
timeout 60 "$FAKE_KERNEL" -s "$SOCK" -n 600 -S 20000 >"$WORK/fk.out" ||
	{ cat "$WORK/fk.out" "$WORK/rauditd.log" >&2; fail "fake_kernel failed"; }
wait_for 20 spool_has 'key="fake"' 600 || fail "600 events not written"
[ -e "$FS/spool/audit-00000001.log" ] || fail "segment 1 gone before the action"
fill a 40
wait_for 10 eval '[ ! -e "$FS/spool/audit-00000001.log" ]' || fail "rotate did not delete segment 1"
[ -e "$FS/spool/audit-00000002.log" ] || fail "rotate deleted more than the oldest segment"
stop_rauditd 30
log "ok: rotate deleted the oldest sealed segment"
