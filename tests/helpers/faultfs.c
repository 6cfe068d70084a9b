/*
 * faultfs.c - a FUSE passthrough filesystem for the test suite that makes
 * writes and fsyncs slow, stuck or failing on command, so the integration
 * tests can put rauditd's spool on a bad disk and show that only the writer
 * thread notices while the kernel never waits.
 *
 * DESIGN
 *
 * Usage: faultfs BACKING_DIR MOUNTPOINT -c CONTROL_FILE [-f] [-o opt,...]
 * BACKING_DIR is mirrored at MOUNTPOINT through *at() calls on a directory
 * fd opened at startup, so daemonizing (which chdirs to /) changes nothing.
 *
 * Control: CONTROL_FILE holds one line, the mode:
 *	ok			plain passthrough (also: file missing or empty)
 *	delay WRITE_US FSYNC_US	sleep before every write / every fsync
 *	hang			writes and fsyncs block until the mode changes
 *	eio			writes and fsyncs fail with EIO
 *	enospc			writes fail with ENOSPC; fsync passes
 *	fsynceio		fsyncs fail with EIO; writes pass (a batch
 *				written whose sync fails: flush = data rewrites it)
 * The file is re-read at the start of every faulted operation, so a change
 * is in force for every write or fsync that starts after the command that
 * changed the file has returned: a shell test needs no handshake. Writers
 * should replace the file atomically (write FILE.tmp, mv FILE.tmp FILE);
 * an in-place rewrite also works, because an empty read (the instant after
 * O_TRUNC) keeps the previous mode. An operation already blocked in "hang"
 * is woken by an inotify watch on the file's directory, so no thread polls.
 * A released operation proceeds under whatever mode is then in force.
 * Unparseable content is reported on stderr and keeps the previous mode.
 * The control file must not live under MOUNTPOINT.
 *
 * Delays apply per FUSE request: the kernel splits a write(2) larger than
 * its request size (128 KiB by default) into several.
 *
 * Faults touch only write, fsync/fdatasync and directory fsync; lookups,
 * reads, getattr, create, truncate, unlink and the rest always pass, so a
 * test can inspect the mount while a writer hangs. libfuse's multi-threaded
 * loop (version 31 API) runs at most 10 workers: up to 9 operations may hang
 * at once with the mount still answering.
 *
 * Shutdown: SIGTERM, SIGINT or SIGHUP exits the loop and unmounts. A worker
 * hanging in a request cannot be cancelled and libfuse joins every worker
 * before returning, so the signal also releases hung operations (they then
 * proceed normally). fusermount3 -u or umount from outside ends the loop
 * too (while a write hangs only a lazy -z unmount succeeds, and the kernel
 * keeps the connection until that write is answered). An aborted connection
 * (echo 1 >/sys/fs/fuse/connections/N/abort) shows up as POLLERR on the
 * device fd, which releases hung operations the same way; libfuse then
 * leaves the dead mount for fusermount3 -u -z to remove.
 */
#ifndef _GNU_SOURCE
/* The feature-test macro glibc documents, before any system header (this
 * file has no build_config.h); not a reserved name of ours. */
#define _GNU_SOURCE /* NOLINT(bugprone-reserved-identifier) */
#endif
#define FUSE_USE_VERSION 31

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* Longest control line we accept, in bytes; real ones are ~30. */
#define FF_CTL_MAX		256
/* Upper bound on a configured delay, in µs (one hour), so that adding it to
 * a timespec cannot overflow and a typo does not wedge a test forever. */
#define FF_DELAY_MAX_US		3600000000UL

enum ff_mode {
	FF_OK,
	FF_DELAY,
	FF_HANG,
	FF_EIO,
	FF_ENOSPC,
	FF_FSYNC_EIO
};

struct ff_fault {
	enum ff_mode	 mode;
	unsigned long	 write_us;
	unsigned long	 fsync_us;
};

