/*
 * handover.h - how an instance takes over from the one before it: a fresh
 * start, a restart through the service manager's fd store (the dead
 * instance's audit socket and ring), or a re-exec in place (same pid, the
 * registered socket and the ring passed across execve). Main thread.
 */
#ifndef RAUDITD_HANDOVER_H
#define RAUDITD_HANDOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct config;
struct kreg;
struct netlink_rx;
struct ring;
struct rx_stats;

enum handover_kind {
	HANDOVER_FRESH,		/* nothing to take over */
	HANDOVER_FDSTORE,	/* a previous instance's ring and/or socket */
	HANDOVER_REEXEC,	/* this process before its execve */
};

struct handover {
	enum handover_kind	 kind;
	int			 audit_fd;	/* REEXEC: the registered socket;
						 * FDSTORE: the old socket to drain, or -1 */
	int			 ring_fd;	/* REEXEC: the ring, until adopted */
	struct ring		*ring;		/* adopted, or NULL: make a new one */
	int			 nice;		/* REEXEC: the inherited base nice value */
	unsigned		 reexecs;	/* images before this one */
	time_t			 start_time;	/* of the first image */
	uint64_t		 carried_ring;	/* records found in the adopted ring */
};

/*
 * Before daemonizing: a re-executed image finds the hand-over in its
 * environment (and takes the kernel state into *k); anything else is a
 * fresh start for now. 0, or -EINVAL with err saying why.
 */
int handover_begin(struct handover *h, struct kreg *k, char *err, size_t len);

/*
 * After the spool is open: adopt the ring of a re-exec, or (fresh start
 * with a kernel) what the fd store holds, which makes it HANDOVER_FDSTORE.
 * The kernel note in an adopted ring goes into *k. 0, or a negative errno
 * with err when a re-exec's ring cannot be adopted.
 */
int handover_adopt(struct handover *h, struct kreg *k, const struct config *cfg,
    bool kernel, char *err, size_t len);

/*
 * FDSTORE: drain the old socket into the ring through rx, then put rx's own
 * socket back; returns the records read from the old one.
 */
uint64_t handover_drain_stored(struct handover *h, struct netlink_rx *rx,
    const struct rx_stats *st, size_t max_per_drain);

/* Hand the audit socket and the ring to the fd store (after registering). */
void handover_store(int audit_fd, const struct ring *r);

/* A clean stop: the socket is unregistered; an empty ring is not kept either. */
void handover_release(const struct ring *r);

/*
 * Re-exec exe with argv, passing the audit socket, the ring, the kernel
 * state, the count of images, the start time and the base nice value.
 * Returns only when it fails: a negative errno, with the environment and
 * close-on-exec put back.
 */
int handover_exec(const char *exe, char **argv, int audit_fd, const struct ring *r,
    const struct kreg *k, unsigned reexecs, time_t start_time, int nice);

#endif
