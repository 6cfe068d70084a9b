/*
 * test_report.c - unit tests of the side-file writer (sidefile.c) and of
 * the escaping of text that reaches the status reply and the metrics file:
 * a link, hard link or FIFO planted at a temporary name the old code
 * predicted (path.tmp.PID for the state and metrics files, path.tmp for
 * cursors and the shipper's and dispatcher's status) is neither followed
 * nor truncated nor blocks the write. sidefile_read refuses a link and a
 * FIFO (without blocking) and is bounded. The status and the Prometheus
 * text carry which buffer is full, the data at risk, the disk policy and
 * the consumers of rauditd-dispatch's status file, whose text is hostile:
 * names and states are escaped, lines that do not parse are ignored.
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
#include "mono.h"
#include "report.h"
#include "ring.h"
#include "sidefile.h"
#include "spool.h"
#include "stats.h"
#include "writer.h"

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


static void
test_read_side_file(void **state)
{
	char path[PATH_MAX + 16], link_path[PATH_MAX + 16], fifo[PATH_MAX + 16], *text;

	(void)state;
	snprintf(path, sizeof(path), "%s/ship.status", dir);
	put_file(path, "ship_a 1\nship_b 22\n");
	assert_int_equal(sidefile_read(path, 1024, &text), 19);
	assert_string_equal(text, "ship_a 1\nship_b 22\n");
	free(text);
	/* Bounded: more than max is cut, still NUL-terminated. */
	assert_int_equal(sidefile_read(path, 5, &text), 5);
	assert_string_equal(text, "ship_");
	free(text);
	snprintf(link_path, sizeof(link_path), "%s/dispatch.status", dir);
	assert_int_equal(symlink(path, link_path), 0);
	assert_int_equal(sidefile_read(link_path, 1024, &text), -ELOOP);
	assert_null(text);
	snprintf(fifo, sizeof(fifo), "%s/fifo.status", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(5);		/* a blocking open would hang here */
	assert_int_equal(sidefile_read(fifo, 1024, &text), -EINVAL);
	alarm(0);
	assert_null(text);
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(sidefile_read(path, 1024, &text), -ENOENT);
}

/* A dispatch.status written by someone who wants to break the readers. */
static const char hostile_status[] =
	"dispatch_updated 1000\n"
	"consumer laurel kind plugin\n"
	"consumer laurel state running\n"
	"consumer laurel pid 4321\n"
	"consumer laurel restarts 2\n"
	"consumer laurel lag_records 17\n"
	"consumer laurel lag_bytes 2048\n"
	"consumer laurel lag_seconds 3\n"
	"consumer laurel lag_records -5\n"		/* not a count: ignored */
	"consumer laurel lag_bytes 12x\n"		/* nor this */
	"consumer laurel colour red\n"		/* unknown field: ignored */
	"consumer a \"b\\\x1b kind plugin\n"	/* blank, quote, backslash, ESC */
	"consumer a \"b\\\x1b state r\"un\\ning\n"
	"consumer nofield\n"
	"consumer " "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	" kind plugin\n";				/* too long a name: refused */

static void
test_consumers(void **state)
{
	struct report_consumers *rc = malloc(sizeof(*rc));
	char text[sizeof(hostile_status)], out[4096], esc[64];
	size_t n;

	(void)state;
	assert_non_null(rc);
	memcpy(text, hostile_status, sizeof(text));
	report_consumers_parse(rc, text, 1042);
	assert_int_equal(rc->age_s, 42);
	assert_int_equal(rc->n, 2);
	assert_int_equal(rc->refused, 1);
	assert_string_equal(rc->c[0].name, "laurel");
	assert_string_equal(rc->c[0].state, "running");
	assert_int_equal(rc->c[0].pid, 4321);
	assert_int_equal(rc->c[0].lag_records, 17);
	assert_int_equal(rc->c[0].lag_bytes, 2048);
	assert_string_equal(rc->c[1].name, "a \"b\\\x1b");
	n = report_consumers_status(rc, out, sizeof(out));
	assert_int_equal(n, strlen(out));
	assert_non_null(strstr(out, "dispatch_status_age_s 42\ndispatch_consumers 2\n"
	    "dispatch_consumers_refused 1\n"));
	assert_non_null(strstr(out, "consumer laurel kind plugin\nconsumer laurel state running\n"
	    "consumer laurel pid 4321\nconsumer laurel restarts 2\n"
	    "consumer laurel lag_records 17\nconsumer laurel lag_bytes 2048\n"
	    "consumer laurel lag_seconds 3\n"));
	assert_non_null(strstr(out, "consumer a\\x20\\x22b\\x5c\\x1b state "
	    "r\\x22un\\x5cning\n"));
	/* Every line is "consumer NAME FIELD VALUE" or "name value". */
	for (char *l = out, *e; *l; l = e + 1) {
		int words = 1;

		assert_non_null(e = strchr(l, '\n'));
		for (char *p = l; p < e; p++) {
			assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
			words += *p == ' ';
		}
		assert_int_equal(words, strncmp(l, "consumer ", 9) == 0 ? 4 : 2);
	}
	report_escape_name("ok-1_2.x", esc, sizeof(esc));
	assert_string_equal(esc, "ok-1_2.x");
	report_escape_name("\xc3\xa9\n", esc, sizeof(esc));
	assert_string_equal(esc, "\\xc3\\xa9\\x0a");
	free(rc);
}

