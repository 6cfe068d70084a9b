/*
 * test_report.c - unit tests of the side-file writer (sidefile.c) and of
 * the escaping of text that reaches the status reply and the metrics file:
 * a link, hard link or FIFO planted at a temporary name the old code
 * predicted (path.tmp.PID for the state and metrics files, path.tmp for
 * cursors and the shipper's and dispatcher's status) is neither followed
 * nor truncated nor blocks the write.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
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

#include "report.h"
#include "sidefile.h"
#include "spool.h"

static char dir[PATH_MAX];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/test_report.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
put_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void
assert_file(const char *path, const char *text)
{
	char buf[256];
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	assert_string_equal(buf, text);
}

/* What the old code opened with O_CREAT|O_TRUNC: path.tmp.PID. */
static void
old_tmp_name(char *buf, size_t len, const char *path)
{
	snprintf(buf, len, "%s.tmp.%ld", path, (long)getpid());
}

static void
test_write_plain(void **state)
{
	char path[PATH_MAX + 16];
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/metrics.prom", dir);
	assert_int_equal(sidefile_replace(path, "a 1\n", 4, false), 0);
	assert_file(path, "a 1\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(sidefile_replace(path, "b 2\n", 4, false), 0);
	assert_file(path, "b 2\n");
}

static void
test_planted_symlink(void **state)
{
	char path[PATH_MAX + 16], victim[PATH_MAX + 16], tmp[PATH_MAX + 64];

	(void)state;
	snprintf(path, sizeof(path), "%s/rauditd.state", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	put_file(victim, "precious\n");
	old_tmp_name(tmp, sizeof(tmp), path);
	assert_int_equal(symlink(victim, tmp), 0);
	/* The write still happens, and the victim is untouched. */
	assert_int_equal(sidefile_replace(path, "state 1\n", 8, false), 0);
	assert_file(victim, "precious\n");
	assert_file(path, "state 1\n");
}

static void
test_planted_hardlink(void **state)
{
	char path[PATH_MAX + 16], victim[PATH_MAX + 16], tmp[PATH_MAX + 64];

	(void)state;
	snprintf(path, sizeof(path), "%s/ship.status", dir);
	snprintf(victim, sizeof(victim), "%s/victim2", dir);
	put_file(victim, "precious\n");
	old_tmp_name(tmp, sizeof(tmp), path);
	assert_int_equal(link(victim, tmp), 0);
	assert_int_equal(sidefile_replace(path, "x 1\n", 4, false), 0);
	assert_file(victim, "precious\n");
	assert_file(path, "x 1\n");
}

static void
test_planted_fifo(void **state)
{
	char path[PATH_MAX + 16], tmp[PATH_MAX + 64];

	(void)state;
	snprintf(path, sizeof(path), "%s/m.prom", dir);
	old_tmp_name(tmp, sizeof(tmp), path);
	assert_int_equal(mkfifo(tmp, 0666), 0);
	/* Would block forever in open() if the FIFO were opened. */
	alarm(5);
	assert_int_equal(sidefile_replace(path, "y 1\n", 4, false), 0);
	alarm(0);
	assert_file(path, "y 1\n");
}

/* Cursors (and the shipper's status) were written through path.tmp. */
static void
test_planted_hardlink_cursor(void **state)
{
	char path[PATH_MAX + 16], victim[PATH_MAX + 16], tmp[PATH_MAX + 64];
	struct spool_pos in = { 7, 4096 }, out;

	(void)state;
	snprintf(path, sizeof(path), "%s/plugin-x.cursor", dir);
	snprintf(victim, sizeof(victim), "%s/victim3", dir);
	put_file(victim, "precious\n");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(link(victim, tmp), 0);
	assert_int_equal(spool_cursor_write(path, &in, true), 0);
	assert_file(victim, "precious\n");
	assert_int_equal(spool_cursor_read(path, &out), 0);
	assert_int_equal(out.segment, 7);
	assert_int_equal(out.offset, 4096);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planted_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planted_hardlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planted_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planted_hardlink_cursor, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