enum ff_op {
	FF_OP_WRITE,
	FF_OP_FSYNC
};

struct faultfs {
	int		 backing;	/* O_DIRECTORY fd of BACKING_DIR */
	char		*ctl_path;	/* absolute */
	char		*ctl_dir;	/* absolute, watched by inotify */
	int		 inotify;
	int		 wake[2];	/* signal handler → watcher */
	struct fuse	*fuse;

	/* lock guards fault and stopping; changed is broadcast whenever
	 * either changes, and hung operations wait on it. */
	pthread_mutex_t	 lock;
	pthread_cond_t	 changed;
	struct ff_fault	 fault;
	bool		 stopping;
	/* Last complaint about the control file, so it is printed once: our
	 * stderr may be a log in the watched directory, and a warning per
	 * inotify event would feed itself. */
	char		 warned[FF_CTL_MAX + 64];
};

/* The signal handler's only way in; set once before handlers exist. */
static struct faultfs *ff_signal_target;

static struct faultfs *
ff_get(void)
{
	return fuse_get_context()->private_data;
}

/* FUSE paths are absolute within the mount; *at() wants them relative. */
static const char *
ff_rel(const char *path)
{
	if (path == NULL || path[0] != '/' || path[1] == '\0')
		return ".";
	return path + 1;
}

static const char *
ff_mode_name(enum ff_mode m)
{
	switch (m) {
	case FF_OK:	return "ok";
	case FF_DELAY:	return "delay";
	case FF_HANG:	return "hang";
	case FF_EIO:	return "eio";
	case FF_ENOSPC:	return "enospc";
	case FF_FSYNC_EIO: return "fsynceio";
	}
	return "?";
}

static int
ff_parse_us(const char *s, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > FF_DELAY_MAX_US)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Parse one control line (trailing whitespace already cut). */
static int
ff_parse(char *line, struct ff_fault *f)
{
	char *tok[4], *save = NULL, *t;
	int n = 0;

	for (t = strtok_r(line, " \t", &save); t != NULL;
	    t = strtok_r(NULL, " \t", &save)) {
		if (n == 4)
			return -EINVAL;
		tok[n++] = t;
	}
	memset(f, 0, sizeof(*f));
	if (n == 1 && strcmp(tok[0], "ok") == 0)
		f->mode = FF_OK;
	else if (n == 1 && strcmp(tok[0], "hang") == 0)
		f->mode = FF_HANG;
	else if (n == 1 && strcmp(tok[0], "eio") == 0)
		f->mode = FF_EIO;
	else if (n == 1 && strcmp(tok[0], "enospc") == 0)
		f->mode = FF_ENOSPC;
	else if (n == 1 && strcmp(tok[0], "fsynceio") == 0)
		f->mode = FF_FSYNC_EIO;
	else if (n == 3 && strcmp(tok[0], "delay") == 0) {
		f->mode = FF_DELAY;
		if (ff_parse_us(tok[1], &f->write_us) < 0 ||
		    ff_parse_us(tok[2], &f->fsync_us) < 0)
			return -EINVAL;
	} else
		return -EINVAL;
	return 0;
}

static void
ff_warn_locked(struct faultfs *ff, const char *what)
{
	char msg[sizeof(ff->warned)];

	snprintf(msg, sizeof(msg), "%s", what);
	if (strcmp(msg, ff->warned) == 0)
		return;
	memcpy(ff->warned, msg, sizeof(msg));
	fprintf(stderr, "faultfs: %s: %s; mode unchanged\n", ff->ctl_path, msg);
}

/*
 * Re-read the control file and install its mode. Called with lock held:
 * reading under the lock keeps a slow reader from installing a mode older
 * than one a faster reader already installed.
 */
