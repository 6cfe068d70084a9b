#!/bin/sh
# bench/format_cpu.sh - CPU per record of the formatter, RAW vs ENRICHED,
# over the captured auditd fixture (tests/fixtures/enriched/raw.txt): no
# kernel, no disk, only format.c as the writer calls it.
#
# usage: bench/format_cpu.sh [COUNT] [RAW_LOG]
# environment: BUILDDIR (default _b in the tree: a configured build with
# libraudit.a)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILDDIR:-$top/_b}
count=${1:-1000000}
log=${2:-$top/tests/fixtures/enriched/raw.txt}
[ -f "$B/libraudit.a" ] || { echo "format_cpu.sh: build first (make -C $B libraudit.a)" >&2; exit 2; }
out=$(mktemp -d "${TMPDIR:-/tmp}/format_cpu.XXXXXX")
trap 'rm -rf "$out"' EXIT
# shellcheck disable=SC2046
${CC:-cc} -O2 -I"$B" -I"$top/daemon" -o "$out/format_cpu" "$top/bench/format_cpu.c" \
	"$B/libraudit.a" $(pkg-config --libs audit auparse)
"$out/format_cpu" "$log" "$count"
