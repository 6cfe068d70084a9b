/*
 * test_config.c - unit tests of the rauditd.conf parser (config.c): the
 * built-in defaults, every value type (paths, sizes with K/M/G, unsigned
 * and signed numbers, yes/no, enums, "keep" for kernel settings, names) and
 * their ranges, each kind of bad input with its negative errno and the
 * exact "file:line: message", comments and blank lines, the printer's
 * output parsing back to the same configuration, config_diff with the
 * reloadable flag of every key, config_apply_reloadable, and config_load
 * on real files, a missing file, a directory and a file with a NUL byte.
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

#include "config.h"

#define KiB	(1024ULL)
#define MiB	(1024ULL * 1024)
#define GiB	(1024ULL * 1024 * 1024)

/* Parse text over the defaults; the error text goes to err. */
static int
parse(struct config *c, const char *text, char *err, size_t errlen)
{
	config_defaults(c);
	err[0] = '\0';
	return config_parse_buffer(c, "t.conf", text, err, errlen);
}

/* Parse text that must be accepted. */
static void
parse_ok(struct config *c, const char *text)
{
	char err[CONFIG_ERR_MAX];
	int rc = parse(c, text, err, sizeof(err));

	if (rc != 0)
		fail_msg("rejected \"%s\": %d %s", text, rc, err);
	assert_string_equal(err, "");
}

/* Parse text that must be rejected with rc and exactly the message want. */
static void
parse_bad(const char *text, int want_rc, const char *want)
{
	struct config c;
	char err[CONFIG_ERR_MAX];
	int rc = parse(&c, text, err, sizeof(err));

	if (rc != want_rc)
		fail_msg("\"%s\": rc %d, want %d (%s)", text, rc, want_rc, err);
	assert_string_equal(err, want);
}

/* ---- auditd.conf's disk policy and node name (issue 12) ----------------- */

static void
test_disk_policy_keys(void **state)
{
	struct config c;

	(void)state;
	/* auditd's syntax: MiB without a unit, N%, "exec /path" with blanks. */
	parse_ok(&c, "space_left = 75\nadmin_space_left = 1%\n"
	    "space_left_action = exec \t /usr/local/sbin/low.sh\n");
	assert_string_equal(c.space_left, "75M");
	assert_string_equal(c.admin_space_left, "1%");
	assert_string_equal(c.space_left_action, "exec /usr/local/sbin/low.sh");
	/* auditd's actions rauditd does not take are refused, with the reason. */
	parse_bad("space_left_action = suspend\n", -EINVAL,
	    "t.conf:1: space_left_action: \"suspend\" is not supported: rauditd never stops "
	    "writing (that loses records); use syslog or exec");
	parse_bad("disk_full_action = halt\n", -EINVAL,
	    "t.conf:1: disk_full_action: \"halt\" is not supported: rauditd does not change "
	    "the system's state itself; exec a script that runs \"systemctl rescue\" or "
	    "\"systemctl halt\"");
	parse_bad("admin_space_left_action = single\n", -EINVAL,
	    "t.conf:1: admin_space_left_action: \"single\" is not supported: rauditd does not "
	    "change the system's state itself; exec a script that runs \"systemctl rescue\" "
	    "or \"systemctl halt\"");
	parse_bad("space_left_action = email\n", -EINVAL,
	    "t.conf:1: space_left_action: \"email\" is not supported: rauditd sends no mail; "
	    "use syslog, or exec a script that mails");
	parse_bad("disk_error_action = rotate\n", -EINVAL,
	    "t.conf:1: disk_error_action: \"rotate\" is not supported: rotate frees no space "
	    "here; use ignore, syslog or exec");
	parse_bad("loss_action = SYSLOG\n", -EINVAL,
	    "t.conf:1: loss_action: must be ignore, syslog, or exec /path; got \"SYSLOG\"");
	parse_bad("loss_action = exec loss.sh\n", -EINVAL,
	    "t.conf:1: loss_action: exec needs one absolute path to a script (no arguments: "
	    "it gets the reason), got \"loss.sh\"");
	parse_bad("loss_action = exec /a.sh now\n", -EINVAL,
	    "t.conf:1: loss_action: exec needs one absolute path to a script (no arguments: "
	    "it gets the reason), got \"/a.sh now\"");
	parse_bad("space_left = 100%\n", -EINVAL,
	    "t.conf:1: space_left: \"100%\": a percentage is 1% to 99%");
	parse_bad("space_left = 7T\n", -EINVAL,
	    "t.conf:1: space_left: \"7T\" is not a size (megabytes, a number with K, M or G, "
	    "or a percentage N%)");
	parse_bad("space_left = 10M\nadmin_space_left = 20M\n", -EINVAL,
	    "t.conf:2: admin_space_left must be at most space_left");
	/* Different units cannot be compared before the file system is known. */
	parse_ok(&c, "space_left = 10M\nadmin_space_left = 20%\n");
	parse_bad("name_format = user\n", -EINVAL, "t.conf:1: name_format = user needs a name");
	parse_bad("name = a\001b\n", -EINVAL,
	    "t.conf:1: name: \"a\001b\" has a byte that is not printable or is '#'");
	parse_bad("name = a b\n", -EINVAL, "t.conf:1: name: trailing junk in \"a b\"");
}

/* ---- defaults ---------------------------------------------------------- */