static void
ff_refresh_locked(struct faultfs *ff)
{
	char buf[FF_CTL_MAX + 1], line[FF_CTL_MAX + 1];
	char why[sizeof(buf) + 32];
	struct ff_fault f = { .mode = FF_OK };
	ssize_t n = 0;
	size_t len;
	int fd;

	fd = open(ff->ctl_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno != ENOENT) {
		ff_warn_locked(ff, strerror(errno));
		return;
	}
	if (fd >= 0) {
		do
			n = read(fd, buf, FF_CTL_MAX);
		while (n < 0 && errno == EINTR);
		close(fd);
		if (n < 0) {
			ff_warn_locked(ff, strerror(errno));
			return;
		}
		len = (size_t)n;
		while (len > 0 && (buf[len - 1] == '\n' ||
		    buf[len - 1] == ' ' || buf[len - 1] == '\t' ||
		    buf[len - 1] == '\r'))
			len--;
		buf[len] = '\0';
		/* Empty: truncated by an in-place rewrite whose write has not
		 * landed yet. The write will bring us back here. */
		if (len == 0)
			return;
		memcpy(line, buf, len + 1);
		if (ff_parse(line, &f) < 0) {
			snprintf(why, sizeof(why), "cannot parse \"%s\"", buf);
			ff_warn_locked(ff, why);
			return;
		}
	}
	ff->warned[0] = '\0';
	if (f.mode == ff->fault.mode && f.write_us == ff->fault.write_us &&
	    f.fsync_us == ff->fault.fsync_us)
		return;
	ff->fault = f;
	if (f.mode == FF_DELAY)
		fprintf(stderr, "faultfs: mode delay %lu %lu\n",
		    f.write_us, f.fsync_us);
	else
		fprintf(stderr, "faultfs: mode %s\n", ff_mode_name(f.mode));
	pthread_cond_broadcast(&ff->changed);
}

static void
ff_sleep_us(unsigned long us)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(us / 1000000);
	ts.tv_nsec = (long)(us % 1000000) * 1000;
	/* Relative sleep restarted with the remainder on EINTR. */
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * The fault gate in front of every write and fsync: sleeps, blocks or
 * picks an error according to the mode. Returns 0 to go ahead with the
 * real operation, or the negative errno to fail it with.
 */
static int
ff_gate(struct faultfs *ff, enum ff_op op)
{
	struct ff_fault f;

	pthread_mutex_lock(&ff->lock);
	ff_refresh_locked(ff);
	/* The watcher refreshes the mode and broadcasts when the control file
	 * changes, and sets stopping on shutdown. */
	while (ff->fault.mode == FF_HANG && !ff->stopping)
		pthread_cond_wait(&ff->changed, &ff->lock);
	f = ff->fault;
	pthread_mutex_unlock(&ff->lock);

	switch (f.mode) {
	case FF_DELAY:
		ff_sleep_us(op == FF_OP_WRITE ? f.write_us : f.fsync_us);
		return 0;
	case FF_EIO:
		return -EIO;
	case FF_ENOSPC:
		return op == FF_OP_WRITE ? -ENOSPC : 0;
	case FF_FSYNC_EIO:
		return op == FF_OP_FSYNC ? -EIO : 0;
	case FF_OK:
	case FF_HANG:	/* only reached when stopping: let it through */
		break;
	}
	return 0;
}

static void
ff_set_stopping(struct faultfs *ff)
{
	pthread_mutex_lock(&ff->lock);
	ff->stopping = true;
	pthread_cond_broadcast(&ff->changed);
	pthread_mutex_unlock(&ff->lock);
}

/*
 * Watcher thread: wakes hung operations when the control file changes,
 * and releases them for good when we are told to stop (wake pipe) or the
 * kernel drops the connection (POLLERR on the device fd, asked for with
 * events 0 so pending requests do not wake us).
 */
