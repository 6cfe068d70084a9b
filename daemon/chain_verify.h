/*
 * chain_verify.h - checking a spool directory's tamper-evidence chain.
 *
 * The chain and its record fields are described in chain.h. The verifier
 * reads the segment files themselves (every byte counts, so it does not go
 * through the line reader, which skips what it cannot parse), from the
 * oldest present, which is the anchor: its own link is taken as given,
 * since retention removes the oldest segments. Leaf module: findings go to
 * a callback, one line each, naming the segment file.
 */
#ifndef RAUDITD_CHAIN_VERIFY_H
#define RAUDITD_CHAIN_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "chain.h"

/* The verification key: K_0 and the segment it belongs to. */
struct chain_verify_key {
	uint64_t	segment;
	unsigned char	key[CHAIN_HASH_LEN];
};

/* What the check found. */
struct chain_verify_result {
	uint64_t	segments;	/* segment files checked */
	uint64_t	sealed_ok;	/* sealed segments whose seal checked out */
	uint64_t	macs_unchecked;	/* keyed seals whose MAC needs the key */
	uint64_t	breaks;		/* chain restarts explained by a record */
	uint64_t	failures;	/* anything else: the spool does not verify */
};

/*
 * One finding about file (a path under dir, or dir itself): a failure, or
 * a note (the anchor, a break, the open segment, MACs not checked).
 */
typedef void chain_verify_cb(void *arg, bool failure, const char *file, const char *msg);

/*
 * Check the chain of the spool in dir; key is the verification key or NULL.
 * Returns 0 when the check ran (res->failures says whether it passed), or a
 * negative errno when dir cannot be read.
 */
int chain_verify_dir(const char *dir, const struct chain_verify_key *key,
    chain_verify_cb *cb, void *arg, struct chain_verify_result *res);

/*
 * A quick look at dir without checking anything: *newest receives the
 * highest segment number present (0: none) and *chained how many segments
 * open with a marker that carries chain fields (the first line only).
 * Returns 0 or a negative errno.
 */
int chain_verify_survey(const char *dir, uint64_t *newest, uint64_t *chained);

#endif
