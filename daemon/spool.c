/*
 * spool.c - this file keeps the spool's on-disk discipline: numbered
 * append-only segments, torn-tail repair at open, rotation by opening the
 * next number, retention of the oldest sealed segments, and the reader that
 * every consumer of the spool shares.
 */
#include "build_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "sidefile.h"
#include "spool.h"

/* The reader's buffer; a longer line is skipped and reported. */
#define SPOOL_READ_BUF		(256 * 1024)

struct spool {
	char		 dir[4096];
	int		 dirfd;
	gid_t		 gid;		/* log_group, or (gid_t)-1 */
	int		 fd;		/* open segment */
	uint64_t	 no;		/* its number */
	uint64_t	 size;		/* its last good size */
	bool		 dirty_tail;	/* a failed write may have left bytes past size */
	bool		 dir_unsynced;	/* the open segment's name is not yet fsynced */
	struct spool_seg	*segs;		/* sealed segments, oldest first */
	size_t		 nsegs, cap;
	uint64_t	 sealed_bytes;
};

void
spool_segment_name(char *buf, size_t len, uint64_t n)
{
	snprintf(buf, len, SPOOL_NAME_FMT, (unsigned long long)n);
}

bool
spool_parse_name(const char *name, uint64_t *n)
{
	uint64_t v = 0;
	int i;

	if (strncmp(name, "audit-", 6) != 0)
		return false;
	for (i = 6; i < 6 + 8; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	if (strcmp(name + i, ".log") != 0 || v == 0)
		return false;
	*n = v;
	return true;
}

int
spool_count_lines(const char *dir, uint64_t no, uint64_t from, uint64_t to,
    uint64_t *budget, uint64_t *lines, uint64_t *upto)
{
	char path[4200], name[SPOOL_NAME_LEN + 8], buf[65536];
	uint64_t off = from, last = from;
	struct stat sb;
	int fd, rc = 0;

	*upto = from;
	spool_segment_name(name, sizeof(name), no);
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -ENOTSUP;
	}
	while (off < to) {
		size_t want = to - off < sizeof(buf) ? (size_t)(to - off) : sizeof(buf);
		ssize_t n;

		if (budget != NULL && *budget == 0) {
			rc = 1;
			break;
		}
		if (budget != NULL && want > *budget)
			want = (size_t)*budget;
		n = pread(fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		for (char *p = buf, *e = buf + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++) {
			(*lines)++;
			last = off + (uint64_t)(p - buf) + 1;
		}
		off += (uint64_t)n;
		if (budget != NULL)
			*budget -= (uint64_t)n;
	}
	close(fd);
	*upto = rc == 1 ? off : last;
	return rc;
}

int
spool_lag_update(const char *dir, struct spool_lag *lag, uint64_t from, uint64_t budget)
{
	struct spool_lagseg *now = NULL;
	struct spool_seg *segs;
	size_t nsegs, n = 0, cap = 0, j = 0;
	bool complete = true;
	int rc;

	if ((rc = spool_list(dir, &segs, &nsegs)) < 0)
		return rc;
	for (size_t i = 0; i < nsegs; i++) {
		if (segs[i].no < from)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			struct spool_lagseg *nv = realloc(now, nc * sizeof(*nv));
			if (nv == NULL)
				break;
			now = nv;
			cap = nc;
		}
		now[n] = (struct spool_lagseg){ .no = segs[i].no, .size = segs[i].bytes };
		n++;
	}
	free(segs);
	for (size_t i = 0; i < n; i++) {
		struct spool_lagseg *g = &now[i];
		uint64_t upto;

		/* Carry the count over from the last update; count what is new. */
		while (j < lag->n && lag->seg[j].no < g->no)
			j++;
		if (j < lag->n && lag->seg[j].no == g->no && lag->seg[j].scanned <= g->size) {
			g->scanned = lag->seg[j].scanned;
			g->lines = lag->seg[j].lines;
		}
		if (g->scanned < g->size) {
			rc = spool_count_lines(dir, g->no, g->scanned, g->size, &budget,
			    &g->lines, &upto);
			if (rc >= 0)
				g->scanned = upto;
			if (rc != 0)
				complete = false;
		}
	}
	free(lag->seg);
	lag->seg = now;
	lag->n = n;
	lag->complete = complete;
	return 0;
}