static void *
ff_watch(void *arg)
{
	struct faultfs *ff = arg;
	char ev[sizeof(struct inotify_event) + NAME_MAX + 1];
	struct pollfd pfd[3];

	pfd[0].fd = ff->inotify;
	pfd[0].events = POLLIN;
	pfd[1].fd = ff->wake[0];
	pfd[1].events = POLLIN;
	pfd[2].fd = fuse_session_fd(fuse_get_session(ff->fuse));
	pfd[2].events = 0;
	for (;;) {
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "faultfs: poll: %s\n", strerror(errno));
			break;
		}
		if (pfd[1].revents != 0 || pfd[2].revents != 0)
			break;
		if (pfd[0].revents != 0) {
			/* Any event in the directory: just drain and re-read. */
			while (read(ff->inotify, ev, sizeof(ev)) > 0)
				;
			pthread_mutex_lock(&ff->lock);
			ff_refresh_locked(ff);
			pthread_mutex_unlock(&ff->lock);
		}
	}
	ff_set_stopping(ff);
	return NULL;
}

static void
ff_on_signal(int sig)
{
	int saved = errno;
	ssize_t n;

	(void)sig;
	/* fuse_exit only sets the session's exit flag (what libfuse's own
	 * handler does); the main thread's interrupted wait then sees it. */
	if (ff_signal_target->fuse != NULL)
		fuse_exit(ff_signal_target->fuse);
	n = write(ff_signal_target->wake[1], "x", 1);
	(void)n;
	errno = saved;
}

/* ---- filesystem operations ------------------------------------------- */

static void *
ff_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	/* Inode numbers from the backing fs: followers key files by inode. */
	cfg->use_ino = 1;
	/* Unlink immediately even while open (retention deletes segments a
	 * reader may hold) instead of renaming to .fuse_hidden files. */
	cfg->hard_remove = 1;
	/* Open-file operations use only fi->fh, so libfuse need not build a
	 * path for them (and unlinked open files keep working). */
	cfg->nullpath_ok = 1;
	/* Writeback caching stays off (libfuse's default): each write(2) is a
	 * synchronous FUSE_WRITE, so the faults reach the caller's syscall. */
	return ff_get();
}

static int
ff_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	int rc;

	if (fi != NULL)
		rc = fstat((int)fi->fh, st);
	else
		rc = fstatat(ff_get()->backing, ff_rel(path), st,
		    AT_SYMLINK_NOFOLLOW);
	return rc < 0 ? -errno : 0;
}

static int
ff_access(const char *path, int mask)
{
	return faccessat(ff_get()->backing, ff_rel(path), mask, 0) < 0 ?
	    -errno : 0;
}

static int
ff_mkdir(const char *path, mode_t mode)
{
	return mkdirat(ff_get()->backing, ff_rel(path), mode) < 0 ? -errno : 0;
}

static int
ff_rmdir(const char *path)
{
	return unlinkat(ff_get()->backing, ff_rel(path), AT_REMOVEDIR) < 0 ?
	    -errno : 0;
}

static int
ff_unlink(const char *path)
{
	return unlinkat(ff_get()->backing, ff_rel(path), 0) < 0 ? -errno : 0;
}

static int
ff_rename(const char *from, const char *to, unsigned int flags)
{
	int dfd = ff_get()->backing;

	return renameat2(dfd, ff_rel(from), dfd, ff_rel(to), flags) < 0 ?
	    -errno : 0;
}

static int
ff_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	int rc;

	if (fi != NULL)
		rc = fchmod((int)fi->fh, mode);
	else
		rc = fchmodat(ff_get()->backing, ff_rel(path), mode, 0);
	return rc < 0 ? -errno : 0;
}

