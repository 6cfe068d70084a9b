/*
 * test_migrate.c - the auditd.conf translation through migrate.h: the
 * parser's errors name file and line; migrate_get finds a key, the last
 * one winning; each auditd key lands on the rauditd key it maps to, and
 * every key rauditd cannot honour is named with a reason.
 */
#include "build_config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "migrate.h"

static char path[64];

static void
write_conf(const char *text)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_migrate.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* The translation of text, or NULL with rc set. Caller frees. */
static char *
translate(const char *text, int *rc, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	write_conf(text);
	*rc = migrate_auditd_conf(path, fp, err, errlen);
	fclose(fp);
	unlink(path);
	return buf;
}

/* The line of out that starts with want exists. */
static bool
has_line(const char *out, const char *want)
{
	size_t n = strlen(want);

	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, want, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

static void
test_parse_errors_name_line(void **state)
{
	char err[256], *out;
	int rc;

	(void)state;
	out = translate("# c\n\nflush = data\nno equals here\n", &rc, err, sizeof(err));
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(err, ":4: expected \"key = value\""));
	free(out);
	out = translate("Bad-Key = 1\n", &rc, err, sizeof(err));
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(err, ":1: bad key"));
	free(out);
	out = translate("name = a\001b\n", &rc, err, sizeof(err));
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(err, ":1: control character"));
	free(out);
	rc = migrate_auditd_conf("/nonexistent/auditd.conf", stdout, err, sizeof(err));
	assert_int_equal(rc, -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/auditd.conf"));
}

static void
test_get(void **state)
{
	char err[256], buf[64];

	(void)state;
	write_conf("log_file = /a/audit.log\nflush = data\nlog_file = /b/audit.log\n");
	assert_int_equal(migrate_get(path, "log_file", buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, "/b/audit.log");
	assert_int_equal(migrate_get(path, "name", buf, sizeof(buf), err, sizeof(err)), -ENOENT);
	assert_int_equal(migrate_get(path, "log_file", buf, 4, err, sizeof(err)), -ENAMETOOLONG);
	unlink(path);
}

static void
test_mapped_keys(void **state)
{
	char err[256], *out;
	int rc;

	(void)state;
	out = translate("log_format = ENRICHED\nflush = INCREMENTAL_ASYNC\nfreq = 50\n"
	    "max_log_file = 8\nnum_logs = 5\nmax_log_file_action = ROTATE\n"
	    "priority_boost = 4\nlog_group = adm\nname_format = HOSTNAME\nname = h1\n"
	    "space_left = 75\nspace_left_action = SYSLOG\nadmin_space_left = 10%\n"
	    "admin_space_left_action = exec /usr/local/sbin/full\n"
	    "disk_full_action = ROTATE\ndisk_error_action = IGNORE\nq_depth = 2000000\n",
	    &rc, err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_true(has_line(out, "enable = yes"));
	assert_true(has_line(out, "rules = augenrules"));
	assert_true(has_line(out, "log_format = enriched"));
	assert_true(has_line(out, "flush = incremental"));
	assert_true(has_line(out, "freq = 50"));
	assert_true(has_line(out, "segment_size = 8M"));
	assert_true(has_line(out, "num_segments = 5"));
	assert_true(has_line(out, "priority_boost = 4"));
	assert_true(has_line(out, "log_group = adm"));
	assert_true(has_line(out, "name_format = hostname"));
	assert_true(has_line(out, "name = h1"));
	assert_true(has_line(out, "space_left = 75M"));
	assert_true(has_line(out, "space_left_action = syslog"));
	assert_true(has_line(out, "admin_space_left = 10%"));
	assert_true(has_line(out, "admin_space_left_action = exec /usr/local/sbin/full"));
	assert_true(has_line(out, "disk_full_action = rotate"));
	assert_true(has_line(out, "disk_error_action = ignore"));
	/* auditd's queue to its plugins has no counterpart: nothing is set. */
	assert_null(strstr(out, "ring_size"));
	assert_null(strstr(out, "# NOT HONOURED "));
	free(out);
}

static void
test_keep_logs_and_small_values(void **state)
{
	char err[256], *out;
	int rc;

	(void)state;
	out = translate("max_log_file_action = KEEP_LOGS\nnum_logs = 9\nq_depth = 10\n"
	    "freq = 0\nlog_group = root\n", &rc, err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_true(has_line(out, "num_segments = 0"));
	assert_null(strstr(out, "ring_size"));
	assert_true(has_line(out, "freq = 1"));
	assert_true(has_line(out, "log_group = "));
	free(out);
}

/* auditd's plugins run under rauditd-dispatch from the same plugins.d. */
static void
test_plugin_keys(void **state)
{
	char err[256], *out, *p;
	int rc;

	(void)state;
	out = translate("plugin_dir = /etc/audit/plugins.d\nmax_restarts = 7\n"
	    "q_depth = 2000\noverflow_action = SYSLOG\ndispatcher = /sbin/audispd\n",
	    &rc, err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_true(has_line(out, "plugin_dir = /etc/audit/plugins.d"));
	assert_true(has_line(out, "max_restarts = 7"));
	/* Only the dispatcher key is not honoured. */
	p = strstr(out, "# NOT HONOURED ");
	assert_non_null(p);
	assert_non_null(strstr(p, ": dispatcher = /sbin/audispd: "));
	assert_null(strstr(p + 1, "# NOT HONOURED "));
	free(out);
}

static void
test_not_honoured(void **state)
{
	static const char *const keys[] = {
		"local_events", "write_logs", "tcp_listen_queue", "krb5_principal",
		"transport", "use_libwrap", "verify_email", "action_mail_acct",
		"end_of_event_timeout",
		"admin_space_left_action", "disk_full_action", "disk_error_action",
		"space_left_action", "max_log_file_action",
		"distribute_network", "some_future_key",
	};
	char err[256], *out, want[96];
	int rc;

	(void)state;
	out = translate("local_events = no\nwrite_logs = no\ntcp_listen_queue = 5\n"
	    "krb5_principal = auditd\ntransport = TCP\nuse_libwrap = yes\n"
	    "verify_email = yes\naction_mail_acct = root\n"
	    "max_restarts = 10\nend_of_event_timeout = 2\n"
	    "admin_space_left_action = SUSPEND\ndisk_full_action = HALT\n"
	    "disk_error_action = SINGLE\nspace_left_action = EMAIL\n"
	    "overflow_action = SUSPEND\nmax_log_file_action = SUSPEND\n"
	    "distribute_network = no\nsome_future_key = 1\n", &rc, err, sizeof(err));
	assert_int_equal(rc, 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(want, sizeof(want), "# NOT HONOURED %s:", path);
		assert_non_null(strstr(out, want));
		snprintf(want, sizeof(want), ": %s = ", keys[i]);
		assert_non_null(strstr(out, want));
	}
	/* Actions rauditd cannot take fall back to syslog, never nothing. */
	assert_true(has_line(out, "disk_full_action = syslog"));
	assert_true(has_line(out, "admin_space_left_action = syslog"));
	assert_true(has_line(out, "num_segments = 0"));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_errors_name_line),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_mapped_keys),
		cmocka_unit_test(test_keep_logs_and_small_values),
		cmocka_unit_test(test_plugin_keys),
		cmocka_unit_test(test_not_honoured),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
