# rsyslog.sh - helpers for the shipping tests (sourced after lib.sh, bash).
#
# Every rsyslogd is started by the test in the foreground (-n) with its own
# configuration, pid file and work directory, listening on 127.0.0.1 only,
# on a free high port, and stopped by the PID the test got from starting
# it; rsyslog_stop_all belongs in the test's EXIT trap.

RAUDITD_SHIP="$top_builddir/rauditd-ship"
RAUDITCTL="$top_builddir/rauditctl"

declare -A RS_PID=()

# Debian's rsyslog with the modules the tests load. Without it we skip; in
# CI it must be there.
require_rsyslog() {
	local why= m
	command -v rsyslogd >/dev/null 2>&1 || why="rsyslogd missing (apt-get install rsyslog rsyslog-relp)"
	if [ -z "$why" ]; then
		mkdir -p "$WORK/rscheck"
		for m in "$@"; do
			printf 'global(workDirectory="%s")\nmodule(load="%s")\naction(type="omfile" file="%s")\n' \
				"$WORK/rscheck" "$m" "$WORK/rscheck/out" >"$WORK/rscheck/$m.conf"
			# Only a module that does not load counts (imfile without
			# an input warns, and that is not our business here).
			rsyslogd -N1 -f "$WORK/rscheck/$m.conf" >"$WORK/rscheck/$m.out" 2>&1
			! grep -qi 'could not load module\|error.*module' "$WORK/rscheck/$m.out" ||
				why="${why:+$why; }rsyslog module $m unusable: $(grep -i module "$WORK/rscheck/$m.out" | head -1)"
		done
	fi
	if [ -n "$why" ]; then
		[ "${CI:-}" = true ] && fail "$why"
		skip "$why"
	fi
}

