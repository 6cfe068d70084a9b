/*
 * chain.h - the tamper-evidence chain over sealed spool segments.
 *
 * DESIGN. Every segment is digested (SHA-256, OpenSSL libcrypto) as it is
 * written. When segment i is sealed, the DAEMON_ROTATE record that opens
 * segment i+1 carries, before its res= field:
 *
 *   chain=ALG chain_seg=i chain_digest=D chain_link=L
 *
 *   ALG  sha256 or hmac-sha256 (a sealing key is configured)
 *   D    SHA-256 of every byte of segment i, 64 lower-case hex digits
 *   L    link_i = F(link_{i-1} || be64(i) || D), 64 hex digits, where F is
 *        SHA-256, or HMAC-SHA256 under K_i, the key of segment i; link_{i-1}
 *        is the chain_link of segment i's own first record
 *
 * so each sealed segment is bound to every one before it. Values are hex
 * or decimal, never a space or a quote: safe on an audit.log line, and
 * ausearch reads them as plain fields of the daemon record. A chain starts
 * (fresh spool) or restarts (a break) with chain_seg=i chain_digest=0...0
 * chain_link=0...0, i = one below the new segment: nothing before it is
 * covered. A restart anywhere but in the oldest segment present must be
 * explained by a DAEMON_ERR record "op=chain-break reason=WHY" among the
 * daemon records at the start of the same segment (its first
 * CHAIN_HEAD_MAX bytes); the verifier accepts a break only then.
 *
 * Forward-secure keying: K_{i+1} = SHA-256("rauditd-evolve" || K_i). The
 * key file holds one line "seal1-SEGMENT-HEX": the current key and the
 * segment it belongs to, nothing else; the verification key printed by
 * rauditctl keygen has the same form (K_0 and its segment). The verifier
 * evolves K_0 forward, so a chain rebuilt with a later, stolen key fails.
 *
 * What the writer must do (writer thread only; the struct is not shared):
 *  - fresh spool: chain_start(new segment) -> fields of its marker;
 *  - every append: chain_update() on exactly the bytes appended, after the
 *    write succeeded (a failed write cut back by spool_append is not
 *    hashed; a short write that was completed is hashed once, whole);
 *  - rotation: chain_seal() after the last append to the old segment ->
 *    fields of the new segment's marker; once that marker is written and
 *    fsynced, chain_key_advance() (keyed only). In that order: a crash
 *    between them leaves the key file one segment behind, which recovery
 *    evolves forward; the other order would lose the key of an unsealed
 *    segment and force a break.
 *  - startup, re-exec upgrade, fd-store restart: after the torn tail is
 *    cut, chain_resume() on the segment that was newest before this start
 *    (spool_recovery.last; a re-read, at startup only), then chain_seal()
 *    for the new segment's marker as at rotation, chain_key_advance() once
 *    it is on disk. A fresh spool (no segment before) gets chain_start().
 *    If the newest segment is empty (a crash after it was created, before
 *    its marker was written), chain_resume() the one before it and call
 *    chain_seal() twice: the first seal is written nowhere, the second
 *    (the empty segment's) goes into the new marker; the verifier folds
 *    the unwritten link in. When chain_resume() or a chain_seal() fails
 *    (no chain marker: a pre-chain spool; a key that has already evolved
 *    past the segment; an unreadable segment), the writer calls
 *    chain_start() and writes "op=chain-break reason=..." as a DAEMON_ERR
 *    right after the marker.
 *  - retention may delete the oldest segments: the verifier takes the
 *    oldest present as its anchor.
 */
#ifndef RAUDITD_CHAIN_H
#define RAUDITD_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHAIN_HASH_LEN		32	/* SHA-256 bytes */
#define CHAIN_HEX_LEN		64	/* ... as hex digits */
/* The chain fields of one marker: 4 names, 2 hashes, 2 numbers, with room. */
#define CHAIN_FIELDS_MAX	256
/* Key file and verification key: "seal1-" 20 digits "-" 64 hex, NUL. */
#define CHAIN_KEY_TEXT_MAX	96
/* Where a chain-break record must appear: the daemon records that open a
 * segment (the writer's pre-batch buffer is 16 KiB). */
#define CHAIN_HEAD_MAX		(16 * 1024)

struct chain;

/* A new, unkeyed chain with no segment yet. NULL with errno set. */
struct chain *chain_new(void);

/* Erase the key in memory, close the key file, free. NULL is fine. */
void chain_free(struct chain *c);

