/*
 * writer.h - the writer thread: ring -> audit.log lines -> spool.
 *
 * DESIGN
 * The writer thread owns the ring's consumer side, the spool (all its file
 * descriptors), fsync, rotation and retention, and struct writer_stats.
 * The main thread owns struct writer and calls the functions below; they
 * only set atomic request flags, copy a settings snapshot under a mutex the
 * receive path never touches, and write the writer's eventfd.
 *
 * The writer takes records from the ring without releasing them, formats a
 * batch, writes it with one write, and only then releases the ring space.
 * A failed write (ENOSPC, EIO) therefore loses nothing: the records stay in
 * the ring, the writer enters a degraded state and retries on a timer, and
 * when the disk comes back it catches up by itself. Only the ring filling
 * up makes the receive path drop records, and those are counted there.
 *
 * The writer calls back into the main thread only through notify(arg), an
 * ev_async wake-up that carries no data (state changes, stop).
 */
#ifndef RAUDITD_WRITER_H
#define RAUDITD_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "cursors.h"
#include "diskpolicy.h"
#include "format.h"
#include "plugins.h"
#include "spool.h"
#include "stats.h"

/* The writer's own state; the derived "slow" and "stalled" are report.c's. */
enum writer_state {
	WRITER_OK,
	WRITER_DISK_FULL,	/* ENOSPC: retrying */
	WRITER_ERROR,		/* EIO or another error: retrying */
	WRITER_STOPPED,
	WRITER_NSTATES
};

struct ring;
struct spool;
struct writer;

/* Plugins retention waits for: every cursor but rauditd-ship's. */
#define WRITER_PLUGINS_MAX	(CURSORS_MAX - 1)

/* The part of the configuration the writer uses; reloadable as a whole. */
struct writer_settings {
	enum config_flush	flush;
	uint32_t		freq;
	uint32_t		flush_interval_ms;	/* incremental: oldest unsynced age */
	uint64_t		segment_size;
	uint32_t		num_segments;
	uint64_t		max_spool_size;
	enum config_format	log_format;
	uint32_t		batch_size;
	uint32_t		retry_interval_ms;
	char			ship_cursor[PATH_MAX];	/* rauditd-ship's, "" = none */
	/* The active plugins retention waits for (plugins_cursor_names, read off
	 * the receive path); their cursors are in plugin_cursor_dir. */
	char			plugin_cursor_dir[PATH_MAX];
	char			plugins[WRITER_PLUGINS_MAX][PLUGINS_NAME_MAX];
	uint32_t		nplugins;
	bool			plugins_valid;	/* false: keep the list the writer has */
	char			seal_key[PATH_MAX];	/* chain key file, "" = unkeyed (start only) */
	struct diskpolicy_settings dp;			/* disk-space policy */
	char			node[FORMAT_NODE_MAX + 1];	/* "" = no node= prefix */
	char			view_log_file[PATH_MAX];	/* auditd's log_file, "" = no view */
};

void writer_settings_from_config(struct writer_settings *ws, const struct config *c);

/*
 * Create the writer. It takes ownership of spool. notify(arg) is called from
 * the writer thread when its state changes. Returns NULL with errno set.
 */
struct writer *writer_new(struct ring *ring, struct spool *spool,
    const struct writer_settings *ws, struct writer_stats *st,
    void (*notify)(void *), void *arg);

/*
 * Start the thread. start_text is the body of the DAEMON_START record it
 * writes first. All signals are blocked in the new thread. Returns 0 or a
 * negative errno.
 */
int writer_start(struct writer *w, const char *start_text);

/*
 * The nice value the thread sets for itself when it starts (the main thread
 * may have raised its own priority before creating it). Before writer_start.
 */
void writer_set_nice(struct writer *w, int nice);

/* Producer side: wake the writer (the ring went from empty to non-empty). */
void writer_wake(struct writer *w);

/* Ask for a rotation (SIGUSR1, rauditctl rotate). */
void writer_rotate(struct writer *w);
/*
 * The same for a SIGUSR1 whose sender is known: who ("auid=A pid=P subj=S")
 * takes the place of the daemon's own pid in the new segment's marker, as
 * auditd's DAEMON_ROTATE names the sender.
 */
void writer_rotate_by(struct writer *w, const char *who);

/*
 * Write a daemon record of type with text (a DAEMON_CONFIG after a reload)
 * ahead of the next batch. One at a time: a note not yet written is replaced.
 */
void writer_note(struct writer *w, int type, const char *text);

/* Retry a degraded disk now instead of at the next timer (SIGUSR2). */
void writer_resume(struct writer *w);

/* Give the writer new settings (SIGHUP). */
void writer_reconfigure(struct writer *w, const struct writer_settings *ws);

/*
 * Stop: drain the ring (for at most timeout_s seconds), write DAEMON_END with
 * end_text, fsync, join the thread. Returns 0; -ETIMEDOUT if the thread did
 * not finish in time (a hung disk), in which case the records still in the
 * ring are reported in *left and the thread is abandoned to process exit.
 */
int writer_stop(struct writer *w, unsigned timeout_s, const char *end_text,
    uint64_t *left);

/*
 * Re-exec: pause the thread at a batch boundary (everything it took from
 * the ring is written and released, the segment synced; no DAEMON_END) and
 * join it, waiting at most timeout_ms. -ETIMEDOUT if a write does not
 * return (a hung disk): then do not exec, a write would be cut in half.
 * writer_reattach() restarts the thread after a re-exec that failed.
 */
int writer_detach(struct writer *w, unsigned timeout_ms);
int writer_reattach(struct writer *w);

/*
 * The writer's in-flight note, kept in the ring's opaque struct
 * ring_inflight: set before a batch is written, cleared after the batch is
 * released. It names the ring position the batch starts at, so settling is
 * idempotent whatever the crash point: once the ring's tail has moved past
 * that position the batch was released and nothing is to be skipped.
 */
struct writer_inflight {
	uint64_t	ring_pos;	/* the ring's tail when the batch was taken */
	uint64_t	records;	/* ring records in the batch */
	struct spool_pos at;		/* where the batch's first record line goes */
};

/*
 * After adopting the ring of an instance that died: the batch it was
 * writing may be in the spool in part or in full while still in the ring.
 * Release from the ring the records whose lines are in the segment (after
 * spool_open cut a torn tail), so none is written twice; a batch already
 * released (the tail is past its start) is left alone. *skipped gets the
 * count. Before the writer starts. 0 or a negative errno.
 */
int writer_settle_inflight(struct ring *r, const char *spool_dir, uint64_t *skipped);

/* Free after a successful writer_stop(). */
void writer_free(struct writer *w);

/*
 * A consistent snapshot of what the writer has taken from the ring: kernel
 * records written and loss markers consumed, and the ring's out counter at
 * the same moment. Any thread.
 */
void writer_counts(const struct writer *w, uint64_t *written, uint64_t *markers,
    uint64_t *ring_out);

const char *writer_state_name(enum writer_state s);

#endif