void
spool_lag_behind(const char *dir, const struct spool_lag *lag,
    const struct spool_pos *pos, struct spool_lagbase *base, uint64_t *records,
    uint64_t *bytes)
{
	uint64_t r = 0, b = 0, upto, all = UINT64_MAX;
	bool base_present = false;

	for (size_t i = 0; i < lag->n; i++) {
		if (lag->seg[i].no < pos->segment)
			continue;
		r += lag->seg[i].lines;
		b += lag->seg[i].size;
		if (lag->seg[i].no == pos->segment)
			base_present = true;
	}
	/* Lines before pos in its segment, counted on from the last call. */
	if (base->seg != pos->segment || base->off > pos->offset) {
		base->seg = pos->segment;
		base->off = base->lines = 0;
	}
	if (base_present && base->off < pos->offset &&
	    spool_count_lines(dir, pos->segment, base->off, pos->offset, &all,
	    &base->lines, &upto) == 0)
		base->off = pos->offset;
	if (base_present) {
		r = r > base->lines ? r - base->lines : 0;
		b = b > pos->offset ? b - pos->offset : 0;
	}
	*records = r;
	*bytes = b;
}

void
spool_lag_free(struct spool_lag *lag)
{
	free(lag->seg);
	*lag = (struct spool_lag){ .seg = NULL };
}

bool
spool_line_valid(const char *line, size_t len)
{
	struct format_line fl;

	return format_parse_line(line, len, &fl);
}

static int
seg_cmp(const void *a, const void *b)
{
	const struct spool_seg *x = a, *y = b;

	return x->no < y->no ? -1 : x->no > y->no;
}

/* List the segments of an open directory, sorted. */
static int
scan_segments(int dirfd, struct spool_seg **out, size_t *n, size_t *cap)
{
	DIR *d;
	struct dirent *de;
	int fd;

	fd = dup(dirfd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		int e = errno;
		close(fd);
		return -e;
	}
	rewinddir(d);
	*n = 0;
	/* Each caller has its own DIR stream, which makes readdir thread-safe
	 * in glibc; readdir_r, which cppcheck suggests, is deprecated. */
	while ((de = readdir(d)) != NULL) { /* cppcheck-suppress readdirCalled */
		struct stat st;
		uint64_t no;

		if (!spool_parse_name(de->d_name, &no))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			struct spool_seg *ns = realloc(*out, nc * sizeof(*ns));
			if (ns == NULL) {
				closedir(d);
				return -ENOMEM;
			}
			*out = ns;
			*cap = nc;
		}
		(*out)[*n].no = no;
		(*out)[*n].bytes = (uint64_t)st.st_size;
		(*n)++;
	}
	closedir(d);
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), seg_cmp);
	return 0;
}

int
spool_list(const char *dir, struct spool_seg **segs, size_t *n)
{
	size_t cap = 0;
	int fd, rc;

	*segs = NULL;
	*n = 0;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = scan_segments(fd, segs, n, &cap);
	close(fd);
	if (rc < 0) {
		free(*segs);
		*segs = NULL;
		*n = 0;
	}
	return rc;
}

