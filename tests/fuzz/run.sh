#!/bin/sh
# run.sh - build the libFuzzer targets with clang and run each for a bounded
# time; fail on any crash, leak, timeout or sanitizer report.
#
# usage: tests/fuzz/run.sh [SECONDS] [TARGET...]
#   SECONDS  per target (-max_total_time), default 30
#   TARGET   fuzz_netlink fuzz_format fuzz_config fuzz_spool_reader
#            fuzz_control (default: all)
# environment:
#   FUZZ_BUILD  build and work directory (default: _build_fuzz in the tree)
#   CC          a clang with libFuzzer (default clang; Debian: clang and
#               libclang-rt-14-dev)
#
# The daemon's modules are compiled once into an archive and each target
# is linked against it, with -fsanitize=fuzzer,address,undefined and UBSan
# made fatal, against a build_config.h written here, so no configure run
# is needed. Every file under tests/fuzz/regressions/TARGET/
# is replayed first (a crash once found stays fixed), then the target runs
# from the seed corpus tests/fuzz/corpus/TARGET/; new inputs go to a
# working corpus in the build directory, never into the tree. A finding
# leaves its input in FUZZ_BUILD/artifacts/: copy it to regressions/.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=${1:-30}
[ $# -gt 0 ] && shift
targets=${*:-fuzz_netlink fuzz_format fuzz_config fuzz_spool_reader fuzz_control}
B=${FUZZ_BUILD:-$top/_build_fuzz}
CC=${CC:-clang}

case $secs in
''|*[!0-9]*) echo "run.sh: SECONDS must be a number, got '$secs'" >&2; exit 2 ;;
esac
command -v "$CC" >/dev/null 2>&1 || { echo "run.sh: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

mkdir -p "$B/artifacts" "$B/corpus"
cat >"$B/build_config.h" <<'H'
/* build_config.h for the fuzz build (tests/fuzz/run.sh), no configure. */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#define PACKAGE "rauditd"
#define PACKAGE_NAME "rauditd"
#define PACKAGE_VERSION "fuzz"
#define PACKAGE_STRING "rauditd fuzz"
H

CFLAGS="-std=gnu11 -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I$B -I$top/daemon $(pkg-config --cflags audit auparse 2>/dev/null || true)"
DEPS="audit auparse libcrypto libsystemd relp"
CFLAGS="$CFLAGS $(pkg-config --cflags $DEPS 2>/dev/null || true)"
LIBCFLAGS=$(echo "$CFLAGS" | sed 's/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,/')
LIBS="$B/libfuzzdaemon.a $(pkg-config --libs $DEPS 2>/dev/null || echo -laudit -lauparse -lcrypto -lsystemd -lrelp) -lev -pthread"

# Every target links the daemon's modules as one archive (every daemon/*.c
# but the programs' mains), built once here with the sanitizers and fuzzer
# instrumentation: a module that gains a dependency needs no list updated.
lib_sources() {
	for f in "$top"/daemon/*.c; do
		case ${f##*/} in
		rauditd.c|rauditctl.c|rauditd-ship.c|rauditd-dispatch.c) ;;
		*) echo "$f" ;;
		esac
	done
}
build_lib() {
	mkdir -p "$B/obj"
	rm -f "$B/obj"/*.o "$B/libfuzzdaemon.a"
	for f in $(lib_sources); do
		o="$B/obj/$(basename "$f" .c).o"
		# shellcheck disable=SC2086
		$CC $LIBCFLAGS -c -o "$o" "$f" || return 1
	done
	ar rcs "$B/libfuzzdaemon.a" "$B/obj"/*.o
}

max_len() {
	case $1 in
	fuzz_netlink|fuzz_format) echo 20000 ;;
	fuzz_config)              echo 8192 ;;
	fuzz_spool_reader)        echo 65536 ;;
	fuzz_control)             echo 70000 ;;
	esac
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

status=0
summary=""
echo "== the daemon's modules"
build_lib || { echo "run.sh: building the daemon's modules failed" >&2; exit 1; }
for t in $targets; do
	case $t in
	fuzz_netlink|fuzz_format|fuzz_config|fuzz_spool_reader|fuzz_control) ;;
	*) echo "run.sh: unknown target $t" >&2; exit 2 ;;
	esac
	echo "== $t: build"
	# shellcheck disable=SC2086
	$CC $CFLAGS -o "$B/$t" "$here/$t.c" $LIBS

	# Regressions first: every file is one input, run once.
	if [ -d "$here/regressions/$t" ] && [ -n "$(ls -A "$here/regressions/$t")" ]; then
		echo "== $t: replay regressions"
		if ! "$B/$t" -runs=1 "$here/regressions/$t"/* >"$B/$t.regress.log" 2>&1; then
			tail -n 60 "$B/$t.regress.log" >&2
			echo "== $t: FAIL: a regression input fails again (log: $B/$t.regress.log)" >&2
			status=1
			summary="$summary
$t: REGRESSION FAILED"
			continue
		fi
	fi

	echo "== $t: fuzz for $secs s"
	mkdir -p "$B/corpus/$t"
	rc=0
	"$B/$t" -max_total_time="$secs" -max_len="$(max_len "$t")" -timeout=20 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$B/artifacts/$t-" \
		"$B/corpus/$t" "$here/corpus/$t" >"$B/$t.log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/$t.log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$B/$t.log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$B/$t.log" | tail -1 | sed 's/cov: //')
	# A clean run ends with "Done"; anything a sanitizer printed is a finding.
	if [ "$rc" != 0 ] || grep -q -e '^==[0-9]*==ERROR' -e 'runtime error:' \
	    -e '^SUMMARY: ' "$B/$t.log"; then
		tail -n 80 "$B/$t.log" >&2
		echo "== $t: FAIL (exit $rc); inputs: $(ls "$B/artifacts" | grep "^$t-" | tr '\n' ' ')" >&2
		echo "   reproduce: $B/$t FILE; keep it: cp FILE $here/regressions/$t/" >&2
		status=1
		summary="$summary
$t: FAIL after ${execs:-?} executions"
	else
		summary="$summary
$t: ok, ${execs:-?} executions in $secs s (${rate:-?} exec/s), coverage ${cov:-?} edges"
	fi
done
echo "== summary$summary"
exit $status
