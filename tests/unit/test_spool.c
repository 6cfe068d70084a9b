/*
 * test_spool.c - unit tests of the spool (spool.c), one test per failure
 * mode in the manner of LevelDB's log_test: spool_open on an empty, fresh,
 * numbered, torn, empty-segment, gapped or unusable directory; appends of
 * many iovecs; rotation; retention by count and by bytes that never touches
 * the open segment, and that waits for a shipper's cursor (but for the size
 * limit); the cursor file, and planted files (a FIFO, symlinks, a directory)
 * at its path; the cursor thread publishing N cursors and their floor; a
 * directory fsync failing at rotation; segment listing and line counting;
 * segment names and record-line validation; and the
 * shared reader across segments: the partial line of the open segment,
 * garbage mid-file, a torn sealed segment, a missing number, a segment
 * deleted under the reader or before it got there, over-long lines,
 * resuming from a cursor, and seeking back. Every test works in its own
 * mkdtemp directory.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cursors.h"
#include "spool.h"

/* An unprivileged uid/gid for the not-writable test ("nobody"). */
#define NOBODY		65534

/* The reader's buffer is 256 KiB; lines and files beyond it test refills. */
#define BIG		(300 * 1024)

struct fx {
	char	dir[64];		/* the mkdtemp directory, used as the spool */
};

static int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_spool.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;
	int rc;

	rc = nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return rc;
}

/* ---- helpers ----------------------------------------------------------- */

/* path of segment no in dir */
static void
seg_path(char *buf, size_t len, const char *dir, uint64_t no)
{
	char name[SPOOL_NAME_LEN];

	spool_segment_name(name, sizeof(name), no);
	snprintf(buf, len, "%s/%s", dir, name);
}

static void
write_all(const char *path, const char *data, size_t len, int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0600);

	assert_true(fd >= 0);
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		assert_true(n > 0);
		data += n;
		len -= (size_t)n;
	}
	assert_int_equal(close(fd), 0);
}

static void
put_seg(const char *dir, uint64_t no, const char *data)
{
	char path[256];

	seg_path(path, sizeof(path), dir, no);
	write_all(path, data, strlen(data), O_TRUNC);
}

static void
append_seg(const char *dir, uint64_t no, const char *data)
{
	char path[256];

	seg_path(path, sizeof(path), dir, no);
	write_all(path, data, strlen(data), O_APPEND);
}

/* Contents of segment no (NUL-terminated, caller frees); NULL if absent. */
static char *
get_seg(const char *dir, uint64_t no, size_t *lenp)
{
	char path[256];
	struct stat st;
	char *buf;
	int fd;

	seg_path(path, sizeof(path), dir, no);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	if (lenp)
		*lenp = (size_t)st.st_size;
	return buf;
}

static bool
seg_exists(const char *dir, uint64_t no)
{
	char path[256];
	struct stat st;

	seg_path(path, sizeof(path), dir, no);
	return stat(path, &st) == 0;
}

static void
del_seg(const char *dir, uint64_t no)
{
	char path[256];

	seg_path(path, sizeof(path), dir, no);
	assert_int_equal(unlink(path), 0);
}

/* Record line number n, without its newline. */
static const char *
rec(unsigned n)
{
	static char buf[8][128];
	static unsigned i;
	char *b = buf[i++ % 8];

	snprintf(b, sizeof(buf[0]), "type=SYSCALL msg=audit(1700000000.000:%u): seq=%u", n, n);
	return b;
}

/* Record line number n with its newline. */
static const char *
recn(unsigned n)
{
	static char buf[8][128];
	static unsigned i;
	char *b = buf[i++ % 8];

	snprintf(b, sizeof(buf[0]), "%s\n", rec(n));
	return b;
}

static size_t
recn_len(unsigned n)
{
	return strlen(recn(n));
}

static struct spool *
open_ok(const char *dir, struct spool_recovery *r)
{
	struct spool *s = NULL;
	const char *what = "unset";
	int rc = spool_open(&s, dir, r, &what);

	if (rc != 0)
		fail_msg("spool_open(%s): %s: %s", dir, what, strerror(-rc));
	assert_non_null(s);
	return s;
}

static void
append_str(struct spool *s, const char *text)
{
	struct iovec v = { (void *)(uintptr_t)text, strlen(text) };

	assert_int_equal(spool_append(s, &v, 1), 0);
}

/* ---- spool_open -------------------------------------------------------- */

static void
test_open_empty_dir(void **state)
{
	struct fx *f = *state;
	struct spool_recovery r;
	struct spool *s = open_ok(f->dir, &r);
	char path[256];
	struct stat st;

	assert_int_equal(r.segments, 0);
	assert_int_equal(r.first, 0);
	assert_int_equal(r.last, 0);
	assert_int_equal(r.bytes, 0);
	assert_int_equal(r.torn_bytes, 0);
	assert_int_equal(r.gaps, 0);
	assert_int_equal(spool_segment(s), 1);
	assert_int_equal(spool_segment_bytes(s), 0);
	assert_int_equal(spool_total_bytes(s), 0);
	assert_int_equal(spool_segment_count(s), 1);
	assert_string_equal(spool_dir(s), f->dir);
	/* The new segment: a regular file, mode 0600, empty. */
	seg_path(path, sizeof(path), f->dir, 1);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(spool_close(s), 0);
	/* Closing leaves it in place; reopening goes on with the next number. */
	assert_true(seg_exists(f->dir, 1));
	s = open_ok(f->dir, &r);
	assert_int_equal(spool_segment(s), 2);
	assert_int_equal(r.segments, 1);
	assert_int_equal(spool_close(s), 0);
}