/*
 * Key the chain with the key file at path (keyed, forward-secure mode).
 * The file must be a regular file owned by the effective uid with no group
 * or other permissions, not a symlink; it stays open for the rewrites of
 * chain_key_advance(). Returns 0, -EINVAL (not a key file), -EPERM (owner
 * or mode), -ELOOP/-ENOENT/... ; *what names the failed check.
 */
int chain_key_open(struct chain *c, const char *path, const char **what);

/*
 * Create a new key file at path (O_EXCL, 0600) whose key is random
 * (getrandom) and belongs to segment, fsync it and its directory, and write
 * the verification key into vkey (CHAIN_KEY_TEXT_MAX). Returns 0 or -errno.
 */
int chain_key_create(const char *path, uint64_t segment, char *vkey, size_t cap);

/*
 * Start (or restart after a break) the chain at segment: the previous link
 * is zero and segment's running digest is empty. Writes the marker fields
 * (chain_seg = segment - 1, zero digest and link) into out. Returns their
 * length, -ENOSPC, or -EINVAL for segment 0.
 */
int chain_start(struct chain *c, uint64_t segment, char *out, size_t cap);

/* Add bytes appended to the open segment to its digest. 0 or -ENOMEM. */
int chain_update(struct chain *c, const void *buf, size_t len);

/*
 * Seal the open segment: finish its digest, compute its link (a MAC under
 * its key when keyed, evolving the in-memory key forward to the segment if
 * the file lags), write the fields for the next segment's marker into out,
 * and start the next segment (number + 1) with an empty digest. cap must
 * be at least CHAIN_FIELDS_MAX. Returns the fields' length, -ENOSPC, or
 * -ESTALE when the key has already evolved past the segment (nothing
 * changed: the caller breaks the chain).
 */
int chain_seal(struct chain *c, char *out, size_t cap);

/*
 * Keyed: evolve the key to the open segment's, erase the old one in memory
 * and rewrite the key file in place (same inode, same length) and fsync it.
 * Call once the marker holding the last seal is on disk. Unkeyed: no-op.
 * Returns 0 or -errno (the in-memory key has evolved regardless).
 */
int chain_key_advance(struct chain *c);

/*
 * Rebuild the running state of segment from its file fd (startup only):
 * digest every byte from offset 0 to the end, and take the previous link
 * from the chain fields of its first record. Returns 0; -ENODATA when the
 * segment has no chain marker (empty, or written before chaining; the
 * digest is still built but the link is lost: the caller breaks the chain);
 * -EINVAL when the marker names another segment; -errno of read.
 */
int chain_resume(struct chain *c, int fd, uint64_t segment);

uint64_t chain_segment(const struct chain *c);	/* the open segment */
bool chain_keyed(const struct chain *c);

/* ---- primitives the verifier shares ------------------------------------ */

/* K <- SHA-256("rauditd-evolve" || K), erasing the old value. 0 or -errno. */
int chain_key_evolve(unsigned char key[CHAIN_HASH_LEN]);

/*
 * link = F(prev || be64(segment) || digest): SHA-256, or HMAC-SHA256 under
 * key when key is not NULL. Returns 0 or -errno.
 */
int chain_link(const unsigned char prev[CHAIN_HASH_LEN], uint64_t segment,
    const unsigned char digest[CHAIN_HASH_LEN], const unsigned char *key,
    unsigned char out[CHAIN_HASH_LEN]);

/* "seal1-SEGMENT-HEX" (an optional trailing newline) -> segment, key. */
int chain_key_parse(const char *text, size_t len, uint64_t *segment,
    unsigned char key[CHAIN_HASH_LEN]);

/* The chain fields of a segment's first record. */
struct chain_marker {
	uint64_t	segment;	/* segment= : the segment it opens */
	bool		chained;	/* has the chain fields below */
	bool		keyed;		/* chain=hmac-sha256 */
	uint64_t	sealed;		/* chain_seg= */
	unsigned char	digest[CHAIN_HASH_LEN];
	unsigned char	link[CHAIN_HASH_LEN];
};

/*
 * Parse line[0..len) (without '\n') as a DAEMON_ROTATE marker. Returns 0
 * with m filled (m->chained false when it has no chain fields), -EINVAL
 * when it is not a marker or a chain field is malformed or repeated.
 */
int chain_marker_parse(const char *line, size_t len, struct chain_marker *m);

/* True when all CHAIN_HASH_LEN bytes are zero (a chain start or break). */
bool chain_is_zero(const unsigned char h[CHAIN_HASH_LEN]);

#endif