static void
test_defaults(void **state)
{
	struct config c, e;

	(void)state;
	config_defaults(&c);
#ifdef RAUDITD_SPOOL_DIR
	assert_string_equal(c.spool_dir, RAUDITD_SPOOL_DIR);
#endif
#ifdef RAUDITD_RUN_DIR
	assert_string_equal(c.run_dir, RAUDITD_RUN_DIR);
#endif
	assert_true(c.spool_dir[0] == '/');
	assert_true(c.run_dir[0] == '/');
	assert_int_equal(c.segment_size, 64 * MiB);
	assert_int_equal(c.num_segments, 16);
	assert_int_equal(c.max_spool_size, 0);
	assert_int_equal(c.ring_size, 64 * MiB);
	assert_int_equal(c.rcvbuf, 0);
	assert_int_equal(c.ring_full_action, CONFIG_RING_FULL_WAIT);
	assert_int_equal(c.flush, CONFIG_FLUSH_INCREMENTAL);
	assert_int_equal(c.freq, 1000);
	assert_int_equal(c.batch_size, 256 * KiB);
	assert_int_equal(c.enable, CONFIG_ENABLE_YES);
	assert_string_equal(c.rules, CONFIG_RULES_AUGENRULES);
	assert_true(c.exclude_self);
	assert_int_equal(c.log_format, CONFIG_FORMAT_RAW);
	assert_int_equal(c.drain_timeout, 10);
	assert_int_equal(c.backlog_limit, CONFIG_KERNEL_KEEP);
	assert_int_equal(c.backlog_wait_time, CONFIG_KERNEL_KEEP);
	assert_int_equal(c.rate_limit, CONFIG_KERNEL_KEEP);
	assert_int_equal(c.failure, CONFIG_KERNEL_KEEP);
	assert_true(c.restore_kernel);
	assert_int_equal(c.monitor_interval_ms, 1000);
	assert_int_equal(c.priority_boost, 4);
	assert_false(c.lock_ring);
	assert_int_equal(c.retry_interval_ms, 1000);
	assert_int_equal(c.flush_interval_ms, 1000);
	assert_string_equal(c.control_group, "");
	assert_int_equal(c.stats_interval, 5);
	assert_string_equal(c.metrics_file, "");
	assert_string_equal(c.seal_key, "");

	/* An empty file and a file of comments change nothing. */
	parse_ok(&e, "");
	assert_int_equal(config_diff(&c, &e, NULL, NULL), 0);
	parse_ok(&e, "# nothing\n\n   \n\t# indented\n");
	assert_int_equal(config_diff(&c, &e, NULL, NULL), 0);
}

/* ---- value types ------------------------------------------------------- */

static void
test_sizes(void **state)
{
	struct config c;

	(void)state;
	parse_ok(&c, "segment_size = 65536\n");
	assert_int_equal(c.segment_size, 64 * KiB);
	parse_ok(&c, "segment_size = 128K\n");
	assert_int_equal(c.segment_size, 128 * KiB);
	parse_ok(&c, "segment_size = 128k\n");
	assert_int_equal(c.segment_size, 128 * KiB);
	parse_ok(&c, "segment_size = 3M\n");
	assert_int_equal(c.segment_size, 3 * MiB);
	parse_ok(&c, "segment_size = 2g\n");
	assert_int_equal(c.segment_size, 2 * GiB);
	parse_ok(&c, "segment_size = 64G\n");
	assert_int_equal(c.segment_size, 64 * GiB);
	parse_ok(&c, "segment_size = 1000001\n");
	assert_int_equal(c.segment_size, 1000001);
	parse_ok(&c, "ring_size = 16G\n");
	assert_int_equal(c.ring_size, 16 * GiB);
	parse_ok(&c, "ring_size = 1M\nbatch_size = 16K\n");
	assert_int_equal(c.ring_size, 1 * MiB);
	assert_int_equal(c.batch_size, 16 * KiB);
	parse_ok(&c, "batch_size = 64M\nring_size = 256M\n");
	assert_int_equal(c.batch_size, 64 * MiB);
	parse_ok(&c, "rcvbuf = 2147483647\n");
	assert_int_equal(c.rcvbuf, 2 * GiB - 1);
	parse_ok(&c, "max_spool_size = 0\n");
	assert_int_equal(c.max_spool_size, 0);
	parse_ok(&c, "max_spool_size = 1024G\nsegment_size = 1G\n");
	assert_int_equal(c.max_spool_size, 1024 * GiB);

	parse_bad("segment_size = 1K\n", -ERANGE,
	    "t.conf:1: segment_size: 1K is out of range 65536..68719476736 bytes");
	parse_bad("segment_size = 65G\n", -ERANGE,
	    "t.conf:1: segment_size: 65G is out of range 65536..68719476736 bytes");
	parse_bad("segment_size = 0\n", -ERANGE,
	    "t.conf:1: segment_size: must not be 0");
	parse_bad("segment_size = 0K\n", -ERANGE,
	    "t.conf:1: segment_size: must not be 0");
	parse_bad("rcvbuf = 2G\n", -ERANGE,
	    "t.conf:1: rcvbuf: 2G is out of range 65536..2147483647 bytes");
	parse_bad("segment_size = 1T\n", -EINVAL,
	    "t.conf:1: segment_size: \"1T\" is not a size (a number with optional K, M or G)");
	parse_bad("segment_size = 64MB\n", -EINVAL,
	    "t.conf:1: segment_size: \"64MB\" is not a size (a number with optional K, M or G)");
	parse_bad("segment_size = M\n", -EINVAL,
	    "t.conf:1: segment_size: \"M\" is not a size (a number with optional K, M or G)");
	parse_bad("segment_size = -64M\n", -EINVAL,
	    "t.conf:1: segment_size: \"-64M\" is not a size (a number with optional K, M or G)");
	parse_bad("segment_size = 1.5M\n", -EINVAL,
	    "t.conf:1: segment_size: \"1.5M\" is not a size (a number with optional K, M or G)");
	parse_bad("segment_size = 0x10000\n", -EINVAL,
	    "t.conf:1: segment_size: \"0x10000\" is not a size (a number with optional K, M or G)");
	/* Overflow of the number itself, and of the number times its suffix. */
	parse_bad("segment_size = 99999999999999999999\n", -ERANGE,
	    "t.conf:1: segment_size: 99999999999999999999 is too large");
	parse_bad("max_spool_size = 17179869184G\n", -ERANGE,
	    "t.conf:1: max_spool_size: 17179869184G is too large");
}

