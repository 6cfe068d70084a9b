/*
 * cursors.h - the consumers' cursor files, read off the writer thread.
 *
 * DESIGN
 * Retention must not delete a segment a consumer (rauditd-ship now, the
 * plugins of issue 13 next) has not finished, so it needs every consumer's
 * persisted cursor. Those files live in directories that less privileged
 * users own: a FIFO, a symlink, a device or a file on a hung filesystem may
 * be planted there. The writer must never open them itself. A small thread
 * of its own reads the list of named cursor files periodically (each with
 * spool_cursor_read: non-blocking, no links, regular files only, bounded)
 * and publishes, under a mutex it holds only to copy a few words, each
 * cursor's position and the minimum over all of them: the floor. The writer
 * reads only the published floor. A cursor not read yet, absent or
 * unreadable counts as position 0 (nothing consumed), so a stale or broken
 * cursor makes retention keep more, never delete more. Cursors only move
 * forward, so a floor a second old is merely conservative.
 *
 * One exception: an optional cursor (a plugin's) that does not exist is a
 * consumer that never started, since rauditd-dispatch writes the cursor as
 * soon as it starts the plugin. It is not waited for: a plugins.d file
 * installed by a package (Debian's laurel.conf is active) on a host that
 * never runs the dispatcher must not stop retention for ever. Any other
 * error (an empty file, a FIFO) still counts as position 0.
 *
 * Consumer names end up in spool records and status lines: they are
 * printable ASCII without blanks, '=', '"', '\\' or ','.
 */
#ifndef RAUDITD_CURSORS_H
#define RAUDITD_CURSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spool.h"

#define CURSORS_MAX		16	/* consumers with a cursor */
#define CURSORS_NAME_MAX	80	/* "plugin:" and a plugins.d NAME */

struct cursors;

/* One consumer's cursor as last read. */
struct cursor_view {
	char		name[CURSORS_NAME_MAX];
	struct spool_pos pos;		/* {0, 0} unless err == 0 */
	int		err;		/* 0, or spool_cursor_read's negative errno */
	uint64_t	reads;		/* completed reads; 0 = not read yet */
	bool		optional;	/* absent = never started: not waited for */
	bool		waits;		/* counted in the floor (cursors_snapshot) */
};

/* Create with a re-read period in ms (no thread yet). NULL with errno. */
struct cursors *cursors_new(unsigned period_ms);

/*
 * Replace the list: n named cursor files (n <= CURSORS_MAX, names and
 * paths copied); optional[i] (optional may be NULL: none) marks a cursor
 * whose absence means the consumer never started. A cursor whose name and
 * path are unchanged keeps what was read; new ones start at "not read
 * yet". Any thread. 0, or -EINVAL (too many, too long, a bad name: the
 * list is unchanged).
 */
int cursors_set(struct cursors *c, const char *const *names,
    const char *const *paths, const bool *optional, size_t n);

/* Whether name may name a consumer (see the DESIGN block). */
bool cursors_name_ok(const char *name);

/* Start the reading thread (signals blocked). 0 or a negative errno. */
int cursors_start(struct cursors *c);

/* Ask for a read now (e.g. before a retention pass). Any thread. */
void cursors_poke(struct cursors *c);

/*
 * The published state: copies up to max views into v (v may be NULL) and
 * the floor, the minimum over the cursors that are waited for, into
 * *floor. Returns the number of cursors; 0 means no consumer, and *floor
 * is then left untouched. When none is waited for (only absent optional
 * ones), *floor is {UINT64_MAX, UINT64_MAX}: everything is consumed.
 * Never does file I/O.
 */
size_t cursors_snapshot(struct cursors *c, struct cursor_view *v, size_t max,
    struct spool_pos *floor);

/*
 * Stop the thread, waiting at most ms: 0, or -ETIMEDOUT when it is stuck
 * in the kernel (then it is abandoned and cursors_free leaks the object).
 */
int cursors_stop(struct cursors *c, unsigned ms);

void cursors_free(struct cursors *c);

#endif
