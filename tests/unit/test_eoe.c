/*
 * test_eoe.c - end-of-event synthesis through eoe.h: a syscall event gets
 * its EOE right after PROCTITLE, in auditd's string format; records
 * without a syscall context (USER_*, DAEMON_*) get none; interleaved events
 * of two CPUs each get theirs after their own PROCTITLE; an event without
 * PROCTITLE is closed once EOE_STALE_RECORDS other records went by, a
 * URINGOP event at the next stamp; eoe_idle closes what is open; a
 * PROCTITLE whose SYSCALL came before a restart still gets its EOE, a late
 * one of a closed event none; the table never holds more than
 * EOE_MAX_OPEN; lines that are not records pass through; a stamp that is
 * not digits is never copied into an EOE.
 */
#include "build_config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "eoe.h"

struct out {
	char	text[64 * 1024];
	size_t	len;
	int	eoes;
};

static void
collect(void *arg, const char *line, size_t len, bool synthesized)
{
	struct out *o = arg;

	assert_true(o->len + len + 1 < sizeof(o->text));
	memcpy(o->text + o->len, line, len);
	o->text[o->len + len] = '\n';
	o->len += len + 1;
	o->text[o->len] = '\0';
	if (synthesized)
		o->eoes++;
}

static void
feed(struct eoe *e, struct out *o, const char *line)
{
	eoe_feed(e, line, strlen(line), collect, o);
}

#define SC(stamp)	"type=SYSCALL msg=audit(" stamp "): arch=c000003e syscall=124 key=\"k\""
#define PT(stamp)	"type=PROCTITLE msg=audit(" stamp "): proctitle=6C73"
#define PATHR(stamp)	"type=PATH msg=audit(" stamp "): item=0 name=\"/x\""
#define EOE(stamp)	"type=EOE msg=audit(" stamp "):"

static void
test_syscall_event(void **state)
{
	struct eoe *e = eoe_new();
	struct out o = { .len = 0 };

	(void)state;
	feed(e, &o, SC("1700000000.123:42"));
	feed(e, &o, PATHR("1700000000.123:42"));
	assert_int_equal(o.eoes, 0);
	assert_int_equal(eoe_open(e), 1);
	feed(e, &o, PT("1700000000.123:42"));
	assert_string_equal(o.text, SC("1700000000.123:42") "\n" PATHR("1700000000.123:42") "\n"
	    PT("1700000000.123:42") "\n" EOE("1700000000.123:42") "\n");
	assert_int_equal(eoe_open(e), 0);
	assert_int_equal(eoe_count(e), 1);
	eoe_free(e);
}

static void
test_no_eoe_without_syscall(void **state)
{
	struct eoe *e = eoe_new();
	struct out o = { .len = 0 };

	(void)state;
	feed(e, &o, "type=USER_LOGIN msg=audit(1700000000.100:7): pid=1 uid=0 res=success");
	feed(e, &o, "type=DAEMON_ROTATE msg=audit(1700000000.200:1): op=rotate-logs segment=2");
	feed(e, &o, "type=AVC msg=audit(1700000000.300:8): apparmor=\"DENIED\"");
	eoe_idle(e, collect, &o);
	assert_int_equal(o.eoes, 0);
	assert_int_equal(eoe_open(e), 0);
	eoe_free(e);
}

static void
test_interleaved(void **state)
{
	struct eoe *e = eoe_new();
	struct out o = { .len = 0 };

	(void)state;
	feed(e, &o, SC("1.000:1"));
	feed(e, &o, SC("1.000:2"));
	feed(e, &o, PATHR("1.000:1"));
	feed(e, &o, PT("1.000:2"));
	feed(e, &o, PT("1.000:1"));
	assert_string_equal(o.text, SC("1.000:1") "\n" SC("1.000:2") "\n" PATHR("1.000:1") "\n"
	    PT("1.000:2") "\n" EOE("1.000:2") "\n" PT("1.000:1") "\n" EOE("1.000:1") "\n");
	eoe_free(e);
}

