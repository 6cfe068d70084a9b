/*
 * plugins.c - this file reads auditd's plugins.d files into plugin
 * descriptions, strictly (every error names file:line), and names the
 * cursor files of the active plugins for rauditd-dispatch and retention.
 */
#include "build_config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvline.h"
#include "plugins.h"
#include "priv.h"

/* A plugin file larger than this is not a plugin file. */
#define PLUGINS_FILE_MAX	(64 * 1024)

/* NAME of NAME.conf: letters, digits, '-', '_'. */
static bool
name_from_file(const char *base, char *name, size_t len)
{
	size_t n = strlen(base);

	if (n <= 5 || strcmp(base + n - 5, ".conf") != 0 || n - 5 >= len)
		return false;
	for (size_t i = 0; i < n - 5; i++)
		if (!isalnum((unsigned char)base[i]) && base[i] != '-' && base[i] != '_')
			return false;
	memcpy(name, base, n - 5);
	name[n - 5] = '\0';
	return true;
}

/* Split args into argv after argv[0] = path. Returns the count or -E2BIG. */
static int
split_args(struct plugins_conf *pc)
{
	char *save = NULL, *tok;
	int n = 0;

	snprintf(pc->argbuf, sizeof(pc->argbuf), "%s", pc->args);
	pc->argv[n++] = pc->path;
	for (tok = strtok_r(pc->argbuf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (n > PLUGINS_ARGS_MAX)
			return -E2BIG;
		pc->argv[n++] = tok;
	}
	pc->argv[n] = NULL;
	return n;
}

/* builtin_af_unix's args: [MODE] [PATH], auditd's order. */
static int
af_unix_args(struct plugins_conf *pc, const char *file, unsigned line, char *err,
    size_t errlen)
{
	int argc = split_args(pc), i = 1;

	pc->sock_mode = PLUGINS_AF_UNIX_MODE;
	snprintf(pc->sock_path, sizeof(pc->sock_path), "%s", PLUGINS_AF_UNIX_PATH);
	if (i < argc && isdigit((unsigned char)pc->argv[i][0])) {
		char *end;
		unsigned long m = strtoul(pc->argv[i], &end, 8);

		if (*end != '\0' || m > 0777) {
			kvline_seterr(err, errlen, file, line, "af_unix mode \"%s\" is not an octal "
			    "permission like 0640", pc->argv[i]);
			return -EINVAL;
		}
		pc->sock_mode = (mode_t)m;
		i++;
	}
	if (i < argc) {
		if (pc->argv[i][0] != '/' || strlen(pc->argv[i]) >= sizeof(pc->sock_path)) {
			kvline_seterr(err, errlen, file, line, "af_unix socket \"%s\" must be an absolute "
			    "path shorter than %zu bytes", pc->argv[i], sizeof(pc->sock_path));
			return -EINVAL;
		}
		snprintf(pc->sock_path, sizeof(pc->sock_path), "%s", pc->argv[i]);
		i++;
	}
	if (i < argc) {
		kvline_seterr(err, errlen, file, line, "af_unix takes a mode and a socket path, not \"%s\"",
		    pc->argv[i]);
		return -EINVAL;
	}
	return 0;
}

enum { K_ACTIVE, K_DIRECTION, K_PATH, K_TYPE, K_ARGS, K_FORMAT, K_N };
static const char *const key_names[K_N] = {
	"active", "direction", "path", "type", "args", "format"
};

/* One line: 0 for a pair taken or a blank or comment line, <0 for an error. */
static int
parse_line(struct plugins_conf *pc, const char *file, unsigned line, char *text,
    unsigned *seen, char *err, size_t errlen)
{
	char *key, *val;
	int k, rc = kvline_split(text, &key, &val);

	if (rc == 0)
		return 0;		/* blank or comment */
	if (rc < 0) {
		kvline_seterr(err, errlen, file, line, "expected \"key = value\"");
		return rc;
	}
	for (k = 0; k < K_N; k++)
		if (strcmp(key, key_names[k]) == 0)
			break;
	if (k == K_N) {
		kvline_seterr(err, errlen, file, line, "unknown key \"%s\"", key);
		return -EINVAL;
	}
	if (seen[k]) {
		kvline_seterr(err, errlen, file, line, "%s given twice (first at line %u)", key, seen[k]);
		return -EINVAL;
	}
	seen[k] = line;
	switch (k) {
	case K_ACTIVE:
		if (strcmp(val, "yes") != 0 && strcmp(val, "no") != 0)
			goto bad;
		pc->active = strcmp(val, "yes") == 0;
		break;
	case K_DIRECTION:
		if (strcmp(val, "out") != 0) {
			kvline_seterr(err, errlen, file, line, "direction \"%s\": only out is supported", val);
			return -EINVAL;
		}
		break;
	case K_PATH:
		if ((val[0] != '/' && strcmp(val, PLUGINS_AF_UNIX) != 0) ||
		    strlen(val) >= sizeof(pc->path)) {
			kvline_seterr(err, errlen, file, line, "path \"%s\" is neither an absolute path nor "
			    PLUGINS_AF_UNIX, val);
			return -EINVAL;
		}
		snprintf(pc->path, sizeof(pc->path), "%s", val);
		break;
	case K_TYPE:
		if (strcmp(val, "always") == 0)
			pc->type = PLUGINS_TYPE_ALWAYS;
		else if (strcmp(val, "builtin") == 0)
			pc->type = PLUGINS_TYPE_BUILTIN;
		else
			goto bad;
		break;
	case K_ARGS:
		snprintf(pc->args, sizeof(pc->args), "%s", val);
		break;
	case K_FORMAT:
		if (strcmp(val, "string") != 0) {
			kvline_seterr(err, errlen, file, line, "format \"%s\": only string is supported "
			    "(records are audit.log lines)", val);
			return -EINVAL;
		}
		break;
	}
	return 0;
bad:
	kvline_seterr(err, errlen, file, line, "%s: bad value \"%s\"", key, val);
	return -EINVAL;
}

int
plugins_parse_buffer(struct plugins_conf *pc, const char *file, const char *text,
    char *err, size_t errlen)
{
	unsigned seen[K_N] = { 0 }, line = 0;
	const char *p = text, *base = strrchr(file, '/');
	char buf[PLUGINS_LINE_MAX];
	int rc;

	memset(pc, 0, sizeof(*pc));
	base = base ? base + 1 : file;
	if (!name_from_file(base, pc->name, sizeof(pc->name))) {
		kvline_seterr(err, errlen, file, 0, "a plugin file is NAME.conf, NAME made of letters, "
		    "digits, '-' and '_'");
		return -EINVAL;
	}
	snprintf(pc->file, sizeof(pc->file), "%s", file);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		line++;
		if (len >= sizeof(buf)) {
			kvline_seterr(err, errlen, file, line, "line longer than %d bytes", PLUGINS_LINE_MAX - 1);
			return -EINVAL;
		}
		memcpy(buf, p, len);
		buf[len] = '\0';
		p += len + (nl ? 1 : 0);
		if ((rc = parse_line(pc, file, line, buf, seen, err, errlen)) < 0)
			return rc;
	}
	if (!seen[K_PATH]) {
		kvline_seterr(err, errlen, file, 0, "no path");
		return -EINVAL;
	}
	if (!seen[K_ACTIVE]) {
		kvline_seterr(err, errlen, file, 0, "no active = yes|no");
		return -EINVAL;
	}
	if (strcmp(pc->path, PLUGINS_AF_UNIX) == 0) {
		pc->type = PLUGINS_TYPE_BUILTIN;
		return af_unix_args(pc, file, seen[K_ARGS], err, errlen);
	}
	if (seen[K_TYPE] && pc->type == PLUGINS_TYPE_BUILTIN) {
		kvline_seterr(err, errlen, file, seen[K_TYPE], "type = builtin needs path = "
		    PLUGINS_AF_UNIX " (the only builtin)");
		return -EINVAL;
	}
	if (split_args(pc) < 0) {
		kvline_seterr(err, errlen, file, seen[K_ARGS], "more than %d arguments", PLUGINS_ARGS_MAX);
		return -EINVAL;
	}
	return 0;
}

