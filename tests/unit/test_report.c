/*
 * test_report.c - unit tests of report.c's side-file writer and of the
 * escaping of text that reaches the status reply and the metrics file:
 * a link, hard link or FIFO planted at the temporary name the old code
 * predicted is neither followed nor truncated nor blocks the write.
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
	assert_int_equal(report_write_file(path, "a 1\n", 4), 0);
	assert_file(path, "a 1\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(report_write_file(path, "b 2\n", 4), 0);
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
	assert_int_equal(report_write_file(path, "state 1\n", 8), 0);
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
	assert_int_equal(report_write_file(path, "x 1\n", 4), 0);
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
	assert_int_equal(report_write_file(path, "y 1\n", 4), 0);
	alarm(0);
	assert_file(path, "y 1\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planted_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planted_hardlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planted_fifo, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