static void
test_ring_size_pow2(void **state)
{
	struct config c;

	(void)state;
	parse_ok(&c, "ring_size = 65536\nbatch_size = 16K\n");
	assert_int_equal(c.ring_size, 64 * KiB);
	parse_ok(&c, "ring_size = 128M\n");
	assert_int_equal(c.ring_size, 128 * MiB);
	parse_bad("ring_size = 96M\n", -EINVAL,
	    "t.conf:1: ring_size: 96M is not a power of two");
	parse_bad("ring_size = 65537\n", -EINVAL,
	    "t.conf:1: ring_size: 65537 is not a power of two");
	parse_bad("ring_size = 32K\n", -ERANGE,
	    "t.conf:1: ring_size: 32K is out of range 65536..17179869184 bytes");
	parse_bad("ring_size = 32G\n", -ERANGE,
	    "t.conf:1: ring_size: 32G is out of range 65536..17179869184 bytes");
	/* Only ring_size has to be a power of two. */
	parse_ok(&c, "segment_size = 96M\n");
	assert_int_equal(c.segment_size, 96 * MiB);
}

static void
test_bools(void **state)
{
	struct config c;

	(void)state;
	parse_ok(&c, "exclude_self = no\nrestore_kernel = no\nlock_ring = yes\n");
	assert_false(c.exclude_self);
	assert_false(c.restore_kernel);
	assert_true(c.lock_ring);
	parse_ok(&c, "exclude_self = yes\nrestore_kernel = yes\nlock_ring = no\n");
	assert_true(c.exclude_self);
	assert_true(c.restore_kernel);
	assert_false(c.lock_ring);
	parse_bad("lock_ring = true\n", -EINVAL,
	    "t.conf:1: lock_ring must be yes or no, got \"true\"");
	parse_bad("lock_ring = 1\n", -EINVAL,
	    "t.conf:1: lock_ring must be yes or no, got \"1\"");
	parse_bad("exclude_self = Yes\n", -EINVAL,
	    "t.conf:1: exclude_self must be yes or no, got \"Yes\"");
}

static void
test_enums(void **state)
{
	struct config c;

	(void)state;
	parse_ok(&c, "flush = none\n");
	assert_int_equal(c.flush, CONFIG_FLUSH_NONE);
	parse_ok(&c, "flush = incremental\n");
	assert_int_equal(c.flush, CONFIG_FLUSH_INCREMENTAL);
	parse_ok(&c, "flush = data\n");
	assert_int_equal(c.flush, CONFIG_FLUSH_DATA);
	parse_ok(&c, "flush = sync\n");
	assert_int_equal(c.flush, CONFIG_FLUSH_SYNC);
	parse_ok(&c, "enable = yes\n");
	assert_int_equal(c.enable, CONFIG_ENABLE_YES);
	parse_ok(&c, "enable = keep\n");
	assert_int_equal(c.enable, CONFIG_ENABLE_KEEP);
	parse_ok(&c, "rules = none\n");
	assert_string_equal(c.rules, CONFIG_RULES_NONE);
	parse_ok(&c, "rules = /srv/test.rules\n");
	assert_string_equal(c.rules, "/srv/test.rules");
	parse_bad("rules = test.rules\n", -EINVAL,
	    "t.conf:1: rules must be augenrules, none or an absolute path, got \"test.rules\"");
	parse_ok(&c, "log_format = enriched\n");
	assert_int_equal(c.log_format, CONFIG_FORMAT_ENRICHED);
	parse_ok(&c, "log_format = raw\n");
	assert_int_equal(c.log_format, CONFIG_FORMAT_RAW);

	parse_bad("flush = always\n", -EINVAL,
	    "t.conf:1: flush must be one of none, incremental, data, sync; got \"always\"");
	parse_bad("flush = SYNC\n", -EINVAL,
	    "t.conf:1: flush must be one of none, incremental, data, sync; got \"SYNC\"");
	parse_bad("enable = no\n", -EINVAL,
	    "t.conf:1: enable must be one of keep, yes; got \"no\"");
	parse_bad("log_format = json\n", -EINVAL,
	    "t.conf:1: log_format must be one of raw, enriched; got \"json\"");
}

static void
test_kernel_values(void **state)
{
	struct config c;

	(void)state;
	parse_ok(&c, "backlog_limit = 8192\nbacklog_wait_time = 0\nrate_limit = 0\nfailure = 1\n");
	assert_int_equal(c.backlog_limit, 8192);
	assert_int_equal(c.backlog_wait_time, 0);
	assert_int_equal(c.rate_limit, 0);
	assert_int_equal(c.failure, 1);
	parse_ok(&c, "backlog_limit = keep\nbacklog_wait_time = keep\nrate_limit = keep\nfailure = keep\n");
	assert_int_equal(c.backlog_limit, CONFIG_KERNEL_KEEP);
	assert_int_equal(c.backlog_wait_time, CONFIG_KERNEL_KEEP);
	assert_int_equal(c.rate_limit, CONFIG_KERNEL_KEEP);
	assert_int_equal(c.failure, CONFIG_KERNEL_KEEP);
	parse_ok(&c, "backlog_wait_time = 600000\nfailure = 0\nbacklog_limit = 4294967294\n");
	assert_int_equal(c.backlog_wait_time, 600000);
	assert_int_equal(c.failure, 0);
	assert_int_equal(c.backlog_limit, UINT32_MAX - 1);
	parse_ok(&c, "failure = 2\n");
	assert_int_equal(c.failure, 2);

	/* The largest value is reserved for "keep": it must not be typed in. */
	parse_bad("backlog_limit = 4294967295\n", -ERANGE,
	    "t.conf:1: backlog_limit: 4294967295 is out of range 0..4294967294");
	parse_bad("backlog_wait_time = 600001\n", -ERANGE,
	    "t.conf:1: backlog_wait_time: 600001 is out of range 0..600000");
	/* 0 silent, 1 printk, 2 panic: nothing else. */
	parse_bad("failure = 3\n", -ERANGE,
	    "t.conf:1: failure: 3 is out of range 0..2");
	parse_bad("rate_limit = 99999999999999999999\n", -ERANGE,
	    "t.conf:1: rate_limit: 99999999999999999999 is out of range 0..4294967294");
	parse_bad("rate_limit = Keep\n", -EINVAL,
	    "t.conf:1: rate_limit: \"Keep\" is not a number or keep");
	parse_bad("backlog_limit = keep1\n", -EINVAL,
	    "t.conf:1: backlog_limit: \"keep1\" is not a number or keep");
	parse_bad("backlog_limit = -1\n", -EINVAL,
	    "t.conf:1: backlog_limit: \"-1\" is not a number or keep");
}