static void
test_stale_without_proctitle(void **state)
{
	struct eoe *e = eoe_new();
	struct out o = { .len = 0 };
	char line[128];

	(void)state;
	feed(e, &o, SC("1.000:1"));
	for (int i = 0; i < EOE_STALE_RECORDS - 1; i++) {
		snprintf(line, sizeof(line), "type=USER_CMD msg=audit(2.000:%d): x", 100 + i);
		feed(e, &o, line);
	}
	assert_int_equal(o.eoes, 0);
	feed(e, &o, "type=USER_CMD msg=audit(2.000:999): x");
	assert_int_equal(o.eoes, 1);
	/* The EOE comes before the record that made it due. */
	assert_non_null(strstr(o.text, EOE("1.000:1") "\ntype=USER_CMD msg=audit(2.000:999): x\n"));
	eoe_free(e);
}

static void
test_uring_closes_at_next_stamp(void **state)
{
	struct eoe *e = eoe_new();
	struct out o = { .len = 0 };

	(void)state;
	feed(e, &o, "type=URINGOP msg=audit(1.000:5): uring_op=1");
	feed(e, &o, PATHR("1.000:5"));
	assert_int_equal(o.eoes, 0);
	feed(e, &o, "type=UNKNOWN[1336] msg=audit(1.000:6): uring_op=2");
	assert_int_equal(o.eoes, 1);
	assert_string_equal(o.text, "type=URINGOP msg=audit(1.000:5): uring_op=1\n"
	    PATHR("1.000:5") "\n" EOE("1.000:5") "\n"
	    "type=UNKNOWN[1336] msg=audit(1.000:6): uring_op=2\n");
	eoe_free(e);
}

static void
test_idle(void **state)
{
	struct eoe *e = eoe_new();
	struct out o = { .len = 0 };

	(void)state;
	feed(e, &o, SC("1.000:1"));
	feed(e, &o, SC("1.000:2"));
	o.len = 0;
	eoe_idle(e, collect, &o);
	assert_string_equal(o.text, EOE("1.000:1") "\n" EOE("1.000:2") "\n");
	assert_int_equal(eoe_open(e), 0);
	eoe_free(e);
}

static void
test_proctitle_after_restart_and_late(void **state)
{
	struct eoe *e = eoe_new();
	struct out o = { .len = 0 };

	(void)state;
	/* The reader started after this event's SYSCALL: the kernel's EOE follows PROCTITLE. */
	feed(e, &o, PT("1.000:9"));
	assert_int_equal(o.eoes, 1);
	/* An event closed by idle whose PROCTITLE comes late gets no second EOE. */
	feed(e, &o, SC("1.000:10"));
	eoe_idle(e, collect, &o);
	assert_int_equal(o.eoes, 2);
	feed(e, &o, PT("1.000:10"));
	assert_int_equal(o.eoes, 2);
	/* After a reset, the same stamps are new again. */
	eoe_reset(e);
	feed(e, &o, PT("1.000:10"));
	assert_int_equal(o.eoes, 3);
	assert_int_equal(eoe_count(e), 3);
	eoe_free(e);
}

static void
test_table_bounded(void **state)
{
	struct eoe *e = eoe_new();
	struct out o = { .len = 0 };
	char line[128];

	(void)state;
	for (int i = 0; i < EOE_MAX_OPEN + 3; i++) {
		snprintf(line, sizeof(line), "type=SYSCALL msg=audit(1.000:%d): a=1", i);
		feed(e, &o, line);
		assert_true(eoe_open(e) <= EOE_MAX_OPEN);
	}
	assert_int_equal(o.eoes, 3);
	assert_non_null(strstr(o.text, EOE("1.000:0") "\n"));
	assert_non_null(strstr(o.text, EOE("1.000:2") "\n"));
	assert_null(strstr(o.text, EOE("1.000:3") "\n"));
	eoe_free(e);
}