/* Cut a partial last line off segment no. Returns bytes cut or -errno. */
static int64_t
cut_torn_tail(int dirfd, uint64_t no, uint64_t size)
{
	char name[SPOOL_NAME_LEN + 8], buf[4096];
	uint64_t pos = size, keep = 0;
	bool found = false;
	int fd;
	int64_t rc;

	if (size == 0)
		return 0;
	spool_segment_name(name, sizeof(name), no);
	fd = openat(dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	/*
	 * Scan back as far as it takes: stopping early would have to cut
	 * complete records along with the tail. A torn tail is normally
	 * shorter than one record, so this reads one or two blocks.
	 */
	while (pos > 0 && !found) {
		size_t chunk = pos < sizeof(buf) ? (size_t)pos : sizeof(buf);
		ssize_t r = pread(fd, buf, chunk, (off_t)(pos - chunk));
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		if ((size_t)r != chunk) {
			rc = -EIO;
			goto out;
		}
		for (size_t i = chunk; i > 0; i--)
			if (buf[i - 1] == '\n') {
				keep = pos - chunk + i;
				found = true;
				break;
			}
		pos -= chunk;
	}
	/* Everything after the last newline is a partial record; with no
	 * newline at all, the whole file is. */
	if (keep == size) {
		rc = 0;
		goto out;
	}
	if (ftruncate(fd, (off_t)keep) < 0 || fsync(fd) < 0) {
		rc = -errno;
		goto out;
	}
	rc = (int64_t)(size - keep);
out:
	close(fd);
	return rc;
}

static int
open_segment(struct spool *s, uint64_t no)
{
	char name[SPOOL_NAME_LEN + 8];
	int fd;

	spool_segment_name(name, sizeof(name), no);
	fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	/* With a log group, readers in it may follow the spool (0640). */
	if (s->gid != (gid_t)-1 && (fchown(fd, 0, s->gid) < 0 || fchmod(fd, 0640) < 0)) {
		int e = errno;
		close(fd);
		unlinkat(s->dirfd, name, 0);
		return -e;
	}
	/*
	 * The new name must survive a crash before any record is in it. If
	 * the directory fsync fails the segment is kept all the same: once it
	 * exists, readers take the previous one as sealed (and may already
	 * have entered this one), so it must neither be written again nor
	 * vanish. spool_sync retries the directory and fails until it works.
	 */
	s->fd = fd;
	s->no = no;
	s->size = 0;
	s->dirty_tail = false;
	s->dir_unsynced = fsync(s->dirfd) < 0;
	return 0;
}

/* Retry a directory fsync that failed when the open segment was created. */
static int
sync_dir(struct spool *s)
{
	if (s->dir_unsynced) {
		if (fsync(s->dirfd) < 0)
			return -errno;
		s->dir_unsynced = false;
	}
	return 0;
}

int
spool_open(struct spool **sp, const char *dir, struct spool_recovery *rec,
    const char **what)
{
	struct spool *s;
	struct stat st;
	int rc;

	memset(rec, 0, sizeof(*rec));
	*what = "";
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		*what = "allocate";
		return -ENOMEM;
	}
	s->dirfd = s->fd = -1;
	s->gid = (gid_t)-1;
	snprintf(s->dir, sizeof(s->dir), "%s", dir);

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		*what = "create directory";
		goto fail;
	}
	if (lstat(dir, &st) < 0) {
		rc = -errno;
		*what = "stat";
		goto fail;
	}
	if (!S_ISDIR(st.st_mode)) {
		rc = -ENOTDIR;
		*what = "not a directory";
		goto fail;
	}
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (s->dirfd < 0) {
		rc = -errno;
		*what = "open directory";
		goto fail;
	}
	if (faccessat(s->dirfd, ".", W_OK | X_OK, AT_EACCESS) < 0) {
		rc = -errno;
		*what = "directory not writable";
		goto fail;
	}
	rc = scan_segments(s->dirfd, &s->segs, &s->nsegs, &s->cap);
	if (rc < 0) {
		*what = "read directory";
		goto fail;
	}
	rec->segments = s->nsegs;
	if (s->nsegs > 0) {
		struct spool_seg *last = &s->segs[s->nsegs - 1];
		int64_t cut;

		rec->first = s->segs[0].no;
		rec->last = last->no;
		rec->gaps = (rec->last - rec->first + 1) - s->nsegs;
		cut = cut_torn_tail(s->dirfd, last->no, last->bytes);
		if (cut < 0) {
			rc = (int)cut;
			*what = "repair torn tail";
			goto fail;
		}
		rec->torn_bytes = (uint64_t)cut;
		last->bytes -= (uint64_t)cut;
		for (size_t i = 0; i < s->nsegs; i++)
			s->sealed_bytes += s->segs[i].bytes;
		rec->bytes = s->sealed_bytes;
		if (last->no >= 99999999ULL) {
			rc = -EOVERFLOW;
			*what = "segment numbers exhausted";
			goto fail;
		}
	}
	rc = open_segment(s, s->nsegs ? s->segs[s->nsegs - 1].no + 1 : 1);
	if (rc < 0) {
		*what = "create segment";
		goto fail;
	}
	*sp = s;
	return 0;
fail:
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->segs);
	free(s);
	return rc;
}

