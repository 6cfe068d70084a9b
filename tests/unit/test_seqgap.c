/*
 * test_seqgap.c - the kernel serial gap counter through seqgap.h: serials
 * in order, several records per serial and reordering inside the window
 * count no gap; a missing serial is counted once it falls SEQGAP_WINDOW
 * behind the newest; a late arrival after that undoes exactly one gap and
 * counts as late, a repeat of a settled serial changes nothing; the pending
 * count; seqgap_settle at stop; and serials that wrap around 2^32.
 */
#include "build_config.h"

#include <stdbool.h>
#include <stdlib.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "seqgap.h"

#define W	SEQGAP_WINDOW

static void
note_range(struct seqgap *g, uint32_t from, uint32_t to_incl)
{
	uint32_t s = from;

	for (;;) {
		seqgap_note(g, s);
		if (s == to_incl)
			break;
		s++;
	}
}

static void
assert_counts(const struct seqgap *g, uint64_t gaps, uint64_t late, uint64_t pending)
{
	assert_int_equal(g->gaps, gaps);
	assert_int_equal(g->late, late);
	assert_int_equal(seqgap_pending(g), pending);
}

static void
test_empty(void **state)
{
	struct seqgap g;

	(void)state;
	seqgap_init(&g);
	assert_counts(&g, 0, 0, 0);
	seqgap_settle(&g);
	assert_counts(&g, 0, 0, 0);
}

static void
test_in_order(void **state)
{
	struct seqgap g;

	(void)state;
	seqgap_init(&g);
	note_range(&g, 1000, 1000 + 10 * W);
	assert_counts(&g, 0, 0, 0);
	seqgap_settle(&g);
	assert_counts(&g, 0, 0, 0);
}

static void
test_several_records_per_serial(void **state)
{
	struct seqgap g;

	(void)state;
	seqgap_init(&g);
	for (uint32_t s = 1; s <= 3 * W; s++)
		for (uint32_t k = 0; k < 1 + s % 5; k++)
			seqgap_note(&g, s);
	assert_counts(&g, 0, 0, 0);
	/* Records of old events arriving again are not late and not gaps. */
	for (uint32_t s = 1; s <= 3 * W; s += 97)
		seqgap_note(&g, s);
	assert_counts(&g, 0, 0, 0);
	seqgap_settle(&g);
	assert_counts(&g, 0, 0, 0);
}

static void
test_reorder_within_window(void **state)
{
	struct seqgap g;
	uint32_t base = 5000;

	(void)state;
	seqgap_init(&g);
	seqgap_note(&g, base);
	/* The newest is W - 1 ahead: everything in between is still pending. */
	seqgap_note(&g, base + W - 1);
	assert_counts(&g, 0, 0, W - 2);
	/* They arrive in reverse order. */
	for (uint32_t s = base + W - 2; s > base; s--)
		seqgap_note(&g, s);
	assert_counts(&g, 0, 0, 0);

	/* Blocks of 1000 serials, each block delivered backwards. */
	for (uint32_t b = base + W; b < base + W + 50000; b += 1000)
		for (uint32_t s = b + 999; s >= b; s--)
			seqgap_note(&g, s);
	assert_counts(&g, 0, 0, 0);

	/* A pseudo-random shuffle with displacement below the window. */
	{
		uint32_t start = base + W + 50000, n = 8 * W;
		uint32_t *perm = malloc(n * sizeof(*perm));
		uint64_t x = 99;

		assert_non_null(perm);
		for (uint32_t i = 0; i < n; i++)
			perm[i] = start + i;
		/* Swap only within chunks of W / 2, so no serial trails the
		 * newest by W or more. */
		for (uint32_t c = 0; c < n; c += W / 2)
			for (uint32_t i = W / 2 - 1; i > 0; i--) {
				uint32_t j, t;

				x = x * 6364136223846793005ULL + 1442695040888963407ULL;
				j = (uint32_t)((x >> 33) % (i + 1));
				t = perm[c + i];
				perm[c + i] = perm[c + j];
				perm[c + j] = t;
			}
		for (uint32_t i = 0; i < n; i++)
			seqgap_note(&g, perm[i]);
		free(perm);
	}
	assert_counts(&g, 0, 0, 0);
	seqgap_settle(&g);
	assert_counts(&g, 0, 0, 0);
}