static void
test_not_records(void **state)
{
	struct eoe *e = eoe_new();
	struct out o = { .len = 0 };

	(void)state;
	feed(e, &o, "garbage line");
	/* A hostile stamp is not a stamp: no EOE copies it. */
	feed(e, &o, "type=SYSCALL msg=audit(1.0:1 x): a");
	feed(e, &o, "type=PROCTITLE msg=audit(1.0:1 x): a");
	feed(e, &o, "type=SYSCALL msg=audit(1.000:): a");
	assert_int_equal(o.eoes, 0);
	assert_string_equal(o.text, "garbage line\ntype=SYSCALL msg=audit(1.0:1 x): a\n"
	    "type=PROCTITLE msg=audit(1.0:1 x): a\ntype=SYSCALL msg=audit(1.000:): a\n");
	/* A malformed node field: not a record, no event opens, no EOE. */
	o.len = 0;
	o.text[0] = '\0';
	feed(e, &o, "node= type=SYSCALL msg=audit(1.000:5): a");
	feed(e, &o, "node=a\tb type=SYSCALL msg=audit(1.000:6): a");
	feed(e, &o, "node=a\tb type=PROCTITLE msg=audit(1.000:6): a");
	assert_int_equal(o.eoes, 0);
	assert_int_equal(eoe_open(e), 0);
	eoe_free(e);
}

#define N_SC(node, stamp)	"node=" node " " SC(stamp)
#define N_PT(node, stamp)	"node=" node " " PT(stamp)
#define N_EOE(node, stamp)	"node=" node " " EOE(stamp)

/*
 * With auditd's name_format every line starts with "node=NAME ": events
 * are still found, and their EOE carries the node of their records, as
 * auditd's dispatcher writes it. Two nodes' events of one stamp are two
 * events.
 */
static void
test_node_prefix(void **state)
{
	struct eoe *e = eoe_new();
	struct out o = { .len = 0 };

	(void)state;
	feed(e, &o, N_SC("web1", "1700000000.123:42"));
	feed(e, &o, N_SC("web2", "1700000000.123:42"));
	assert_int_equal(eoe_open(e), 2);
	feed(e, &o, N_PT("web1", "1700000000.123:42"));
	assert_int_equal(eoe_open(e), 1);
	feed(e, &o, N_PT("web2", "1700000000.123:42"));
	assert_int_equal(eoe_open(e), 0);
	assert_int_equal(o.eoes, 2);
	assert_string_equal(o.text,
	    N_SC("web1", "1700000000.123:42") "\n" N_SC("web2", "1700000000.123:42") "\n"
	    N_PT("web1", "1700000000.123:42") "\n" N_EOE("web1", "1700000000.123:42") "\n"
	    N_PT("web2", "1700000000.123:42") "\n" N_EOE("web2", "1700000000.123:42") "\n");
	/* A late PROCTITLE of a closed event: none again; eoe_idle keeps the node. */
	feed(e, &o, N_PT("web1", "1700000000.123:42"));
	assert_int_equal(o.eoes, 2);
	feed(e, &o, N_SC("web1", "1700000000.124:43"));
	eoe_idle(e, collect, &o);
	assert_int_equal(o.eoes, 3);
	assert_non_null(strstr(o.text, "\n" N_EOE("web1", "1700000000.124:43") "\n"));
	eoe_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syscall_event),
		cmocka_unit_test(test_no_eoe_without_syscall),
		cmocka_unit_test(test_interleaved),
		cmocka_unit_test(test_stale_without_proctitle),
		cmocka_unit_test(test_uring_closes_at_next_stamp),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_proctitle_after_restart_and_late),
		cmocka_unit_test(test_table_bounded),
		cmocka_unit_test(test_not_records),
		cmocka_unit_test(test_node_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