int
spool_close(struct spool *s)
{
	int rc = 0;

	if (s == NULL)
		return 0;
	if (s->fd >= 0) {
		if (fsync(s->fd) < 0)
			rc = -errno;
		else
			rc = sync_dir(s);
		close(s->fd);
	}
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->segs);
	free(s);
	return rc;
}

int
spool_append(struct spool *s, const struct iovec *iov, int iovcnt)
{
	struct iovec local[64];
	uint64_t off;
	int rc = 0, cnt;

	if (s->fd < 0)
		return -EBADF;
	/* A failed write earlier may have left bytes past the good size. */
	if (s->dirty_tail) {
		if (ftruncate(s->fd, (off_t)s->size) < 0)
			return -errno;
		s->dirty_tail = false;
	}
	while (iovcnt > 0) {
		cnt = iovcnt < 64 ? iovcnt : 64;
		memcpy(local, iov, (size_t)cnt * sizeof(*iov));
		off = s->size;
		{
			struct iovec *v = local;
			int left = cnt;
			uint64_t done = 0;

			while (left > 0) {
				ssize_t n = pwritev(s->fd, v, left, (off_t)(off + done));
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0) {
					rc = -errno;
					goto fail;
				}
				if (n == 0) {
					rc = -EIO;
					goto fail;
				}
				done += (uint64_t)n;
				while (left > 0 && (size_t)n >= v->iov_len) {
					n -= (ssize_t)v->iov_len;
					v++;
					left--;
				}
				if (left > 0 && n > 0) {
					v->iov_base = (char *)v->iov_base + n;
					v->iov_len -= (size_t)n;
				}
			}
			s->size += done;
		}
		iov += cnt;
		iovcnt -= cnt;
	}
	return 0;
fail:
	/*
	 * Cut back to the last whole line, so the segment never holds a
	 * partial record. If that fails too, try again before the next write.
	 * Lines of earlier chunks of this call are kept: they are complete.
	 */
	if (ftruncate(s->fd, (off_t)s->size) < 0)
		s->dirty_tail = true;
	return rc;
}

int
spool_sync(struct spool *s, bool data_only)
{
	int rc = data_only ? fdatasync(s->fd) : fsync(s->fd);

	if (rc < 0)
		return -errno;
	return sync_dir(s);
}

int
spool_cut(struct spool *s, uint64_t size)
{
	if (size > s->size)
		return -EINVAL;
	s->size = size;
	if (ftruncate(s->fd, (off_t)size) < 0) {
		s->dirty_tail = true;
		return -errno;
	}
	return 0;
}

int
spool_rotate(struct spool *s)
{
	int oldfd = s->fd, rc;
	uint64_t oldno = s->no, oldsize = s->size;

	if (s->dirty_tail && ftruncate(s->fd, (off_t)s->size) < 0)
		return -errno;
	if (fsync(oldfd) < 0 || sync_dir(s) < 0)
		return -errno;
	if (s->nsegs == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		struct spool_seg *ns = realloc(s->segs, nc * sizeof(*ns));
		if (ns == NULL)
			return -ENOMEM;
		s->segs = ns;
		s->cap = nc;
	}
	if (oldno >= 99999999ULL)
		return -EOVERFLOW;
	rc = open_segment(s, oldno + 1);
	if (rc < 0) {
		s->fd = oldfd;		/* keep writing the old one */
		s->no = oldno;
		s->size = oldsize;
		return rc;
	}
	close(oldfd);
	s->segs[s->nsegs].no = oldno;
	s->segs[s->nsegs].bytes = oldsize;
	s->nsegs++;
	s->sealed_bytes += oldsize;
	return 0;
}

