/*
 * spool.h - the on-disk spool: numbered segments of audit.log lines.
 *
 * A spool directory holds audit-NNNNNNNN.log files. The highest number is
 * the open segment; every lower one is sealed and never changes again. The
 * writer side (struct spool) is used by the writer thread only; the reader
 * side (struct spool_reader) by rauditctl verify and rauditd-ship. Leaf
 * module: no logging; problems come back as negative errno values and as
 * counts in the structures below.
 */
#ifndef RAUDITD_SPOOL_H
#define RAUDITD_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define SPOOL_NAME_FMT		"audit-%08llu.log"
#define SPOOL_NAME_LEN		22	/* "audit-" 8 digits ".log" + NUL, with room */

struct spool;

/* A place in the spool: a segment and a byte offset in it. */
struct spool_pos {
	uint64_t	segment;
	uint64_t	offset;		/* byte offset of the line's start */
};

/* What spool_open() found and repaired. */
struct spool_recovery {
	uint64_t	segments;	/* segments found */
	uint64_t	first, last;	/* their lowest and highest number (0 if none) */
	uint64_t	bytes;		/* their total size */
	uint64_t	torn_bytes;	/* bytes cut from the last segment's torn tail */
	uint64_t	gaps;		/* numbers missing between first and last */
};

/*
 * Open the spool in dir: create dir (0700) if missing, refuse a path that is
 * not a directory or not writable, cut a torn last line of the highest
 * segment, and open a new segment numbered one above it (O_CREAT|O_EXCL,
 * mode 0600, file and directory fsynced). Returns 0 or a negative errno;
 * *what names the step that failed ("mkdir", "not a directory", ...).
 */
int spool_open(struct spool **sp, const char *dir, struct spool_recovery *rec,
    const char **what);

/*
 * Give the spool a log group (auditd's log_group): directory 0750 and
 * segments 0640, group gid, for this and every later segment; (gid_t)-1
 * goes back to root only (0700/0600). Before the writer starts.
 */
int spool_set_group(struct spool *s, gid_t gid);

/* Close the open segment (after an fsync) and free. */
int spool_close(struct spool *s);

/*
 * Append whole lines. Loops over EINTR and short writes; on failure cuts the
 * segment back to its last good size so it never holds a partial line, and
 * returns the negative errno (-ENOSPC, -EIO, ...).
 */
int spool_append(struct spool *s, const struct iovec *iov, int iovcnt);

/*
 * fdatasync (data_only) or fsync the open segment, and the directory too
 * while the segment's creation is not yet known durable (its directory
 * fsync failed at rotation): until that works, this fails.
 */
int spool_sync(struct spool *s, bool data_only);

/*
 * Cut the open segment back to size (no more than its size): the lines past
 * it are to be written again, as after a failed fsync, when the kernel may
 * have dropped their pages. If the truncate fails it is retried before the
 * next append. 0, -EINVAL (size past the end) or a negative errno.
 */
int spool_cut(struct spool *s, uint64_t size);

/*
 * Seal the open segment (fsync) and open the next number. Once the next
 * segment exists it is the open one even if the directory fsync failed
 * (retried by spool_sync): a segment never vanishes under a reader.
 */
int spool_rotate(struct spool *s);

/*
 * A descriptor of the open segment (a dup, close-on-exec) for a sync on
 * another thread, which stays valid across a rotation. Or a negative errno.
 */
int spool_dup(const struct spool *s);

uint64_t spool_segment(const struct spool *s);		/* open segment's number */
uint64_t spool_segment_bytes(const struct spool *s);	/* its size */
uint64_t spool_total_bytes(const struct spool *s);	/* all segments */
uint64_t spool_segment_count(const struct spool *s);
const char *spool_dir(const struct spool *s);

/* Name of segment n in buf. */
void spool_segment_name(char *buf, size_t len, uint64_t n);

/* True when name is a segment file name; *n receives its number. */
bool spool_parse_name(const char *name, uint64_t *n);

/* A segment as listed: its number and size. */
struct spool_seg {
	uint64_t	no;
	uint64_t	bytes;
};

/*
 * The segments in dir (regular files, no links followed), sorted by
 * number, in a malloc'ed *segs the caller frees. 0 or a negative errno.
 */
int spool_list(const char *dir, struct spool_seg **segs, size_t *n);

/*
 * Count the newlines of segment no in bytes [from, to) (to = UINT64_MAX:
 * to its end), reading at most *budget bytes (budget NULL: no limit, else
 * decreased). *lines is increased; *upto receives the offset just past the
 * last newline counted, or where a budget cut stopped. No links followed,
 * nothing but a regular file. 0, 1 when the budget ran out, -ENOENT when
 * the segment is gone, or another negative errno.
 */
int spool_count_lines(const char *dir, uint64_t no, uint64_t from, uint64_t to,
    uint64_t *budget, uint64_t *lines, uint64_t *upto);

/*
 * Lag: records and bytes between a reader's position and the end of the
 * spool's data. struct spool_lag holds the newline count of each segment,
 * carried from one update to the next (sealed segments never change, so
 * each byte is read once); struct spool_lagbase, one per reader, the lines
 * before the reader's offset in its segment. Both start zeroed.
 */