static void
test_unsigned(void **state)
{
	struct config c;

	(void)state;
	parse_ok(&c, "num_segments = 0\nfreq = 1\ndrain_timeout = 0\n"
	    "monitor_interval = 100\nretry_interval = 10\nstats_interval = 1\n");
	assert_int_equal(c.num_segments, 0);
	assert_int_equal(c.freq, 1);
	assert_int_equal(c.drain_timeout, 0);
	assert_int_equal(c.monitor_interval_ms, 100);
	assert_int_equal(c.retry_interval_ms, 10);
	assert_int_equal(c.stats_interval, 1);
	parse_ok(&c, "num_segments = 1000000\nfreq = 1000000\ndrain_timeout = 3600\n"
	    "monitor_interval = 60000\nretry_interval = 60000\nstats_interval = 3600\n");
	assert_int_equal(c.num_segments, 1000000);
	assert_int_equal(c.freq, 1000000);
	assert_int_equal(c.drain_timeout, 3600);
	assert_int_equal(c.monitor_interval_ms, 60000);
	assert_int_equal(c.retry_interval_ms, 60000);
	assert_int_equal(c.stats_interval, 3600);
	parse_ok(&c, "freq = 007\n");
	assert_int_equal(c.freq, 7);

	parse_bad("num_segments = 1000001\n", -ERANGE,
	    "t.conf:1: num_segments: 1000001 is out of range 0..1000000");
	parse_bad("freq = 0\n", -ERANGE,
	    "t.conf:1: freq: 0 is out of range 1..1000000");
	parse_bad("monitor_interval = 99\n", -ERANGE,
	    "t.conf:1: monitor_interval: 99 is out of range 100..60000");
	parse_bad("stats_interval = 3601\n", -ERANGE,
	    "t.conf:1: stats_interval: 3601 is out of range 1..3600");
	/* Larger than 32 bits: must not wrap into range. */
	parse_bad("drain_timeout = 4294967306\n", -ERANGE,
	    "t.conf:1: drain_timeout: 4294967306 is out of range 0..3600");
	parse_bad("freq = -1\n", -EINVAL, "t.conf:1: freq: \"-1\" is not a number");
	parse_bad("freq = +1\n", -EINVAL, "t.conf:1: freq: \"+1\" is not a number");
	parse_bad("freq = 1k\n", -EINVAL, "t.conf:1: freq: \"1k\" is not a number");
	parse_bad("freq = ten\n", -EINVAL, "t.conf:1: freq: \"ten\" is not a number");
	parse_bad("freq = 1e3\n", -EINVAL, "t.conf:1: freq: \"1e3\" is not a number");
}

static void
test_signed(void **state)
{
	struct config c;

	(void)state;
	parse_ok(&c, "priority_boost = 0\n");
	assert_int_equal(c.priority_boost, 0);
	parse_ok(&c, "priority_boost = 20\n");
	assert_int_equal(c.priority_boost, 20);
	parse_ok(&c, "priority_boost = -0\n");
	assert_int_equal(c.priority_boost, 0);
	parse_bad("priority_boost = -1\n", -ERANGE,
	    "t.conf:1: priority_boost: -1 is out of range 0..20");
	parse_bad("priority_boost = 21\n", -ERANGE,
	    "t.conf:1: priority_boost: 21 is out of range 0..20");
	parse_bad("priority_boost = 4294967296\n", -ERANGE,
	    "t.conf:1: priority_boost: 4294967296 is out of range 0..20");
	parse_bad("priority_boost = -\n", -EINVAL,
	    "t.conf:1: priority_boost: \"-\" is not a number");
	parse_bad("priority_boost = 5x\n", -EINVAL,
	    "t.conf:1: priority_boost: \"5x\" is not a number");
}

static void
test_paths(void **state)
{
	struct config c;
	char text[PATH_MAX + 64];
	size_t n;

	(void)state;
	parse_ok(&c, "spool_dir = /srv/audit/spool\nrun_dir = /run/x\n");
	assert_string_equal(c.spool_dir, "/srv/audit/spool");
	assert_string_equal(c.run_dir, "/run/x");
	parse_bad("spool_dir = var/log/rauditd\n", -EINVAL,
	    "t.conf:1: spool_dir must be an absolute path, got \"var/log/rauditd\"");
	parse_bad("run_dir = ./run\n", -EINVAL,
	    "t.conf:1: run_dir must be an absolute path, got \"./run\"");
	parse_bad("run_dir = ~/run\n", -EINVAL,
	    "t.conf:1: run_dir must be an absolute path, got \"~/run\"");
	/* A path that may be empty, meaning none. */
	parse_ok(&c, "metrics_file = /var/lib/node-exporter/rauditd.prom\n");
	assert_string_equal(c.metrics_file, "/var/lib/node-exporter/rauditd.prom");
	parse_ok(&c, "metrics_file =\n");
	assert_string_equal(c.metrics_file, "");
	parse_ok(&c, "seal_key = /var/lib/rauditd/seal.key\n");
	assert_string_equal(c.seal_key, "/var/lib/rauditd/seal.key");
	parse_bad("seal_key = seal.key\n", -EINVAL,
	    "t.conf:1: seal_key must be an absolute path, got \"seal.key\"");
	parse_bad("metrics_file = rauditd.prom\n", -EINVAL,
	    "t.conf:1: metrics_file must be an absolute path, got \"rauditd.prom\"");
	/* The others may not be empty. */
	parse_bad("spool_dir =\n", -EINVAL, "t.conf:1: spool_dir: missing value");

	/* Room is kept below PATH_MAX for a segment name. */
	n = (size_t)snprintf(text, sizeof(text), "spool_dir = /");
	memset(text + n, 'a', PATH_MAX - 33 - 1);
	n += PATH_MAX - 33 - 1;
	snprintf(text + n, sizeof(text) - n, "\n");
	parse_ok(&c, text);
	assert_int_equal(strlen(c.spool_dir), PATH_MAX - 33);
	text[n] = 'a';
	snprintf(text + n + 1, sizeof(text) - n - 1, "\n");
	parse_bad(text, -ENAMETOOLONG, "t.conf:1: spool_dir: path too long");
}

