/*
 * auditview.c - this file keeps auditd's file names pointing at rauditd's
 * segments: in the directory of auditd.conf's log_file, log_file is a
 * symbolic link to the open segment and log_file.1..N to the sealed ones,
 * newest first, which is what ausearch, aureport and libauparse read when
 * given no file. The segments are never renamed; only the links change.
 *
 * Symbolic rather than hard links: they work across file systems and
 * across systemd's per-directory bind mounts (ReadWritePaths=, where
 * link(2) fails with EXDEV), they hold no disk space once retention has
 * deleted a segment, and a shipper that follows them identifies the file by
 * its target, so a rotation is not a new file to it. Shippers should read
 * spool_dir, not the view. auditd's own files found under the view's names
 * are moved into log_file.before-rauditd, never overwritten, and listed
 * after the segments.
 */
#include "build_config.h"

#include "auditview.h"
#include "kvline.h"
#include "migrate.h"
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* auditd keeps at most 999 logs (num_logs); a view may list this many saved. */
#define AUDITVIEW_SAVED_MAX	1024
/* The base name's limit leaves room for a suffix in a NAME_MAX name. */
#define AUDITVIEW_BASE_MAX	200

struct auditview {
	int		 dfd;			/* the log_file directory */
	char		 dir[PATH_MAX];
	char		 base[AUDITVIEW_BASE_MAX];	/* "audit.log" */
	char		 saved[NAME_MAX + 1];	/* "audit.log.before-rauditd" */
	char		 tmp[NAME_MAX + 1];	/* ".audit.log.rauditd-tmp" */
	unsigned	*savednum;		/* saved files, newest first: 0 = base */
	unsigned	 nsaved;
	unsigned	 moved;			/* files auditview_open moved */
};

const char *
auditview_auditd_conf(void)
{
	const char *e = getenv("RAUDITD_AUDITD_CONF");

	if (e == NULL)
		return AUDITVIEW_AUDITD_CONF;
	return e[0] != '\0' ? e : NULL;
}

void
auditview_print_check(FILE *fp, bool on)
{
	const char *conf = auditview_auditd_conf();
	char lf[PATH_MAX], err[512];

	if (on && conf == NULL)
		fprintf(fp, AUDITVIEW_CHECK_PREFIX "off (RAUDITD_AUDITD_CONF is empty)\n");
	else if (!on)
		fprintf(fp, AUDITVIEW_CHECK_PREFIX "off; ausearch and aureport without -if "
		    "will not find rauditd's records\n");
	else if (auditview_log_file(conf, lf, sizeof(lf), err, sizeof(err)) < 0)
		fprintf(fp, AUDITVIEW_CHECK_PREFIX "%s; no view for auditd's tools\n", err);
	else
		fprintf(fp, AUDITVIEW_CHECK_PREFIX "ausearch and aureport will look at %s "
		    "(log_file of %s)\n", lf, conf);
}

int
auditview_log_file(const char *conf, char *buf, size_t len, char *err, size_t errlen)
{
	int rc = migrate_get(conf, "log_file", buf, len, err, errlen);

	if (rc == -ENOENT) {
		/* No file or no key: the tools use the built-in default. */
		if (strlen(AUDITVIEW_LOG_FILE) >= len)
			return -ENAMETOOLONG;
		snprintf(buf, len, "%s", AUDITVIEW_LOG_FILE);
		return 0;
	}
	if (rc == 0 && buf[0] != '/') {
		kvline_seterr(err, errlen, NULL, 0, "%s: log_file \"%s\" is not an absolute path", conf, buf);
		return -EINVAL;
	}
	return rc;
}

/* The view's name number i: base, base.1, base.2, ... */
static void
view_name(const struct auditview *v, unsigned i, const char *base, char *buf, size_t len)
{
	if (i == 0)
		snprintf(buf, len, "%s", base ? base : v->base);
	else
		snprintf(buf, len, "%s.%u", base ? base : v->base, i);
}

/* Is name base or base.<digits>? *num gets the number (0 for base). */
static bool
is_view_name(const struct auditview *v, const char *name, unsigned *num)
{
	size_t bl = strlen(v->base);
	unsigned long n = 0;

	if (strncmp(name, v->base, bl) != 0)
		return false;
	if (name[bl] == '\0') {
		*num = 0;
		return true;
	}
	if (name[bl] != '.' || name[bl + 1] == '\0' || strlen(name + bl + 1) > 6)
		return false;
	for (const char *p = name + bl + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		n = n * 10 + (unsigned long)(*p - '0');
	}
	*num = (unsigned)n;
	return n > 0;
}

