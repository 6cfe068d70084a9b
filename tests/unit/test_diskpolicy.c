/*
 * test_diskpolicy.c - unit tests of daemon/diskpolicy.c: auditd.conf's
 * thresholds as parsed, each event firing once per crossing and again only
 * after recovery, the records and rotate calls it makes through the writer's
 * hooks, and exec actions that run a script with the reason and are reaped
 * without waiting.
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

#include "diskpolicy.h"

#define MiB	(1024ULL * 1024)

struct seen {
	char	records[16][512];
	int	nrec;
	int	rotates, forced;
};

static void
rec_hook(void *arg, const char *text)
{
	struct seen *s = arg;

	assert_true(s->nrec < 16);
	snprintf(s->records[s->nrec++], sizeof(s->records[0]), "%s", text);
}

static int
rot_hook(void *arg, bool force)
{
	struct seen *s = arg;

	s->rotates++;
	s->forced += force;
	return 1;
}

static struct diskpolicy *
policy(struct seen *s, const char *sl, const char *asl, const char *const acts[5])
{
	struct diskpolicy_settings ds;
	struct diskpolicy_hooks h = { rec_hook, rot_hook, s };
	char msg[256];

	memset(&ds, 0, sizeof(ds));
	memset(s, 0, sizeof(*s));
	assert_int_equal(diskpolicy_parse_space(sl, &ds.space_left, msg, sizeof(msg)), 0);
	assert_int_equal(diskpolicy_parse_space(asl, &ds.admin_space_left, msg, sizeof(msg)), 0);
	for (int i = 0; i < DISKPOLICY_EVENTS; i++)
		assert_int_equal(diskpolicy_parse_action((enum diskpolicy_event)i, acts[i],
		    &ds.action[i], msg, sizeof(msg)), 0);
	return diskpolicy_new(&ds, &h);
}

static void
test_parse_space(void **state)
{
	struct diskpolicy_space sp;
	char msg[256], buf[32];

	(void)state;
	assert_int_equal(diskpolicy_parse_space("75", &sp, msg, sizeof(msg)), 0);
	assert_false(sp.percent);
	assert_int_equal(sp.value, 75 * MiB);		/* auditd counts megabytes */
	assert_int_equal(diskpolicy_parse_space("512K", &sp, msg, sizeof(msg)), 0);
	assert_int_equal(sp.value, 512 * 1024);
	assert_int_equal(diskpolicy_parse_space("2G", &sp, msg, sizeof(msg)), 0);
	diskpolicy_format_space(&sp, buf, sizeof(buf));
	assert_string_equal(buf, "2G");
	assert_int_equal(diskpolicy_parse_space("25%", &sp, msg, sizeof(msg)), 0);
	assert_true(sp.percent);
	assert_int_equal(diskpolicy_threshold(&sp, 1000 * MiB), 250 * MiB);
	assert_int_equal(diskpolicy_threshold(&sp, 1001), 250);
	for (const char *bad[] = { "", "0%", "100%", "5%%", "-1", "1.5", "10 M", "7T", NULL },
	    **b = bad; *b; b++)
		if (diskpolicy_parse_space(*b, &sp, msg, sizeof(msg)) != -EINVAL)
			fail_msg("\"%s\" accepted", *b);
}

static const char *const syslog_all[5] = { "syslog", "syslog", "syslog", "syslog", "syslog" };

