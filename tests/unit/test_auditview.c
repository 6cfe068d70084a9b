/*
 * test_auditview.c - the auditd-compatible view through auditview.h, in a
 * temporary directory: auditd.conf's log_file or the default; the links
 * after start, a rotation and a retention deletion (stale numbers gone,
 * unchanged links untouched); auditd's own files moved aside intact and
 * listed after the segments; never replacing a saved file or a name that
 * is not a link; refusing a directory others may write or a symlinked one.
 */
#include "build_config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "auditview.h"
#include "spool.h"

static char root[64], logdir[128], logfile[160], spooldir[128];

static int
setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/test_auditview.XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(logdir, sizeof(logdir), "%s/audit", root);
	snprintf(logfile, sizeof(logfile), "%s/audit.log", logdir);
	snprintf(spooldir, sizeof(spooldir), "%s/spool", root);
	assert_int_equal(mkdir(logdir, 0750), 0);
	assert_int_equal(mkdir(spooldir, 0700), 0);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void
put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* The link at logdir/name points at want ("" = no such name). */
static void
assert_link(const char *name, const char *want)
{
	char path[256], got[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", logdir, name);
	n = readlink(path, got, sizeof(got) - 1);
	if (want[0] == '\0') {
		assert_true(n < 0 && errno == ENOENT);
		return;
	}
	assert_true(n > 0);
	got[n] = '\0';
	assert_string_equal(got, want);
}

static const char *
seg(uint64_t n)
{
	static char buf[4][256];
	static unsigned k;
	char name[64];

	spool_segment_name(name, sizeof(name), n);
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", spooldir, name);
	return buf[k];
}

static void
test_log_file(void **state)
{
	char conf[192], buf[PATH_MAX], err[256];

	(void)state;
	snprintf(conf, sizeof(conf), "%s/auditd.conf", root);
	assert_int_equal(auditview_log_file(conf, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, AUDITVIEW_LOG_FILE);
	put(conf, "flush = data\n");
	assert_int_equal(auditview_log_file(conf, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, AUDITVIEW_LOG_FILE);
	put(conf, "log_file = /srv/a/audit.log\n");
	assert_int_equal(auditview_log_file(conf, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, "/srv/a/audit.log");
	put(conf, "log_file = audit.log\n");
	assert_int_equal(auditview_log_file(conf, buf, sizeof(buf), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not an absolute path"));
}

static void
test_rotation_and_retention(void **state)
{
	uint64_t s[] = { 1, 2, 3, 4 };
	char err[256], path[256];
	struct auditview *v;
	struct stat before, after;

	(void)state;
	v = auditview_open(logfile, err, sizeof(err));
	assert_non_null(v);
	assert_int_equal(auditview_saved(v), 0);
	assert_int_equal(auditview_update(v, spooldir, s, 3, err, sizeof(err)), 0);
	assert_link("audit.log", seg(3));
	assert_link("audit.log.1", seg(2));
	assert_link("audit.log.2", seg(1));
	assert_link("audit.log.3", "");

	/* Rotation: 4 opens; every name moves down one. */
	snprintf(path, sizeof(path), "%s/audit.log.3", logdir);
	assert_int_equal(auditview_update(v, spooldir, s, 4, err, sizeof(err)), 0);
	assert_link("audit.log", seg(4));
	assert_link("audit.log.1", seg(3));
	assert_link("audit.log.3", seg(1));
	assert_int_equal(lstat(path, &before), 0);

	/* Nothing changed: the links stay the same files. */
	assert_int_equal(auditview_update(v, spooldir, s, 4, err, sizeof(err)), 0);
	assert_int_equal(lstat(path, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);

	/* Retention deleted 1 and 2: the higher numbers go. */
	assert_int_equal(auditview_update(v, spooldir, s + 2, 2, err, sizeof(err)), 0);
	assert_link("audit.log", seg(4));
	assert_link("audit.log.1", seg(3));
	assert_link("audit.log.2", "");
	assert_link("audit.log.3", "");
	auditview_close(v);
}

static void
test_auditd_files_kept(void **state)
{
	uint64_t s[] = { 7 };
	char err[256], path[256], buf[64];
	struct auditview *v;
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/audit.log", logdir);
	put(path, "newest\n");
	snprintf(path, sizeof(path), "%s/audit.log.1", logdir);
	put(path, "older\n");
	snprintf(path, sizeof(path), "%s/audit.logx", logdir);
	put(path, "not ours\n");
	v = auditview_open(logfile, err, sizeof(err));
	assert_non_null(v);
	assert_int_equal(auditview_saved(v), 2);
	assert_int_equal(auditview_update(v, spooldir, s, 1, err, sizeof(err)), 0);
	assert_link("audit.log", seg(7));
	assert_link("audit.log.1", "audit.log.before-rauditd/audit.log");
	assert_link("audit.log.2", "audit.log.before-rauditd/audit.log.1");
	assert_link("audit.log.3", "");
	/* Through the view, auditd's records read as before. */
	snprintf(path, sizeof(path), "%s/audit.log.2", logdir);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "older\n");
	snprintf(path, sizeof(path), "%s/audit.logx", logdir);
	assert_int_equal(access(path, F_OK), 0);
	auditview_close(v);

	/* auditd ran again and left a new audit.log.5: never replaces the saved. */
	snprintf(path, sizeof(path), "%s/audit.log.5", logdir);
	put(path, "again\n");
	snprintf(path, sizeof(path), "%s/audit.log.before-rauditd/audit.log.5", logdir);
	put(path, "saved before\n");
	errno = 0;
	assert_null(auditview_open(logfile, err, sizeof(err)));
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(err, "audit.log.5"));
	snprintf(path, sizeof(path), "%s/audit.log.5", logdir);
	assert_int_equal(access(path, F_OK), 0);
}

static void
test_not_a_link_is_not_replaced(void **state)
{
	uint64_t s[] = { 1, 2 };
	char err[256], path[256];
	struct auditview *v;

	(void)state;
	v = auditview_open(logfile, err, sizeof(err));
	assert_non_null(v);
	snprintf(path, sizeof(path), "%s/audit.log.1", logdir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(auditview_update(v, spooldir, s, 2, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "audit.log.1: not a symbolic link"));
	auditview_close(v);
}

static void
test_unsafe_directory(void **state)
{
	char err[256], path[320], link[256];

	(void)state;
	assert_int_equal(chmod(logdir, 0777), 0);
	errno = 0;
	assert_null(auditview_open(logfile, err, sizeof(err)));
	assert_int_equal(errno, EPERM);
	assert_non_null(strstr(err, "writable by group or others"));
	assert_int_equal(chmod(logdir, 0750), 0);

	snprintf(link, sizeof(link), "%s/linked", root);
	assert_int_equal(symlink(logdir, link), 0);
	snprintf(path, sizeof(path), "%s/audit.log", link);
	assert_null(auditview_open(path, err, sizeof(err)));
	assert_null(auditview_open("audit.log", err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_null(auditview_open("/tmp/", err, sizeof(err)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_log_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_and_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auditd_files_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_link_is_not_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_directory, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