/* The saved directory, created like its parent (mode, owner) when absent. */
static int
saved_dir(struct auditview *v, const struct stat *parent, char *err, size_t errlen)
{
	struct stat st;

	if (mkdirat(v->dfd, v->saved, parent->st_mode & 0750) == 0) {
		if (fchownat(v->dfd, v->saved, parent->st_uid, parent->st_gid,
		    AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM)
			goto fail;
	} else if (errno != EEXIST)
		goto fail;
	if (fstatat(v->dfd, v->saved, &st, AT_SYMLINK_NOFOLLOW) < 0)
		goto fail;
	if (!S_ISDIR(st.st_mode)) {
		kvline_seterr(err, errlen, NULL, 0, "%s/%s: not a directory", v->dir, v->saved);
		return -ENOTDIR;
	}
	return 0;
fail:
	kvline_seterr(err, errlen, NULL, 0, "%s/%s: %s", v->dir, v->saved, strerror(errno));
	return -errno;
}

/* Move one of auditd's files into the saved directory, never replacing. */
static int
save_one(struct auditview *v, const struct stat *parent, const char *name,
    char *err, size_t errlen)
{
	int sfd = -1, rc;

	if ((rc = saved_dir(v, parent, err, errlen)) < 0)
		return rc;
	sfd = openat(v->dfd, v->saved, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0 || renameat2(v->dfd, name, sfd, name, RENAME_NOREPLACE) < 0) {
		rc = -errno;
		kvline_seterr(err, errlen, NULL, 0, "%s: cannot move %s into %s: %s%s", v->dir, name,
		    v->saved, strerror(-rc), rc == -EEXIST ?
		    " (an older copy is there: move it away; nothing was replaced)" : "");
		goto fail;
	}
	v->moved++;
	rc = 0;
fail:
	if (sfd >= 0)
		close(sfd);
	return rc;
}

/* Move auditd's regular files under the view's names into the saved directory. */
static int
save_existing(struct auditview *v, const struct stat *parent, char *err, size_t errlen)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	unsigned num;
	int fd, rc = 0;

	if ((fd = openat(v->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto fail;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		goto fail;
	}
	/* Our own DIR stream: readdir is safe; readdir_r is deprecated. */
	while (rc == 0 && (de = readdir(d)) != NULL) { /* cppcheck-suppress readdirCalled */
		if (!is_view_name(v, de->d_name, &num))
			continue;
		if (fstatat(v->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			rc = save_one(v, parent, de->d_name, err, errlen);
	}
	closedir(d);
	return rc;
fail:
	rc = -errno;
	kvline_seterr(err, errlen, NULL, 0, "%s: %s", v->dir, strerror(-rc));
	return rc;
}

/*
 * The saved files, newest first: base, then base.1, base.2, ... up to the
 * first missing number, as ausearch itself walks them.
 */
static int
list_saved(struct auditview *v)
{
	char name[NAME_MAX + 1];
	struct stat st;
	int sfd;

	v->nsaved = 0;
	sfd = openat(v->dfd, v->saved, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return errno == ENOENT ? 0 : -errno;
	for (unsigned i = 0; v->nsaved < AUDITVIEW_SAVED_MAX; i++) {
		view_name(v, i, NULL, name, sizeof(name));
		if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) {
			if (i == 0)
				continue;
			break;
		}
		v->savednum[v->nsaved++] = i;
	}
	close(sfd);
	return 0;
}

struct auditview *
auditview_open(const char *log_file, char *err, size_t errlen)
{
	struct auditview *v;
	const char *slash;
	struct stat st;
	int rc;

	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->savednum = calloc(AUDITVIEW_SAVED_MAX, sizeof(*v->savednum))) == NULL) {
		rc = -ENOMEM;
		kvline_seterr(err, errlen, NULL, 0, "out of memory");
		goto fail;
	}
	v->dfd = -1;
	slash = strrchr(log_file, '/');
	rc = -EINVAL;
	if (log_file[0] != '/' || slash[1] == '\0' || strcmp(slash + 1, ".") == 0 ||
	    strcmp(slash + 1, "..") == 0) {
		kvline_seterr(err, errlen, NULL, 0, "log_file \"%s\": not an absolute file path", log_file);
		goto fail;
	}
	if ((size_t)(slash - log_file) >= sizeof(v->dir) ||
	    strlen(slash + 1) >= sizeof(v->base)) {
		rc = -ENAMETOOLONG;
		kvline_seterr(err, errlen, NULL, 0, "log_file \"%s\": name too long", log_file);
		goto fail;
	}
	snprintf(v->dir, sizeof(v->dir), "%.*s", slash == log_file ? 1 : (int)(slash - log_file),
	    log_file);
	snprintf(v->base, sizeof(v->base), "%s", slash + 1);
	snprintf(v->saved, sizeof(v->saved), "%s%s", v->base, AUDITVIEW_SAVED_SUFFIX);
	snprintf(v->tmp, sizeof(v->tmp), ".%s.rauditd-tmp", v->base);

	if ((v->dfd = open(v->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fstat(v->dfd, &st) < 0) {
		rc = -errno;
		kvline_seterr(err, errlen, NULL, 0, "%s: %s", v->dir, strerror(-rc));
		goto fail;
	}
	/* Whoever may write here could point auditd's tools anywhere. */
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022) != 0) {
		rc = -EPERM;
		kvline_seterr(err, errlen, NULL, 0, "%s: owned by uid %u or writable by group or others; "
		    "refusing to keep the view there", v->dir, (unsigned)st.st_uid);
		goto fail;
	}
	if ((rc = save_existing(v, &st, err, errlen)) < 0)
		goto fail;
	if ((rc = list_saved(v)) < 0) {
		kvline_seterr(err, errlen, NULL, 0, "%s/%s: %s", v->dir, v->saved, strerror(-rc));
		goto fail;
	}
	return v;
fail:
	auditview_close(v);
	errno = -rc;
	return NULL;
}

unsigned
auditview_saved(const struct auditview *v)
{
	return v->moved;
}

/*
 * Make name a link to target, atomically: a new link under the temporary
 * name, renamed over name. A name that is not a link (auditd's file that
 * appeared since the open, or anything else) is never replaced.
 */
static int
link_one(struct auditview *v, const char *name, const char *target, char *err, size_t errlen)
{
	char cur[PATH_MAX];
	struct stat st;
	ssize_t n;

	if (fstatat(v->dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISLNK(st.st_mode)) {
			kvline_seterr(err, errlen, NULL, 0, "%s/%s: not a symbolic link; not replaced", v->dir, name);
			return -EEXIST;
		}
		n = readlinkat(v->dfd, name, cur, sizeof(cur) - 1);
		if (n >= 0 && (cur[n] = '\0', strcmp(cur, target) == 0))
			return 0;
	} else if (errno != ENOENT)
		goto fail;
	if (fstatat(v->dfd, v->tmp, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISLNK(st.st_mode)) {
			kvline_seterr(err, errlen, NULL, 0, "%s/%s: not a symbolic link; not replaced", v->dir, v->tmp);
			return -EEXIST;
		}
		if (unlinkat(v->dfd, v->tmp, 0) < 0)
			goto fail;
	}
	if (symlinkat(target, v->dfd, v->tmp) < 0 || renameat(v->dfd, v->tmp, v->dfd, name) < 0)
		goto fail;
	return 0;
fail:
	kvline_seterr(err, errlen, NULL, 0, "%s/%s: %s", v->dir, name, strerror(errno));
	return -errno;
}

/* Remove our links from number from up, to the first name that is not one. */
static int
remove_stale(struct auditview *v, unsigned from, char *err, size_t errlen)
{
	char name[NAME_MAX + 1];
	struct stat st;

	for (unsigned i = from; ; i++) {
		view_name(v, i, NULL, name, sizeof(name));
		if (fstatat(v->dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
			return 0;
		if (unlinkat(v->dfd, name, 0) < 0) {
			kvline_seterr(err, errlen, NULL, 0, "%s/%s: %s", v->dir, name, strerror(errno));
			return -errno;
		}
	}
}

int
auditview_update(struct auditview *v, const char *spool_dir,
    const uint64_t *seg, size_t n, char *err, size_t errlen)
{
	char name[NAME_MAX + 1], target[PATH_MAX], sname[NAME_MAX + 1], segname[64];
	size_t total = n + v->nsaved;
	int rc;

	if (spool_dir[0] != '/' || total > UINT_MAX / 2) {
		kvline_seterr(err, errlen, NULL, 0, "spool_dir \"%s\": not an absolute path", spool_dir);
		return -EINVAL;
	}
	/* Highest number first: a concurrent reader sees duplicates, never a gap. */
	for (size_t i = total; i-- > 0; ) {
		view_name(v, (unsigned)i, NULL, name, sizeof(name));
		if (i < n) {
			spool_segment_name(segname, sizeof(segname), seg[n - 1 - i]);
			rc = snprintf(target, sizeof(target), "%s/%s", spool_dir, segname);
		} else {
			view_name(v, v->savednum[i - n], NULL, sname, sizeof(sname));
			rc = snprintf(target, sizeof(target), "%s/%s", v->saved, sname);
		}
		if (rc < 0 || (size_t)rc >= sizeof(target)) {
			kvline_seterr(err, errlen, NULL, 0, "%s: link target too long", name);
			return -ENAMETOOLONG;
		}
		if ((rc = link_one(v, name, target, err, errlen)) < 0)
			return rc;
	}
	return remove_stale(v, (unsigned)total, err, errlen);
}

void
auditview_close(struct auditview *v)
{
	if (v == NULL)
		return;
	if (v->dfd >= 0)
		close(v->dfd);
	free(v->savednum);
	free(v);
}