static void
test_missing_counted_at_window(void **state)
{
	struct seqgap g;

	(void)state;
	seqgap_init(&g);
	note_range(&g, 1, 10);
	/* 11 never comes. */
	note_range(&g, 12, 11 + W - 1);
	/* Still inside the window: pending, not a gap. */
	assert_counts(&g, 0, 0, 1);
	/* The newest is now W ahead of 11: it is declared missing. */
	seqgap_note(&g, 11 + W);
	assert_counts(&g, 1, 0, 0);
	/* And only once. */
	note_range(&g, 12 + W, 11 + 3 * W);
	assert_counts(&g, 1, 0, 0);

	/* Several missing at once. */
	note_range(&g, 12 + 3 * W, 100 + 3 * W);
	note_range(&g, 106 + 3 * W, 200 + 3 * W);	/* 101..105 missing */
	assert_counts(&g, 1, 0, 5);
	note_range(&g, 201 + 3 * W, 100 + 4 * W);
	assert_counts(&g, 1, 0, 5);
	seqgap_note(&g, 101 + 4 * W);	/* the first of them is W behind */
	assert_counts(&g, 2, 0, 4);
	note_range(&g, 102 + 4 * W, 105 + 4 * W);
	assert_counts(&g, 6, 0, 0);
}

static void
test_late_arrival(void **state)
{
	struct seqgap g;

	(void)state;
	seqgap_init(&g);
	note_range(&g, 1, 10);
	note_range(&g, 12, 20);
	note_range(&g, 22, 11 + W + 100);	/* 11 and 21 declared missing */
	assert_counts(&g, 2, 0, 0);

	/* 11 shows up after all: exactly one gap is undone. */
	seqgap_note(&g, 11);
	assert_counts(&g, 1, 1, 0);
	/* A second record of event 11 changes nothing. */
	seqgap_note(&g, 11);
	assert_counts(&g, 1, 1, 0);
	/* Repeats of settled serials that were seen change nothing. */
	seqgap_note(&g, 10);
	seqgap_note(&g, 12);
	seqgap_note(&g, 150);
	assert_counts(&g, 1, 1, 0);
	/* 21 late too. */
	seqgap_note(&g, 21);
	assert_counts(&g, 0, 2, 0);
	seqgap_note(&g, 21);
	assert_counts(&g, 0, 2, 0);
}

static void
test_too_late_ignored(void **state)
{
	struct seqgap g;

	(void)state;
	seqgap_init(&g);
	seqgap_note(&g, 1);
	/* 2 missing; let the window move on by far more than W past it. */
	note_range(&g, 3, 3 + 3 * W);
	assert_counts(&g, 1, 0, 0);
	/* 2 is now more than a window below base: ignored, not "late". */
	seqgap_note(&g, 2);
	assert_counts(&g, 1, 0, 0);
	/* So is a record of a serial that was seen, below the window. */
	seqgap_note(&g, 2 + W);
	assert_counts(&g, 1, 0, 0);
}

static void
test_pending(void **state)
{
	struct seqgap g;

	(void)state;
	seqgap_init(&g);
	seqgap_note(&g, 100);
	assert_counts(&g, 0, 0, 0);
	seqgap_note(&g, 105);
	assert_counts(&g, 0, 0, 4);
	seqgap_note(&g, 103);
	assert_counts(&g, 0, 0, 3);
	/* Records older than the first are ignored (reordered start). */
	seqgap_note(&g, 99);
	assert_counts(&g, 0, 0, 3);
	seqgap_note(&g, 100 + W - 1);
	assert_counts(&g, 0, 0, 3 + (W - 1 - 5 - 1));
}