static void
test_open_creates_dir(void **state)
{
	struct fx *f = *state;
	struct spool_recovery r;
	char dir[128];
	struct stat st;
	struct spool *s;

	snprintf(dir, sizeof(dir), "%s/spool", f->dir);
	s = open_ok(dir, &r);
	assert_int_equal(lstat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(spool_segment(s), 1);
	assert_true(seg_exists(dir, 1));
	assert_int_equal(spool_close(s), 0);
}

static void
test_open_continues_after_highest(void **state)
{
	struct fx *f = *state;
	struct spool_recovery r;
	struct spool *s;
	char *c;

	put_seg(f->dir, 1, recn(1));
	put_seg(f->dir, 2, recn(2));
	put_seg(f->dir, 3, recn(3));
	s = open_ok(f->dir, &r);
	assert_int_equal(r.segments, 3);
	assert_int_equal(r.first, 1);
	assert_int_equal(r.last, 3);
	assert_int_equal(r.gaps, 0);
	assert_int_equal(r.torn_bytes, 0);
	assert_int_equal(r.bytes, recn_len(1) + recn_len(2) + recn_len(3));
	assert_int_equal(spool_segment(s), 4);
	assert_int_equal(spool_segment_count(s), 4);
	assert_int_equal(spool_total_bytes(s), r.bytes);
	/* Sealed segments are left exactly as they were. */
	c = get_seg(f->dir, 3, NULL);
	assert_string_equal(c, recn(3));
	free(c);
	/* Appends go to the new segment only. */
	append_str(s, recn(4));
	assert_int_equal(spool_segment_bytes(s), recn_len(4));
	c = get_seg(f->dir, 4, NULL);
	assert_string_equal(c, recn(4));
	free(c);
	assert_int_equal(spool_close(s), 0);
}

static void
test_open_torn_tail(void **state)
{
	struct fx *f = *state;
	struct spool_recovery r;
	struct spool *s;
	char one[512], two[512], *c;
	size_t len;

	/* A sealed segment with a torn tail is not the open one: left alone. */
	snprintf(one, sizeof(one), "%stype=SYSCALL msg=au", recn(1));
	put_seg(f->dir, 1, one);
	snprintf(two, sizeof(two), "%s%stype=SYSCALL msg=audit(1700000000.000:4): se", recn(2), recn(3));
	put_seg(f->dir, 2, two);
	s = open_ok(f->dir, &r);
	assert_int_equal(r.torn_bytes, strlen("type=SYSCALL msg=audit(1700000000.000:4): se"));
	assert_int_equal(r.segments, 2);
	assert_int_equal(r.bytes, strlen(one) + recn_len(2) + recn_len(3));
	assert_int_equal(spool_segment(s), 3);
	c = get_seg(f->dir, 2, &len);
	assert_int_equal(len, recn_len(2) + recn_len(3));
	assert_int_equal(c[len - 1], '\n');
	assert_memory_equal(c, two, len);
	free(c);
	c = get_seg(f->dir, 1, NULL);
	assert_string_equal(c, one);
	free(c);
	assert_int_equal(spool_close(s), 0);
}

static void
test_open_torn_no_newline(void **state)
{
	struct fx *f = *state;
	struct spool_recovery r;
	struct spool *s;
	size_t len;
	char *c;

	put_seg(f->dir, 1, "type=SYSCALL msg=audit(17000");
	s = open_ok(f->dir, &r);
	assert_int_equal(r.torn_bytes, strlen("type=SYSCALL msg=audit(17000"));
	assert_int_equal(r.bytes, 0);
	c = get_seg(f->dir, 1, &len);
	assert_int_equal(len, 0);
	free(c);
	assert_int_equal(spool_segment(s), 2);
	assert_int_equal(spool_close(s), 0);
}

/* A torn tail longer than any record: only the tail goes, not the lines. */
static void
test_open_torn_long_tail(void **state)
{
	struct fx *f = *state;
	struct spool_recovery r;
	struct spool *s;
	char path[256], *junk, *c;
	size_t len;

	junk = malloc(BIG);
	assert_non_null(junk);
	memset(junk, 'x', BIG);
	put_seg(f->dir, 1, recn(1));
	seg_path(path, sizeof(path), f->dir, 1);
	write_all(path, junk, BIG, O_APPEND);
	free(junk);
	s = open_ok(f->dir, &r);
	assert_int_equal(r.torn_bytes, BIG);
	c = get_seg(f->dir, 1, &len);
	assert_int_equal(len, recn_len(1));
	assert_string_equal(c, recn(1));
	free(c);
	assert_int_equal(spool_close(s), 0);
}

static void
test_open_empty_segment(void **state)
{
	struct fx *f = *state;
	struct spool_recovery r;
	struct spool *s;

	put_seg(f->dir, 1, recn(1));
	put_seg(f->dir, 2, "");
	s = open_ok(f->dir, &r);
	assert_int_equal(r.segments, 2);
	assert_int_equal(r.torn_bytes, 0);
	assert_int_equal(r.bytes, recn_len(1));
	assert_int_equal(spool_segment(s), 3);
	assert_true(seg_exists(f->dir, 2));
	assert_int_equal(spool_close(s), 0);
}

static void
test_open_gap(void **state)
{
	struct fx *f = *state;
	struct spool_recovery r;
	struct spool *s;

	put_seg(f->dir, 2, recn(1));
	put_seg(f->dir, 5, recn(2));
	put_seg(f->dir, 7, recn(3));
	s = open_ok(f->dir, &r);
	assert_int_equal(r.segments, 3);
	assert_int_equal(r.first, 2);
	assert_int_equal(r.last, 7);
	assert_int_equal(r.gaps, 3);		/* 3, 4 and 6 */
	assert_int_equal(spool_segment(s), 8);
	assert_int_equal(spool_close(s), 0);
}

/* Only regular files named audit-NNNNNNNN.log are segments. */
static void
test_open_ignores_other_files(void **state)
{
	struct fx *f = *state;
	struct spool_recovery r;
	struct spool *s;
	char path[256];

	put_seg(f->dir, 2, recn(1));
	snprintf(path, sizeof(path), "%s/audit-9.log", f->dir);
	write_all(path, "x", 1, O_TRUNC);
	snprintf(path, sizeof(path), "%s/audit-00000009.log.gz", f->dir);
	write_all(path, "x", 1, O_TRUNC);
	snprintf(path, sizeof(path), "%s/audit-00000000.log", f->dir);
	write_all(path, "x", 1, O_TRUNC);
	snprintf(path, sizeof(path), "%s/notes.txt", f->dir);
	write_all(path, "x", 1, O_TRUNC);
	/* A symlink is not followed, even with a segment name. */
	snprintf(path, sizeof(path), "%s/audit-00000009.log", f->dir);
	assert_int_equal(symlink("notes.txt", path), 0);
	s = open_ok(f->dir, &r);
	assert_int_equal(r.segments, 1);
	assert_int_equal(r.first, 2);
	assert_int_equal(r.last, 2);
	assert_int_equal(spool_segment(s), 3);
	assert_int_equal(spool_close(s), 0);
}

static void
test_open_numbers_exhausted(void **state)
{
	struct fx *f = *state;
	struct spool_recovery r;
	struct spool *s = NULL;
	const char *what = NULL;

	put_seg(f->dir, 99999999, recn(1));
	assert_int_equal(spool_open(&s, f->dir, &r, &what), -EOVERFLOW);
	assert_string_equal(what, "segment numbers exhausted");
	assert_null(s);
}

static void
test_open_not_a_directory(void **state)
{
	struct fx *f = *state;
	struct spool_recovery r;
	struct spool *s = NULL;
	const char *what = NULL;
	char path[128];

	snprintf(path, sizeof(path), "%s/file", f->dir);
	write_all(path, "x", 1, O_TRUNC);
	assert_int_equal(spool_open(&s, path, &r, &what), -ENOTDIR);
	assert_string_equal(what, "not a directory");
	assert_null(s);

	/* Nor is a symlink to a directory. */
	snprintf(path, sizeof(path), "%s/link", f->dir);
	assert_int_equal(symlink(".", path), 0);
	assert_int_equal(spool_open(&s, path, &r, &what), -ENOTDIR);
	assert_string_equal(what, "not a directory");
	assert_null(s);
}

static void
test_open_missing_parent(void **state)
{
	struct fx *f = *state;
	struct spool_recovery r;
	struct spool *s = NULL;
	const char *what = NULL;
	char path[128];

	snprintf(path, sizeof(path), "%s/no/such/spool", f->dir);
	assert_int_equal(spool_open(&s, path, &r, &what), -ENOENT);
	assert_string_equal(what, "create directory");
	assert_null(s);
}

/*
 * A directory the daemon cannot write. Root passes permission checks, so
 * the check runs in a child that has dropped to uid/gid 65534 (an 0555
 * directory is then not writable); a caller that is not root runs it as
 * itself.
 */
static void
test_open_not_writable(void **state)
{
	struct fx *f = *state;
	char ro[128];
	pid_t pid;
	int status;

	snprintf(ro, sizeof(ro), "%s/ro", f->dir);
	assert_int_equal(mkdir(ro, 0555), 0);
	assert_int_equal(chmod(ro, 0555), 0);
	assert_int_equal(chmod(f->dir, 0711), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct spool_recovery r;
		struct spool *s = NULL;
		const char *what = "";
		int rc;

		if (geteuid() == 0 && (setgroups(0, NULL) < 0 ||
		    setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) < 0))
			_exit(77);
		rc = spool_open(&s, ro, &r, &what);
		if (rc == -EACCES && strcmp(what, "directory not writable") == 0 && s == NULL)
			_exit(0);
		fprintf(stderr, "spool_open(%s) = %d (%s), what \"%s\"\n", ro, rc,
		    strerror(-rc), what);
		_exit(1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
	/* Nothing was created. */
	assert_false(seg_exists(ro, 1));
}

/*
 * Root itself cannot write /proc/sys: procfs denies write access to its
 * sysctl directories for everyone (proc_sys_permission), whatever the
 * capabilities. A second, privilege-independent case of the same check.
 */
static void
test_open_not_writable_procfs(void **state)
{
	struct spool_recovery r;
	struct spool *s = NULL;
	const char *what = NULL;
	struct stat st;

	(void)state;
	if (stat("/proc/sys", &st) < 0 || !S_ISDIR(st.st_mode))
		skip();
	assert_int_equal(spool_open(&s, "/proc/sys", &r, &what), -EACCES);
	assert_string_equal(what, "directory not writable");
	assert_null(s);
}

/* ---- append, rotate, retention ---------------------------------------- */

static void
test_append_iovecs(void **state)
{
	struct fx *f = *state;
	struct spool_recovery r;
	struct spool *s = open_ok(f->dir, &r);
	struct iovec v[3], many[100];
	char want[100 * 128], *c;
	size_t wl = 0, len;

	/* One line from three pieces. */
	v[0].iov_base = (void *)(uintptr_t)"type=SYSCALL";
	v[0].iov_len = 12;
	v[1].iov_base = (void *)(uintptr_t)" msg=audit(1700000000.000:1): seq=1";
	v[1].iov_len = strlen(" msg=audit(1700000000.000:1): seq=1");
	v[2].iov_base = (void *)(uintptr_t)"\n";
	v[2].iov_len = 1;
	assert_int_equal(spool_append(s, v, 3), 0);
	wl = (size_t)snprintf(want, sizeof(want), "%s", recn(1));
	assert_int_equal(spool_segment_bytes(s), wl);

	/* More iovecs than one pwritev call takes (chunks of 64), one of
	 * them empty. */
	for (unsigned i = 0; i < 100; i++) {
		const char *l = i == 50 ? "" : recn(i + 2);
		char *copy = strdup(l);

		assert_non_null(copy);
		many[i].iov_base = copy;
		many[i].iov_len = strlen(copy);
		wl += (size_t)snprintf(want + wl, sizeof(want) - wl, "%s", l);
	}
	assert_int_equal(spool_append(s, many, 100), 0);
	for (unsigned i = 0; i < 100; i++)
		free(many[i].iov_base);
	assert_int_equal(spool_segment_bytes(s), wl);
	assert_int_equal(spool_total_bytes(s), wl);
	assert_int_equal(spool_sync(s, true), 0);
	assert_int_equal(spool_sync(s, false), 0);

	c = get_seg(f->dir, 1, &len);
	assert_int_equal(len, wl);
	assert_memory_equal(c, want, wl);
	free(c);
	/* Zero iovecs: nothing. */
	assert_int_equal(spool_append(s, v, 0), 0);
	assert_int_equal(spool_segment_bytes(s), wl);
	assert_int_equal(spool_close(s), 0);
}

static void
test_rotate(void **state)
{
	struct fx *f = *state;
	struct spool_recovery r;
	struct spool *s = open_ok(f->dir, &r);
	char *c;

	append_str(s, recn(1));
	assert_int_equal(spool_rotate(s), 0);
	assert_int_equal(spool_segment(s), 2);
	assert_int_equal(spool_segment_bytes(s), 0);
	assert_int_equal(spool_segment_count(s), 2);
	assert_int_equal(spool_total_bytes(s), recn_len(1));
	append_str(s, recn(2));
	assert_int_equal(spool_total_bytes(s), recn_len(1) + recn_len(2));
	c = get_seg(f->dir, 1, NULL);
	assert_string_equal(c, recn(1));
	free(c);
	c = get_seg(f->dir, 2, NULL);
	assert_string_equal(c, recn(2));
	free(c);
	/* An empty segment can be sealed too. */
	assert_int_equal(spool_rotate(s), 0);
	assert_int_equal(spool_rotate(s), 0);
	assert_int_equal(spool_segment(s), 4);
	assert_true(seg_exists(f->dir, 3));
	assert_int_equal(spool_close(s), 0);
}

/*
 * Giving the spool to a group (log_group) changes sealed segments through
 * a descriptor: a link planted at a segment's name is refused, and its
 * target keeps its mode.
 */
static void
test_set_group_refuses_links(void **state)
{
	struct fx *f = *state;
	struct spool_recovery r;
	struct spool *s = open_ok(f->dir, &r);
	char victim[256], seg[256];
	struct stat st;

	append_str(s, recn(1));
	assert_int_equal(spool_rotate(s), 0);
	snprintf(victim, sizeof(victim), "%s/victim", f->dir);
	write_all(victim, "x\n", 2, O_TRUNC);
	assert_int_equal(chmod(victim, 0600), 0);
	seg_path(seg, sizeof(seg), f->dir, 1);
	assert_int_equal(unlink(seg), 0);
	assert_int_equal(symlink(victim, seg), 0);
	assert_int_equal(spool_set_group(s, getgid()), -ENOTSUP);
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(unlink(seg), 0);
	assert_int_equal(spool_set_group(s, getgid()), 0);
	assert_int_equal(spool_close(s), 0);
}

/* ---- fault injection: the link wraps fsync -------------------------------- */

/* While set, fsync of a directory fails with EIO (as on a failing disk). */
static int fail_dir_fsync;

int __real_fsync(int fd);
int __wrap_fsync(int fd);

int
__wrap_fsync(int fd)
{
	struct stat st;

	if (fail_dir_fsync && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		errno = EIO;
		return -1;
	}
	return __real_fsync(fd);
}

/*
 * Issue 10 item 3: a directory fsync that fails at rotation used to leave
 * the new segment behind, closed but not unlinked, so every later rotation
 * failed with EEXIST, segment 1 grew without bound, and readers took it as
 * sealed (a higher number existed) while it was still appended to. Now the
 * new segment is the open one; the sync that should make it durable fails
 * until the directory fsync works; rotations go on.
 */
static void
test_rotate_dir_fsync_fails(void **state)
{
	struct fx *f = *state;
	struct spool_recovery r;
	struct spool *s = open_ok(f->dir, &r);
	struct spool_reader *rd;
	struct spool_pos pos;
	const char *line;
	size_t len;

	append_str(s, recn(1));
	rd = spool_reader_open(f->dir, NULL, NULL, NULL);
	assert_non_null(rd);
	assert_int_equal(spool_reader_next(rd, &line, &len, &pos), 1);
	fail_dir_fsync = 1;
	assert_int_equal(spool_rotate(s), 0);
	assert_int_equal(spool_segment(s), 2);
	/* What is appended goes to segment 2, which readers follow into. */
	append_str(s, recn(2));
	assert_int_equal(spool_sync(s, true), -EIO);	/* not durable yet */
	assert_int_equal(spool_reader_next(rd, &line, &len, &pos), 1);
	assert_int_equal(pos.segment, 2);
	assert_int_equal(len, recn_len(2) - 1);
	fail_dir_fsync = 0;
	assert_int_equal(spool_sync(s, true), 0);
	/* And rotation keeps working. */
	assert_int_equal(spool_rotate(s), 0);
	assert_int_equal(spool_segment(s), 3);
	append_str(s, recn(3));
	assert_int_equal(spool_reader_next(rd, &line, &len, &pos), 1);
	assert_int_equal(pos.segment, 3);
	spool_reader_close(rd);
	/* Failing at spool_close: reported. */
	fail_dir_fsync = 1;
	assert_int_equal(spool_rotate(s), 0);
	assert_int_equal(spool_close(s), -EIO);
	fail_dir_fsync = 0;
}

/* Retention with no consumer to wait for. */
static int
retention(struct spool *s, uint32_t max_segments, uint64_t max_bytes, uint64_t *freed)
{
	return spool_retention_shipped(s, max_segments, max_bytes, NULL, freed, NULL,
	    NULL, NULL);
}

/* Segments 1..n-1 sealed with line sizes[i], segment n open. */
static struct spool *
make_segments(const char *dir, unsigned n)
{
	struct spool_recovery r;
	struct spool *s = open_ok(dir, &r);

	for (unsigned i = 1; i < n; i++) {
		append_str(s, recn(i));
		assert_int_equal(spool_rotate(s), 0);
	}
	append_str(s, recn(n));
	assert_int_equal(spool_segment(s), n);
	return s;
}

static void
test_retention_by_count(void **state)
{
	struct fx *f = *state;
	struct spool *s = make_segments(f->dir, 5);
	uint64_t freed = 99;

	/* Within the limit: nothing. */
	assert_int_equal(retention(s, 5, 0, &freed), 0);
	assert_int_equal(freed, 0);
	assert_int_equal(retention(s, 0, 0, &freed), 0);
	/* Five segments, keep three: the two oldest go. */
	assert_int_equal(retention(s, 3, 0, &freed), 2);
	assert_int_equal(freed, recn_len(1) + recn_len(2));
	assert_false(seg_exists(f->dir, 1));
	assert_false(seg_exists(f->dir, 2));
	assert_true(seg_exists(f->dir, 3));
	assert_int_equal(spool_segment_count(s), 3);
	assert_int_equal(spool_total_bytes(s), recn_len(3) + recn_len(4) + recn_len(5));
	/* Keep one: only the open segment is left; it is never deleted. */
	assert_int_equal(retention(s, 1, 0, &freed), 2);
	assert_false(seg_exists(f->dir, 3));
	assert_false(seg_exists(f->dir, 4));
	assert_true(seg_exists(f->dir, 5));
	assert_int_equal(spool_segment_count(s), 1);
	assert_int_equal(retention(s, 1, 0, &freed), 0);
	assert_true(seg_exists(f->dir, 5));
	/* And it still takes appends. */
	append_str(s, recn(6));
	assert_int_equal(spool_total_bytes(s), recn_len(5) + recn_len(6));
	assert_int_equal(spool_close(s), 0);
}

static void
test_retention_by_bytes(void **state)
{
	struct fx *f = *state;
	struct spool *s = make_segments(f->dir, 5);	/* same-length lines */
	uint64_t L = recn_len(1), freed = 0;

	assert_int_equal(spool_total_bytes(s), 5 * L);
	assert_int_equal(retention(s, 0, 5 * L, &freed), 0);
	/* One byte over four segments' worth: two go (5L -> 4L -> 3L). */
	assert_int_equal(retention(s, 0, 3 * L + 1, &freed), 2);
	assert_int_equal(freed, 2 * L);
	assert_false(seg_exists(f->dir, 2));
	assert_true(seg_exists(f->dir, 3));
	assert_int_equal(spool_total_bytes(s), 3 * L);
	/* A limit below the open segment's size: every sealed one goes, the
	 * open one stays although the spool is still over. */
	assert_int_equal(retention(s, 0, 1, &freed), 2);
	assert_int_equal(freed, 2 * L);
	assert_true(seg_exists(f->dir, 5));
	assert_int_equal(spool_segment_count(s), 1);
	assert_int_equal(spool_total_bytes(s), L);
	assert_int_equal(retention(s, 0, 1, &freed), 0);
	assert_true(seg_exists(f->dir, 5));
	assert_int_equal(spool_close(s), 0);
}

static void
test_retention_both_limits(void **state)
{
	struct fx *f = *state;
	struct spool *s = make_segments(f->dir, 6);
	uint64_t L = recn_len(1), freed = 0;

	/* The count allows 4, the bytes 2: the stricter one wins. */
	assert_int_equal(retention(s, 4, 2 * L, &freed), 4);
	assert_int_equal(spool_segment_count(s), 2);
	assert_true(seg_exists(f->dir, 5));
	assert_int_equal(spool_close(s), 0);
}

/* Segments found at open count too, and one already gone is no error. */
static void
test_retention_found_at_open(void **state)
{
	struct fx *f = *state;
	struct spool_recovery r;
	struct spool *s;
	uint64_t freed = 0;

	for (unsigned i = 1; i <= 4; i++)
		put_seg(f->dir, i, recn(i));
	s = open_ok(f->dir, &r);
	assert_int_equal(spool_segment(s), 5);
	del_seg(f->dir, 2);
	assert_int_equal(retention(s, 2, 0, &freed), 3);
	assert_false(seg_exists(f->dir, 1));
	assert_false(seg_exists(f->dir, 3));
	assert_true(seg_exists(f->dir, 4));
	assert_true(seg_exists(f->dir, 5));
	assert_int_equal(spool_segment_count(s), 2);
	assert_int_equal(spool_close(s), 0);
}

/* ---- retention that waits for a shipper ----------------------------------- */

struct unshipped {
	unsigned	n;
	uint64_t	seg[8], bytes[8];
};

static void
unshipped_cb(void *arg, uint64_t segment, uint64_t bytes)
{
	struct unshipped *u = arg;

	assert_true(u->n < 8);
	u->seg[u->n] = segment;
	u->bytes[u->n] = bytes;
	u->n++;
}

/* The count limit stops at the first segment the cursor is not past. */
static void
test_retention_waits_for_shipper(void **state)
{
	struct fx *f = *state;
	struct spool *s = make_segments(f->dir, 5);
	struct spool_pos shipped = { 3, 10 };	/* inside segment 3 */
	struct unshipped u = { 0 };
	uint64_t freed = 0, held = 99;

	assert_int_equal(spool_retention_shipped(s, 2, 0, &shipped, &freed, &held,
	    unshipped_cb, &u), 2);
	assert_int_equal(freed, recn_len(1) + recn_len(2));
	assert_false(seg_exists(f->dir, 2));
	assert_true(seg_exists(f->dir, 3));
	/* 3, 4 and the open 5: one over the limit, held for the shipper. */
	assert_int_equal(held, 1);
	assert_int_equal(u.n, 0);
	/* A cursor at the very end of 3 has not moved past it yet. */
	shipped.offset = recn_len(3);
	assert_int_equal(spool_retention_shipped(s, 2, 0, &shipped, &freed, &held,
	    unshipped_cb, &u), 0);
	assert_int_equal(held, 1);
	/* Once it names segment 4, segment 3 goes. */
	shipped.segment = 4;
	shipped.offset = 0;
	assert_int_equal(spool_retention_shipped(s, 2, 0, &shipped, &freed, &held,
	    unshipped_cb, &u), 1);
	assert_int_equal(held, 0);
	assert_false(seg_exists(f->dir, 3));
	assert_int_equal(u.n, 0);
	/* No cursor yet: nothing counts as shipped. */
	shipped.segment = shipped.offset = 0;
	assert_int_equal(spool_retention_shipped(s, 1, 0, &shipped, &freed, &held,
	    unshipped_cb, &u), 0);
	assert_int_equal(held, 1);
	assert_int_equal(spool_close(s), 0);
}

/* The size limit does not wait, and reports what it took unshipped. */
static void
test_retention_size_forces_unshipped(void **state)
{
	struct fx *f = *state;
	struct spool *s = make_segments(f->dir, 5);
	struct spool_pos shipped = { 2, 0 };
	struct unshipped u = { 0 };
	uint64_t L = recn_len(1), freed = 0, held = 99;

	assert_int_equal(spool_retention_shipped(s, 0, 2 * L, &shipped, &freed, &held,
	    unshipped_cb, &u), 3);
	assert_int_equal(freed, 3 * L);
	assert_int_equal(held, 0);
	/* Segment 1 was shipped; 2 and 3 were not. */
	assert_int_equal(u.n, 2);
	assert_int_equal(u.seg[0], 2);
	assert_int_equal(u.bytes[0], L);
	assert_int_equal(u.seg[1], 3);
	assert_false(seg_exists(f->dir, 3));
	assert_true(seg_exists(f->dir, 4));
	assert_int_equal(spool_close(s), 0);
}

/* ---- the shipper's cursor ------------------------------------------------ */

static void
test_cursor_roundtrip(void **state)
{
	struct fx *f = *state;
	struct spool_pos in = { 12345678, 987654321 }, out = { 0, 0 };
	char path[128], tmp[160];

	snprintf(path, sizeof(path), "%s/ship.cursor", f->dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(spool_cursor_read(path, &out), -ENOENT);
	assert_int_equal(spool_cursor_write(path, &in, true), 0);
	assert_int_equal(spool_cursor_read(path, &out), 0);
	assert_int_equal(out.segment, in.segment);
	assert_int_equal(out.offset, in.offset);
	assert_int_equal(access(tmp, F_OK), -1);
	/* Without a sync the file is replaced all the same. */
	in.segment = 3;
	in.offset = 0;
	assert_int_equal(spool_cursor_write(path, &in, false), 0);
	assert_int_equal(spool_cursor_read(path, &out), 0);
	assert_int_equal(out.segment, 3);
	assert_int_equal(out.offset, 0);
	/* The format, for people and for other tools. */
	{
		char buf[256];
		int fd = open(path, O_RDONLY);
		ssize_t n;

		assert_true(fd >= 0);
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		assert_true(n > 0);
		buf[n] = '\0';
		assert_string_equal(buf, "rauditd-ship cursor 1\nsegment 3\noffset 0\n");
	}
	/* Readable by the daemon, which keeps no CAP_DAC_OVERRIDE. */
	{
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0644);
	}
}

static void
test_cursor_not_a_cursor(void **state)
{
	struct fx *f = *state;
	struct spool_pos out;
	char path[128];

	snprintf(path, sizeof(path), "%s/c", f->dir);
	write_all(path, "", 0, O_CREAT | O_TRUNC);
	assert_int_equal(spool_cursor_read(path, &out), -ENODATA);
	write_all(path, "root:x:0:0:root:/root:/bin/sh\n", 31, O_CREAT | O_TRUNC);
	assert_int_equal(spool_cursor_read(path, &out), -EINVAL);
	write_all(path, "rauditd-ship cursor 1\nsegment 3\n", 32, O_CREAT | O_TRUNC);
	assert_int_equal(spool_cursor_read(path, &out), -EINVAL);
	write_all(path, "rauditd-ship cursor 1\nsegment 3\noffset 4\nmore\n", 47,
	    O_CREAT | O_TRUNC);
	assert_int_equal(spool_cursor_read(path, &out), -EINVAL);
	write_all(path, "rauditd-ship cursor 1\nsegment 3\noffset 4\n", 42, O_CREAT | O_TRUNC);
	assert_int_equal(spool_cursor_read(path, &out), 0);
	assert_int_equal(out.offset, 4);
}


/*
 * A cursor path is in a directory the shipper's user owns: a FIFO there
 * must not block the reader (the old code waited forever for a writer), a
 * symlink must not be followed, a directory or device is not a cursor. The
 * alarm turns a blocking open into a failure instead of a hung test.
 */
static void
test_cursor_planted_files(void **state)
{
	struct fx *f = *state;
	struct spool_pos out = { 7, 7 }, in = { 5, 10 };
	char fifo[128], link[128], link2[128], dir[128], reg[128];

	snprintf(fifo, sizeof(fifo), "%s/fifo", f->dir);
	snprintf(link, sizeof(link), "%s/link-to-fifo", f->dir);
	snprintf(link2, sizeof(link2), "%s/link-to-file", f->dir);
	snprintf(dir, sizeof(dir), "%s/dir", f->dir);
	snprintf(reg, sizeof(reg), "%s/reg", f->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(symlink(fifo, link), 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(spool_cursor_write(reg, &in, false), 0);
	assert_int_equal(symlink(reg, link2), 0);
	alarm(5);
	assert_int_equal(spool_cursor_read(fifo, &out), -ENOTSUP);
	assert_int_equal(spool_cursor_read(link, &out), -ENOTSUP);
	assert_int_equal(spool_cursor_read(link2, &out), -ENOTSUP);
	assert_int_equal(spool_cursor_read(dir, &out), -ENOTSUP);
	assert_int_equal(spool_cursor_read("/dev/null", &out), -ENOTSUP);
	alarm(0);
	assert_int_equal(out.segment, 7);	/* untouched on error */
	assert_int_equal(spool_cursor_read(reg, &out), 0);
	assert_int_equal(out.segment, 5);
}

/* Wait (bounded) until every cursor has been read at least `want` times. */
static size_t
cursors_wait_read(struct cursors *c, struct cursor_view *v, struct spool_pos *floor,
    uint64_t want)
{
	for (int i = 0; i < 500; i++) {
		size_t n = cursors_snapshot(c, v, CURSORS_MAX, floor), ok = 0;

		for (size_t j = 0; j < n; j++)
			ok += v[j].reads >= want;
		if (n > 0 && ok == n)
			return n;
		usleep(10000);
	}
	fail_msg("the cursor thread did not read the cursors within 5 s");
	return 0;
}

/*
 * The cursor thread: N named cursors, each published with its error, the
 * floor the minimum of all with an unreadable one (a FIFO) counting as 0;
 * never blocked by the FIFO; stopped promptly.
 */
static void
test_cursors_thread(void **state)
{
	struct fx *f = *state;
	struct cursors *c = cursors_new(50);
	struct cursor_view v[CURSORS_MAX];
	struct spool_pos floor = { 99, 99 }, a = { 9, 100 }, b = { 7, 20 };
	char pa[128], pb[128], pf[128];
	const char *names[3] = { "a", "b", "fifo" }, *paths[3] = { pa, pb, pf };
	uint64_t reads;

	assert_non_null(c);
	snprintf(pa, sizeof(pa), "%s/a.cursor", f->dir);
	snprintf(pb, sizeof(pb), "%s/b.cursor", f->dir);
	snprintf(pf, sizeof(pf), "%s/f.cursor", f->dir);
	assert_int_equal(spool_cursor_write(pa, &a, false), 0);
	assert_int_equal(spool_cursor_write(pb, &b, false), 0);
	assert_int_equal(mkfifo(pf, 0600), 0);
	/* No consumer: no floor, and *floor untouched. */
	assert_int_equal(cursors_snapshot(c, NULL, 0, &floor), 0);
	assert_int_equal(floor.segment, 99);
	assert_int_equal(cursors_set(c, names, paths, NULL, 3), 0);
	/* Not read yet: counts as nothing consumed. */
	assert_int_equal(cursors_snapshot(c, NULL, 0, &floor), 3);
	assert_int_equal(floor.segment, 0);
	assert_int_equal(cursors_start(c), 0);
	assert_int_equal(cursors_wait_read(c, v, &floor, 1), 3);
	assert_string_equal(v[0].name, "a");
	assert_int_equal(v[0].err, 0);
	assert_int_equal(v[0].pos.segment, 9);
	assert_int_equal(v[1].pos.segment, 7);
	assert_int_equal(v[2].err, -ENOTSUP);
	assert_int_equal(floor.segment, 0);		/* the FIFO holds it at 0 */
	/* Without the FIFO the floor is the lowest cursor; a's state is kept. */
	reads = v[0].reads;
	assert_int_equal(cursors_set(c, names, paths, NULL, 2), 0);
	assert_int_equal(cursors_snapshot(c, v, CURSORS_MAX, &floor), 2);
	assert_true(v[0].reads >= reads);
	cursors_wait_read(c, v, &floor, reads + 1);
	assert_int_equal(floor.segment, 7);
	assert_int_equal(floor.offset, 20);
	/* A consumer moves on: the next read publishes it. */
	b.segment = 12;
	assert_int_equal(spool_cursor_write(pb, &b, false), 0);
	cursors_poke(c);
	cursors_wait_read(c, v, &floor, v[1].reads + 1);
	assert_int_equal(floor.segment, 9);
	assert_int_equal(floor.offset, 100);
	/* Too many, or a name too long: refused, the list unchanged. */
	{
		const char *many[CURSORS_MAX + 1];
		for (size_t i = 0; i <= CURSORS_MAX; i++)
			many[i] = pa;
		assert_int_equal(cursors_set(c, many, many, NULL, CURSORS_MAX + 1), -EINVAL);
	}
	assert_int_equal(cursors_stop(c, 2000), 0);
	cursors_free(c);
}

/*
 * Optional cursors (plugins): absent = never started, not waited for; once
 * the file appears it holds the floor; an optional one that cannot be read
 * still counts as 0. Names that could start a field or end a line are
 * refused.
 */
static void
test_cursors_optional(void **state)
{
	struct fx *f = *state;
	struct cursors *c = cursors_new(50);
	struct cursor_view v[CURSORS_MAX];
	struct spool_pos floor = { 99, 99 }, a = { 9, 100 }, p = { 4, 10 };
	char pa[128], pp[128], pf[128];
	const char *names[3] = { "ship", "plugin:p", "plugin:f" }, *paths[3] = { pa, pp, pf };
	const bool opt[3] = { false, true, true };
	const char *bad[] = { "", "a b", "a=b", "a\nb", "a,b", "a\"b", "a\\b", "\x7f" };

	assert_non_null(c);
	snprintf(pa, sizeof(pa), "%s/a.cursor", f->dir);
	snprintf(pp, sizeof(pp), "%s/p.cursor", f->dir);
	snprintf(pf, sizeof(pf), "%s/f.cursor", f->dir);
	assert_int_equal(spool_cursor_write(pa, &a, false), 0);
	assert_int_equal(cursors_set(c, names, paths, opt, 2), 0);
	/* Not read yet: even an optional one holds everything. */
	assert_int_equal(cursors_snapshot(c, NULL, 0, &floor), 2);
	assert_int_equal(floor.segment, 0);
	assert_int_equal(cursors_start(c), 0);
	assert_int_equal(cursors_wait_read(c, v, &floor, 1), 2);
	assert_int_equal(v[1].err, -ENOENT);
	assert_false(v[1].waits);
	assert_true(v[0].waits);
	assert_int_equal(floor.segment, 9);		/* the plugin never started */
	/* Only absent optional ones: nothing to wait for. */
	assert_int_equal(cursors_set(c, names + 1, paths + 1, opt + 1, 1), 0);
	cursors_wait_read(c, v, &floor, v[0].reads + 1);
	assert_int_equal(floor.segment, UINT64_MAX);
	/* It starts: its cursor holds the floor. */
	assert_int_equal(spool_cursor_write(pp, &p, false), 0);
	assert_int_equal(cursors_set(c, names, paths, opt, 2), 0);
	cursors_wait_read(c, v, &floor, 2);
	assert_true(v[1].waits);
	assert_int_equal(floor.segment, 4);
	/* An optional cursor that exists but is not one: nothing consumed. */
	assert_int_equal(mkfifo(pf, 0600), 0);
	assert_int_equal(cursors_set(c, names, paths, opt, 3), 0);
	cursors_wait_read(c, v, &floor, v[2].reads + 1);
	assert_int_equal(v[2].err, -ENOTSUP);
	assert_int_equal(floor.segment, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(cursors_name_ok(bad[i]));
		names[2] = bad[i];
		assert_int_equal(cursors_set(c, names, paths, opt, 3), -EINVAL);
	}
	assert_true(cursors_name_ok("plugin:laurel"));
	assert_int_equal(cursors_stop(c, 2000), 0);
	cursors_free(c);
}

/*
 * What readers outside spool.c (the shipper's lag, crash settling) use
 * instead of scanning the directory and counting lines themselves: the
 * list skips what is not a regular segment file; counting stops at `to`,
 * at the budget (returning 1 and where it stopped) and at the last newline.
 */
static void
test_list_and_count(void **state)
{
	struct fx *f = *state;
	struct spool_seg *segs;
	uint64_t lines = 0, upto = 0, budget;
	size_t n;
	char path[128];

	append_seg(f->dir, 3, "a\nbb\nccc\npartial");
	append_seg(f->dir, 1, "x\n");
	snprintf(path, sizeof(path), "%s/audit-00000002.log", f->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/audit-00000004.log", f->dir);
	assert_int_equal(symlink("audit-00000001.log", path), 0);
	assert_int_equal(spool_list(f->dir, &segs, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(segs[0].no, 1);
	assert_int_equal(segs[0].bytes, 2);
	assert_int_equal(segs[1].no, 3);
	assert_int_equal(segs[1].bytes, 16);
	free(segs);

	assert_int_equal(spool_count_lines(f->dir, 3, 0, UINT64_MAX, NULL, &lines, &upto), 0);
	assert_int_equal(lines, 3);
	assert_int_equal(upto, 9);			/* past "ccc\n" */
	lines = 0;
	assert_int_equal(spool_count_lines(f->dir, 3, 2, 5, NULL, &lines, &upto), 0);
	assert_int_equal(lines, 1);
	assert_int_equal(upto, 5);
	lines = 0;
	budget = 3;
	assert_int_equal(spool_count_lines(f->dir, 3, 0, UINT64_MAX, &budget, &lines, &upto), 1);
	assert_int_equal(lines, 1);
	assert_int_equal(upto, 3);
	assert_int_equal(budget, 0);
	assert_int_equal(spool_count_lines(f->dir, 9, 0, UINT64_MAX, NULL, &lines, &upto),
	    -ENOENT);
	assert_int_equal(spool_count_lines(f->dir, 2, 0, UINT64_MAX, NULL, &lines, &upto),
	    -ENOTSUP);
	assert_int_equal(spool_count_lines(f->dir, 4, 0, UINT64_MAX, NULL, &lines, &upto),
	    -ELOOP);
}

/* The lag cache: counts carried over, each byte read once, partial lines not counted. */
static void
test_lag(void **state)
{
	struct fx *f = *state;
	struct spool_lag lag = { 0 };
	struct spool_lagbase base = { 0 };
	struct spool_pos pos = { 1, 0 };
	uint64_t records, bytes;
	char gone[128];

	put_seg(f->dir, 1, "a\nb\n");
	put_seg(f->dir, 2, "cc\ndd\nee\n");
	put_seg(f->dir, 3, "f\npart");

	/* A budget of 5 bytes: segment 1 whole, 1 byte of 2, nothing of 3. */
	assert_int_equal(spool_lag_update(f->dir, &lag, 0, 5), 0);
	assert_false(lag.complete);
	assert_int_equal(lag.n, 3);
	assert_int_equal(lag.seg[0].lines, 2);
	assert_int_equal(lag.seg[1].scanned, 1);
	assert_int_equal(lag.seg[2].scanned, 0);

	/* The rest next time, without counting segment 1 or "c" again. */
	assert_int_equal(spool_lag_update(f->dir, &lag, 0, 1 << 20), 0);
	assert_true(lag.complete);
	assert_int_equal(lag.seg[1].lines, 3);
	assert_int_equal(lag.seg[2].lines, 1);
	assert_int_equal(lag.seg[2].scanned, 2);	/* up to "f\n" */
	spool_lag_behind(f->dir, &lag, &pos, &base, &records, &bytes);
	assert_int_equal(records, 6);
	assert_int_equal(bytes, 4 + 9 + 6);

	/* Behind a position inside segment 2: its lines before it are not lag. */
	pos = (struct spool_pos){ 2, 3 };
	spool_lag_behind(f->dir, &lag, &pos, &base, &records, &bytes);
	assert_int_equal(records, 3);
	assert_int_equal(bytes, 9 + 6 - 3);

	/* The partial line completed; only segments from 3 on kept. */
	append_seg(f->dir, 3, "ial\n");
	assert_int_equal(spool_lag_update(f->dir, &lag, 3, 1 << 20), 0);
	assert_int_equal(lag.n, 1);
	assert_int_equal(lag.seg[0].lines, 2);
	pos = (struct spool_pos){ 3, 2 };
	spool_lag_behind(f->dir, &lag, &pos, &base, &records, &bytes);
	assert_int_equal(records, 1);
	assert_int_equal(bytes, 10 - 2);

	/* A spool that cannot be listed leaves the counts as they were. */
	snprintf(gone, sizeof(gone), "%s/none", f->dir);
	assert_true(spool_lag_update(gone, &lag, 0, 1 << 20) < 0);
	assert_int_equal(lag.n, 1);
	spool_lag_free(&lag);
	assert_null(lag.seg);
}

/* ---- names and lines --------------------------------------------------- */

static void
test_names(void **state)
{
	char buf[SPOOL_NAME_LEN];
	uint64_t n = 0;

	(void)state;
	spool_segment_name(buf, sizeof(buf), 1);
	assert_string_equal(buf, "audit-00000001.log");
	spool_segment_name(buf, sizeof(buf), 12345678);
	assert_string_equal(buf, "audit-12345678.log");
	spool_segment_name(buf, sizeof(buf), 99999999);
	assert_string_equal(buf, "audit-99999999.log");
	for (uint64_t i = 1; i < 100000000; i = i * 7 + 3) {
		spool_segment_name(buf, sizeof(buf), i);
		assert_true(spool_parse_name(buf, &n));
		assert_int_equal(n, i);
	}
	assert_true(spool_parse_name("audit-00000042.log", &n));
	assert_int_equal(n, 42);

	n = 7;
	assert_false(spool_parse_name("audit-00000000.log", &n));
	assert_false(spool_parse_name("audit-0000001.log", &n));
	assert_false(spool_parse_name("audit-000000001.log", &n));
	assert_false(spool_parse_name("audit-00000001.log.1", &n));
	assert_false(spool_parse_name("audit-00000001.lo", &n));
	assert_false(spool_parse_name("audit-00000001.LOG", &n));
	assert_false(spool_parse_name("audit-0000000a.log", &n));
	assert_false(spool_parse_name("audit-+0000001.log", &n));
	assert_false(spool_parse_name("Audit-00000001.log", &n));
	assert_false(spool_parse_name(".audit-00000001.log", &n));
	assert_false(spool_parse_name("audit.log", &n));
	assert_false(spool_parse_name("audit-", &n));
	assert_false(spool_parse_name("", &n));
	assert_int_equal(n, 7);
}

static void
test_line_valid(void **state)
{
	static const char *const good[] = {
		"type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=59",
		"type=EOE msg=audit(1700000000.123:42): ",
		"type=UNKNOWN[1999] msg=audit(1.000:1): x",
		"type=DAEMON_START msg=audit(1700000000.123:0): op=start",
		/* ENRICHED */
		"type=SYSCALL msg=audit(1.000:1): uid=0\x1dUID=\"root\"",
		/* auditd's name_format */
		"node=web-01 type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e",
		"node=10.0.0.7 type=EOE msg=audit(1700000000.123:42):",
		"node=web-01 type=DAEMON_ROTATE msg=audit(1.000:1): op=rotate-logs segment=2",
	};
	static const char *const bad[] = {
		"",
		"garbage",
		/* A node field, but not one auditd writes. */
		"node= type=SYSCALL msg=audit(1.000:1): x",
		"node=a b type=SYSCALL msg=audit(1.000:1): x",
		"node=a\tb type=SYSCALL msg=audit(1.000:1): x",
		"node=ab",
		"node=ab msg=audit(1.000:1): x",
		"type=SYSCALL",
		"type=SYSCALL msg=audit(1700000000",		/* no ')' */
		"type=SYSCALL msg=x(1700000000.123:42): a=1",
		"msg=audit(1700000000.123:42): type=SYSCALL",
		" type=SYSCALL msg=audit(1700000000.123:42):",
		"TYPE=SYSCALL msg=audit(1700000000.123:42):",
		"type=SYSCALLmsg=audit(1700000000.123:42): a",
	};
	char far[128];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!spool_line_valid(good[i], strlen(good[i])))
			fail_msg("rejected \"%s\"", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (spool_line_valid(bad[i], strlen(bad[i])))
			fail_msg("accepted \"%s\"", bad[i]);
	/* The stamp must be near the start of the line. */
	snprintf(far, sizeof(far), "type=%059d msg=audit(1.000:1): x", 0);
	assert_true(spool_line_valid(far, strlen(far)));
	snprintf(far, sizeof(far), "type=%060d msg=audit(1.000:1): x", 0);
	assert_false(spool_line_valid(far, strlen(far)));
	/* len bounds the check: the ')' past len does not count. */
	assert_false(spool_line_valid("type=SYSCALL msg=audit(1.000:1): x", 30));
	assert_true(spool_line_valid("type=SYSCALL msg=audit(1.000:1): x", 31));
}

/* ---- reader ------------------------------------------------------------ */

/*
 * What a reader produced, as text: "N@S:O" for record N at segment S,
 * offset O, and "EVENT@S:O+LEN" for each reported problem.
 */
struct trace {
	char	text[4096];
	size_t	len;
};

static void __attribute__((format(printf, 2, 3)))
trace_add(struct trace *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->text + t->len, sizeof(t->text) - t->len, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(t->text) - t->len);
	t->len += (size_t)n;
}

static void
trace_cb(void *arg, enum spool_event ev, const struct spool_pos *pos, uint64_t len)
{
	static const char *const names[] = {
		[SPOOL_EV_TORN] = "TORN",
		[SPOOL_EV_BAD_LINE] = "BAD",
		[SPOOL_EV_MISSING] = "MISSING",
		[SPOOL_EV_LONG_LINE] = "LONG",
	};

	trace_add(arg, "%s%s@%llu:%llu+%llu", ((struct trace *)arg)->len ? " " : "",
	    names[ev], (unsigned long long)pos->segment, (unsigned long long)pos->offset,
	    (unsigned long long)len);
}

/*
 * Read lines until there is none (or max of them, if max is not 0); each
 * line must be a rec(). They are traced into t unless it is NULL.
 */
static int
drain(struct spool_reader *r, struct trace *t, unsigned max)
{
	const char *line;
	size_t len;
	struct spool_pos pos;
	unsigned n, count = 0;
	int rc;

	while ((rc = spool_reader_next(r, &line, &len, &pos)) == 1) {
		const char *q = memmem(line, len, " seq=", 5);
		char num[16];
		size_t nl;

		assert_non_null(q);
		nl = len - (size_t)(q + 5 - line);
		assert_true(nl > 0 && nl < sizeof(num));
		memcpy(num, q + 5, nl);
		num[nl] = '\0';
		n = (unsigned)strtoul(num, NULL, 10);
		if (len != strlen(rec(n)) || memcmp(line, rec(n), len) != 0)
			fail_msg("line \"%.*s\" is not record %u", (int)len, line, n);
		if (t != NULL)
			trace_add(t, "%s%u@%llu:%llu", t->len ? " " : "", n,
			    (unsigned long long)pos.segment, (unsigned long long)pos.offset);
		if (++count == max)
			break;
	}
	assert_true(rc >= 0);
	return (int)count;
}

static struct spool_reader *
reader(const char *dir, const struct spool_pos *start, struct trace *t)
{
	struct spool_reader *r = spool_reader_open(dir, start, trace_cb, t);

	if (r == NULL)
		fail_msg("spool_reader_open(%s): %s", dir, strerror(errno));
	return r;
}

static void
expect_trace(struct trace *t, const char *want)
{
	if (strcmp(t->text, want) != 0)
		fail_msg("reader trace\n  got  \"%s\"\n  want \"%s\"", t->text, want);
	t->len = 0;
	t->text[0] = '\0';
}

static void
test_reader_segments_in_order(void **state)
{
	struct fx *f = *state;
	struct trace t = { .len = 0 };
	struct spool_reader *r;
	struct spool_reader_stats st;
	char buf[512], want[512];
	uint64_t L = recn_len(1);
	const char *line;
	size_t len;
	struct spool_pos pos;

	snprintf(buf, sizeof(buf), "%s%s", recn(1), recn(2));
	put_seg(f->dir, 1, buf);
	put_seg(f->dir, 2, recn(3));
	snprintf(buf, sizeof(buf), "%s%s", recn(4), recn(5));
	put_seg(f->dir, 3, buf);

	r = reader(f->dir, NULL, &t);
	assert_int_equal(drain(r, &t, 0), 5);
	snprintf(want, sizeof(want), "1@1:0 2@1:%llu 3@2:0 4@3:0 5@3:%llu",
	    (unsigned long long)L, (unsigned long long)L);
	expect_trace(&t, want);
	/* At the end it stays at the end. */
	assert_int_equal(spool_reader_next(r, &line, &len, &pos), 0);
	assert_int_equal(spool_reader_next(r, &line, &len, &pos), 0);
	spool_reader_stats(r, &st);
	assert_int_equal(st.lines, 5);
	assert_int_equal(st.segments, 3);
	assert_int_equal(st.bad_lines, 0);
	assert_int_equal(st.torn, 0);
	assert_int_equal(st.missing, 0);
	/* A new segment appears: reading goes on. */
	put_seg(f->dir, 4, recn(6));
	assert_int_equal(drain(r, &t, 0), 1);
	expect_trace(&t, "6@4:0");
	spool_reader_close(r);
}

static void
test_reader_partial_line_of_open_segment(void **state)
{
	struct fx *f = *state;
	struct trace t = { .len = 0 };
	struct spool_reader *r;
	struct spool_pos pos;
	char half[128], want[128];
	uint64_t L = recn_len(1);
	const char *line;
	size_t len, h;

	snprintf(half, sizeof(half), "%s", recn(2));
	h = strlen(half) / 2;
	half[h] = '\0';
	put_seg(f->dir, 1, recn(1));
	append_seg(f->dir, 1, half);

	r = reader(f->dir, NULL, &t);
	assert_int_equal(drain(r, &t, 0), 1);
	expect_trace(&t, "1@1:0");
	/* A partial line is not yet a record, however often we ask. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(spool_reader_next(r, &line, &len, &pos), 0);
	spool_reader_tell(r, &pos);
	assert_int_equal(pos.segment, 1);
	assert_int_equal(pos.offset, L);
	/* Completed, it is returned, whole, at its start. */
	append_seg(f->dir, 1, recn(2) + h);
	assert_int_equal(drain(r, &t, 0), 1);
	snprintf(want, sizeof(want), "2@1:%llu", (unsigned long long)L);
	expect_trace(&t, want);
	/* Even in pieces of one byte. */
	for (const char *p = recn(3); *p; p++) {
		char one[2] = { *p, '\0' };

		assert_int_equal(spool_reader_next(r, &line, &len, &pos), 0);
		append_seg(f->dir, 1, one);
	}
	assert_int_equal(drain(r, &t, 0), 1);
	snprintf(want, sizeof(want), "3@1:%llu", (unsigned long long)(2 * L));
	expect_trace(&t, want);
	spool_reader_close(r);
}

/*
 * With auditd's name_format every line starts with "node=NAME ": the
 * reader returns them intact; a line whose node field is malformed is a
 * bad line, reported with its place and skipped.
 */
static void
test_reader_node_prefix(void **state)
{
	static const char l1[] = "node=web-01 type=SYSCALL msg=audit(1700000000.000:1): seq=1";
	static const char l2[] = "node=web 01 type=SYSCALL msg=audit(1700000000.000:2): seq=2";
	static const char l3[] = "node=web-01 type=PROCTITLE msg=audit(1700000000.000:1): a=1";
	struct fx *f = *state;
	struct trace t = { .len = 0 };
	struct spool_reader *r;
	struct spool_pos pos;
	char buf[512], want[128];
	const char *line;
	size_t len;

	snprintf(buf, sizeof(buf), "%s\n%s\n%s\n", l1, l2, l3);
	put_seg(f->dir, 1, buf);
	r = reader(f->dir, NULL, &t);
	assert_int_equal(spool_reader_next(r, &line, &len, &pos), 1);
	assert_int_equal(len, sizeof(l1) - 1);
	assert_memory_equal(line, l1, len);
	assert_int_equal(pos.offset, 0);
	assert_int_equal(spool_reader_next(r, &line, &len, &pos), 1);
	assert_int_equal(len, sizeof(l3) - 1);
	assert_memory_equal(line, l3, len);
	assert_int_equal(pos.offset, sizeof(l1) + sizeof(l2));
	assert_int_equal(spool_reader_next(r, &line, &len, &pos), 0);
	snprintf(want, sizeof(want), "BAD@1:%zu+%zu", sizeof(l1), sizeof(l2) - 1);
	expect_trace(&t, want);
	spool_reader_close(r);
}

static void
test_reader_bad_line(void **state)
{
	struct fx *f = *state;
	struct trace t = { .len = 0 };
	struct spool_reader *r;
	struct spool_reader_stats st;
	char buf[512], want[512];
	uint64_t L = recn_len(1);

	snprintf(buf, sizeof(buf), "%sgarbage here\n%s\n%s", recn(1), recn(2), recn(3));
	put_seg(f->dir, 1, buf);
	r = reader(f->dir, NULL, &t);
	assert_int_equal(drain(r, &t, 0), 3);
	/* The garbage is reported with its place and skipped; so is an empty line. */
	snprintf(want, sizeof(want), "1@1:0 BAD@1:%llu+12 2@1:%llu BAD@1:%llu+0 3@1:%llu",
	    (unsigned long long)L, (unsigned long long)(L + 13),
	    (unsigned long long)(2 * L + 13), (unsigned long long)(2 * L + 14));
	expect_trace(&t, want);
	spool_reader_stats(r, &st);
	assert_int_equal(st.lines, 3);
	assert_int_equal(st.bad_lines, 2);
	spool_reader_close(r);
}

static void
test_reader_torn_sealed_segment(void **state)
{
	struct fx *f = *state;
	struct trace t = { .len = 0 };
	struct spool_reader *r;
	struct spool_reader_stats st;
	char buf[512], want[512];
	uint64_t L = recn_len(1);

	snprintf(buf, sizeof(buf), "%stype=SYSCALL msg=aud", recn(1));
	put_seg(f->dir, 1, buf);
	put_seg(f->dir, 2, recn(2));
	r = reader(f->dir, NULL, &t);
	assert_int_equal(drain(r, &t, 0), 2);
	snprintf(want, sizeof(want), "1@1:0 TORN@1:%llu+20 2@2:0", (unsigned long long)L);
	expect_trace(&t, want);
	spool_reader_stats(r, &st);
	assert_int_equal(st.torn, 1);
	assert_int_equal(st.lines, 2);
	spool_reader_close(r);
}

static void
test_reader_missing_segment(void **state)
{
	struct fx *f = *state;
	struct trace t = { .len = 0 };
	struct spool_reader *r;
	struct spool_reader_stats st;
	struct spool_pos start = { 2, 0 };

	put_seg(f->dir, 1, recn(1));
	put_seg(f->dir, 3, recn(3));
	put_seg(f->dir, 6, recn(6));
	r = reader(f->dir, NULL, &t);
	assert_int_equal(drain(r, &t, 0), 3);
	expect_trace(&t, "1@1:0 MISSING@2:0+1 3@3:0 MISSING@4:0+2 6@6:0");
	spool_reader_stats(r, &st);
	assert_int_equal(st.missing, 2);
	spool_reader_close(r);

	/* A cursor in a segment that is gone. */
	r = reader(f->dir, &start, &t);
	assert_int_equal(drain(r, &t, 0), 2);
	expect_trace(&t, "MISSING@2:0+1 3@3:0 MISSING@4:0+2 6@6:0");
	spool_reader_close(r);
}

static void
test_reader_empty_segment(void **state)
{
	struct fx *f = *state;
	struct trace t = { .len = 0 };
	struct spool_reader *r;

	put_seg(f->dir, 1, recn(1));
	put_seg(f->dir, 2, "");
	put_seg(f->dir, 3, recn(3));
	r = reader(f->dir, NULL, &t);
	assert_int_equal(drain(r, &t, 0), 2);
	expect_trace(&t, "1@1:0 3@3:0");
	spool_reader_close(r);
}

/* Deleted after the reader opened it: still read to its end. */
static void
test_reader_segment_deleted_while_open(void **state)
{
	struct fx *f = *state;
	struct trace t = { .len = 0 };
	struct spool_reader *r;
	struct spool_reader_stats st;
	char path[256], *buf;
	size_t off = 0;
	unsigned n, lines = 0;

	/* Larger than the reader's buffer, so the rest is read after the unlink. */
	buf = malloc(BIG + 256);
	assert_non_null(buf);
	for (n = 1; off < BIG; n++, lines++)
		off += (size_t)snprintf(buf + off, BIG + 256 - off, "%s", recn(n));
	seg_path(path, sizeof(path), f->dir, 1);
	write_all(path, buf, off, O_TRUNC);
	free(buf);
	put_seg(f->dir, 2, recn(n));

	r = reader(f->dir, NULL, &t);
	assert_int_equal(drain(r, &t, 1), 1);
	expect_trace(&t, "1@1:0");
	del_seg(f->dir, 1);
	assert_int_equal(drain(r, NULL, 0), lines);
	/* Every line of it, then the next segment, and nothing reported. */
	expect_trace(&t, "");
	spool_reader_stats(r, &st);
	assert_int_equal(st.lines, lines + 1);
	assert_int_equal(st.segments, 2);
	spool_reader_close(r);
}

/* Deleted before the reader got to it: reported missing, then skipped. */
static void
test_reader_segment_deleted_before_open(void **state)
{
	struct fx *f = *state;
	struct trace t = { .len = 0 };
	struct spool_reader *r;
	struct spool_pos start = { 1, 0 };

	put_seg(f->dir, 1, recn(1));
	put_seg(f->dir, 2, recn(2));
	put_seg(f->dir, 3, recn(3));
	r = reader(f->dir, NULL, &t);
	assert_int_equal(drain(r, &t, 1), 1);
	del_seg(f->dir, 2);
	assert_int_equal(drain(r, &t, 0), 1);
	expect_trace(&t, "1@1:0 MISSING@2:0+1 3@3:0");
	spool_reader_close(r);

	/* The segment a cursor points into, gone before the reader opens. */
	del_seg(f->dir, 1);
	r = reader(f->dir, &start, &t);
	assert_int_equal(drain(r, &t, 0), 1);
	expect_trace(&t, "MISSING@1:0+2 3@3:0");
	spool_reader_close(r);
}

static void
test_reader_long_line(void **state)
{
	struct fx *f = *state;
	struct trace t = { .len = 0 };
	struct spool_reader *r;
	char path[256], *junk, want[256];
	uint64_t L = recn_len(1);

	junk = malloc(BIG + 1);
	assert_non_null(junk);
	memset(junk, 'x', BIG);
	junk[BIG] = '\n';
	put_seg(f->dir, 1, recn(1));
	seg_path(path, sizeof(path), f->dir, 1);
	write_all(path, junk, BIG + 1, O_APPEND);
	free(junk);
	append_seg(f->dir, 1, recn(2));

	r = reader(f->dir, NULL, &t);
	assert_int_equal(drain(r, &t, 0), 2);
	snprintf(want, sizeof(want), "1@1:0 LONG@1:%llu+%llu 2@1:%llu", (unsigned long long)L,
	    (unsigned long long)BIG, (unsigned long long)(L + BIG + 1));
	expect_trace(&t, want);
	spool_reader_close(r);
}

static void
test_reader_resume_from_cursor(void **state)
{
	struct fx *f = *state;
	struct trace t = { .len = 0 };
	struct spool_reader *r;
	struct spool_pos pos, first;
	char buf[512], want[512];
	uint64_t L = recn_len(1);

	snprintf(buf, sizeof(buf), "%s%s%s", recn(1), recn(2), recn(3));
	put_seg(f->dir, 1, buf);
	snprintf(buf, sizeof(buf), "%s%s", recn(4), recn(5));
	put_seg(f->dir, 2, buf);

	/* Before any line the cursor is the start of the first segment. */
	r = reader(f->dir, NULL, &t);
	spool_reader_tell(r, &first);
	assert_int_equal(first.segment, 1);
	assert_int_equal(first.offset, 0);
	/* Two lines, then the cursor is just past the second. */
	assert_int_equal(drain(r, &t, 2), 2);
	spool_reader_tell(r, &pos);
	assert_int_equal(pos.segment, 1);
	assert_int_equal(pos.offset, 2 * L);
	spool_reader_close(r);
	snprintf(want, sizeof(want), "1@1:0 2@1:%llu", (unsigned long long)L);
	expect_trace(&t, want);

	/* A new reader from there returns exactly the rest. */
	r = reader(f->dir, &pos, &t);
	assert_int_equal(drain(r, &t, 1), 1);
	snprintf(want, sizeof(want), "3@1:%llu", (unsigned long long)(2 * L));
	expect_trace(&t, want);
	/* At the end of a sealed segment. */
	spool_reader_tell(r, &pos);
	assert_int_equal(pos.segment, 1);
	assert_int_equal(pos.offset, 3 * L);
	spool_reader_close(r);
	r = reader(f->dir, &pos, &t);
	assert_int_equal(drain(r, &t, 0), 2);
	snprintf(want, sizeof(want), "4@2:0 5@2:%llu", (unsigned long long)L);
	expect_trace(&t, want);
	/* At the end of the open segment: nothing, then what is appended. */
	spool_reader_tell(r, &pos);
	assert_int_equal(pos.segment, 2);
	assert_int_equal(pos.offset, 2 * L);
	spool_reader_close(r);
	r = reader(f->dir, &pos, &t);
	assert_int_equal(drain(r, &t, 0), 0);
	append_seg(f->dir, 2, recn(6));
	assert_int_equal(drain(r, &t, 0), 1);
	snprintf(want, sizeof(want), "6@2:%llu", (unsigned long long)(2 * L));
	expect_trace(&t, want);
	spool_reader_close(r);
}

/* A reader that starts before the writer: it waits for the first segment. */
static void
test_reader_follows_writer(void **state)
{
	struct fx *f = *state;
	struct trace t = { .len = 0 };
	struct spool_reader *r;
	struct spool_recovery rec_;
	struct spool *s;
	const char *line;
	size_t len;
	struct spool_pos pos;
	char want[128];

	r = reader(f->dir, NULL, &t);
	assert_int_equal(spool_reader_next(r, &line, &len, &pos), 0);
	s = open_ok(f->dir, &rec_);
	assert_int_equal(spool_reader_next(r, &line, &len, &pos), 0);
	append_str(s, recn(1));
	assert_int_equal(drain(r, &t, 0), 1);
	expect_trace(&t, "1@1:0");
	assert_int_equal(spool_rotate(s), 0);
	append_str(s, recn(2));
	append_str(s, recn(3));
	assert_int_equal(drain(r, &t, 0), 2);
	snprintf(want, sizeof(want), "2@2:0 3@2:%llu", (unsigned long long)recn_len(2));
	expect_trace(&t, want);
	assert_int_equal(spool_close(s), 0);
	spool_reader_close(r);
}

static void
test_reader_open_missing_dir(void **state)
{
	struct fx *f = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/none", f->dir);
	errno = 0;
	assert_null(spool_reader_open(path, NULL, NULL, NULL));
	assert_int_equal(errno, ENOENT);
}

/* Seeking back, within the open segment and to an earlier one. */
static void
test_reader_seek(void **state)
{
	struct fx *f = *state;
	struct trace t = { .len = 0 };
	struct spool_reader *r;
	struct spool_pos back;
	char buf[512], want[512];
	uint64_t L = recn_len(1);

	snprintf(buf, sizeof(buf), "%s%s", recn(1), recn(2));
	put_seg(f->dir, 1, buf);
	snprintf(buf, sizeof(buf), "%s%s", recn(3), recn(4));
	put_seg(f->dir, 2, buf);
	r = reader(f->dir, NULL, &t);
	assert_int_equal(drain(r, &t, 1), 1);
	spool_reader_tell(r, &back);
	assert_int_equal(drain(r, &t, 2), 2);
	snprintf(want, sizeof(want), "1@1:0 2@1:%llu 3@2:0", (unsigned long long)L);
	expect_trace(&t, want);
	/* Back into segment 1 from segment 2: the rest again, in order. */
	spool_reader_seek(r, &back);
	assert_int_equal(drain(r, &t, 0), 3);
	snprintf(want, sizeof(want), "2@1:%llu 3@2:0 4@2:%llu", (unsigned long long)L,
	    (unsigned long long)L);
	expect_trace(&t, want);
	/* Within the segment held open, even after it was deleted. */
	back.segment = 2;
	back.offset = L;
	del_seg(f->dir, 2);
	spool_reader_seek(r, &back);
	assert_int_equal(drain(r, &t, 0), 1);
	snprintf(want, sizeof(want), "4@2:%llu", (unsigned long long)L);
	expect_trace(&t, want);
	/* To a segment that is gone: reported missing, then the next one. */
	put_seg(f->dir, 3, recn(5));
	back.segment = 1;
	back.offset = 0;
	del_seg(f->dir, 1);
	spool_reader_seek(r, &back);
	assert_int_equal(drain(r, &t, 0), 1);
	expect_trace(&t, "MISSING@1:0+2 5@3:0");
	spool_reader_close(r);
}

#define T(fn)	cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_empty_dir),
		T(test_open_creates_dir),
		T(test_open_continues_after_highest),
		T(test_open_torn_tail),
		T(test_open_torn_no_newline),
		T(test_open_torn_long_tail),
		T(test_open_empty_segment),
		T(test_open_gap),
		T(test_open_ignores_other_files),
		T(test_open_numbers_exhausted),
		T(test_open_not_a_directory),
		T(test_open_missing_parent),
		T(test_open_not_writable),
		cmocka_unit_test(test_open_not_writable_procfs),
		T(test_append_iovecs),
		T(test_rotate),
		T(test_set_group_refuses_links),
		T(test_rotate_dir_fsync_fails),
		T(test_retention_by_count),
		T(test_retention_by_bytes),
		T(test_retention_both_limits),
		T(test_retention_found_at_open),
		T(test_retention_waits_for_shipper),
		T(test_retention_size_forces_unshipped),
		T(test_cursor_roundtrip),
		T(test_cursor_not_a_cursor),
		T(test_cursor_planted_files),
		T(test_cursors_thread),
		T(test_cursors_optional),
		T(test_list_and_count),
		T(test_lag),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_line_valid),
		T(test_reader_segments_in_order),
		T(test_reader_partial_line_of_open_segment),
		T(test_reader_bad_line),
		T(test_reader_node_prefix),
		T(test_reader_torn_sealed_segment),
		T(test_reader_missing_segment),
		T(test_reader_empty_segment),
		T(test_reader_segment_deleted_while_open),
		T(test_reader_segment_deleted_before_open),
		T(test_reader_long_line),
		T(test_reader_resume_from_cursor),
		T(test_reader_seek),
		T(test_reader_follows_writer),
		T(test_reader_open_missing_dir),
	};

	/* Modes of created files and directories are checked exactly. */
	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