static int
ff_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	int fd, rc;

	if (fi != NULL)
		return ftruncate((int)fi->fh, size) < 0 ? -errno : 0;
	fd = openat(ff_get()->backing, ff_rel(path),
	    O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	rc = ftruncate(fd, size) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static int
ff_utimens(const char *path, const struct timespec tv[2],
    struct fuse_file_info *fi)
{
	int rc;

	if (fi != NULL)
		rc = futimens((int)fi->fh, tv);
	else
		rc = utimensat(ff_get()->backing, ff_rel(path), tv,
		    AT_SYMLINK_NOFOLLOW);
	return rc < 0 ? -errno : 0;
}

/*
 * O_APPEND is dropped on the backing fd: the kernel already turns appends
 * into writes at its idea of EOF, and Linux pwrite() on an O_APPEND fd would
 * ignore the offset we are given, breaking ftruncate-then-rewrite.
 */
static int
ff_open(const char *path, struct fuse_file_info *fi)
{
	int fd;

	fd = openat(ff_get()->backing, ff_rel(path),
	    (fi->flags & ~O_APPEND) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	return 0;
}

static int
ff_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	int fd;

	/* fi->flags carries the caller's O_EXCL. */
	fd = openat(ff_get()->backing, ff_rel(path),
	    (fi->flags & ~O_APPEND) | O_CREAT | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	return 0;
}

static int
ff_read(const char *path, char *buf, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	ssize_t n;

	(void)path;
	do
		n = pread((int)fi->fh, buf, size, off);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : (int)n;
}

static int
ff_write(const char *path, const char *buf, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	ssize_t n;
	int rc;

	(void)path;
	if ((rc = ff_gate(ff_get(), FF_OP_WRITE)) < 0)
		return rc;
	/* A short count goes back to the caller as a short write, as a real
	 * disk would report it. */
	do
		n = pwrite((int)fi->fh, buf, size, off);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : (int)n;
}

static int
ff_statfs(const char *path, struct statvfs *sv)
{
	(void)path;
	return fstatvfs(ff_get()->backing, sv) < 0 ? -errno : 0;
}

/* Called on every close(2) of a descriptor; close a dup so the backing
 * fd stays open for release, and report close errors to the caller. */
static int
ff_flush(const char *path, struct fuse_file_info *fi)
{
	int fd;

	(void)path;
	fd = dup((int)fi->fh);
	if (fd < 0)
		return -errno;
	return close(fd) < 0 ? -errno : 0;
}

static int
ff_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	close((int)fi->fh);
	return 0;
}

static int
ff_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	int fd = (int)fi->fh, rc;

	(void)path;
	if ((rc = ff_gate(ff_get(), FF_OP_FSYNC)) < 0)
		return rc;
	rc = datasync ? fdatasync(fd) : fsync(fd);
	return rc < 0 ? -errno : 0;
}

static int
ff_opendir(const char *path, struct fuse_file_info *fi)
{
	DIR *d;
	int fd;

	fd = openat(ff_get()->backing, ff_rel(path),
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if ((d = fdopendir(fd)) == NULL) {
		int err = errno;

		close(fd);
		return -err;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	return 0;
}

/* The whole directory in one call (offset 0 to the filler): libfuse
 * buffers it per open handle, so a rewind simply calls us again. */
static int
ff_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
    struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	DIR *d = (DIR *)(uintptr_t)fi->fh;
	struct dirent *de;

	(void)path;
	(void)off;
	(void)flags;
	rewinddir(d);
	for (;;) {
		struct stat st;

		errno = 0;
		/* One DIR stream per open handle, whose readdirs the kernel
		 * serializes: readdir is safe so in glibc, and readdir_r,
		 * which cppcheck suggests, is deprecated. */
		if ((de = readdir(d)) == NULL) /* cppcheck-suppress readdirCalled */
			return errno != 0 ? -errno : 0;
		memset(&st, 0, sizeof(st));
		st.st_ino = de->d_ino;
		st.st_mode = (mode_t)DTTOIF(de->d_type);
		if (filler(buf, de->d_name, &st, 0, 0) != 0)
			return -ENOMEM;
	}
}

static int
ff_releasedir(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	closedir((DIR *)(uintptr_t)fi->fh);
	return 0;
}

/* rauditd fsyncs the spool directory after creating a segment; that is a
 * disk flush like any other, so it goes through the same gate. */
static int
ff_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
	int fd = dirfd((DIR *)(uintptr_t)fi->fh), rc;

	(void)path;
	if ((rc = ff_gate(ff_get(), FF_OP_FSYNC)) < 0)
		return rc;
	rc = datasync ? fdatasync(fd) : fsync(fd);
	return rc < 0 ? -errno : 0;
}