struct spool_lagseg {
	uint64_t	no;
	uint64_t	size;		/* at the last update */
	uint64_t	scanned;	/* bytes counted */
	uint64_t	lines;		/* newlines in [0, scanned) */
};

struct spool_lag {
	struct spool_lagseg	*seg;		/* ascending by number */
	size_t			 n;
	bool			 complete;	/* every segment counted to its end */
};

struct spool_lagbase {
	uint64_t	seg, off, lines;
};

/*
 * Refresh lag for the segments numbered from on, reading at most budget
 * bytes (the rest is counted next time, complete false till then). 0, or a
 * negative errno with lag unchanged.
 */
int spool_lag_update(const char *dir, struct spool_lag *lag, uint64_t from,
    uint64_t budget);

/* Records and bytes from pos to the end of the data lag last saw. */
void spool_lag_behind(const char *dir, const struct spool_lag *lag,
    const struct spool_pos *pos, struct spool_lagbase *base, uint64_t *records,
    uint64_t *bytes);

void spool_lag_free(struct spool_lag *lag);

/*
 * Is line[0..len) (without '\n') an audit.log record line, with or without
 * auditd's "node=NAME " in front? format_parse_line() decides.
 */
bool spool_line_valid(const char *line, size_t len);

/* ---- reader ---------------------------------------------------------- */

struct spool_reader;

enum spool_event {
	SPOOL_EV_TORN,		/* sealed segment ends in a partial line */
	SPOOL_EV_BAD_LINE,	/* a line that is not an audit record, skipped */
	SPOOL_EV_MISSING,	/* a segment number is missing, skipped */
	SPOOL_EV_LONG_LINE,	/* a line longer than the reader's limit, skipped */
};

/* Called for each problem the reader skips over. */
typedef void spool_reader_cb(void *arg, enum spool_event ev,
    const struct spool_pos *pos, uint64_t len);

/*
 * Open a reader on dir starting at pos (segment 0 means the oldest present,
 * offset 0 its start). Returns NULL with errno set.
 */
struct spool_reader *spool_reader_open(const char *dir, const struct spool_pos *start,
    spool_reader_cb *cb, void *arg);
void spool_reader_close(struct spool_reader *r);

/*
 * Next complete line (without its '\n'). Returns 1 with *line, *len, *pos
 * filled; 0 when there is no complete line yet (end of the open segment: a
 * partial line is not yet a record); negative errno on error. The line is
 * valid until the next call.
 */
int spool_reader_next(struct spool_reader *r, const char **line, size_t *len,
    struct spool_pos *pos);

/* Position just past the last line returned (a cursor to persist). */
void spool_reader_tell(const struct spool_reader *r, struct spool_pos *pos);

/*
 * Move the reader to pos, which must be the start of a line (a position
 * from spool_reader_next or spool_reader_tell). A segment deleted since is
 * reported as SPOOL_EV_MISSING when the reader gets there; the segment the
 * reader holds open stays readable even if it was deleted.
 */
void spool_reader_seek(struct spool_reader *r, const struct spool_pos *pos);

/* Counters of what the reader skipped. */
struct spool_reader_stats {
	uint64_t	lines;
	uint64_t	bad_lines;
	uint64_t	torn;
	uint64_t	missing;
	uint64_t	segments;	/* segments entered */
};
void spool_reader_stats(const struct spool_reader *r, struct spool_reader_stats *st);

/* ---- shipping: the shipper's cursor, and retention that waits for it ---- */

/*
 * The cursor file of rauditd-ship: the spool position of the first record
 * the aggregator has not acknowledged. Read: 0 with *pos; -ENOENT when
 * there is none, -ENODATA when it is empty (a crash before its first write
 * reached the disk), -EINVAL when the file is not a cursor file, -ENOTSUP
 * when path is a symlink or not a regular file (a FIFO, a directory, a
 * device: never opened blocking, never followed).
 */
int spool_cursor_read(const char *path, struct spool_pos *pos);

/*
 * Replace the cursor file atomically: write path.tmp, then rename it over
 * path. With sync, the data is fdatasync'ed before the rename and the
 * directory fsync'ed after it; without, the rename still replaces the file
 * whole, which survives a crash of the process but maybe not of the host.
 * Returns 0 or a negative errno.
 */
int spool_cursor_write(const char *path, const struct spool_pos *pos, bool sync);

/* A segment deleted before the shipper finished it: number and bytes. */
typedef void spool_unshipped_cb(void *arg, uint64_t segment, uint64_t bytes);

/*
 * Retention: delete the oldest sealed segments while there are more than
 * max_segments (0 = no limit) or the spool is larger than max_bytes (0 = no
 * limit); the open segment is never deleted. Returns the number deleted, or
 * a negative errno; *freed receives the bytes freed. It waits for the
 * consumers: a segment counts as consumed once shipped->segment (their
 * floor) is past it (NULL: no consumer, everything counts as consumed). The count limit
 * never deletes an unshipped segment (*held receives how many segments over
 * it are kept); the size limit does, and reports each one to cb. Writer
 * thread.
 */
int spool_retention_shipped(struct spool *s, uint32_t max_segments, uint64_t max_bytes,
    const struct spool_pos *shipped, uint64_t *freed, uint64_t *held,
    spool_unshipped_cb *cb, void *arg);

#endif