static void
test_names(void **state)
{
	struct config c;
	char text[128];

	(void)state;
	parse_ok(&c, "control_group = adm\n");
	assert_string_equal(c.control_group, "adm");
	parse_ok(&c, "control_group = audit-readers_2.x\n");
	assert_string_equal(c.control_group, "audit-readers_2.x");
	/* Empty means root only: the one key whose value may be missing. */
	parse_ok(&c, "control_group =\n");
	assert_string_equal(c.control_group, "");
	parse_ok(&c, "control_group = \n");
	assert_string_equal(c.control_group, "");
	parse_bad("control_group = wh$el\n", -EINVAL,
	    "t.conf:1: control_group: invalid character in \"wh$el\"");
	parse_bad("control_group = a/b\n", -EINVAL,
	    "t.conf:1: control_group: invalid character in \"a/b\"");
	snprintf(text, sizeof(text), "control_group = %063d\n", 0);
	parse_ok(&c, text);
	assert_int_equal(strlen(c.control_group), 63);
	snprintf(text, sizeof(text), "control_group = %064d\n", 0);
	parse_bad(text, -ENAMETOOLONG, "t.conf:1: control_group: name too long");
}

/* ---- syntax ------------------------------------------------------------ */

static void
test_syntax_errors(void **state)
{
	char text[8192];

	(void)state;
	parse_bad("segment_sise = 64M\n", -EINVAL, "t.conf:1: unknown key \"segment_sise\"");
	parse_bad("Segment_Size = 64M\n", -EINVAL, "t.conf:1: unknown key \"Segment_Size\"");
	parse_bad("= 64M\n", -EINVAL, "t.conf:1: unknown key \"\"");
	parse_bad("\n# comment\nsegment_size 64M\n", -EINVAL,
	    "t.conf:3: expected \"key = value\", got \"segment_size 64M\"");
	parse_bad("flush\n", -EINVAL, "t.conf:1: expected \"key = value\", got \"flush\"");
	parse_bad("flush =\n", -EINVAL, "t.conf:1: flush: missing value");
	parse_bad("flush = \t \n", -EINVAL, "t.conf:1: flush: missing value");
	parse_bad("flush = none # comment\n", -EINVAL,
	    "t.conf:1: flush: trailing junk in \"none # comment\"");
	parse_bad("segment_size = 64 M\n", -EINVAL,
	    "t.conf:1: segment_size: trailing junk in \"64 M\"");
	parse_bad("spool_dir = /var/log/my spool\n", -EINVAL,
	    "t.conf:1: spool_dir: trailing junk in \"/var/log/my spool\"");
	parse_bad("flush = none\nfreq = 10\nflush = sync\n", -EINVAL,
	    "t.conf:3: duplicate key \"flush\"");
	/* A duplicate is an error even with the same value. */
	parse_bad("flush=none\nflush=none\n", -EINVAL, "t.conf:2: duplicate key \"flush\"");
	/* The first error wins; lines after it are not looked at. */
	parse_bad("freq = 0\nbogus = 1\n", -ERANGE,
	    "t.conf:1: freq: 0 is out of range 1..1000000");
	/* Without a final newline the last line still counts. */
	parse_bad("flush = none\nfreq = x", -EINVAL, "t.conf:2: freq: \"x\" is not a number");

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	parse_bad(text, -EINVAL, "t.conf:1: line too long");
}

static void
test_comments_and_spacing(void **state)
{
	struct config c;

	(void)state;
	parse_ok(&c,
	    "# rauditd.conf\n"
	    "\n"
	    "   # indented comment = with an equals sign\n"
	    "\t\n"
	    "flush=none\n"
	    "   freq   =   7   \n"
	    "\tsegment_size\t=\t1M\t\n"
	    "lock_ring = yes\r\n"
	    "#flush = sync\n"
	    "control_group = adm");
	assert_int_equal(c.flush, CONFIG_FLUSH_NONE);
	assert_int_equal(c.freq, 7);
	assert_int_equal(c.segment_size, 1 * MiB);
	assert_true(c.lock_ring);
	assert_string_equal(c.control_group, "adm");
}

static void
test_cross_key(void **state)
{
	struct config c;

	(void)state;
	/* The line named is that of the later of the two keys in the file. */
	parse_bad("ring_size = 512K\n", -EINVAL,
	    "t.conf:1: batch_size must be at most a quarter of ring_size");
	parse_bad("# x\nbatch_size = 1M\nfreq = 5\nring_size = 2M\n# end\n", -EINVAL,
	    "t.conf:4: batch_size must be at most a quarter of ring_size");
	parse_bad("ring_size = 2M\nbatch_size = 1M\nfreq = 5\n", -EINVAL,
	    "t.conf:2: batch_size must be at most a quarter of ring_size");
	parse_ok(&c, "ring_size = 1M\nbatch_size = 256K\n");

	parse_bad("max_spool_size = 100M\n", -EINVAL,
	    "t.conf:1: max_spool_size must be 0 or at least twice segment_size");
	parse_bad("max_spool_size = 1G\nflush = none\nsegment_size = 600M\n\n", -EINVAL,
	    "t.conf:3: max_spool_size must be 0 or at least twice segment_size");
	parse_ok(&c, "max_spool_size = 128M\n");
	assert_int_equal(c.max_spool_size, 128 * MiB);
	parse_ok(&c, "max_spool_size = 0\nsegment_size = 64G\n");

	parse_bad("flush = none\nrun_dir = /x\nspool_dir = /x\nfreq = 9\n", -EINVAL,
	    "t.conf:3: spool_dir and run_dir must differ");
}

/* ---- print, diff, reload ----------------------------------------------- */

/* config_print into a string (caller frees). */
static char *
print_to_string(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	config_print(c, fp);
	assert_int_equal(fclose(fp), 0);
	assert_non_null(buf);
	return buf;
}