static const struct fuse_operations ff_ops = {
	.init		= ff_init,
	.getattr	= ff_getattr,
	.access		= ff_access,
	.mkdir		= ff_mkdir,
	.rmdir		= ff_rmdir,
	.unlink		= ff_unlink,
	.rename		= ff_rename,
	.chmod		= ff_chmod,
	.truncate	= ff_truncate,
	.utimens	= ff_utimens,
	.open		= ff_open,
	.create		= ff_create,
	.read		= ff_read,
	.write		= ff_write,
	.statfs		= ff_statfs,
	.flush		= ff_flush,
	.release	= ff_release,
	.fsync		= ff_fsync,
	.opendir	= ff_opendir,
	.readdir	= ff_readdir,
	.releasedir	= ff_releasedir,
	.fsyncdir	= ff_fsyncdir,
};

/* ---- startup ----------------------------------------------------------- */

struct ff_args {
	char	*ctl;
	char	*backing;
};

static const struct fuse_opt ff_optspec[] = {
	{ "-c %s", offsetof(struct ff_args, ctl), 0 },
	{ "--control=%s", offsetof(struct ff_args, ctl), 0 },
	FUSE_OPT_END
};

/* The first non-option is BACKING_DIR and is ours; the second is the
 * mountpoint and is left for fuse_parse_cmdline. */
static int
ff_optproc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct ff_args *a = data;

	(void)outargs;
	if (key == FUSE_OPT_KEY_NONOPT && a->backing == NULL) {
		if ((a->backing = strdup(arg)) == NULL)
			return -1;
		return 0;
	}
	return 1;
}

static void
ff_usage(const char *prog)
{
	fprintf(stderr,
	    "usage: %s BACKING_DIR MOUNTPOINT -c CONTROL_FILE [options]\n"
	    "CONTROL_FILE holds the mode: ok | delay WRITE_US FSYNC_US | "
	    "hang | eio | enospc | fsynceio\n\n", prog);
}

