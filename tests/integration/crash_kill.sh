#!/bin/bash
# crash_kill.sh - crash consistency: under a paced audited load with
# flush = data (an fdatasync per batch), SIGKILL rauditd at random moments
# (CK_KILLS times, 5 by default), restart it each time on the same spool,
# then stop it cleanly and check what a crash may and may not do:
#   - the spool verifies (rauditctl verify): no broken line anywhere, every
#     segment starts with its marker; a torn last line is cut at the next
#     start, logged ("cut a torn last line") and shown as spool_torn_bytes.
#     Before one restart the test itself appends a partial line to the open
#     segment (what a write cut by the kill leaves), so the repair path runs
#     on every run, not only when a kill lands inside a multi-page write;
#   - each start opens the segment after the highest one found (numbering
#     continues, nothing is reused or renamed);
#   - every record a daemon reported written (rauditctl -s, just before
#     its kill) is in its segments afterwards;
#   - the events in the spool are unique serials, none twice.
# SIGKILL loses no page-cache data, so what is lost is what was in flight:
# records in the ring and in the socket at each kill, and the events
# generated while no daemon was registered (the kernel prints and drops
# them). Both are estimated and printed; neither fails the test.
#
# A SIGKILLed rauditd cannot remove its exclude rule (never,exit -S all -F
# pid=PID); the test deletes it, and waits until the kernel has dropped the
# dead registration (pid 0, which happens at its first failed delivery; an
# auditctl -m message makes sure there is one) before the restart.
set -u
. "$top_srcdir/tests/integration/lib.sh"

KILLS=${CK_KILLS:-5}
RATE=${CK_RATE:-2000}		# audited events per second
LOAD_S=${CK_LOAD_SECONDS:-40}	# the load runs this long; the kills fit in it
SEED=${CK_SEED:-$$}
RAUDITCTL="$top_builddir/rauditctl"

require_root
make_work
KEY="rauditd_crash_$$"
KILLED=()
# Rules the killed daemons left behind, on every exit path.
del_exclude_rules() {
	local p
	for p in "${KILLED[@]}"; do
		timeout 5 auditctl -d never,exit -S all -F pid="$p" >/dev/null 2>&1 || true
	done
}
trap 'del_exclude_rules; [ -n "${LPID:-}" ] && kill "$LPID" 2>/dev/null; kernel_restore; cleanup_work' EXIT
trap 'exit 1' INT TERM
kernel_save

kernel_conf "flush = data" "segment_size = 1M" "num_segments = 0"

status_value() {
	timeout 10 "$RAUDITCTL" -c "$WORK/rauditd.conf" -s 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }'
}
has_status() { [ -n "$(status_value spool_segment)" ]; }
highest_segment() {
	ls "$WORK/spool" 2>/dev/null | sed -n 's/^audit-0*\([0-9][0-9]*\)\.log$/\1/p' | sort -n | tail -1
}
seg_path() { printf '%s/spool/audit-%08d.log' "$WORK" "$1"; }
starts_with_marker() { head -1 "$(seg_path "$1")" 2>/dev/null | grep -q "^type=DAEMON_ROTATE .* segment=$1 reason=start "; }
unregistered() { timeout 5 auditctl -m "rauditd crash test: is anyone there" >/dev/null 2>&1; [ "$(kstat pid)" = 0 ]; }
now() { date +%s.%N; }

# start_checked N: start rauditd, wait until it is registered and serving
# status, and check that it opened segment N with its start marker.
start_checked() {
	start_rauditd "$WORK/rauditd.conf"
	wait_for 10 registered_as "$RPID" || { cat "$WORK/rauditd.log" >&2; fail "rauditd (pid $RPID) did not register"; }
	wait_for 10 has_status || fail "rauditd (pid $RPID) does not answer status"
	wait_for 10 starts_with_marker "$1" ||
		fail "start $((${#KILLED[@]} + 1)): segment $1 missing or without its start marker (numbering must continue)"
}

