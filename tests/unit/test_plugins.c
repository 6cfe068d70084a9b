/*
 * test_plugins.c - auditd's plugins.d files through plugins.h: Debian's own
 * laurel.conf, syslog.conf and af_unix.conf parse (a trailing blank after
 * a value included); every kind of bad file is refused with file:line;
 * a directory is read in name order, NAME.conf only; a file or program
 * writable by others is refused; and the cursor list for retention holds
 * exactly the active programs' cursor files, which spool_cursor_read reads.
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

#include "plugins.h"
#include "spool.h"

static struct plugins_conf pc;
static char err[1024];

static int
parse(const char *file, const char *text)
{
	err[0] = '\0';
	return plugins_parse_buffer(&pc, file, text, err, sizeof(err));
}

static void
test_debian_files(void **state)
{
	(void)state;
	assert_int_equal(parse("/etc/audit/plugins.d/laurel.conf",
	    "active = yes\ndirection = out\ntype = always\nformat = string\n"
	    "path = /usr/sbin/laurel\nargs = --config /etc/laurel/config.toml\n"), 0);
	assert_string_equal(pc.name, "laurel");
	assert_true(pc.active);
	assert_int_equal(pc.type, PLUGINS_TYPE_ALWAYS);
	assert_string_equal(pc.argv[0], "/usr/sbin/laurel");
	assert_string_equal(pc.argv[1], "--config");
	assert_string_equal(pc.argv[2], "/etc/laurel/config.toml");
	assert_null(pc.argv[3]);
	assert_true(plugins_has_cursor(&pc));

	assert_int_equal(parse("/etc/audit/plugins.d/syslog.conf",
	    "# This file controls the configuration of the\n# syslog plugin.\n\n"
	    "active = no\ndirection = out\npath = /sbin/audisp-syslog\ntype = always \n"
	    "args = LOG_INFO\nformat = string\n"), 0);
	assert_false(pc.active);
	assert_false(plugins_has_cursor(&pc));
	assert_string_equal(pc.argv[1], "LOG_INFO");

	assert_int_equal(parse("/etc/audit/plugins.d/af_unix.conf",
	    "active = yes\ndirection = out\npath = builtin_af_unix\ntype = builtin \n"
	    "args = 0640 /var/run/audispd_events\nformat = string\n"), 0);
	assert_int_equal(pc.type, PLUGINS_TYPE_BUILTIN);
	assert_string_equal(pc.sock_path, "/var/run/audispd_events");
	assert_int_equal(pc.sock_mode, 0640);
	assert_false(plugins_has_cursor(&pc));

	/* Only a socket path: auditd's default mode. */
	assert_int_equal(parse("/d/af.conf", "active = yes\npath = builtin_af_unix\n"
	    "args = /run/x.sock\n"), 0);
	assert_string_equal(pc.sock_path, "/run/x.sock");
	assert_int_equal(pc.sock_mode, PLUGINS_AF_UNIX_MODE);
}

static void
expect_error(const char *file, const char *text, const char *where, const char *what)
{
	assert_int_equal(parse(file, text), -EINVAL);
	if (strncmp(err, where, strlen(where)) != 0 || strstr(err, what) == NULL)
		fail_msg("for %s: got \"%s\", want \"%s...%s\"", file, err, where, what);
}

static void
test_bad_files(void **state)
{
	(void)state;
	expect_error("/d/a.conf", "active = yes\npath = /bin/cat\nfoo = bar\n", "/d/a.conf:3: ",
	    "unknown key \"foo\"");
	expect_error("/d/a.conf", "active = yes\npath /bin/cat\n", "/d/a.conf:2: ",
	    "expected \"key = value\"");
	expect_error("/d/a.conf", "active = yes\n\npath = /bin/cat\npath = /bin/true\n",
	    "/d/a.conf:4: ", "path given twice (first at line 3)");
	expect_error("/d/a.conf", "active = maybe\npath = /bin/cat\n", "/d/a.conf:1: ",
	    "active: bad value \"maybe\"");
	expect_error("/d/a.conf", "active = yes\ndirection = in\npath = /bin/cat\n",
	    "/d/a.conf:2: ", "only out is supported");
	expect_error("/d/a.conf", "active = yes\npath = /bin/cat\nformat = binary\n",
	    "/d/a.conf:3: ", "only string is supported");
	expect_error("/d/a.conf", "active = yes\npath = /bin/cat\ntype = builtin\n",
	    "/d/a.conf:3: ", "type = builtin needs path = builtin_af_unix");
	expect_error("/d/a.conf", "active = yes\ntype = sometimes\npath = /bin/cat\n",
	    "/d/a.conf:2: ", "type: bad value");
	expect_error("/d/a.conf", "active = yes\npath = bin/cat\n", "/d/a.conf:2: ",
	    "neither an absolute path");
	expect_error("/d/a.conf", "active = yes\npath = builtin_af_unix\nargs = 0999 /x\n",
	    "/d/a.conf:3: ", "not an octal permission");
	expect_error("/d/a.conf", "active = yes\npath = builtin_af_unix\nargs = 0640 rel\n",
	    "/d/a.conf:3: ", "must be an absolute path");
	expect_error("/d/a.conf", "active = yes\npath = builtin_af_unix\nargs = 0640 /a /b\n",
	    "/d/a.conf:3: ", "takes a mode and a socket path");
	expect_error("/d/a.conf", "active = yes\n", "/d/a.conf: ", "no path");
	expect_error("/d/a.conf", "path = /bin/cat\n", "/d/a.conf: ", "no active");
	expect_error("/d/bad name.conf", "active = yes\npath = /bin/cat\n", "/d/bad name.conf: ",
	    "NAME.conf");
	{
		char text[PLUGINS_LINE_MAX + 64];

		snprintf(text, sizeof(text), "active = yes\nargs = %0*d\npath = /bin/cat\n",
		    PLUGINS_LINE_MAX, 7);
		expect_error("/d/a.conf", text, "/d/a.conf:2: ", "line longer than");
	}
	{
		char text[256];
		size_t n = (size_t)snprintf(text, sizeof(text), "active = yes\npath = /bin/cat\nargs =");

		for (int i = 0; i <= PLUGINS_ARGS_MAX && n + 3 < sizeof(text); i++)
			n += (size_t)snprintf(text + n, sizeof(text) - n, " a");
		expect_error("/d/a.conf", text, "/d/a.conf:3: ", "more than 32 arguments");
	}
}