static void
test_settle(void **state)
{
	struct seqgap g;

	(void)state;
	seqgap_init(&g);
	note_range(&g, 1, 10);
	seqgap_note(&g, 12);
	seqgap_note(&g, 13);
	seqgap_note(&g, 15);
	seqgap_note(&g, 20);		/* 11, 14, 16..19 unseen */
	assert_counts(&g, 0, 0, 6);
	seqgap_settle(&g);
	assert_counts(&g, 6, 0, 0);
	/* Settling again counts nothing more. */
	seqgap_settle(&g);
	assert_counts(&g, 6, 0, 0);
	/* A late record after settle still undoes its own gap. */
	seqgap_note(&g, 14);
	assert_counts(&g, 5, 1, 0);
	/* The newest itself is settled as seen. */
	seqgap_note(&g, 20);
	assert_counts(&g, 5, 1, 0);
}

static void
test_big_jump(void **state)
{
	struct seqgap g;

	(void)state;
	seqgap_init(&g);
	note_range(&g, 1, 10);
	seqgap_note(&g, 10 + 3 * W);
	/* 11 .. 2W + 10 fell out of the window; the rest is pending. */
	assert_counts(&g, 2 * W, 0, W - 1);
	seqgap_settle(&g);
	assert_counts(&g, 3 * W - 1, 0, 0);
}

/* A jump of half the serial space is counted in one step, not one by one. */
static void
test_huge_jump(void **state)
{
	struct seqgap g;
	uint32_t far = 1u + (1u << 31) - 1u;

	(void)state;
	seqgap_init(&g);
	seqgap_note(&g, 1);
	seqgap_note(&g, far);
	assert_counts(&g, (1ull << 31) - W - 1, 0, W - 1);
	/* A late record from inside the skipped stretch undoes its gap only
	 * if it is within a window of the new base; older ones are ignored. */
	seqgap_note(&g, far - W);
	assert_counts(&g, (1ull << 31) - W - 2, 1, W - 1);
}

static void
test_wraparound(void **state)
{
	struct seqgap g;
	const uint32_t start = UINT32_MAX - 100;

	(void)state;
	seqgap_init(&g);
	/* Across 2^32 with nothing missing. */
	note_range(&g, start, 10 * W);
	assert_counts(&g, 0, 0, 0);

	/* Missing serials on both sides of the wrap. */
	seqgap_init(&g);
	note_range(&g, start, UINT32_MAX - 1);	/* UINT32_MAX missing */
	note_range(&g, 0, 1);
	note_range(&g, 3, 100);			/* 2 missing */
	assert_counts(&g, 0, 0, 2);
	note_range(&g, 101, 2 + W);		/* both are now W behind */
	assert_counts(&g, 2, 0, 0);
	seqgap_note(&g, UINT32_MAX);
	assert_counts(&g, 1, 1, 0);
	seqgap_note(&g, 2);
	assert_counts(&g, 0, 2, 0);
	seqgap_note(&g, 2);
	seqgap_note(&g, UINT32_MAX);
	assert_counts(&g, 0, 2, 0);

	/* Reordering across the wrap, and pending across it. */
	seqgap_init(&g);
	seqgap_note(&g, UINT32_MAX - 5);
	seqgap_note(&g, 5);
	assert_counts(&g, 0, 0, 10);
	note_range(&g, UINT32_MAX - 4, 4);
	assert_counts(&g, 0, 0, 0);
	seqgap_settle(&g);
	assert_counts(&g, 0, 0, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_several_records_per_serial),
		cmocka_unit_test(test_reorder_within_window),
		cmocka_unit_test(test_missing_counted_at_window),
		cmocka_unit_test(test_late_arrival),
		cmocka_unit_test(test_too_late_ignored),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_settle),
		cmocka_unit_test(test_big_jump),
		cmocka_unit_test(test_huge_jump),
		cmocka_unit_test(test_wraparound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