int
spool_retention_shipped(struct spool *s, uint32_t max_segments, uint64_t max_bytes,
    const struct spool_pos *shipped, uint64_t *freed, uint64_t *held,
    spool_unshipped_cb *cb, void *arg)
{
	char name[SPOOL_NAME_LEN + 8];
	size_t del = 0;
	int rc = 0;

	*freed = 0;
	if (held)
		*held = 0;
	while (del < s->nsegs) {
		uint64_t count = s->nsegs - del + 1;		/* + open segment */
		uint64_t bytes = s->sealed_bytes + s->size;
		bool over_count = max_segments && count > max_segments;
		bool over_bytes = max_bytes && bytes > max_bytes;
		/* A segment is shipped once the shipper's cursor is past it. */
		bool is_shipped = shipped == NULL || s->segs[del].no < shipped->segment;

		if (!over_count && !over_bytes)
			break;
		/* The count limit waits for the shipper; the size limit does not. */
		if (!is_shipped && !over_bytes) {
			if (held)
				*held = count - max_segments;
			break;
		}
		spool_segment_name(name, sizeof(name), s->segs[del].no);
		if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT) {
			rc = -errno;
			break;
		}
		if (!is_shipped && cb != NULL)
			cb(arg, s->segs[del].no, s->segs[del].bytes);
		s->sealed_bytes -= s->segs[del].bytes;
		*freed += s->segs[del].bytes;
		del++;
	}
	if (del > 0) {
		memmove(s->segs, s->segs + del, (s->nsegs - del) * sizeof(*s->segs));
		s->nsegs -= del;
		if (fsync(s->dirfd) < 0 && rc == 0)
			rc = -errno;
	}
	return rc < 0 ? rc : (int)del;
}

/*
 * Give a sealed segment to owner with mode, through a descriptor: a name in
 * the directory that is not a regular file (a link planted there) is
 * refused, never followed.
 */
static int
set_owner_at(int dirfd, const char *name, gid_t owner, mode_t mode)
{
	struct stat st;
	int fd, rc = 0;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -ENOTSUP : -errno;
	if (fstat(fd, &st) < 0 ||
	    (S_ISREG(st.st_mode) && (fchown(fd, 0, owner) < 0 || fchmod(fd, mode) < 0)))
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = -ENOTSUP;
	close(fd);
	return rc;
}

int
spool_set_group(struct spool *s, gid_t gid)
{
	char name[SPOOL_NAME_LEN + 8];
	struct spool_seg *g;
	mode_t dmode = gid == (gid_t)-1 ? 0700 : 0750;
	mode_t fmode = gid == (gid_t)-1 ? 0600 : 0640;
	gid_t owner = gid == (gid_t)-1 ? 0 : gid;

	s->gid = gid;
	if (fchown(s->dirfd, 0, owner) < 0 || fchmod(s->dirfd, dmode) < 0)
		return -errno;
	if (fchown(s->fd, 0, owner) < 0 || fchmod(s->fd, fmode) < 0)
		return -errno;
	for (g = s->segs; g < s->segs + s->nsegs; g++) {
		int rc;

		spool_segment_name(name, sizeof(name), g->no);
		if ((rc = set_owner_at(s->dirfd, name, owner, fmode)) < 0 && rc != -ENOENT)
			return rc;
	}
	return 0;
}

