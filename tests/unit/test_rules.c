/*
 * test_rules.c - the rules loader through rules.h: auditctl's error note
 * parsed into line and reason; with stand-in augenrules and auditctl
 * scripts in a temporary directory: a "-D" runs first as its own command,
 * then the caller's hook, then -R of a copy with the "-D" commented out (same
 * line numbers); a rejected rule is named by file, line and text; the
 * compiled file is regenerated, and loaded even when that fails; a hung
 * child is killed at the deadline; "none" runs nothing.
 */
#include "build_config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rules.h"

static char dir[64], logfile[128], copyf[128], ctl[128], aug[128], compiled[128];
static struct rules_cmds cmds;

static void
put(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* The whole of path, or "" if absent. Static buffer. */
static const char *
slurp(const char *path)
{
	static char buf[4096];
	FILE *fp = fopen(path, "r");
	size_t n;

	buf[0] = '\0';
	if (fp == NULL)
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/*
 * A stand-in auditctl: logs its arguments; -R keeps a copy of the file and
 * rejects the first line holding BAD as auditctl does; -D fails when the
 * file FAILD exists; any call sleeps when SLOW exists.
 */
static void
fake_auditctl(void)
{
	char script[1024];

	snprintf(script, sizeof(script),
	    "#!/bin/sh\n"
	    "[ -e %s/SLOW ] && sleep 5\n"
	    "echo \"$*\" >>%s\n"
	    "case $1 in\n"
	    "-D) [ -e %s/FAILD ] && { echo 'Error deleting rule (Operation not permitted)' >&2; exit 1; } ;;\n"
	    "-R) cat \"$2\" >%s\n"
	    "    n=$(grep -n BAD \"$2\" | head -n 1 | cut -d: -f1)\n"
	    "    if [ -n \"$n\" ]; then echo 'Syscall name unknown: BAD' >&2;\n"
	    "      echo \"There was an error in line $n of $2\" >&2; exit 1; fi ;;\n"
	    "esac\nexit 0\n", dir, logfile, dir, copyf);
	put(ctl, script, 0755);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_rules.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(logfile, sizeof(logfile), "%s/log", dir);
	snprintf(copyf, sizeof(copyf), "%s/copy", dir);
	snprintf(ctl, sizeof(ctl), "%s/auditctl", dir);
	snprintf(aug, sizeof(aug), "%s/augenrules", dir);
	snprintf(compiled, sizeof(compiled), "%s/audit.rules", dir);
	fake_auditctl();
	cmds.augenrules = aug;
	cmds.auditctl = ctl;
	cmds.compiled = compiled;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_parse_output(void **state)
{
	struct rules_result r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(rules_parse_output("Syscall name unknown: nosuchcall\n"
	    "There was an error in line 2 of /proc/self/fd/5\n", &r), 0);
	assert_int_equal(r.line, 2);
	assert_string_equal(r.message, "Syscall name unknown: nosuchcall");
	assert_int_equal(rules_parse_output("There was an error in line 17 of x\n", &r), 0);
	assert_int_equal(r.line, 17);
	assert_string_equal(r.message, "");
	/* With several notes the last counts. */
	assert_int_equal(rules_parse_output("a\nThere was an error in line 1 of f\n"
	    "Error sending add rule data request (Rule exists)\n"
	    "There was an error in line 9 of f\n", &r), 0);
	assert_int_equal(r.line, 9);
	assert_string_equal(r.message, "Error sending add rule data request (Rule exists)");
	assert_int_equal(rules_parse_output("No rules\n", &r), -ENOENT);
	assert_int_equal(rules_parse_output("There was an error in line x of f\n", &r), -ENOENT);
}

struct hook {
	unsigned	 calls;
	char		 log_then[512];
};

static int
hook(void *arg)
{
	struct hook *h = arg;

	h->calls++;
	snprintf(h->log_then, sizeof(h->log_then), "%s", slurp(logfile));
	return 0;
}

static void
test_delete_then_hook_then_rest(void **state)
{
	char file[160];
	struct rules_result r;
	struct hook h = { 0, "" };

	(void)state;
	snprintf(file, sizeof(file), "%s/my rules; touch x", dir);
	put(file, "## test\n-D\n-b 8192\n-a always,exit -S getsid -k t\n-e 2\n", 0640);
	assert_int_equal(rules_load(file, &cmds, 5000, hook, &h, &r), 0);
	assert_true(r.deleted);
	assert_int_equal(h.calls, 1);
	/* The hook ran after the delete and before the load. */
	assert_string_equal(h.log_then, "-D\n");
	assert_non_null(strstr(slurp(logfile), "-D\n-R /proc/self/fd/"));
	assert_string_equal(slurp(copyf), "## test\n#-D\n-b 8192\n-a always,exit -S getsid -k t\n-e 2\n");
	assert_string_equal(r.file, file);
	assert_int_equal(r.exit_status, 0);
	assert_int_equal(r.line, 0);

	/* No -D: no delete, no hook. */
	unlink(logfile);
	put(file, "-a always,exit -S getsid -k t\n", 0640);
	assert_int_equal(rules_load(file, &cmds, 5000, hook, &h, &r), 0);
	assert_false(r.deleted);
	assert_int_equal(h.calls, 1);
	assert_null(strstr(slurp(logfile), "-D"));
}

static void
test_rejected_rule_named(void **state)
{
	char file[160];
	struct rules_result r;

	(void)state;
	snprintf(file, sizeof(file), "%s/t.rules", dir);
	put(file, "-D\n-a always,exit -S getsid -k ok\n-a always,exit -S BAD -k x\n", 0640);
	assert_int_equal(rules_load(file, &cmds, 5000, NULL, NULL, &r), -EINVAL);
	assert_string_equal(r.file, file);
	assert_int_equal(r.line, 3);
	assert_string_equal(r.rule, "-a always,exit -S BAD -k x");
	assert_string_equal(r.message, "Syscall name unknown: BAD");
	assert_int_equal(r.exit_status, 1);
}

static void
test_failed_delete_stops(void **state)
{
	char file[160], failf[128];
	struct rules_result r;
	struct hook h = { 0, "" };

	(void)state;
	snprintf(file, sizeof(file), "%s/t.rules", dir);
	snprintf(failf, sizeof(failf), "%s/FAILD", dir);
	put(file, "-D\n-a always,exit -S getsid -k ok\n", 0640);
	put(failf, "", 0600);
	assert_true(rules_load(file, &cmds, 5000, hook, &h, &r) < 0);
	assert_int_equal(h.calls, 0);
	assert_null(strstr(slurp(logfile), "-R"));
	assert_non_null(strstr(r.message, "Operation not permitted"));
}

static void
test_augenrules(void **state)
{
	char script[512];
	struct rules_result r;

	(void)state;
	/* A stand-in augenrules that compiles one rule into the compiled file
	 * and, with --check, finds it up to date. */
	snprintf(script, sizeof(script), "#!/bin/sh\n"
	    "[ \"$*\" = --check ] && { echo \"$0: No change\"; exit 0; }\n"
	    "[ \"$#\" = 0 ] || exit 9\n"
	    "printf -- '-a always,exit -S getsid -k compiled\\n' >%s\n", compiled);
	put(aug, script, 0755);
	assert_int_equal(rules_load("augenrules", &cmds, 5000, NULL, NULL, &r), 0);
	assert_false(r.compile_failed);
	assert_string_equal(r.file, compiled);
	assert_string_equal(slurp(copyf), "-a always,exit -S getsid -k compiled\n");

	/* augenrules fails: the compiled file there is loaded all the same. */
	put(aug, "#!/bin/sh\necho 'augenrules: No rules directory - /etc/audit/rules.d'\nexit 1\n", 0755);
	unlink(copyf);
	assert_int_equal(rules_load("augenrules", &cmds, 5000, NULL, NULL, &r), 0);
	assert_true(r.compile_failed);
	assert_non_null(strstr(r.message, "No rules directory"));
	assert_string_equal(slurp(copyf), "-a always,exit -S getsid -k compiled\n");

	/* augenrules cannot install what it compiled: its cp fails and it
	 * exits 0 all the same; --check finds the old file out of date. That
	 * counts as a failed compile, and the file there is loaded. */
	put(aug, "#!/bin/sh\n"
	    "[ \"$*\" = --check ] && { echo \"$0: " RULES_AUGENRULES_STALE "\"; exit 0; }\n"
	    "[ \"$#\" = 0 ] || exit 9\n"
	    "echo \"cp: cannot create regular file '/etc/audit/audit.rules': Read-only file system\" >&2\n"
	    "exit 0\n", 0755);
	unlink(copyf);
	assert_int_equal(rules_load("augenrules", &cmds, 5000, NULL, NULL, &r), 0);
	assert_true(r.compile_failed);
	assert_non_null(strstr(r.message, "did not install"));
	assert_non_null(strstr(r.message, "Read-only file system"));
	assert_string_equal(slurp(copyf), "-a always,exit -S getsid -k compiled\n");

	/* Nothing compiled and nothing there: -ENOENT, named. */
	unlink(compiled);
	assert_int_equal(rules_load("augenrules", &cmds, 5000, NULL, NULL, &r), -ENOENT);
	assert_non_null(strstr(r.message, compiled));
}

static void
test_timeout_and_none(void **state)
{
	char file[160], slow[128];
	struct rules_result r;
	struct timespec a, b;

	(void)state;
	assert_int_equal(rules_load("none", &cmds, 5000, NULL, NULL, &r), 0);
	assert_string_equal(slurp(logfile), "");
	assert_string_equal(r.file, "");
	assert_int_equal(rules_load("relative.rules", &cmds, 5000, NULL, NULL, &r), -EINVAL);

	snprintf(file, sizeof(file), "%s/t.rules", dir);
	snprintf(slow, sizeof(slow), "%s/SLOW", dir);
	put(file, "-a always,exit -S getsid -k ok\n", 0640);
	put(slow, "", 0600);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(rules_load(file, &cmds, 300, NULL, NULL, &r), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true(r.timed_out);
	/* Killed at the deadline, not after the child's 5 s sleep. */
	assert_true(b.tv_sec - a.tv_sec < 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_output),
		cmocka_unit_test_setup_teardown(test_delete_then_hook_then_rest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected_rule_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_delete_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_augenrules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_none, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