/* Absolute path of the control file and of its directory. */
static int
ff_ctl_paths(struct faultfs *ff, const char *ctl)
{
	char cwd[PATH_MAX], *slash;
	int n;

	if (ctl[0] == '/')
		ff->ctl_path = strdup(ctl);
	else {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return -errno;
		n = asprintf(&ff->ctl_path, "%s/%s", cwd, ctl);
		if (n < 0)
			ff->ctl_path = NULL;
	}
	if (ff->ctl_path == NULL || (ff->ctl_dir = strdup(ff->ctl_path)) == NULL)
		return -ENOMEM;
	slash = strrchr(ff->ctl_dir, '/');
	if (slash == ff->ctl_dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return 0;
}

int
main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts;
	struct ff_args a = { NULL, NULL };
	struct faultfs ff;
	struct sigaction sa;
	sigset_t block, old;
	pthread_t watcher;
	bool mounted = false, watching = false;
	int rc = 1, err;

	memset(&opts, 0, sizeof(opts));
	memset(&ff, 0, sizeof(ff));
	ff.backing = ff.inotify = ff.wake[0] = ff.wake[1] = -1;
	pthread_mutex_init(&ff.lock, NULL);
	pthread_cond_init(&ff.changed, NULL);

	if (fuse_opt_parse(&args, &a, ff_optspec, ff_optproc) < 0)
		goto fail;
	if (fuse_parse_cmdline(&args, &opts) < 0)
		goto fail;
	if (opts.show_help) {
		ff_usage(argv[0]);
		fuse_cmdline_help();
		fuse_lib_help(&args);
		rc = 0;
		goto fail;
	}
	if (opts.show_version) {
		printf("faultfs, libfuse %s\n", fuse_pkgversion());
		rc = 0;
		goto fail;
	}
	if (a.backing == NULL || opts.mountpoint == NULL || a.ctl == NULL) {
		ff_usage(argv[0]);
		goto fail;
	}

	ff.backing = open(a.backing, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ff.backing < 0) {
		fprintf(stderr, "faultfs: %s: %s\n", a.backing, strerror(errno));
		goto fail;
	}
	if ((err = ff_ctl_paths(&ff, a.ctl)) < 0) {
		fprintf(stderr, "faultfs: %s: %s\n", a.ctl, strerror(-err));
		goto fail;
	}
	/* Watch the directory, not the file: an atomic replace (mv) gives
	 * the control file a new inode, which a file watch would not follow. */
	ff.inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ff.inotify < 0 || inotify_add_watch(ff.inotify, ff.ctl_dir,
	    IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM |
	    IN_CREATE | IN_DELETE) < 0) {
		fprintf(stderr, "faultfs: inotify %s: %s\n", ff.ctl_dir,
		    strerror(errno));
		goto fail;
	}
	if (pipe2(ff.wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		fprintf(stderr, "faultfs: pipe: %s\n", strerror(errno));
		goto fail;
	}
	/* The refresh reports any mode but the initial ok. */
	pthread_mutex_lock(&ff.lock);
	ff_refresh_locked(&ff);
	if (ff.fault.mode == FF_OK)
		fprintf(stderr, "faultfs: mode ok\n");
	pthread_mutex_unlock(&ff.lock);

	if ((ff.fuse = fuse_new(&args, &ff_ops, sizeof(ff_ops), &ff)) == NULL)
		goto fail;
	if (fuse_mount(ff.fuse, opts.mountpoint) != 0)
		goto fail;
	mounted = true;
	if (fuse_daemonize(opts.foreground) != 0)
		goto fail;

	/* Our own handlers instead of fuse_set_signal_handlers(): a stop must
	 * also release hung operations, or libfuse's join would wait on them
	 * forever. Threads are created after fuse_daemonize's fork. */
	ff_signal_target = &ff;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ff_on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0)
		goto fail;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		goto fail;

	/* The watcher gets no signals, so they land on the main thread's
	 * wait in the loop (libfuse blocks them in its workers too). */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	err = pthread_create(&watcher, NULL, ff_watch, &ff);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		fprintf(stderr, "faultfs: pthread_create: %s\n", strerror(err));
		goto fail;
	}
	watching = true;

	if (opts.singlethread)
		err = fuse_loop(ff.fuse);
	else
		err = fuse_loop_mt(ff.fuse, opts.clone_fd);
	rc = err == 0 ? 0 : 1;

fail:
	if (ff_signal_target != NULL) {
		/* The handler touches ff.fuse, which teardown frees. */
		sa.sa_handler = SIG_IGN;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	if (watching) {
		ssize_t n = write(ff.wake[1], "x", 1);

		(void)n;
		pthread_join(watcher, NULL);
	}
	if (mounted)
		fuse_unmount(ff.fuse);
	if (ff.fuse != NULL)
		fuse_destroy(ff.fuse);
	if (ff.wake[0] >= 0) {
		close(ff.wake[0]);
		close(ff.wake[1]);
	}
	if (ff.inotify >= 0)
		close(ff.inotify);
	if (ff.backing >= 0)
		close(ff.backing);
	free(ff.ctl_path);
	free(ff.ctl_dir);
	free(opts.mountpoint);
	free(a.ctl);
	free(a.backing);
	fuse_opt_free_args(&args);
	return rc;
}