RANDOM=$SEED
log "seed $SEED: $KILLS kills under $RATE events/s, flush = data"
start_checked 1
lost0=$(kstat lost)
EVENTS=$((RATE * LOAD_S))
load_prepare "$EVENTS" 2 -r "$RATE" -t $((LOAD_S * 3)) -T "$WORK/timeline"
kill -USR1 "$LPID"

injected=0 torn_total=0 torn_starts=0 down=() seg_first=1
for k in $(seq 1 "$KILLS"); do
	# A random moment 0.5 to 3.0 s into this daemon's life.
	ms=$((500 + RANDOM % 2500))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -0 "$LPID" 2>/dev/null || fail "the load ended before kill $k (raise CK_LOAD_SECONDS)"
	# What the daemon says it has written just before the kill must all be
	# in its segments afterwards: SIGKILL loses no written data.
	written=$(status_value written)
	t_kill=$(now)
	kill -KILL "$RPID"
	wait "$RPID" 2>/dev/null
	KILLED+=("$RPID")
	RPID=
	timeout 5 auditctl -d never,exit -S all -F pid="${KILLED[-1]}" >/dev/null 2>&1 ||
		fail "kill $k: the exclude rule of pid ${KILLED[-1]} was not in the kernel"
	wait_for 10 unregistered || fail "kill $k: the kernel still names dead pid $(kstat pid) as its daemon"

	high=$(highest_segment)
	# Before the second restart: a torn write of our own, a partial line.
	if [ "$k" = 2 ]; then
		printf 'type=SYSCALL msg=audit(1796117749.645:1): arch=c000003e syscal' >>"$(seg_path "$high")"
		injected=$(printf 'type=SYSCALL msg=audit(1796117749.645:1): arch=c000003e syscal' | wc -c)
	fi
	tail_bytes=$(tail -c 1 "$(seg_path "$high")" 2>/dev/null | od -An -c | tr -d ' ')
	logn=$(wc -l <"$WORK/rauditd.log")
	start_checked $((high + 1))
	down+=("$t_kill $RPID")
	have=0
	for n in $(seq "$seg_first" "$high"); do
		c=$(grep -vc '^type=DAEMON_' "$(seg_path "$n")")
		have=$((have + c))
	done
	[ "$have" -ge "${written:-0}" ] ||
		fail "kill $k: the daemon had written $written records, its segments $seg_first..$high hold $have"
	seg_first=$((high + 1))

	cut=$(sed -n "$((logn + 1)),\$p" "$WORK/rauditd.log" |
		sed -n "s/.*spool: cut a torn last line of \([0-9]*\) bytes from segment $high\$/\1/p")
	shown=$(status_value spool_torn_bytes)
	if [ -n "$tail_bytes" ] && [ "$tail_bytes" != '\n' ]; then
		# The segment ended in a partial line: cut, logged, and counted.
		[ -n "$cut" ] || fail "kill $k: segment $high ended in a partial line and no cut was logged"
		[ "$shown" = "$cut" ] || fail "kill $k: logged a cut of $cut bytes, status shows spool_torn_bytes $shown"
		[ "$k" != 2 ] || [ "$cut" -ge "$injected" ] || fail "kill $k: cut $cut bytes, less than the $injected injected"
		torn_total=$((torn_total + cut)) torn_starts=$((torn_starts + 1))
	else
		[ -z "$cut" ] || fail "kill $k: cut $cut bytes from segment $high, which ended in a newline"
		[ "$shown" = 0 ] || fail "kill $k: nothing cut, yet spool_torn_bytes is $shown"
	fi
	log "kill $k at +${ms} ms: pid ${KILLED[-1]} killed after writing $written records ($have in its segments), restarted as $RPID on segment $((high + 1)); torn tail cut: ${cut:-none}"
done

