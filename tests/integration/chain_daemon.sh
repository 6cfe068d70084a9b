#!/bin/bash
# chain_daemon.sh - the seal chain as the daemon writes it, through every
# recovery path, then checked by `rauditctl verify --key`. No kernel: the
# fake kernel feeds framed records (-T), the chain does not depend on where
# records come from. One spool, with a seal_key made by rauditctl keygen,
# sees size rotations (segment_size 64K), rauditctl rotate, SIGUSR1, a
# SIGKILL mid-flood followed by a torn tail, a restart, a rauditctl
# upgrade (re-exec), and retention deleting the oldest segments. It must
# verify with the verification key, with no chain break; the key file must
# have moved on (forward security). Then tampering with that real spool: a
# byte edited in a sealed segment, a middle segment deleted, a sealed
# segment cut short, two segments swapped; each fails, naming the segment.
# A start after an empty newest segment (a crash before its marker) seals
# through it without a break. Finally the two ways a start must break the
# chain, each explained by a DAEMON_ERR op=chain-break after the marker: a
# key file already evolved past the open segment (the spool still verifies
# with the verification key) and a spool written before chaining. On
# faultfs (root): a batch rewritten after a failed fsync (flush = data) is
# digested once, and a rotation requested while the disk refuses writes
# waits for the marker.
set -u
. "$top_srcdir/tests/integration/lib.sh"

RAUDITCTL=$top_builddir/rauditctl
[ -x "$RAUDITD" ] || fail "$RAUDITD not built"
[ -x "$FAKE_KERNEL" ] || fail "$FAKE_KERNEL not built"

make_work
RPID=
FKPID=
stop_ours() {
	if [ -n "${FKPID:-}" ] && kill -0 "$FKPID" 2>/dev/null; then
		kill -TERM "$FKPID" 2>/dev/null; wait "$FKPID" 2>/dev/null
	fi
	if [ -n "${RPID:-}" ] && kill -0 "$RPID" 2>/dev/null; then
		kill -TERM "$RPID" 2>/dev/null || true
		wait_for 10 not_running "$RPID" || kill -KILL "$RPID" 2>/dev/null || true
		wait "$RPID" 2>/dev/null || true
	fi
	RPID=
}
trap 'stop_ours; cleanup_work' EXIT
trap 'exit 1' INT TERM HUP