/* Read a plugin file without following a link or blocking on a FIFO. */
static int
read_file(int dfd, const char *base, char *buf, size_t cap)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd, rc = 0;

	buf[0] = '\0';
	fd = openat(dfd, base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	while (got < cap - 1) {
		n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (rc == 0 && got == cap - 1)
		rc = -EFBIG;
	if (rc == 0 && memchr(buf, '\0', got) != NULL)
		rc = -EILSEQ;
	close(fd);
	buf[got] = '\0';
	return rc;
}

static int
conf_cmp(const void *a, const void *b)
{
	return strcmp(((const struct plugins_conf *)a)->name, ((const struct plugins_conf *)b)->name);
}

static int
load_one(int dfd, const char *dir, const char *base, bool check_perms,
    struct plugins_conf *pc, char *text, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, base);
	if (check_perms && priv_check_path(path, "plugin file", err, errlen) < 0)
		return -EPERM;
	rc = read_file(dfd, base, text, PLUGINS_FILE_MAX);
	if (rc < 0) {
		kvline_seterr(err, errlen, path, 0, "%s", rc == -EINVAL ? "not a regular file" :
		    rc == -EFBIG ? "larger than 64 KiB" : rc == -EILSEQ ? "holds a NUL byte" :
		    strerror(-rc));
		return rc;
	}
	rc = plugins_parse_buffer(pc, path, text, err, errlen);
	if (rc < 0)
		return rc;
	if (check_perms && pc->active && pc->type == PLUGINS_TYPE_ALWAYS) {
		char msg[512];

		if (access(pc->path, X_OK) < 0) {
			kvline_seterr(err, errlen, path, 0, "path %s: %s", pc->path, strerror(errno));
			return -ENOENT;
		}
		if (priv_check_path(pc->path, "plugin program", msg, sizeof(msg)) < 0) {
			kvline_seterr(err, errlen, path, 0, "%s", msg);
			return -EPERM;
		}
	}
	return 0;
}

