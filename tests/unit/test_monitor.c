/*
 * test_monitor.c - the monitor's poll policy through monitor.h: a kernel
 * status request is sent only when the receive socket ran dry, no record
 * arrived for the quiet period, the last interval brought fewer records
 * than the kernel queue holds, the last known backlog was low, and the
 * receiver is not waiting for ring room. A busy receive path never gets a
 * forced poll, however many polls it has skipped. A seed (what the daemon
 * read while registering) is the first reading until a poll replaces it.
 */
#include "build_config.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "monitor.h"
#include "mono.h"

#define MS	1000000ull
#define NOW	(100000 * MS)

static struct monitor_poll_input
idle_input(void)
{
	struct monitor_poll_input in;

	memset(&in, 0, sizeof(in));
	in.rx_last_ns = NOW - 500 * MS;
	in.rx_empty_ns = NOW - 499 * MS;
	in.now_ns = NOW;
	return in;
}

static struct monitor_status
status_with(uint32_t backlog, uint32_t limit)
{
	struct monitor_status st;

	memset(&st, 0, sizeof(st));
	st.valid = true;
	st.k.backlog = backlog;
	st.k.backlog_limit = limit;
	return st;
}

static void
test_idle_polls(void **state)
{
	struct monitor_poll_input in = idle_input();
	struct monitor_status st = status_with(0, 8192);
	struct monitor_status none;

	(void)state;
	memset(&none, 0, sizeof(none));
	assert_true(monitor_may_poll(&in, &st));
	/* No status yet: the first poll is allowed on an idle socket. */
	assert_true(monitor_may_poll(&in, &none));
}

static void
test_busy_socket_never_polls(void **state)
{
	struct monitor_poll_input in = idle_input();
	struct monitor_status st = status_with(0, 8192);
	int i;

	(void)state;
	/* The last drain ended on a full read: records are coming. */
	in.rx_last_ns = NOW - 1 * MS;
	in.rx_empty_ns = NOW - 2 * MS;
	for (i = 0; i < 1000; i++)
		assert_false(monitor_may_poll(&in, &st));
}

static void
test_quiet_period(void **state)
{
	struct monitor_poll_input in = idle_input();
	struct monitor_status st = status_with(0, 8192);

	(void)state;
	/* Dry, but a record arrived 5 ms ago: a flood drains to empty often. */
	in.rx_last_ns = NOW - 5 * MS;
	in.rx_empty_ns = NOW - 5 * MS;
	assert_false(monitor_may_poll(&in, &st));
	in.rx_last_ns = NOW - 25 * MS;
	in.rx_empty_ns = NOW - 25 * MS;
	assert_true(monitor_may_poll(&in, &st));
}

static void
test_burst_bigger_than_queue(void **state)
{
	struct monitor_poll_input in = idle_input();
	struct monitor_status st = status_with(0, 64);

	(void)state;
	in.rx_recent = 65;
	assert_false(monitor_may_poll(&in, &st));
	in.rx_recent = 64;
	assert_true(monitor_may_poll(&in, &st));
}

static void
test_backlog_high(void **state)
{
	struct monitor_poll_input in = idle_input();
	struct monitor_status st = status_with(2049, 8192);

	(void)state;
	assert_false(monitor_may_poll(&in, &st));
	st.k.backlog = 2048;
	assert_true(monitor_may_poll(&in, &st));
}

static void
test_waiting_for_ring_room(void **state)
{
	struct monitor_poll_input in = idle_input();
	struct monitor_status st = status_with(0, 8192);

	(void)state;
	in.rx_waiting = true;
	assert_false(monitor_may_poll(&in, &st));
}

/* The thread takes a seed as its first reading (no kernel here), once. */
static void
test_seed_is_first_reading(void **state)
{
	struct rx_stats rx;
	struct audit_status k, k2;
	struct monitor_status st;
	struct monitor *m;
	uint64_t at;

	(void)state;
	memset(&rx, 0, sizeof(rx));
	m = monitor_new(&rx, 10, false);
	assert_non_null(m);
	assert_int_equal(monitor_start(m), 0);
	monitor_read(m, &st);
	assert_false(st.valid);

	memset(&k, 0, sizeof(k));
	k.enabled = 1;
	k.pid = 4242;
	k.backlog_limit = 8192;
	k.lost = 17;
	k.backlog = 3;
	at = mono_ns();
	monitor_seed(m, &k, at);
	for (int i = 0; i < 2000; i++) {
		struct timespec ms = { 0, 1000000 };

		monitor_read(m, &st);
		if (st.valid)
			break;
		nanosleep(&ms, NULL);
	}
	assert_true(st.valid);
	assert_int_equal(st.k.pid, 4242);
	assert_int_equal(st.k.backlog_limit, 8192);
	assert_int_equal(st.lost_start, 17);
	assert_int_equal(st.backlog_max, 3);
	assert_int_equal(st.updated_ns, at);
	assert_int_equal(st.polls, 0);

	/* A reading is never replaced by an older seed. */
	k2 = k;
	k2.pid = 1;
	monitor_seed(m, &k2, at + 1);
	for (int i = 0; i < 50; i++) {
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	monitor_read(m, &st);
	assert_int_equal(st.k.pid, 4242);
	assert_int_equal(st.updated_ns, at);

	assert_int_equal(monitor_stop(m, 2000), 0);
	monitor_free(m);
}

/* The exclude-rule re-check's wait: at once, after the quiet period, or never. */
static void
test_wait_quiet(void **state)
{
	struct rx_stats rx;
	uint64_t t0, now;

	(void)state;
	memset(&rx, 0, sizeof(rx));
	/* Nothing ever received: quiet at once. */
	t0 = mono_ns();
	assert_true(monitor_wait_quiet(&rx, 1000));
	assert_true(mono_ns() - t0 < 500 * MS);

	/* A record just arrived and the socket ran dry after it: quiet once
	 * the quiet period has passed, not before. */
	now = mono_ns();
	stat_set(&rx.last_rx_ns, now);
	stat_set(&rx.socket_empty_ns, now);
	assert_true(monitor_wait_quiet(&rx, 5000));
	assert_true(mono_ns() - now >= 20 * MS);

	/* The last drain did not end on an empty socket: the kernel is pushing
	 * records. The wait runs out and says so. */
	now = mono_ns();
	stat_set(&rx.last_rx_ns, now);
	stat_set(&rx.socket_empty_ns, now - 1);
	assert_false(monitor_wait_quiet(&rx, 60));
	assert_true(mono_ns() - now >= 60 * MS);

	/* The receiver waits for ring room: records wait in the socket. */
	stat_set(&rx.last_rx_ns, 0);
	stat_set(&rx.socket_empty_ns, 0);
	stat_set(&rx.ring_full_since_ns, now);
	assert_false(monitor_wait_quiet(&rx, 30));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_polls),
		cmocka_unit_test(test_busy_socket_never_polls),
		cmocka_unit_test(test_quiet_period),
		cmocka_unit_test(test_burst_bigger_than_queue),
		cmocka_unit_test(test_backlog_high),
		cmocka_unit_test(test_waiting_for_ring_room),
		cmocka_unit_test(test_seed_is_first_reading),
		cmocka_unit_test(test_wait_quiet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
