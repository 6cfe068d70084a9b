/*
 * seqgap.h - count kernel serials that never arrive, tolerating reordering.
 *
 * When the kernel cannot deliver a record (the daemon's socket buffer is
 * full past the send timeout) it prints and frees it, and its lost counter
 * barely moves: serials that never show up are the only witness. Records of
 * one event share a serial, and events finish out of serial order across
 * CPUs, so a serial is declared missing only once it falls a whole window
 * behind the newest serial seen. Leaf module, one thread (the receiver).
 */
#ifndef RAUDITD_SEQGAP_H
#define RAUDITD_SEQGAP_H

#include <stdbool.h>
#include <stdint.h>

/* Serials a late record may trail the newest by and still count as seen. */
#define SEQGAP_WINDOW	4096

struct seqgap {
	bool		started;
	uint32_t	base;		/* lowest serial not yet settled */
	uint32_t	newest;		/* highest serial seen */
	uint64_t	gaps;		/* serials declared missing */
	uint64_t	late;		/* records that arrived after being declared missing */
	uint64_t	seen[SEQGAP_WINDOW / 64];	/* indexed serial % WINDOW */
	uint64_t	missing[SEQGAP_WINDOW / 64];
};

void seqgap_init(struct seqgap *g);

/* Note a record with this kernel serial. */
void seqgap_note(struct seqgap *g, uint32_t serial);

/* Serials inside the window not seen yet (not yet declared missing). */
uint64_t seqgap_pending(const struct seqgap *g);

/* Declare every unseen serial up to the newest missing (at stop). */
void seqgap_settle(struct seqgap *g);

#endif