wait "$LPID" || fail "audit_load failed"
LPID=
rule_del_all
lost1=$(kstat lost)
# Let the last records arrive before stopping (bounded).
wait_for 20 sh -c "[ \$(cat '$WORK'/spool/audit-*.log | grep -c 'key=\"$KEY\"') -ge \$(($EVENTS * 9 / 10)) ]" || true
sleep 1
stop_rauditd 30
[ "$RSTATUS" = 0 ] || { tail -20 "$WORK/rauditd.log" >&2; fail "rauditd exited with $RSTATUS"; }

# ---- checks -----------------------------------------------------------
verify=$("$RAUDITCTL" verify "$WORK/spool" 2>&1) || { printf '%s\n' "$verify" >&2; fail "rauditctl verify found problems"; }
log "verify: $(printf '%s\n' "$verify" | tail -1)"

cat "$WORK"/spool/audit-*.log >"$WORK/all.log"
serials() {
	grep '^type=SYSCALL ' "$WORK/all.log" | grep "key=\"$KEY\"" |
		sed -n 's/^type=SYSCALL msg=audit([0-9.]*:\([0-9]*\)).*/\1/p'
}
got=$(serials | sort -u | wc -l)
dups=$(serials | sort | uniq -d | wc -l)
[ "$dups" = 0 ] || fail "$dups serials appear more than once"
[ "$got" -gt 0 ] || fail "no event of the load in the spool"
[ "$got" -le "$EVENTS" ] || fail "$got events in the spool, more than the $EVENTS generated"
starts=$(grep -c '^type=DAEMON_ROTATE .* reason=start ' "$WORK/all.log")
[ "$starts" = $((KILLS + 1)) ] || fail "$starts start markers in the spool, expected $((KILLS + 1))"
ends=$(grep -c '^type=DAEMON_END ' "$WORK/all.log")
[ "$ends" = 1 ] || fail "$ends DAEMON_END records: only the last, clean stop writes one"
[ "$torn_starts" -ge 1 ] || fail "no torn tail was cut (one was injected before restart 2)"

# Where the loss happened. Events generated between a kill and the next
# registration (the kernel's own CONFIG_CHANGE "op=set audit_pid=PID old=0"
# record stamps it) had no daemon: without audit=1 on the kernel command
# line the kernel prints and drops them without counting them in lost. The
# load's 100 ms timeline, interpolated, says how many calls fell in each
# such window; the rest of the loss was in the ring and in the socket when
# the kill came.
calls_at() {
	awk -v t="$1" '/^#/ { next }
		$1 + 0 <= t + 0 { t0 = $1; c0 = $3; next }
		{ if (t0 == "") print $3; else print int(c0 + ($3 - c0) * (t - t0) / ($1 - t0)); done = 1; exit }
		END { if (!done) print c0 + 0 }' "$WORK/timeline"
}
downtime=0 perkill=""
for d in "${down[@]}"; do
	set -- $d
	t_reg=$(grep -m1 "^type=CONFIG_CHANGE .* op=set audit_pid=$2 old=0 " "$WORK/all.log" |
		sed -n 's/^type=CONFIG_CHANGE msg=audit(\([0-9.]*\):.*/\1/p')
	[ -n "$t_reg" ] || fail "no registration record of pid $2 in the spool"
	n=$(($(calls_at "$t_reg") - $(calls_at "$1")))
	downtime=$((downtime + n))
	perkill="$perkill $n"
done
lost=$((EVENTS - got))
inflight=$((lost - downtime))
log "events $EVENTS, in the spool $got (unique serials, no duplicates), lost $lost across $KILLS kills"
log "  about $downtime of them generated while no daemon was registered (per kill:$perkill;" \
	"dropped by the kernel, its lost counter moved by $((lost1 - lost0)))"
log "  about $inflight in the ring and the socket at the kills (about $((inflight / KILLS)) per kill)"
log "torn tails cut at $torn_starts of $KILLS restarts, $torn_total bytes (one tail of $injected bytes injected)"
exit 0