SPOOL=$WORK/spool
CONF=$WORK/rauditd.conf
ctl() { timeout 30 "$RAUDITCTL" -c "$CONF" "$@"; }
nsegs() { local f=("$SPOOL"/audit-*.log); [ -e "${f[0]}" ] && echo ${#f[@]} || echo 0; }
newest() { ls "$SPOOL" | sed -n 's/^audit-0*\([0-9][0-9]*\)\.log$/\1/p' | sort -n | tail -1; }
oldest() { ls "$SPOOL" | sed -n 's/^audit-0*\([0-9][0-9]*\)\.log$/\1/p' | sort -n | head -1; }
seg() { printf '%s/audit-%08d.log' "${2:-$SPOOL}" "$1"; }
started() { grep -q 'started: spool' "$WORK/rauditd.log"; }
N=0
# start: the daemon on a new test-input socket, until it logged its start.
start() {
	N=$((N + 1)); SOCK=$WORK/in$N.sock
	cat "$WORK/rauditd.log" >>"$WORK/rauditd.all" 2>/dev/null
	: >"$WORK/rauditd.log"
	start_rauditd "$CONF" -T "$SOCK"
	wait_for 10 sock_or_dead "$SOCK" || fail "no test-input socket after 10 s"
	kill -0 "$RPID" 2>/dev/null || { cat "$WORK/rauditd.log" >&2; fail "rauditd exited at start"; }
}
# feed EVENTS FIRST: the fake kernel sends EVENTS events from serial FIRST.
feed() {
	timeout 120 "$FAKE_KERNEL" -s "$SOCK" -n "$1" -S "$2" >"$WORK/fk.out" 2>&1 ||
		{ cat "$WORK/fk.out" "$WORK/rauditd.log" >&2; fail "fake_kernel failed"; }
}
# drained: everything fed is written (the status line in_ring 0).
drained() { ctl -s 2>/dev/null | grep -qx 'in_ring 0'; }

mkdir -m 0700 "$SPOOL" "$WORK/run"
: >"$CONF"
VKEY=$(ctl keygen "$WORK/seal.key" "$SPOOL" 2>"$WORK/keygen.err") ||
	fail "keygen: $(cat "$WORK/keygen.err")"
KEY0=$(cat "$WORK/seal.key")
cat >"$CONF" <<CONF
spool_dir = $SPOOL
run_dir = $WORK/run
segment_size = 64K
num_segments = 12
ring_size = 16M
flush = incremental
seal_key = $WORK/seal.key
CONF

# ---- 1: rotations by size, by request, by signal ---------------------------
start
feed 3000 1000
wait_for 20 drained || fail "the writer did not catch up"
n0=$(newest)
ctl rotate >/dev/null || fail "rauditctl rotate refused"
wait_for 10 sh -c "[ -e '$(seg $((n0 + 1)))' ]" || fail "rauditctl rotate made no segment"
kill -USR1 "$RPID"
# The marker goes out with the writer's next write: wait for it.
marked() { head -1 "$1" 2>/dev/null | grep -q "$2"; }
wait_for 10 marked "$(seg $((n0 + 2)))" " reason=request .* chain=hmac-sha256 chain_seg=$((n0 + 1)) " ||
	fail "SIGUSR1: no new segment with its marker: $(head -1 "$(seg $((n0 + 2)))" 2>&1)"
[ "$(cat "$WORK/seal.key")" != "$KEY0" ] || fail "the key file did not move on after a seal"
grep -q "^seal1-0*$(newest)-" "$WORK/seal.key" || fail "key file is not for the open segment $(newest): $(sed 's/-[0-9a-f]*$/-.../' "$WORK/seal.key")"

# ---- 2: SIGKILL mid-flood, a torn tail, restart --------------------------------
timeout 120 "$FAKE_KERNEL" -s "$SOCK" -n 20000 -S 10000 >"$WORK/fk2.out" 2>&1 &
FKPID=$!
sleep 0.5
kill -KILL "$RPID"; wait "$RPID" 2>/dev/null; RPID=
wait "$FKPID" 2>/dev/null; FKPID=
last=$(newest)
printf 'type=SYSCALL msg=audit(1700000000.000:99999999): arch=c000003e syscall=59 succ' >>"$(seg "$last")"
start
wait_for 10 started || fail "no start after the crash"
grep -q "cut a torn last line of [0-9]* bytes from segment $last" "$WORK/rauditd.log" ||
	fail "the torn tail of segment $last was not cut: $(cat "$WORK/rauditd.log")"
feed 2000 40000
wait_for 20 drained || fail "the writer did not catch up after the restart"

# ---- 3: an in-place upgrade (re-exec) --------------------------------------------
before=$(newest)
ctl upgrade >/dev/null || fail "rauditctl upgrade refused"
wait_for 10 sh -c "[ -e '$(seg $((before + 1)))' ]" || fail "no new segment after the upgrade"
kill -0 "$RPID" || fail "rauditd died in the upgrade"
wait_for 10 sh -c "'$RAUDITCTL' -c '$CONF' -s >/dev/null 2>&1" || fail "no status after the upgrade"
feed 2000 50000
wait_for 20 drained || fail "the writer did not catch up after the upgrade"
stop_rauditd 30
[ "$RSTATUS" = 0 ] || { cat "$WORK/rauditd.log" >&2; fail "rauditd exited with $RSTATUS"; }
tail -1 "$(seg "$(newest)")" | grep -q '^type=DAEMON_END ' || fail "no DAEMON_END at the end"

# ---- 4: retention removed the oldest; the whole spool verifies ------------------
[ "$(oldest)" -gt 1 ] || fail "retention deleted nothing (oldest is $(oldest), $(nsegs) segments)"
grep -q 'op=chain-break' "$SPOOL"/audit-*.log && fail "a chain break in an unbroken run: $(grep -h 'op=chain-break' "$SPOOL"/audit-*.log)"
ctl verify "$SPOOL" --key "$VKEY" >"$WORK/verify.out" 2>&1 ||
	{ cat "$WORK/verify.out" "$WORK/rauditd.log" >&2; fail "the daemon's spool does not verify"; }
grep -q 'chain: [0-9]* sealed segment(s) verified with the verification key, 0 explained break(s), 0 problem(s)' \
	"$WORK/verify.out" || fail "verify summary: $(cat "$WORK/verify.out")"
log "untouched: $(grep 'chain:' "$WORK/verify.out"), oldest $(oldest), newest $(newest)"

# ---- 5: tampering with the daemon's spool ----------------------------------------
O=$(oldest); L=$(newest); M=$(((O + L) / 2))
# tamper NAME: copy the spool to $T, for the caller to damage.
tamper() { T=$WORK/t_$1; rm -rf "$T"; cp -a "$SPOOL" "$T"; }
# rejected NAME FILE: verify fails on $T and names FILE.
rejected() {
	ctl verify "$T" --key "$VKEY" >"$WORK/v_$1.out" 2>&1 && fail "$1: verify passed: $(cat "$WORK/v_$1.out")"
	grep -qF "$2" "$WORK/v_$1.out" || fail "$1: verify does not name ${2##*/}: $(cat "$WORK/v_$1.out")"
	log "$1: rejected: $(grep -F "$2" "$WORK/v_$1.out" | head -1)"
}
tamper edit
f=$(seg "$M" "$T"); off=$(($(stat -c %s "$f") / 2))
b=$(dd if="$f" bs=1 skip="$off" count=1 2>/dev/null)
[ "$b" = x ] && r=y || r=x
printf '%s' "$r" | dd of="$f" bs=1 seek="$off" conv=notrunc 2>/dev/null
rejected edit "$(basename "$f")"

tamper delete
rm "$(seg "$M" "$T")"
rejected delete "$(basename "$(seg $((M + 1)))")"

tamper truncate
f=$(seg "$M" "$T")
head -n -1 "$f" >"$f.tmp" && mv "$f.tmp" "$f"
rejected truncate "$(basename "$f")"

tamper reorder
a=$(seg "$M" "$T"); c=$(seg $((M + 1)) "$T")
mv "$a" "$a.x"; mv "$c" "$a"; mv "$a.x" "$c"
rejected reorder "$(basename "$a")"

# ---- 5b: a crash right after a segment was created, before its marker --------
# The newest segment is empty: the next start seals the one before it and
# the empty one, in its marker, without a break.
touch "$(seg $((L + 1)))"
start
wait_for 10 started || fail "no start after an empty newest segment"
stop_rauditd 30
[ "$RSTATUS" = 0 ] || { cat "$WORK/rauditd.log" >&2; fail "rauditd exited with $RSTATUS"; }
head -1 "$(seg $((L + 2)))" | grep -q " segment=$((L + 2)) reason=start .* chain_seg=$((L + 1)) " ||
	fail "marker after an empty segment: $(head -1 "$(seg $((L + 2)))")"
grep -q 'op=chain-break' "$(seg $((L + 2)))" && fail "a chain break after an empty segment"
ctl verify "$SPOOL" --key "$VKEY" >"$WORK/v_empty.out" 2>&1 ||
	fail "a spool with an empty segment does not verify: $(cat "$WORK/v_empty.out")"
grep -q ' 0 explained break(s), 0 problem(s)' "$WORK/v_empty.out" || fail "empty segment: $(cat "$WORK/v_empty.out")"
L=$(newest)

# ---- 6: a key file ahead of the spool: an explained break, still verifiable ------
# The key file is made one evolution ahead (as chain_verify.sh computes it):
# the open segment $L can no longer be sealed under its own key.
k=$(sed 's/.*-//' "$WORK/seal.key")
next=$( { printf 'rauditd-evolve'; printf "$(printf '%s' "$k" | sed 's/../\\x&/g')"; } | sha256sum | cut -c1-64)
printf 'seal1-%020d-%s\n' $((L + 1)) "$next" >"$WORK/seal.key"
start
wait_for 10 started || fail "no start with the key file ahead"
stop_rauditd 30
[ "$RSTATUS" = 0 ] || { cat "$WORK/rauditd.log" >&2; fail "rauditd exited with $RSTATUS"; }
f=$(seg $((L + 1)))
head -2 "$f" | grep -q "^type=DAEMON_ERR .* op=chain-break segment=$((L + 1)) reason=key-evolved-past-segment " ||
	fail "no chain-break with the key ahead: $(head -2 "$f")"
head -1 "$f" | grep -q " chain=hmac-sha256 chain_seg=$L chain_digest=0\{64\} chain_link=0\{64\} res=success\$" ||
	fail "restart marker: $(head -1 "$f")"
ctl verify "$SPOOL" --key "$VKEY" >"$WORK/v_ahead.out" 2>&1 || fail "a spool with an explained break does not verify: $(cat "$WORK/v_ahead.out")"
grep -q '1 explained break(s), 0 problem(s)' "$WORK/v_ahead.out" || fail "break not reported: $(cat "$WORK/v_ahead.out")"

# ---- 7: a spool from before chaining: the next start says the chain breaks ----
rm -rf "$WORK/old"; mkdir -m 0700 "$WORK/old"
sed -E 's/ chain=[a-z0-9-]+ chain_seg=[0-9]+ chain_digest=[0-9a-f]+ chain_link=[0-9a-f]+//' \
	"$(seg "$L")" >"$(seg 1 "$WORK/old")"
sed -i "1s/segment=$L /segment=1 /" "$(seg 1 "$WORK/old")"
sed -i "s|^spool_dir = .*|spool_dir = $WORK/old|; /^seal_key/d" "$CONF"
start
wait_for 10 started || fail "no start on the pre-chain spool"
stop_rauditd 30
f=$(seg 2 "$WORK/old")
head -2 "$f" | grep -q '^type=DAEMON_ERR .* op=chain-break segment=2 reason=previous-segment-not-chained ' ||
	fail "no chain-break after a pre-chain segment: $(head -2 "$f")"
head -1 "$f" | grep -q ' chain=sha256 chain_seg=1 chain_digest=0\{64\} chain_link=0\{64\} res=success$' ||
	fail "restart marker: $(head -1 "$f")"
# The verifier explains the break and flags the unchained segment itself.
ctl verify "$WORK/old" >"$WORK/v_old.out" 2>&1
grep -q '1 explained break(s), 1 problem(s)' "$WORK/v_old.out" &&
	grep -q 'audit-00000001.log: its marker has no chain fields' "$WORK/v_old.out" ||
	fail "pre-chain spool: $(cat "$WORK/v_old.out")"

# ---- 8: flush = data, a batch written whose fsync fails is cut and rewritten ----
# It must be digested once, as it ends up on disk: the spool verifies. Then
# rotations requested on a full disk. Needs faultfs (root, FUSE); mandatory
# under CI as root.
fuse_why=
[ "$(id -u)" = 0 ] || fuse_why="not root"
[ -c /dev/fuse ] || fuse_why="${fuse_why:+$fuse_why; }/dev/fuse missing"
command -v fusermount3 >/dev/null 2>&1 || fuse_why="${fuse_why:+$fuse_why; }fusermount3 missing"
[ -x "$FAULTFS" ] || fuse_why="${fuse_why:+$fuse_why; }$FAULTFS not built"
if [ -n "$fuse_why" ]; then
	[ "${CI:-}" = true ] && [ "$(id -u)" = 0 ] && fail "fsync rewrite part: $fuse_why"
	log "SKIP the fsync rewrite part: $fuse_why"
	exit 0
fi
trap 'stop_ours; faultfs_umount; cleanup_work' EXIT
faultfs_mount
mkdir -m 0700 "$MNT/spool"
VKEY2=$(ctl keygen "$WORK/seal2.key" "$MNT/spool" 2>"$WORK/keygen.err") ||
	fail "keygen: $(cat "$WORK/keygen.err")"
cat >"$CONF" <<CONF
spool_dir = $MNT/spool
run_dir = $WORK/run
segment_size = 64K
ring_size = 16M
flush = data
retry_interval = 100
seal_key = $WORK/seal2.key
CONF
start
wait_for 10 started || fail "no start on faultfs"
feed 200 60000
wait_for 20 drained || fail "the writer did not catch up on faultfs"
ff_mode fsynceio
feed 300 61000
wait_for 10 grep -q 'the batch stays in the ring and is written again' "$WORK/rauditd.log" ||
	fail "no batch was rewritten after a failed fsync: $(cat "$WORK/rauditd.log")"
sleep 0.5
ff_mode ok
wait_for 20 drained || fail "the writer did not catch up after the fsync errors"
ctl rotate >/dev/null || fail "rauditctl rotate refused"
feed 100 62000
wait_for 20 drained || fail "the writer did not catch up after the rotation"
# A disk that refuses writes (ENOSPC) but not fsyncs: a rotation requested
# while daemon records for the open segment (its marker, a disk policy
# record) are still unwritten waits for them, so every segment begins with
# its own marker.
SPOOL=$MNT/spool
n=$(newest)
ff_mode enospc
feed 50 63000
wait_for 10 sh -c "'$RAUDITCTL' -c '$CONF' -s 2>/dev/null | grep -q '^writer_state disk_full'" ||
	fail "the writer did not see the full disk: $(ctl -s 2>&1 | grep writer_state)"
ctl rotate >/dev/null || fail "rauditctl rotate refused"
sleep 0.5
[ -e "$(seg $((n + 1)))" ] && log "rotated on the full disk" || log "the rotation waits for the disk"
ctl rotate >/dev/null || fail "rauditctl rotate refused"
sleep 0.5
ff_mode ok
wait_for 20 drained || fail "the writer did not catch up after ENOSPC"
wait_for 10 sh -c "[ -e '$(seg $((n + 1)))' ]" || fail "no rotation after the disk came back"
sleep 0.5
for ((i = n + 1; i <= $(newest); i++)); do
	wait_for 10 marked "$(seg $i)" "^type=DAEMON_ROTATE .* segment=$i reason=request " ||
		fail "segment $i does not begin with its marker: $(head -1 "$(seg $i)" 2>&1)"
done
stop_rauditd 30
[ "$RSTATUS" = 0 ] || { cat "$WORK/rauditd.log" >&2; fail "rauditd exited with $RSTATUS"; }
rewrites=$(grep -c 'the batch stays in the ring and is written again' "$WORK/rauditd.log")
ctl verify "$MNT/spool" --key "$VKEY2" >"$WORK/v_fsync.out" 2>&1 ||
	fail "spool with $rewrites rewritten batch(es) does not verify: $(cat "$WORK/v_fsync.out")"
grep -q ', 0 explained break(s), 0 problem(s)' "$WORK/v_fsync.out" || fail "fsync rewrite: $(cat "$WORK/v_fsync.out")"
log "fsync rewrite: $rewrites batch(es) rewritten; $(grep 'chain:' "$WORK/v_fsync.out")"
exit 0