int
plugins_load(const char *dir, bool check_perms, struct plugins_set *set, char *err,
    size_t errlen)
{
	struct plugins_conf *v = NULL;
	size_t n = 0, cap = 0;
	char *text = NULL, name[PLUGINS_NAME_MAX];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	set->v = NULL;
	set->n = 0;
	d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		kvline_seterr(err, errlen, dir, 0, "%s", strerror(-rc));
		return rc;
	}
	text = malloc(PLUGINS_FILE_MAX);
	if (text == NULL) {
		rc = -ENOMEM;
		kvline_seterr(err, errlen, dir, 0, "out of memory");
		goto fail;
	}
	while ((de = readdir(d)) != NULL) { /* cppcheck-suppress readdirCalled */
		/* auditd's rule: NAME.conf only; backups and hidden files are skipped. */
		if (de->d_name[0] == '.' || !name_from_file(de->d_name, name, sizeof(name)))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct plugins_conf *nv = realloc(v, nc * sizeof(*nv));

			if (nv == NULL) {
				rc = -ENOMEM;
				kvline_seterr(err, errlen, dir, 0, "out of memory");
				goto fail;
			}
			v = nv;
			cap = nc;
		}
		rc = load_one(dirfd(d), dir, de->d_name, check_perms, &v[n], text, err, errlen);
		if (rc < 0)
			goto fail;
		n++;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), conf_cmp);
	/* argv points into each element's own argbuf: fix it up after the moves. */
	for (size_t i = 0; i < n; i++)
		if (v[i].type == PLUGINS_TYPE_ALWAYS)
			split_args(&v[i]);
	closedir(d);
	free(text);
	set->v = v;
	set->n = n;
	return 0;
fail:
	closedir(d);
	free(text);
	free(v);
	return rc;
}

void
plugins_free(struct plugins_set *set)
{
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

bool
plugins_same(const struct plugins_conf *a, const struct plugins_conf *b)
{
	return strcmp(a->name, b->name) == 0 && a->active == b->active &&
	    a->type == b->type && strcmp(a->path, b->path) == 0 &&
	    strcmp(a->args, b->args) == 0;
}

bool
plugins_has_cursor(const struct plugins_conf *pc)
{
	return pc->active && pc->type == PLUGINS_TYPE_ALWAYS;
}

const char *
plugins_cursor_path(const char *cursor_dir, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/plugin-%s.cursor", cursor_dir, name);
	return buf;
}

int
plugins_cursor_names(const char *plugin_dir, char (*names)[PLUGINS_NAME_MAX], size_t max,
    size_t *n, char *err, size_t errlen)
{
	struct plugins_set set;
	size_t k = 0;
	int rc;

	*n = 0;
	rc = plugins_load(plugin_dir, true, &set, err, errlen);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < set.n; i++) {
		if (!plugins_has_cursor(&set.v[i]))
			continue;
		if (k == max) {
			snprintf(err, errlen, "%s: more than %zu active plugins", plugin_dir, max);
			rc = -E2BIG;
			break;
		}
		memcpy(names[k++], set.v[i].name, PLUGINS_NAME_MAX);
	}
	plugins_free(&set);
	*n = k;
	return rc;
}