/* Everything away from its default. */
static const char every_key[] =
	"spool_dir = /srv/spool\n"
	"run_dir = /srv/run\n"
	"segment_size = 1000001\n"
	"num_segments = 3\n"
	"max_spool_size = 3G\n"
	"seal_key = /srv/seal.key\n"
	"ring_size = 128M\n"
	"rcvbuf = 96K\n"
	"ring_full_action = drop\n"
	"flush = sync\n"
	"freq = 17\n"
	"batch_size = 1025K\n"
	"enable = keep\n"
	"rules = /srv/audit.rules\n"
	"exclude_self = no\n"
	"log_format = enriched\n"
	"drain_timeout = 0\n"
	"backlog_limit = 8192\n"
	"backlog_wait_time = 0\n"
	"rate_limit = 0\n"
	"failure = 0\n"
	"restore_kernel = no\n"
	"monitor_interval = 250\n"
	"priority_boost = 0\n"
	"lock_ring = yes\n"
	"retry_interval = 10\n"
	"flush_interval = 250\n"
	"control_group = adm\n"
	"log_group = adm\n"
	"stats_interval = 60\n"
	"metrics_file = /srv/metrics/rauditd.prom\n"
	"ship_target = [2001:db8::1]:2514\n"
	"ship_cursor = /srv/ship.cursor\n"
	"ship_window = 64\n"
	"ship_timeout = 5\n"
	"ship_reconnect_min = 20\n"
	"ship_reconnect_max = 2000\n"
	"ship_tls = yes\n"
	"ship_tls_ca = /srv/ca.pem\n"
	"ship_tls_cert = /srv/host.pem\n"
	"ship_tls_key = /srv/host.key\n"
	"ship_tls_peer = *.example.com\n"
	"ship_status = /srv/ship.status\n"
	"plugin_dir = /srv/plugins.d\n"
	"plugin_cursor_dir = /srv/cursors\n"
	"max_restarts = 3\n"
	"space_left = 10%\n"
	"space_left_action = exec /srv/space.sh\n"
	"admin_space_left = 5%\n"
	"admin_space_left_action = rotate\n"
	"disk_full_action = rotate\n"
	"disk_error_action = exec /srv/error.sh\n"
	"loss_action = exec /srv/loss.sh\n"
	"name_format = user\n"
	"name = web-01.example\n"
	"auditd_view = no\n";