# port_state PORT: the TCP states of local port PORT ("0A" is LISTEN).
port_state() {
	local hex
	hex=$(printf ':%04X' "$1")
	awk -v h="$hex" 'NR > 1 && substr($2, length($2) - 4) == h { print $4 }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}
port_listening() { port_state "$1" | grep -qx 0A; }

# free_port: a high port nothing uses on this host.
free_port() {
	local p i
	for i in $(seq 1 100); do
		p=$((20000 + RANDOM % 40000))
		[ -z "$(port_state "$p")" ] && { echo "$p"; return 0; }
	done
	return 1
}

# rsyslog_start NAME CONF [PORT]: start rsyslogd -n with CONF, output to
# $WORK/NAME.rsyslog.log; with PORT, wait (bounded) until it listens there.
rsyslog_start() {
	local name=$1 conf=$2 port=${3:-}
	rsyslogd -n -f "$conf" -i "$WORK/$name.pid" >>"$WORK/$name.rsyslog.log" 2>&1 &
	RS_PID[$name]=$!
	if [ -n "$port" ]; then
		wait_for 15 rs_up "$name" "$port" ||
			{ cat "$WORK/$name.rsyslog.log" >&2; fail "rsyslogd $name does not listen on $port"; }
		kill -0 "${RS_PID[$name]}" 2>/dev/null ||
			{ cat "$WORK/$name.rsyslog.log" >&2; fail "rsyslogd $name exited at start"; }
	fi
}
rs_up() { port_listening "$2" || ! kill -0 "${RS_PID[$1]}" 2>/dev/null; }

# rsyslog_stop NAME [SIGNAL]: stop it by its PID (TERM: a graceful stop).
rsyslog_stop() {
	local name=$1 sig=${2:-TERM} pid=${RS_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill "-$sig" "$pid" 2>/dev/null || true
	wait_for 20 not_running "$pid" || { kill -KILL "$pid" 2>/dev/null; log "rsyslogd $name needed SIGKILL"; }
	wait "$pid" 2>/dev/null || true
	RS_PID[$name]=
}

rsyslog_stop_all() {
	local n
	for n in "${!RS_PID[@]}"; do
		rsyslog_stop "$n"
	done
}

# agg_conf CONF PORT OUT: an aggregator: imrelp on 127.0.0.1:PORT, every
# message written to OUT as "HOSTNAME MSGID STRUCTURED-DATA MSG". The
# ruleset queue is Direct, so a RELP acknowledgement means the message went
# through the file action.
agg_conf() {
	cat >"$1" <<EOF
global(workDirectory="$WORK/agg.work" maxMessageSize="64k")
module(load="imrelp")
template(name="shipped" type="string" string="%hostname% %msgid% %structured-data% %msg%\n")
ruleset(name="relp" queue.type="Direct") {
	action(type="omfile" file="$3" template="shipped")
}
input(type="imrelp" port="$2" address="127.0.0.1" ruleset="relp")
EOF
	mkdir -p "$WORK/agg.work"
}

# ship_verify SPOOL RECEIVED: compare what arrived with the spool's lines,
# identified by (segment, offset) from the structured data (seg= and off=,
# or file= with the segment's path). Prints one line of counts:
# spool N received M unique U duplicates D missing X mismatched Y unknown Z
ship_verify() {
	local spool=$1 received=$2 snap f
	[ -f "$received" ] || : >"$received"
	# Hard links hold the segments still while retention deletes around us.
	snap=$(mktemp -d "$WORK/snap.XXXXXX")
	for f in "$spool"/audit-*.log; do
		ln "$f" "$snap/" 2>/dev/null
	done
	# shellcheck disable=SC2012
	LC_ALL=C awk '
		FNR == 1 && FILENAME ~ /\/audit-[0-9]+\.log$/ {
			seg = FILENAME; sub(/.*\/audit-/, "", seg); sub(/\.log$/, "", seg); seg += 0
			off = 0
		}
		FILENAME ~ /\/audit-[0-9]+\.log$/ {
			want[seg ":" off] = $0; nwant++
			off += length($0) + 1
			next
		}
		{
			nrecv++
			if (!match($0, /\[rauditd@32473 [^]]*\] /)) { unknown++; next }
			sd = substr($0, RSTART, RLENGTH); line = substr($0, RSTART + RLENGTH)
			s = sd; o = sd
			if (s ~ / seg="/) { sub(/.* seg="/, "", s); sub(/".*/, "", s) }
			else { sub(/.* file="[^"]*\/audit-/, "", s); sub(/\.log".*/, "", s) }
			sub(/.* off="/, "", o); sub(/".*/, "", o)
			key = (s + 0) ":" (o + 0)
			if (!(key in want)) { if (!(key in gone)) { gone[key] = 1 }; unknown++; next }
			if (want[key] != line) { mismatched++; if (mismatched < 4) print "mismatch " key ": " line > "/dev/stderr" }
			if (seen[key]++) dups++; else uniq++
		}
		END {
			for (k in want) if (!(k in seen)) missing++
			printf "spool %d received %d unique %d duplicates %d missing %d mismatched %d unknown %d\n",
				nwant, nrecv, uniq, dups, missing, mismatched, unknown
		}' $(ls "$snap"/audit-*.log 2>/dev/null | sort) "$received"
	rm -rf "$snap"
}

# verify_field LINE NAME: a count from a ship_verify line.
verify_field() { echo "$1" | sed -n "s/.* $2 \([0-9]*\).*/\1/p;s/^$2 \([0-9]*\).*/\1/p" | head -1; }

# Without root the control socket answers status to control_group only,
# and rotation on request is root's: CTL_GROUP goes into the test's
# rauditd.conf, and rotate_daemon falls back to SIGUSR1.
CTL_GROUP=
[ "$(id -u)" = 0 ] || CTL_GROUP="control_group = $(id -gn)"
rotate_daemon() {
	if [ "$(id -u)" = 0 ]; then
		"$RAUDITCTL" -c "$WORK/rauditd.conf" rotate >/dev/null || fail "rauditctl rotate"
	else
		kill -USR1 "$RPID"
	fi
}

# rauditctl -s for the daemon of $WORK/rauditd.conf.
ctl_status() { "$RAUDITCTL" -c "$WORK/rauditd.conf" -s 2>/dev/null; }

# The daemon has written all it received (the fake kernel's records are all
# received once fake_kernel returns).
drained() {
	local st
	st=$(ctl_status)
	[ "$(echo "$st" | awk '$1 == "in_ring" { print $2 }')" = 0 ] &&
		[ "$(echo "$st" | awk '$1 == "received" { print $2 }')" = \
		  "$(echo "$st" | awk '$1 == "written" { print $2 }')" ]
}

# ship_status NAME: a value from rauditd-ship's status file.
ship_status() { awk -v k="$1" '$1 == k { print $2 }' "$SHIP_STATUS" 2>/dev/null; }