static void
test_space_left_once_per_crossing(void **state)
{
	struct seen s;
	struct diskpolicy *p = policy(&s, "100M", "10M", syslog_all);

	(void)state;
	diskpolicy_observe(p, 500 * MiB, 1000 * MiB);
	assert_int_equal(s.nrec, 0);
	diskpolicy_observe(p, 99 * MiB, 1000 * MiB);
	assert_int_equal(s.nrec, 1);
	assert_string_equal(s.records[0], "op=space_left free=103809024 threshold=104857600 "
	    "action=syslog res=failed");
	/* Still below, lower still: nothing new. */
	diskpolicy_observe(p, 50 * MiB, 1000 * MiB);
	diskpolicy_observe(p, 99 * MiB, 1000 * MiB);
	assert_int_equal(s.nrec, 1);
	assert_int_equal(diskpolicy_fired(p, DISKPOLICY_SPACE_LEFT), 1);
	/* Exactly at the threshold is recovered. */
	diskpolicy_observe(p, 100 * MiB, 1000 * MiB);
	assert_int_equal(s.nrec, 2);
	assert_string_equal(s.records[1], "op=space_left free=104857600 threshold=104857600 "
	    "state=recovered res=success");
	diskpolicy_observe(p, 200 * MiB, 1000 * MiB);
	assert_int_equal(s.nrec, 2);
	/* A second crossing fires again. */
	diskpolicy_observe(p, 1 * MiB, 1000 * MiB);
	assert_int_equal(diskpolicy_fired(p, DISKPOLICY_SPACE_LEFT), 2);
	assert_int_equal(diskpolicy_fired(p, DISKPOLICY_ADMIN_SPACE_LEFT), 1);
	assert_int_equal(s.nrec, 4);
	assert_non_null(strstr(s.records[3], "op=admin_space_left free=1048576 threshold=10485760"));
	diskpolicy_free(p);
}

static void
test_percent_thresholds(void **state)
{
	struct seen s;
	struct diskpolicy *p = policy(&s, "20%", "5%", syslog_all);

	(void)state;
	diskpolicy_observe(p, 300, 1000);
	assert_int_equal(s.nrec, 0);
	diskpolicy_observe(p, 199, 1000);
	assert_int_equal(diskpolicy_fired(p, DISKPOLICY_SPACE_LEFT), 1);
	assert_int_equal(diskpolicy_fired(p, DISKPOLICY_ADMIN_SPACE_LEFT), 0);
	diskpolicy_observe(p, 49, 1000);
	assert_int_equal(diskpolicy_fired(p, DISKPOLICY_ADMIN_SPACE_LEFT), 1);
	diskpolicy_free(p);
}

static void
test_rotate_forced_only_below_admin(void **state)
{
	const char *const acts[5] = { "rotate", "rotate", "rotate", "syslog", "ignore" };
	struct seen s;
	struct diskpolicy *p = policy(&s, "100M", "10M", acts);

	(void)state;
	diskpolicy_observe(p, 50 * MiB, 1000 * MiB);
	assert_int_equal(s.rotates, 1);
	assert_int_equal(s.forced, 0);		/* space_left: consumers' floor holds */
	diskpolicy_observe(p, 5 * MiB, 1000 * MiB);
	assert_int_equal(s.rotates, 2);
	assert_int_equal(s.forced, 1);
	diskpolicy_fault(p, DISKPOLICY_DISK_FULL, true, -ENOSPC);
	assert_int_equal(s.rotates, 3);
	assert_int_equal(s.forced, 2);
	diskpolicy_free(p);
}

static void
test_faults_and_ignore(void **state)
{
	const char *const acts[5] = { "ignore", "ignore", "syslog", "syslog", "syslog" };
	struct seen s;
	struct diskpolicy *p = policy(&s, "100M", "10M", acts);

	(void)state;
	/* ignore: counted, no record. */
	diskpolicy_observe(p, 1, 1000 * MiB);
	assert_int_equal(diskpolicy_fired(p, DISKPOLICY_SPACE_LEFT), 1);
	assert_int_equal(s.nrec, 0);
	/* A disk that stays full through many retries fires once. */
	for (int i = 0; i < 5; i++)
		diskpolicy_fault(p, DISKPOLICY_DISK_FULL, true, -ENOSPC);
	assert_int_equal(s.nrec, 1);
	assert_string_equal(s.records[0], "op=disk_full errno=28 action=syslog res=failed");
	diskpolicy_fault(p, DISKPOLICY_DISK_FULL, false, 0);
	diskpolicy_fault(p, DISKPOLICY_DISK_FULL, false, 0);
	assert_int_equal(s.nrec, 2);
	assert_string_equal(s.records[1], "op=disk_full errno=0 state=recovered res=success");
	diskpolicy_fault(p, DISKPOLICY_DISK_ERROR, true, -EIO);
	assert_string_equal(s.records[2], "op=disk_error errno=5 action=syslog res=failed");
	/* Losses fire every time: each one is news. Their record is the
	 * writer's own (op=overflow ...), not a second one. */
	diskpolicy_loss(p, "reason=ring records=3");
	diskpolicy_loss(p, "reason=ring records=4");
	assert_int_equal(diskpolicy_fired(p, DISKPOLICY_LOSS), 2);
	assert_int_equal(s.nrec, 3);
	diskpolicy_free(p);
}