static void
test_print_reparses(void **state)
{
	struct config a, b;
	char *out, *out2;
	char err[CONFIG_ERR_MAX];

	(void)state;
	/* Defaults. */
	config_defaults(&a);
	out = print_to_string(&a);
	config_defaults(&b);
	assert_int_equal(config_parse_buffer(&b, "printed", out, err, sizeof(err)), 0);
	assert_int_equal(config_diff(&a, &b, NULL, NULL), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	free(out);

	/* Every key changed: the printed text is the input, normalized. */
	parse_ok(&a, every_key);
	out = print_to_string(&a);
	assert_string_equal(out, every_key);
	config_defaults(&b);
	assert_int_equal(config_parse_buffer(&b, "printed", out, err, sizeof(err)), 0);
	assert_int_equal(config_diff(&a, &b, NULL, NULL), 0);
	out2 = print_to_string(&b);
	assert_string_equal(out, out2);
	free(out);
	free(out2);

	/* Sizes are printed in the largest exact unit. */
	parse_ok(&a, "segment_size = 1048576\nring_size = 1073741824\nbatch_size = 16384\n"
	    "max_spool_size = 3145728K\n");
	out = print_to_string(&a);
	assert_non_null(strstr(out, "\nsegment_size = 1M\n"));
	assert_non_null(strstr(out, "\nring_size = 1G\n"));
	assert_non_null(strstr(out, "\nbatch_size = 16K\n"));
	assert_non_null(strstr(out, "\nmax_spool_size = 3G\n"));
	free(out);
}

static void
test_print_lists_every_key(void **state)
{
	struct config c;
	char *out, *p;
	size_t n = config_key_count();

	(void)state;
	assert_true(n > 0);
	assert_null(config_key_name(n));
	config_defaults(&c);
	out = print_to_string(&c);
	/* One line per key, in table order. */
	p = out;
	for (size_t i = 0; i < n; i++) {
		const char *k = config_key_name(i);
		size_t kl;

		assert_non_null(k);
		kl = strlen(k);
		/* "key = value", or "key =" for an empty value (no trailing blank). */
		if (strncmp(p, k, kl) != 0 ||
		    (strncmp(p + kl, " = ", 3) != 0 && strncmp(p + kl, " =\n", 3) != 0))
			fail_msg("line %zu of config_print is not key %s: %.40s", i + 1, k, p);
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	assert_string_equal(p, "");
	free(out);
}

/*
 * Every key with a changed value and whether a SIGHUP may apply it. The
 * reloadable column is the contract with conf/rauditd.conf's "(reload)".
 */
static const struct {
	const char	*key;
	const char	*line;
	bool		 reloadable;
} key_changes[] = {
	{ "spool_dir",		"spool_dir = /srv/spool\n",	false },
	{ "run_dir",		"run_dir = /srv/run\n",		false },
	{ "segment_size",	"segment_size = 128M\n",	true },
	{ "num_segments",	"num_segments = 3\n",		true },
	{ "max_spool_size",	"max_spool_size = 1G\n",	true },
	{ "seal_key",		"seal_key = /tmp/seal.key\n",	false },
	{ "ring_size",		"ring_size = 128M\n",		false },
	{ "rcvbuf",		"rcvbuf = 64M\n",		false },
	{ "ring_full_action",	"ring_full_action = drop\n",	false },
	{ "flush",		"flush = none\n",		true },
	{ "freq",		"freq = 5\n",			true },
	{ "batch_size",		"batch_size = 1M\n",		false },
	{ "enable",		"enable = keep\n",		false },
	{ "rules",		"rules = none\n",		false },
	{ "exclude_self",	"exclude_self = no\n",		false },
	{ "log_format",		"log_format = enriched\n",	true },
	{ "drain_timeout",	"drain_timeout = 1\n",		true },
	{ "backlog_limit",	"backlog_limit = 100\n",	false },
	{ "backlog_wait_time",	"backlog_wait_time = 0\n",	false },
	{ "rate_limit",		"rate_limit = 0\n",		false },
	{ "failure",		"failure = 1\n",		false },
	{ "restore_kernel",	"restore_kernel = no\n",	false },
	{ "monitor_interval",	"monitor_interval = 500\n",	true },
	{ "priority_boost",	"priority_boost = 0\n",		false },
	{ "lock_ring",		"lock_ring = yes\n",		false },
	{ "retry_interval",	"retry_interval = 50\n",	true },
	{ "flush_interval",	"flush_interval = 50\n",	true },
	{ "control_group",	"control_group = adm\n",	true },
	{ "log_group",		"log_group = adm\n",		false },
	{ "stats_interval",	"stats_interval = 30\n",	true },
	{ "metrics_file",	"metrics_file = /tmp/m.prom\n",	true },
	{ "ship_target",	"ship_target = agg.example.com:2514\n", true },
	{ "ship_cursor",	"ship_cursor = /tmp/ship.cursor\n", true },
	{ "ship_window",	"ship_window = 64\n",		true },
	{ "ship_timeout",	"ship_timeout = 5\n",		true },
	{ "ship_reconnect_min",	"ship_reconnect_min = 20\n",	true },
	{ "ship_reconnect_max",	"ship_reconnect_max = 2000\n",	true },
	{ "ship_tls",		"ship_tls = yes\n",		true },
	{ "ship_tls_ca",	"ship_tls_ca = /tmp/ca.pem\n",	true },
	{ "ship_tls_cert",	"ship_tls_cert = /tmp/h.pem\n", true },
	{ "ship_tls_key",	"ship_tls_key = /tmp/h.key\n",	true },
	{ "ship_tls_peer",	"ship_tls_peer = agg\n",	true },
	{ "ship_status",	"ship_status = /tmp/ship.status\n", true },
	{ "plugin_dir",		"plugin_dir = /tmp/plugins.d\n", true },
	{ "plugin_cursor_dir",	"plugin_cursor_dir = /tmp/cursors\n", true },
	{ "max_restarts",	"max_restarts = 3\n",		true },
	{ "space_left",		"space_left = 100M\n",		true },
	{ "space_left_action",	"space_left_action = ignore\n",	true },
	{ "admin_space_left",	"admin_space_left = 40\n",	true },
	{ "admin_space_left_action", "admin_space_left_action = exec /x.sh\n", true },
	{ "disk_full_action",	"disk_full_action = rotate\n",	true },
	{ "disk_error_action",	"disk_error_action = ignore\n",	true },
	{ "loss_action",	"loss_action = exec /x.sh\n",	true },
	{ "name_format",	"name_format = hostname\n",	true },
	{ "name",		"name = n1\n",			true },
	{ "auditd_view",	"auditd_view = no\n",		false },
};

#define NCHANGES	(sizeof(key_changes) / sizeof(key_changes[0]))

struct diff_log {
	size_t		 n;
	const char	*key[64];
	bool		 reloadable[64];
};

static void
diff_cb(const char *key, bool reloadable, void *arg)
{
	struct diff_log *l = arg;

	assert_true(l->n < 64);
	l->key[l->n] = key;
	l->reloadable[l->n] = reloadable;
	l->n++;
}

static void
test_diff_each_key(void **state)
{
	struct config def, c;

	(void)state;
	/* A key added to the table must be added here too. */
	assert_int_equal(NCHANGES, config_key_count());
	config_defaults(&def);
	for (size_t i = 0; i < NCHANGES; i++) {
		struct diff_log l = { 0 };
		size_t n;

		parse_ok(&c, key_changes[i].line);
		n = config_diff(&def, &c, diff_cb, &l);
		if (n != 1 || l.n != 1)
			fail_msg("%s: %zu keys differ, want 1", key_changes[i].key, n);
		assert_string_equal(l.key[0], key_changes[i].key);
		if (l.reloadable[0] != key_changes[i].reloadable)
			fail_msg("%s: reloadable %d, want %d", key_changes[i].key,
			    l.reloadable[0], key_changes[i].reloadable);
		/* The comparison is symmetric, and a callback is optional. */
		assert_int_equal(config_diff(&c, &def, NULL, NULL), 1);
		assert_int_equal(config_diff(&c, &c, NULL, NULL), 0);
	}
}

static void
test_diff_many(void **state)
{
	struct config a, b;
	struct diff_log l = { 0 };

	(void)state;
	config_defaults(&a);
	parse_ok(&b, "ring_size = 128M\nflush = data\nspool_dir = /x\ncontrol_group = adm\n");
	assert_int_equal(config_diff(&a, &b, diff_cb, &l), 4);
	assert_int_equal(l.n, 4);
	/* Reported in table order. */
	assert_string_equal(l.key[0], "spool_dir");
	assert_false(l.reloadable[0]);
	assert_string_equal(l.key[1], "ring_size");
	assert_false(l.reloadable[1]);
	assert_string_equal(l.key[2], "flush");
	assert_true(l.reloadable[2]);
	assert_string_equal(l.key[3], "control_group");
	assert_true(l.reloadable[3]);

	/* Everything differs from the defaults. */
	parse_ok(&b, every_key);
	assert_int_equal(config_diff(&a, &b, NULL, NULL), config_key_count());
}

static void
test_apply_reloadable(void **state)
{
	struct config def, src, dst;

	(void)state;
	config_defaults(&def);
	/* One key at a time: copied exactly when it is reloadable. */
	for (size_t i = 0; i < NCHANGES; i++) {
		parse_ok(&src, key_changes[i].line);
		config_defaults(&dst);
		config_apply_reloadable(&dst, &src);
		if (key_changes[i].reloadable) {
			if (config_diff(&dst, &src, NULL, NULL) != 0)
				fail_msg("%s: reloadable but not applied", key_changes[i].key);
		} else {
			if (config_diff(&dst, &def, NULL, NULL) != 0)
				fail_msg("%s: applied but needs a restart", key_changes[i].key);
		}
	}

	/* All at once: exactly the reloadable keys change. */
	parse_ok(&src, every_key);
	config_defaults(&dst);
	config_apply_reloadable(&dst, &src);
	assert_string_equal(dst.spool_dir, def.spool_dir);
	assert_string_equal(dst.run_dir, def.run_dir);
	assert_int_equal(dst.ring_size, def.ring_size);
	assert_int_equal(dst.rcvbuf, def.rcvbuf);
	assert_int_equal(dst.batch_size, def.batch_size);
	assert_int_equal(dst.enable, def.enable);
	assert_int_equal(dst.exclude_self, def.exclude_self);
	assert_int_equal(dst.backlog_limit, def.backlog_limit);
	assert_int_equal(dst.backlog_wait_time, def.backlog_wait_time);
	assert_int_equal(dst.rate_limit, def.rate_limit);
	assert_int_equal(dst.failure, def.failure);
	assert_int_equal(dst.restore_kernel, def.restore_kernel);
	assert_int_equal(dst.priority_boost, def.priority_boost);
	assert_int_equal(dst.lock_ring, def.lock_ring);
	assert_int_equal(dst.segment_size, src.segment_size);
	assert_int_equal(dst.num_segments, src.num_segments);
	assert_int_equal(dst.max_spool_size, src.max_spool_size);
	assert_int_equal(dst.flush, src.flush);
	assert_int_equal(dst.freq, src.freq);
	assert_int_equal(dst.log_format, src.log_format);
	assert_int_equal(dst.drain_timeout, src.drain_timeout);
	assert_int_equal(dst.monitor_interval_ms, src.monitor_interval_ms);
	assert_int_equal(dst.retry_interval_ms, src.retry_interval_ms);
	assert_string_equal(dst.control_group, src.control_group);
	assert_int_equal(dst.stats_interval, src.stats_interval);
	assert_string_equal(dst.metrics_file, src.metrics_file);
}

/* ---- config_load ------------------------------------------------------- */

struct tmp {
	char	dir[64];
	char	path[128];
};

static int
tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_config.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s/rauditd.conf", t->dir);
	*state = t;
	return 0;
}

static int
tmp_teardown(void **state)
{
	struct tmp *t = *state;

	unlink(t->path);
	rmdir(t->dir);
	free(t);
	return 0;
}

static void
write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void
test_load_file(void **state)
{
	struct tmp *t = *state;
	struct config c;
	char err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX + 128];
	static const char text[] = "# test\nflush = data\nfreq = 3\n";

	write_file(t->path, text, sizeof(text) - 1);
	config_defaults(&c);
	assert_int_equal(config_load(&c, t->path, err, sizeof(err)), 0);
	assert_int_equal(c.flush, CONFIG_FLUSH_DATA);
	assert_int_equal(c.freq, 3);

	/* Errors name the path as given. */
	write_file(t->path, "freq = 3\nflush = fast\n", 22);
	config_defaults(&c);
	assert_int_equal(config_load(&c, t->path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
	    "%s:2: flush must be one of none, incremental, data, sync; got \"fast\"", t->path);
	assert_string_equal(err, want);

	/* An empty file is the defaults. */
	write_file(t->path, "", 0);
	config_defaults(&c);
	assert_int_equal(config_load(&c, t->path, err, sizeof(err)), 0);
}

static void
test_load_missing(void **state)
{
	struct tmp *t = *state;
	struct config c;
	char err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX + 128];

	config_defaults(&c);
	assert_int_equal(config_load(&c, t->path, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", t->path);
	assert_string_equal(err, want);
}

static void
test_load_directory(void **state)
{
	struct tmp *t = *state;
	struct config c;
	char err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX + 128];

	config_defaults(&c);
	assert_int_equal(config_load(&c, t->dir, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: not a regular file", t->dir);
	assert_string_equal(err, want);
}

static void
test_load_nul_byte(void **state)
{
	struct tmp *t = *state;
	struct config c;
	char err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX + 128];
	static const char text[] = "flush = data\n# ok\nfreq = 3\0\nlock_ring = yes\n";

	write_file(t->path, text, sizeof(text) - 1);
	config_defaults(&c);
	assert_int_equal(config_load(&c, t->path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: NUL byte in line", t->path);
	assert_string_equal(err, want);

	write_file(t->path, "\0", 1);
	config_defaults(&c);
	assert_int_equal(config_load(&c, t->path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:1: NUL byte in line", t->path);
	assert_string_equal(err, want);
}

static void
test_load_too_large(void **state)
{
	struct tmp *t = *state;
	struct config c;
	char err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX + 128];
	size_t len = 1024 * 1024 + 1;
	char *big = malloc(len);

	assert_non_null(big);
	memset(big, '\n', len);
	write_file(t->path, big, len);
	free(big);
	config_defaults(&c);
	assert_int_equal(config_load(&c, t->path, err, sizeof(err)), -EFBIG);
	snprintf(want, sizeof(want), "%s: larger than 1048576 bytes", t->path);
	assert_string_equal(err, want);
}

/* A short error buffer truncates and never overflows. */
static void
test_short_error_buffer(void **state)
{
	struct config c;
	char err[16];

	(void)state;
	memset(err, 'z', sizeof(err));
	config_defaults(&c);
	assert_int_equal(config_parse_buffer(&c, "t.conf", "bogus = 1\n", err, 12), -EINVAL);
	assert_string_equal(err, "t.conf:1: u");
	assert_int_equal(err[12], 'z');
	config_defaults(&c);
	assert_int_equal(config_parse_buffer(&c, "t.conf", "bogus = 1\n", NULL, 0), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_ring_size_pow2),
		cmocka_unit_test(test_bools),
		cmocka_unit_test(test_enums),
		cmocka_unit_test(test_kernel_values),
		cmocka_unit_test(test_unsigned),
		cmocka_unit_test(test_signed),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_comments_and_spacing),
		cmocka_unit_test(test_cross_key),
		cmocka_unit_test(test_disk_policy_keys),
		cmocka_unit_test(test_print_reparses),
		cmocka_unit_test(test_print_lists_every_key),
		cmocka_unit_test(test_diff_each_key),
		cmocka_unit_test(test_diff_many),
		cmocka_unit_test(test_apply_reloadable),
		cmocka_unit_test_setup_teardown(test_load_file, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_load_missing, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_load_directory, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_load_nul_byte, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_load_too_large, tmp_setup, tmp_teardown),
		cmocka_unit_test(test_short_error_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