static void
test_consumers_max(void **state)
{
	struct report_consumers *rc = malloc(sizeof(*rc));
	char *text = malloc(REPORT_CONSUMERS_MAX * 64 + 4096);
	size_t len = 0;

	(void)state;
	assert_non_null(rc);
	assert_non_null(text);
	for (int i = 0; i < REPORT_CONSUMERS_MAX + 3; i++)
		len += (size_t)sprintf(text + len, "consumer c%d kind plugin\nconsumer c%d pid %d\n",
		    i, i, i + 1);
	report_consumers_parse(rc, text, 0);
	assert_int_equal(rc->n, REPORT_CONSUMERS_MAX);
	assert_int_equal(rc->refused, 3);
	assert_int_equal(rc->c[REPORT_CONSUMERS_MAX - 1].pid, REPORT_CONSUMERS_MAX);
	free(text);
	free(rc);
}

/* Everything a report needs, with a writer that is never started. */
struct rfx {
	struct config		cfg;
	struct rx_stats		rx;
	struct writer_stats	ws;
	struct ring		*ring;
	struct writer		*w;
	struct writer_settings	wset;
	struct report_src	src;
};

static void
rfx_open(struct rfx *f)
{
	struct spool *sp;
	struct spool_recovery rec;
	const char *what;

	memset(f, 0, sizeof(*f));
	config_defaults(&f->cfg);
	snprintf(f->cfg.spool_dir, sizeof(f->cfg.spool_dir), "%s", dir);
	writer_settings_from_config(&f->wset, &f->cfg);
	assert_int_equal(spool_open(&sp, dir, &rec, &what), 0);
	assert_non_null(f->ring = ring_new(64 * 1024, false));
	assert_non_null(f->w = writer_new(f->ring, sp, &f->wset, &f->ws, NULL, NULL));
	f->src.cfg = &f->cfg;
	f->src.rx = &f->rx;
	f->src.ws = &f->ws;
	f->src.writer = f->w;
	f->src.ring = f->ring;
	f->src.state = "running";
}

static void
rfx_close(struct rfx *f)
{
	writer_free(f->w);
	ring_free(f->ring);
}

/* The value of status line name, or -1. */
static long long
status_value(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, name, n) == 0 && l[n] == ' ')
			return strtoll(l + n + 1, NULL, 10);
	return -1;
}