static char dir[PATH_MAX];

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX + 64];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/test_plugins.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown_dir(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_load_dir(void **state)
{
	struct plugins_set set;
	char path[PATH_MAX + 64];

	(void)state;
	write_file("zz.conf", "active = yes\npath = /bin/cat\n", 0644);
	write_file("aa.conf", "active = no\npath = /bin/true\n", 0644);
	write_file("af_unix.conf", "active = yes\npath = builtin_af_unix\nargs = 0600 /tmp/x\n", 0644);
	/* Not plugin files: skipped, bad as they are. */
	write_file("notes.txt", "garbage\n", 0644);
	write_file("zz.conf.dpkg-old", "garbage\n", 0644);
	write_file(".hidden.conf", "garbage\n", 0644);
	assert_int_equal(plugins_load(dir, true, &set, err, sizeof(err)), 0);
	assert_int_equal(set.n, 3);
	assert_string_equal(set.v[0].name, "aa");
	assert_string_equal(set.v[1].name, "af_unix");
	assert_string_equal(set.v[2].name, "zz");
	/* argv survives the sort. */
	assert_string_equal(set.v[2].argv[0], "/bin/cat");
	assert_ptr_equal(set.v[2].argv[0], set.v[2].path);
	plugins_free(&set);

	/* A bad file names itself and its line. */
	write_file("mid.conf", "active = yes\npath = /bin/cat\nbogus = 1\n", 0644);
	assert_int_equal(plugins_load(dir, true, &set, err, sizeof(err)), -EINVAL);
	snprintf(path, sizeof(path), "%s/mid.conf:3: unknown key", dir);
	assert_non_null(strstr(err, path));
	write_file("mid.conf", "active = yes\npath = /bin/cat\n", 0644);

	/* Writable by others: whoever can write it runs code as root. */
	write_file("mid.conf", "active = yes\npath = /bin/cat\n", 0666);
	assert_true(plugins_load(dir, true, &set, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "mid.conf"));
	/* The program of an active plugin too. */
	write_file("mid.conf", "active = yes\npath = /bin/cat\n", 0644);
	write_file("prog.sh", "#!/bin/sh\nexec cat\n", 0777);
	snprintf(path, sizeof(path), "active = yes\npath = %s/prog.sh\n", dir);
	write_file("prog.conf", path, 0644);
	assert_true(plugins_load(dir, true, &set, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "prog.sh"));
	snprintf(path, sizeof(path), "%s/prog.sh", dir);
	chmod(path, 0755);
	assert_int_equal(plugins_load(dir, true, &set, err, sizeof(err)), 0);
	assert_int_equal(set.n, 5);
	plugins_free(&set);

	/* A missing directory is no plugins. */
	snprintf(path, sizeof(path), "%s/nonexistent", dir);
	assert_int_equal(plugins_load(path, true, &set, err, sizeof(err)), 0);
	assert_int_equal(set.n, 0);
}

static void
test_cursor_list(void **state)
{
	char names[4][PLUGINS_NAME_MAX], path[PATH_MAX + 64], want[PATH_MAX + 64];
	char cdir[PATH_MAX + 16];
	size_t n;
	struct spool_pos pos = { 7, 1234 }, got;

	(void)state;
	snprintf(cdir, sizeof(cdir), "%s/cursors", dir);
	mkdir(cdir, 0700);
	/* aa inactive, af_unix builtin, mid, prog and zz active programs. */
	assert_int_equal(plugins_cursor_names(dir, names, 4, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "mid");
	assert_string_equal(names[1], "prog");
	assert_string_equal(names[2], "zz");
	/* More than the caller has room for: the first ones, and -E2BIG. */
	assert_int_equal(plugins_cursor_names(dir, names, 2, &n, err, sizeof(err)), -E2BIG);
	assert_int_equal(n, 2);
	assert_string_equal(names[1], "prog");
	snprintf(want, sizeof(want), "%s/plugin-zz.cursor", cdir);
	assert_string_equal(plugins_cursor_path(cdir, "zz", path, sizeof(path)), want);
	/* rauditd-dispatch writes them as rauditd-ship does; retention reads them so. */
	assert_int_equal(spool_cursor_read(path, &got), -ENOENT);
	assert_int_equal(spool_cursor_write(path, &pos, true), 0);
	assert_int_equal(spool_cursor_read(path, &got), 0);
	assert_int_equal(got.segment, 7);
	assert_int_equal(got.offset, 1234);
	/* A file the dispatcher would refuse: no list, the reason named. */
	write_file("zz.conf", "active = yes\npath = /bin/cat\n", 0666);
	assert_int_equal(plugins_cursor_names(dir, names, 4, &n, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "zz.conf"));
	write_file("zz.conf", "active = yes\npath = /bin/cat\n", 0644);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian_files),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_cursor_list),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
