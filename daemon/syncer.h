/*
 * syncer.h - the writer's sync thread: one fdatasync/fsync at a time, off
 * the writer thread.
 *
 * DESIGN
 * On a slow disk a sync takes tens of milliseconds. Done on the writer
 * thread it stops the draining of the ring for that long, the ring fills
 * and the receive path drops records although the disk had bandwidth to
 * spare. So the writer hands the sync to this thread (as auditd's flush
 * thread and Redis's bio do) and goes on writing: one sync covers
 * everything written before it started, and at most one is in flight. The
 * writer gives a dup of the segment's descriptor (closed here once synced),
 * so a rotation can close its own at any time. done(arg) is called from
 * this thread when a sync finished (the writer's eventfd kick); the writer
 * collects the result with syncer_reap. Leaf module: no logging.
 */
#ifndef RAUDITD_SYNCER_H
#define RAUDITD_SYNCER_H

#include <stdbool.h>
#include <stdint.h>

struct syncer;

/* The result of one sync. */
struct syncer_result {
	int		err;		/* 0 or the negative errno of the sync */
	uint64_t	ns;		/* how long it took */
	uint64_t	tag;		/* what syncer_submit was given */
};

struct syncer *syncer_new(void (*done)(void *), void *arg);

/* Start the thread (signals blocked). 0 or a negative errno. */
int syncer_start(struct syncer *s);

/*
 * Sync fd (taken over: closed after the sync) with fdatasync (data_only) or
 * fsync. false, with fd left to the caller, when a sync is still in flight
 * or its result has not been reaped.
 */
bool syncer_submit(struct syncer *s, int fd, bool data_only, uint64_t tag);

/* true with *r when the submitted sync finished (then it is reaped). */
bool syncer_reap(struct syncer *s, struct syncer_result *r);

/* Wait at most ms for the sync in flight; true when none is left. */
bool syncer_wait(struct syncer *s, unsigned ms);

/* Stop the thread, waiting at most ms: 0, or -ETIMEDOUT (abandoned). */
int syncer_stop(struct syncer *s, unsigned ms);

void syncer_free(struct syncer *s);

#endif
