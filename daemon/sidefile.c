/*
 * sidefile.c - this file replaces the small files the daemon, the shipper
 * and the dispatcher keep beside the spool (cursors, status files, the
 * state report, the metrics textfile) with a new version, atomically, and
 * without ever opening a name that someone else could have planted; and
 * reads the status files of the others without following a link or
 * blocking on a FIFO.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sidefile.h"

/* Room for a path and the temporary suffix. */
#define SIDEFILE_PATH_MAX	4200

static int
write_all(int fd, const char *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		off += (size_t)w;
	}
	return 0;
}

/* fsync the directory holding path, so that a rename in it is durable. */
static int
sync_parent(const char *path)
{
	char dir[SIDEFILE_PATH_MAX];
	char *slash;
	int fd, rc = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int
sidefile_replace(const char *path, const void *text, size_t len, bool sync)
{
	char tmp[SIDEFILE_PATH_MAX];
	int fd, rc = 0, n;

	/*
	 * The directory may be writable by someone less privileged (a
	 * textfile collector's directory, a shipper's own directory): a
	 * predictable name could be a planted link, hard link or FIFO. A
	 * random name created exclusively is ours alone, never followed.
	 */
	n = snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	/* Readable by all: the daemon reads cursors without CAP_DAC_OVERRIDE. */
	if (fchmod(fd, 0644) < 0)
		rc = -errno;
	if (rc == 0)
		rc = write_all(fd, text, len);
	if (rc == 0 && sync && fdatasync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	return sync ? sync_parent(path) : 0;
}

ssize_t
sidefile_read(const char *path, size_t max, char **text)
{
	struct stat sb;
	size_t n = 0;
	char *buf = NULL;
	int fd, rc;

	*text = NULL;
	/* A link planted here must not make root read some other file, nor a
	 * FIFO hang the reader. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		rc = -errno;
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = -EINVAL;
		goto fail;
	}
	if ((buf = malloc(max + 1)) == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	while (n < max) {
		ssize_t r = read(fd, buf + n, max - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*text = buf;
	return (ssize_t)n;
fail:
	free(buf);
	close(fd);
	return rc;
}