static void
test_status_new_values(void **state)
{
	struct rfx *f = calloc(1, sizeof(*f));
	struct report_consumers *rc = calloc(1, sizeof(*rc));
	char *buf = malloc(65536), text[sizeof(hostile_status)];
	uint64_t now = mono_ns();

	(void)state;
	assert_non_null(f);
	assert_non_null(rc);
	assert_non_null(buf);
	rfx_open(f);
	/* The receiver has waited 2.5 s for ring room, after 3 waits of 7 ms. */
	stat_set(&f->rx.ring_full_since_ns, now - 2500000000ULL);
	stat_set(&f->rx.ring_full_waits, 3);
	stat_set(&f->rx.ring_full_wait_ns, 7000000);
	/* 12 records of 3000 bytes unsynced, the oldest 1.5 s ago, a sync running. */
	stat_set(&f->ws.unsynced_records, 12);
	stat_set(&f->ws.unsynced_bytes, 3000);
	stat_set(&f->ws.unsynced_oldest_ns, now - 1500000000ULL);
	stat_set(&f->ws.sync_in_flight, 1);
	stat_set(&f->ws.syncs_deferred, 4);
	stat_set(&f->ws.sync_rewrites, 5);
	stat_set(&f->ws.sync_failed_records, 6);
	stat_set(&f->ws.dp_fired[DISKPOLICY_SPACE_LEFT], 2);
	stat_set(&f->ws.dp_active[DISKPOLICY_SPACE_LEFT], 1);
	stat_set(&f->ws.dp_fired[DISKPOLICY_LOSS], 9);
	stat_set(&f->ws.dp_exec_started, 8);
	f->cfg.ring_full_action = CONFIG_RING_FULL_DROP;
	memcpy(text, hostile_status, sizeof(text));
	report_consumers_parse(rc, text, 1042);
	f->src.consumers = rc;

	report_status(&f->src, buf, 65536);
	assert_non_null(strstr(buf, "\nring_full_action drop\n"));
	assert_in_range(status_value(buf, "ring_full_ms"), 2500, 3500);
	assert_int_equal(status_value(buf, "ring_full_waits"), 3);
	assert_int_equal(status_value(buf, "ring_full_wait_us"), 7000);
	assert_int_equal(status_value(buf, "writer_unsynced_records"), 12);
	assert_int_equal(status_value(buf, "writer_unsynced_bytes"), 3000);
	assert_in_range(status_value(buf, "writer_unsynced_age_ms"), 1500, 2500);
	assert_int_equal(status_value(buf, "writer_sync_in_flight"), 1);
	assert_int_equal(status_value(buf, "writer_syncs_deferred"), 4);
	assert_int_equal(status_value(buf, "writer_sync_rewrites"), 5);
	assert_int_equal(status_value(buf, "writer_sync_failed_records"), 6);
	assert_int_equal(status_value(buf, "diskpolicy_space_left_fired"), 2);
	assert_int_equal(status_value(buf, "diskpolicy_space_left_active"), 1);
	assert_int_equal(status_value(buf, "diskpolicy_disk_full_active"), 0);
	assert_int_equal(status_value(buf, "diskpolicy_loss_fired"), 9);
	assert_int_equal(status_value(buf, "diskpolicy_loss_active"), -1);
	assert_int_equal(status_value(buf, "diskpolicy_exec_started"), 8);
	assert_int_equal(status_value(buf, "dispatch_consumers"), 2);
	assert_non_null(strstr(buf, "\nconsumer laurel lag_bytes 2048\n"));
	/* No monitor: no socket lines (they need its sample). */
	assert_int_equal(status_value(buf, "socket_valid"), -1);

	report_prometheus(&f->src, buf, 65536);
	assert_non_null(strstr(buf, "\nrauditd_ring_full_action{action=\"drop\"} 1\n"));
	assert_non_null(strstr(buf, "\n# TYPE rauditd_ring_full_waits_total counter\n"
	    "rauditd_ring_full_waits_total 3\n"));
	assert_non_null(strstr(buf, "\nrauditd_ring_full_wait_seconds_total 0.007000\n"));
	assert_non_null(strstr(buf, "\nrauditd_writer_unsynced_records 12\n"));
	assert_non_null(strstr(buf, "\nrauditd_diskpolicy_fired_total{event=\"space_left\"} 2\n"));
	assert_non_null(strstr(buf, "\nrauditd_diskpolicy_active{event=\"space_left\"} 1\n"));
	assert_null(strstr(buf, "rauditd_diskpolicy_active{event=\"loss\"}"));
	assert_non_null(strstr(buf, "\nrauditd_consumer_lag_records{consumer=\"laurel\"} 17\n"));
	assert_non_null(strstr(buf, "\nrauditd_consumer_state{consumer=\"laurel\",state=\"running\"} 1\n"));
	/* The hostile name: \xNN, each backslash doubled inside the label. */
	assert_non_null(strstr(buf, "\nrauditd_consumer_pid{consumer=\"a\\\\x20\\\\x22b\\\\x5c\\\\x1b\"} 0\n"));
	/* Its unknown state is none of the set. */
	assert_non_null(strstr(buf, "{consumer=\"a\\\\x20\\\\x22b\\\\x5c\\\\x1b\",state=\"running\"} 0\n"));
	for (const char *p = buf; *p; p++)
		assert_true(*p == '\n' || ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f));
	/* The most consumers with the longest hostile names do not fit in the
	 * textfile: it is cut after a whole line, never inside one. */
	rc->n = REPORT_CONSUMERS_MAX;
	for (size_t i = 0; i < rc->n; i++) {
		memset(rc->c[i].name, '"', REPORT_NAME_MAX - 1);
		rc->c[i].name[REPORT_NAME_MAX - 1] = '\0';
		rc->c[i].name[0] = (char)('0' + i / 10);
		rc->c[i].name[1] = (char)('0' + i % 10);
	}
	{
		size_t n = report_prometheus(&f->src, buf, 65536);

		assert_true(n > 60000 && n < 65536);
		assert_int_equal(buf[n - 1], '\n');
		assert_int_equal(strlen(buf), n);
		assert_non_null(strstr(buf, "\nrauditd_dispatch_consumers 64\n"));
		n = report_status(&f->src, buf, 4000);
		assert_int_equal(buf[n - 1], '\n');
		assert_int_equal(strlen(buf), n);
	}
	/* Without the file: no consumer lines at all. */
	f->src.consumers = NULL;
	report_status(&f->src, buf, 65536);
	assert_int_equal(status_value(buf, "dispatch_consumers"), -1);
	assert_null(strstr(buf, "\nconsumer "));
	rfx_close(f);
	free(rc);
	free(buf);
	free(f);
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
		cmocka_unit_test_setup_teardown(test_read_side_file, setup, teardown),
		cmocka_unit_test(test_consumers),
		cmocka_unit_test(test_consumers_max),
		cmocka_unit_test_setup_teardown(test_status_new_values, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