static void
test_actions_refused(void **state)
{
	struct diskpolicy_action a;
	char msg[256];

	(void)state;
	for (const char *bad[] = { "suspend", "single", "halt", "email", "keep_logs", "exec",
	    "exec ", "exec rel.sh", "exec /a b", "SYSLOG", NULL }, **b = bad; *b; b++)
		if (diskpolicy_parse_action(DISKPOLICY_SPACE_LEFT, *b, &a, msg, sizeof(msg)) !=
		    -EINVAL)
			fail_msg("\"%s\" accepted", *b);
	assert_int_equal(diskpolicy_parse_action(DISKPOLICY_DISK_ERROR, "rotate", &a, msg,
	    sizeof(msg)), -EINVAL);
	assert_int_equal(diskpolicy_parse_action(DISKPOLICY_LOSS, "rotate", &a, msg,
	    sizeof(msg)), -EINVAL);
	assert_int_equal(diskpolicy_parse_action(DISKPOLICY_LOSS, "exec /bin/true", &a, msg,
	    sizeof(msg)), 0);
	assert_int_equal(a.kind, DISKPOLICY_EXEC);
	assert_string_equal(a.path, "/bin/true");
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
test_exec_runs_script_with_reason(void **state)
{
	char dir[] = "/tmp/test_diskpolicy.XXXXXX", script[PATH_MAX], marker[PATH_MAX];
	char act[PATH_MAX + 8], buf[256] = "";
	const char *acts[5] = { NULL, "syslog", "syslog", "syslog", "exec /nonexistent/x" };
	uint64_t started, failed, killed, t;
	struct seen s;
	struct diskpolicy *p;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(script, sizeof(script), "%s/action.sh", dir);
	snprintf(marker, sizeof(marker), "%s/marker", dir);
	f = fopen(script, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\necho \"$# $1\" >>%s\n", marker);
	fclose(f);
	assert_int_equal(chmod(script, 0700), 0);
	snprintf(act, sizeof(act), "exec %s", script);
	acts[0] = act;
	p = policy(&s, "100M", "10M", acts);
	diskpolicy_observe(p, 1 * MiB, 1000 * MiB);
	/* Reap: diskpolicy_check collects the child without blocking. */
	t = now_ns();
	for (int i = 0; i < 500; i++) {
		f = fopen(marker, "r");
		if (f != NULL) {
			bool got = fgets(buf, sizeof(buf), f) != NULL;
			fclose(f);
			if (got)
				break;
		}
		usleep(10000);
	}
	assert_string_equal(buf, "1 space_left\n");
	/* The loss action's script does not exist: counted, not fatal. */
	diskpolicy_loss(p, "reason=ring records=1");
	for (int i = 0; i < 100; i++) {
		diskpolicy_check(p, dir, t + (uint64_t)(i + 1) * 1000000000u);
		usleep(10000);
	}
	diskpolicy_exec_counts(p, &started, &failed, &killed);
	assert_int_equal(killed, 0);
	assert_true(started + failed == 2);
	assert_true(failed == 1);
	diskpolicy_free(p);
	unlink(marker);
	unlink(script);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_space),
		cmocka_unit_test(test_space_left_once_per_crossing),
		cmocka_unit_test(test_percent_thresholds),
		cmocka_unit_test(test_rotate_forced_only_below_admin),
		cmocka_unit_test(test_faults_and_ignore),
		cmocka_unit_test(test_actions_refused),
		cmocka_unit_test(test_exec_runs_script_with_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