int
spool_dup(const struct spool *s)
{
	int fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

uint64_t spool_segment(const struct spool *s) { return s->no; }
uint64_t spool_segment_bytes(const struct spool *s) { return s->size; }
uint64_t spool_total_bytes(const struct spool *s) { return s->sealed_bytes + s->size; }
uint64_t spool_segment_count(const struct spool *s) { return s->nsegs + 1; }
const char *spool_dir(const struct spool *s) { return s->dir; }

/* ---- reader ---------------------------------------------------------- */

struct spool_reader {
	char		 dir[4096];
	int		 dirfd;
	int		 fd;		/* current segment, -1 if none */
	uint64_t	 seg;		/* its number */
	uint64_t	 file_off;	/* file offset of buf[0] */
	char		*buf;
	size_t		 len, pos;	/* bytes in buf, consumed */
	bool		 skipping;	/* discarding a too-long line */
	uint64_t	 skip_start;
	spool_reader_cb	*cb;
	void		*arg;
	struct spool_reader_stats st;
};

static void
report(struct spool_reader *r, enum spool_event ev, uint64_t seg, uint64_t off,
    uint64_t len)
{
	struct spool_pos p = { seg, off };

	switch (ev) {
	case SPOOL_EV_TORN: r->st.torn++; break;
	case SPOOL_EV_BAD_LINE:
	case SPOOL_EV_LONG_LINE: r->st.bad_lines++; break;
	case SPOOL_EV_MISSING: r->st.missing++; break;
	}
	if (r->cb)
		r->cb(r->arg, ev, &p, len);
}

/* Lowest segment number >= from that exists; 0 if none. */
static uint64_t
next_existing(struct spool_reader *r, uint64_t from, uint64_t *highest)
{
	struct spool_seg *segs = NULL;
	size_t n = 0, cap = 0;
	uint64_t found = 0;

	*highest = 0;
	if (scan_segments(r->dirfd, &segs, &n, &cap) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (segs[i].no >= from && found == 0)
			found = segs[i].no;
		*highest = segs[i].no;
	}
	free(segs);
	return found;
}

static int
enter_segment(struct spool_reader *r, uint64_t no, uint64_t off)
{
	char name[SPOOL_NAME_LEN + 8];
	int fd;

	spool_segment_name(name, sizeof(name), no);
	fd = openat(r->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = fd;
	r->seg = no;
	r->file_off = off;
	r->len = r->pos = 0;
	r->skipping = false;
	r->st.segments++;
	return 0;
}

struct spool_reader *
spool_reader_open(const char *dir, const struct spool_pos *start,
    spool_reader_cb *cb, void *arg)
{
	struct spool_reader *r = calloc(1, sizeof(*r));
	uint64_t first, highest;
	int e;

	if (r == NULL)
		return NULL;
	r->fd = -1;
	r->cb = cb;
	r->arg = arg;
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	r->buf = malloc(SPOOL_READ_BUF);
	r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->buf == NULL || r->dirfd < 0)
		goto fail;
	first = next_existing(r, start && start->segment ? start->segment : 1, &highest);
	if (first != 0) {
		uint64_t off = 0;
		if (start && start->segment && first == start->segment)
			off = start->offset;
		else if (start && start->segment && first > start->segment)
			report(r, SPOOL_EV_MISSING, start->segment, 0, first - start->segment);
		if (enter_segment(r, first, off) < 0)
			goto fail;
	} else {
		/* Nothing there yet: wait for the segment asked for. */
		r->seg = start && start->segment ? start->segment : 0;
		r->file_off = start ? start->offset : 0;
	}
	return r;
fail:
	e = errno;
	spool_reader_close(r);
	errno = e;
	return NULL;
}

void
spool_reader_close(struct spool_reader *r)
{
	if (r == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	if (r->dirfd >= 0)
		close(r->dirfd);
	free(r->buf);
	free(r);
}

/* Fill the buffer from the current segment. Returns bytes read or -errno. */
static ssize_t
fill(struct spool_reader *r)
{
	ssize_t n;

	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->file_off += r->pos;
		r->len -= r->pos;
		r->pos = 0;
	}
	if (r->len == SPOOL_READ_BUF)
		return 0;
	do
		n = pread(r->fd, r->buf + r->len, SPOOL_READ_BUF - r->len,
		    (off_t)(r->file_off + r->len));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	r->len += (size_t)n;
	return n;
}

int
spool_reader_next(struct spool_reader *r, const char **line, size_t *len,
    struct spool_pos *pos)
{
	for (;;) {
		char *start, *nl;
		uint64_t highest, next;
		ssize_t n;

		if (r->fd < 0) {
			next = next_existing(r, r->seg ? r->seg : 1, &highest);
			if (next == 0)
				return 0;
			if (r->seg && next > r->seg)
				report(r, SPOOL_EV_MISSING, r->seg, 0, next - r->seg);
			if (enter_segment(r, next, next == r->seg ? r->file_off : 0) < 0)
				return -errno;
		}
		start = r->buf + r->pos;
		nl = memchr(start, '\n', r->len - r->pos);
		if (nl != NULL) {
			size_t l = (size_t)(nl - start);
			uint64_t off = r->file_off + r->pos;

			r->pos += l + 1;
			if (r->skipping) {
				r->skipping = false;
				report(r, SPOOL_EV_LONG_LINE, r->seg, r->skip_start,
				    off + l - r->skip_start);
				continue;
			}
			if (!spool_line_valid(start, l)) {
				report(r, SPOOL_EV_BAD_LINE, r->seg, off, l);
				continue;
			}
			r->st.lines++;
			*line = start;
			*len = l;
			pos->segment = r->seg;
			pos->offset = off;
			return 1;
		}
		if (r->len - r->pos == SPOOL_READ_BUF) {
			/* A line longer than the buffer: skip to its end. */
			if (!r->skipping) {
				r->skipping = true;
				r->skip_start = r->file_off + r->pos;
			}
			r->file_off += r->len;
			r->len = r->pos = 0;
		}
		n = fill(r);
		if (n < 0)
			return (int)n;
		if (n > 0)
			continue;
		/*
		 * End of this segment's data. If a later segment exists this one
		 * is sealed: what is left is a torn line. Check for the next one
		 * only now, after reading to the end, so no appended data is
		 * missed: the writer finishes a segment before creating the next.
		 */
		next = next_existing(r, r->seg + 1, &highest);
		if (next == 0)
			return 0;
		n = fill(r);		/* the last writes before the seal */
		if (n < 0)
			return (int)n;
		if (n > 0)
			continue;
		if (r->len > r->pos || r->skipping) {
			uint64_t off = r->skipping ? r->skip_start : r->file_off + r->pos;
			report(r, SPOOL_EV_TORN, r->seg, off, r->file_off + r->len - off);
		}
		if (next > r->seg + 1)
			report(r, SPOOL_EV_MISSING, r->seg + 1, 0, next - r->seg - 1);
		if (enter_segment(r, next, 0) < 0) {
			if (errno == ENOENT) {	/* deleted under us: look again */
				r->seg = next;
				close(r->fd);
				r->fd = -1;
				continue;
			}
			return -errno;
		}
	}
}

void
spool_reader_tell(const struct spool_reader *r, struct spool_pos *pos)
{
	pos->segment = r->seg;
	pos->offset = r->file_off + r->pos;
}

void
spool_reader_seek(struct spool_reader *r, const struct spool_pos *pos)
{
	/*
	 * Within the segment held open, keep the descriptor: the segment may
	 * have been deleted since it was entered and its data is still there.
	 */
	if (r->fd >= 0 && pos->segment != r->seg) {
		close(r->fd);
		r->fd = -1;
	}
	r->seg = pos->segment;
	r->file_off = pos->offset;
	r->len = r->pos = 0;
	r->skipping = false;
}

void
spool_reader_stats(const struct spool_reader *r, struct spool_reader_stats *st)
{
	*st = r->st;
}

/* ---- the shipper's cursor --------------------------------------------- */

/* The first line of a cursor file; anything else is not ours to replace. */
#define CURSOR_MAGIC	"rauditd-ship cursor 1\n"
#define CURSOR_MAX	256

int
spool_cursor_read(const char *path, struct spool_pos *pos)
{
	char buf[CURSOR_MAX + 1], *p;
	unsigned long long seg, off;
	ssize_t n;
	size_t got = 0;
	struct stat sb;
	int fd, consumed = 0;

	/* Planted by a less privileged user maybe: no links, no blocking on
	 * a FIFO or device, nothing but a regular file, at most CURSOR_MAX. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? -ENOTSUP : -errno;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -ENOTSUP;
	}
	while (got < CURSOR_MAX) {
		n = read(fd, buf + got, CURSOR_MAX - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got == 0)
		return -ENODATA;
	buf[got] = '\0';
	if (strncmp(buf, CURSOR_MAGIC, sizeof(CURSOR_MAGIC) - 1) != 0)
		return -EINVAL;
	p = buf + sizeof(CURSOR_MAGIC) - 1;
	if (sscanf(p, "segment %llu\noffset %llu\n%n", &seg, &off, &consumed) != 2 ||
	    consumed == 0 || p[consumed] != '\0')
		return -EINVAL;
	pos->segment = seg;
	pos->offset = off;
	return 0;
}

int
spool_cursor_write(const char *path, const struct spool_pos *pos, bool sync)
{
	char text[CURSOR_MAX];
	int len;

	len = snprintf(text, sizeof(text), CURSOR_MAGIC "segment %llu\noffset %llu\n",
	    (unsigned long long)pos->segment, (unsigned long long)pos->offset);
	if (len < 0 || (size_t)len >= sizeof(text))
		return -EOVERFLOW;
	return sidefile_replace(path, text, (size_t)len, sync);
}
