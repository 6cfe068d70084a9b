#!/bin/bash
# chain_verify.sh - rauditctl keygen and `rauditctl verify DIR --key K`
# against a spool whose chain is computed here, independently of chain.c,
# with sha256sum, openssl and xxd from the format in rauditctl(8): the key
# file and verification key, key evolution, digests, HMAC links. An
# untouched keyed spool verifies with the key given as text and as a file;
# a byte edited in a sealed segment, the wrong verification key, and a
# spool with its chain fields stripped fail with the segment named; a spool
# written without any chain still verifies as before. No daemon, no kernel.
set -u
. "$top_srcdir/tests/integration/lib.sh"

RAUDITCTL=$top_builddir/rauditctl
for tool in sha256sum openssl xxd; do
	command -v "$tool" >/dev/null || skip "$tool missing"
done
make_work
trap cleanup_work EXIT
: >"$WORK/empty.conf"
ctl() { "$RAUDITCTL" -c "$WORK/empty.conf" "$@"; }
SPOOL=$WORK/spool
mkdir -m 0700 "$SPOOL"

# ---- the key --------------------------------------------------------------------
VKEY=$(ctl keygen "$WORK/seal.key" "$SPOOL" 2>"$WORK/keygen.err") || fail "keygen: $(cat "$WORK/keygen.err")"
[[ $VKEY =~ ^seal1-1-[0-9a-f]{64}$ ]] || fail "verification key looks wrong: $VKEY"
[ "$(stat -c %a "$WORK/seal.key")" = 600 ] || fail "key file mode $(stat -c %a "$WORK/seal.key")"
K=${VKEY##*-}
grep -qx "seal1-00000000000000000001-$K" "$WORK/seal.key" || fail "key file: $(cat "$WORK/seal.key")"
ctl keygen "$WORK/seal.key" "$SPOOL" >/dev/null 2>&1 && fail "keygen overwrote an existing key file"

# ---- a spool of 4 segments, chained here ------------------------------------------
hmac() { xxd -r -p | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" -r | cut -c1-64; }
evolve() { { printf 'rauditd-evolve'; printf %s "$1" | xxd -r -p; } | sha256sum | cut -c1-64; }
ZERO=$(printf '%064d' 0)
seg() { printf '%s/audit-%08d.log' "$SPOOL" "$1"; }
prev=$ZERO digest=$ZERO link=$ZERO serial=0
for n in 1 2 3 4; do
	serial=$((serial + 1))
	printf 'type=DAEMON_ROTATE msg=audit(1700000000.000:%d): op=rotate-logs segment=%d reason=size pid=1 chain=hmac-sha256 chain_seg=%d chain_digest=%s chain_link=%s res=success\n' \
		"$serial" "$n" $((n - 1)) "$digest" "$link" >"$(seg $n)"
	for i in 1 2 3 4 5; do
		serial=$((serial + 1))
		printf 'type=SYSCALL msg=audit(1700000001.%03d:%d): arch=c000003e syscall=257 success=yes exit=3 pid=%d comm="cat" key="t"\n' \
			"$i" "$serial" $((100 + i)) >>"$(seg $n)"
	done
	# Seal it: digest, link under K_n, then evolve the key.
	prev=$link
	digest=$(sha256sum <"$(seg $n)" | cut -c1-64)
	link=$(printf '%s%016x%s' "$prev" "$n" "$digest" | hmac "$K")
	K=$(evolve "$K")
done
printf 'type=SYSCALL msg=audit(1700000002.000:99): torn' >>"$(seg 4)"

# ---- untouched: passes ------------------------------------------------------------------
out=$(ctl verify "$SPOOL" --key "$VKEY" 2>&1) || { printf '%s\n' "$out" >&2; fail "untouched spool does not verify"; }
printf '%s\n' "$out" | grep -q "chain: 3 sealed segment(s) verified with the verification key, 0 explained break(s), 0 problem(s)" ||
	{ printf '%s\n' "$out" >&2; fail "verify did not check 3 seals with the key"; }
printf '%s\n' "$VKEY" >"$WORK/vkey"
ctl verify --key "$WORK/vkey" "$SPOOL" >/dev/null 2>&1 || fail "--key FILE does not work"
out=$(ctl verify "$SPOOL" 2>&1) || fail "verify without the key failed"
printf '%s\n' "$out" | grep -q -- "--key" || fail "verify without the key does not say the MACs went unchecked"

# ---- the wrong key ---------------------------------------------------------------------
other=$(ctl keygen "$WORK/other.key" "$SPOOL" 2>/dev/null) || fail "second keygen"
[[ $other =~ ^seal1-4- ]] || fail "keygen did not give the key the newest segment: $other"
out=$(ctl verify "$SPOOL" --key "seal1-1-${other##*-}" 2>&1) && fail "a wrong key verified"
printf '%s\n' "$out" | grep -q "^$(seg 1): its link .* does not verify under the verification key" ||
	{ printf '%s\n' "$out" >&2; fail "wrong key: segment 1 not named"; }
ctl verify "$SPOOL" --key "seal1-1-xyz" >/dev/null 2>&1
[ $? = 2 ] || fail "a malformed key is not a usage error"

# ---- one byte edited in a sealed segment ----------------------------------------------
cp -a "$SPOOL" "$WORK/spool.orig"
sed -i '3s/success=yes/success=yeZ/' "$(seg 2)"
out=$(ctl verify "$SPOOL" --key "$VKEY" 2>&1) && fail "an edited segment verified"
printf '%s\n' "$out" | grep -q "^$(seg 2): does not match the digest sealed in" ||
	{ printf '%s\n' "$out" >&2; fail "edit: segment 2 not named"; }

# ---- chain fields stripped from every segment: the key still demands them ---------------
rm -rf "$SPOOL" && cp -a "$WORK/spool.orig" "$SPOOL"
sed -i '1s/ chain=.* res=/ res=/' "$SPOOL"/audit-*.log
out=$(ctl verify "$SPOOL" 2>&1) || { printf '%s\n' "$out" >&2; fail "a spool without a chain no longer verifies"; }
printf '%s\n' "$out" | grep -q "written without tamper evidence" || fail "no note about the missing chain"
out=$(ctl verify "$SPOOL" --key "$VKEY" 2>&1) && fail "a stripped chain verified with the key"
printf '%s\n' "$out" | grep -q "^$(seg 1): its marker has no chain fields" ||
	{ printf '%s\n' "$out" >&2; fail "stripped: segment 1 not named"; }
log "ok"
exit 0
