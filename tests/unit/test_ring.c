/*
 * test_ring.c - property tests of the SPSC record ring through ring.h: the
 * reserve/commit/next/release round trip with data and tags, records that
 * wrap behind a pad marker, byte and record accounting, a full ring, the
 * payload limit, the consumer sleep protocol (ring_prepare_wait and
 * ring_wake_needed), a seeded randomized single-thread run checked against
 * a model queue, a two-thread litmus test of the sleep protocol's ordering,
 * and a two-thread stress run that sleeps on an eventfd the way writer.c
 * does and fails, rather than hangs, on a lost wake-up.
 */
#include "build_config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ring.h"

/* The bytes a record of len payload bytes occupies (8-byte aligned). */
static size_t
rec_bytes(size_t len)
{
	return RING_RECORD_OVERHEAD + ((len + 7) & ~(size_t)7);
}

/* xorshift64*: deterministic, seeded, good enough for test data. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/*
 * Record content: a slice of a random pool chosen by seq, with seq stamped
 * over its first bytes, so every record's bytes depend on its sequence
 * number and can be checked with memcmp (cheap, also under TSan).
 */
#define POOL_BYTES	(128 * 1024)
#define POOL_SLACK	(16 * 1024)	/* >= the largest payload used here */
static unsigned char pool[POOL_BYTES + POOL_SLACK];

static void
pool_init(void)
{
	uint64_t s = 0x5eed;

	for (size_t i = 0; i < sizeof(pool); i++)
		pool[i] = (unsigned char)(rnd(&s) >> 56);
}

static size_t
pool_off(uint64_t seq)
{
	return (size_t)((seq * 0x9e3779b97f4a7c15ULL) >> 47) % POOL_BYTES;
}

static void
fill(unsigned char *p, size_t len, uint64_t seq)
{
	assert_true(len <= POOL_SLACK);
	memcpy(p, pool + pool_off(seq), len);
	for (size_t i = 0; i < len && i < sizeof(seq); i++)
		p[i] ^= (unsigned char)(seq >> (8 * i)) ^ 0x5a;
}

static bool
check(const unsigned char *p, size_t len, uint64_t seq)
{
	const unsigned char *want = pool + pool_off(seq);
	size_t n = len < sizeof(seq) ? len : sizeof(seq);

	for (size_t i = 0; i < n; i++)
		if (p[i] != (want[i] ^ (unsigned char)(seq >> (8 * i)) ^ 0x5a))
			return false;
	return memcmp(p + n, want + n, len - n) == 0;
}

/* Produce one record; returns the slot pointer or NULL when full. */
static unsigned char *
push(struct ring *r, size_t len, uint64_t seq, uint32_t tag)
{
	unsigned char *p = ring_reserve(r, len);

	if (p == NULL)
		return NULL;
	fill(p, len, seq);
	ring_commit(r, len, tag);
	return p;
}

static struct ring *
new_ring(size_t cap)
{
	struct ring *r = ring_new(cap, false);

	assert_non_null(r);
	assert_int_equal(ring_capacity(r), cap);
	assert_int_equal(ring_used(r), 0);
	return r;
}

/* ---- construction ------------------------------------------------------ */

static void
test_new_rejects_bad_sizes(void **state)
{
	static const size_t bad[] = { 0, 1, 8, 1024, 2048, 4095, 4097, 6144, 12288,
	    (1u << 20) + 4096 };
	struct ring *r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		r = ring_new(bad[i], false);
		assert_null(r);
		assert_int_equal(errno, EINVAL);
	}
	r = new_ring(4096);
	assert_int_equal(ring_max_payload(r), 4096 / 4 - RING_RECORD_OVERHEAD);
	assert_int_equal(ring_records_in(r), 0);
	assert_int_equal(ring_records_out(r), 0);
	assert_int_equal(ring_high_water(r), 0);
	ring_free(r);
	r = new_ring(1u << 20);
	assert_int_equal(ring_max_payload(r), (1u << 18) - RING_RECORD_OVERHEAD);
	ring_free(r);
	ring_free(NULL);
}

/* ---- round trip -------------------------------------------------------- */

static void
test_round_trip(void **state)
{
	struct ring *r = new_ring(4096);
	struct ring_iter it;
	struct ring_rec rec;
	unsigned char *p;

	(void)state;
	/* Nothing is visible before the commit. */
	p = ring_reserve(r, 5);
	assert_non_null(p);
	memcpy(p, "hello", 5);
	ring_iter_begin(r, &it);
	assert_false(ring_next(r, &it, &rec));
	assert_int_equal(ring_used(r), 0);
	assert_int_equal(ring_records_in(r), 0);

	ring_commit(r, 5, 1300);
	assert_int_equal(ring_used(r), rec_bytes(5));
	assert_int_equal(ring_records_in(r), 1);
	assert_true(ring_next(r, &it, &rec));
	assert_int_equal(rec.len, 5);
	assert_int_equal(rec.tag, 1300);
	assert_memory_equal(rec.data, "hello", 5);
	assert_true(((uintptr_t)rec.data & 7) == 0);
	assert_false(ring_next(r, &it, &rec));
	assert_int_equal(it.count, 1);
	/* Not released yet: still accounted. */
	assert_int_equal(ring_used(r), rec_bytes(5));
	assert_int_equal(ring_records_out(r), 0);
	ring_release(r, &it);
	assert_int_equal(ring_used(r), 0);
	assert_int_equal(ring_records_out(r), 1);

	/* A zero-length record and one committed shorter than reserved. */
	assert_non_null(ring_reserve(r, 0));
	ring_commit(r, 0, 0xffff0000u);
	p = ring_reserve(r, 100);
	assert_non_null(p);
	memcpy(p, "0123456789", 10);
	ring_commit(r, 10, 7);
	assert_int_equal(ring_used(r), rec_bytes(0) + rec_bytes(10));
	/* Committing more than reserved is clamped to the reservation. */
	p = ring_reserve(r, 3);
	assert_non_null(p);
	memcpy(p, "abc", 3);
	ring_commit(r, 50, 9);
	assert_int_equal(ring_used(r), rec_bytes(0) + rec_bytes(10) + rec_bytes(3));

	ring_iter_begin(r, &it);
	assert_true(ring_next(r, &it, &rec));
	assert_int_equal(rec.len, 0);
	assert_int_equal(rec.tag, 0xffff0000u);
	assert_true(ring_next(r, &it, &rec));
	assert_int_equal(rec.len, 10);
	assert_int_equal(rec.tag, 7);
	assert_memory_equal(rec.data, "0123456789", 10);
	assert_true(ring_next(r, &it, &rec));
	assert_int_equal(rec.len, 3);
	assert_int_equal(rec.tag, 9);
	assert_memory_equal(rec.data, "abc", 3);
	assert_false(ring_next(r, &it, &rec));
	ring_release(r, &it);
	assert_int_equal(ring_used(r), 0);
	assert_int_equal(ring_records_in(r), 4);
	assert_int_equal(ring_records_out(r), 4);
	ring_free(r);
}

/* An iteration that is not released is seen again from the start. */
static void
test_unreleased_is_reread(void **state)
{
	struct ring *r = new_ring(4096);
	struct ring_iter it;
	struct ring_rec rec;

	(void)state;
	for (uint64_t i = 0; i < 10; i++)
		assert_non_null(push(r, 20 + i, i, (uint32_t)i));
	for (int pass = 0; pass < 3; pass++) {
		ring_iter_begin(r, &it);
		for (uint64_t i = 0; i < 10; i++) {
			assert_true(ring_next(r, &it, &rec));
			assert_int_equal(rec.tag, i);
			assert_int_equal(rec.len, 20 + i);
			assert_true(check(rec.data, rec.len, i));
		}
		assert_false(ring_next(r, &it, &rec));
	}
	assert_int_equal(ring_records_out(r), 0);
	/* Release part of it: the rest comes next. */
	ring_iter_begin(r, &it);
	for (int i = 0; i < 4; i++)
		assert_true(ring_next(r, &it, &rec));
	ring_release(r, &it);
	assert_int_equal(ring_records_out(r), 4);
	ring_iter_begin(r, &it);
	assert_true(ring_next(r, &it, &rec));
	assert_int_equal(rec.tag, 4);
	ring_free(r);
}

/* ---- wrap -------------------------------------------------------------- */

static void
test_wrap_with_pad(void **state)
{
	struct ring *r = new_ring(4096);
	struct ring_iter it;
	struct ring_rec rec;
	unsigned char *first, *p;
	size_t used;

	(void)state;
	/* 4 records of 1000 bytes (1008 each) leave 64 bytes at the end. */
	first = push(r, 1000, 0, 0);
	assert_non_null(first);
	for (uint64_t i = 1; i < 4; i++)
		assert_non_null(push(r, 1000, i, (uint32_t)i));
	assert_int_equal(ring_used(r), 4 * 1008);
	/* No room for a fifth anywhere. */
	assert_null(ring_reserve(r, 1000));
	assert_int_equal(ring_used(r), 4 * 1008);

	/* Free the first one: 1008 bytes at the start, 64 at the end. */
	ring_iter_begin(r, &it);
	assert_true(ring_next(r, &it, &rec));
	assert_int_equal(rec.tag, 0);
	ring_release(r, &it);
	assert_int_equal(ring_used(r), 3 * 1008);

	/* A record that does not fit in the last 64 bytes goes to the start,
	 * behind a pad marker that is accounted as used. */
	p = push(r, 1000, 4, 4);
	assert_non_null(p);
	assert_ptr_equal(p, first);
	used = ring_used(r);
	assert_int_equal(used, 3 * 1008 + 64 + 1008);
	assert_int_equal(used, 4096);
	assert_null(ring_reserve(r, 0));

	ring_iter_begin(r, &it);
	for (uint64_t i = 1; i <= 4; i++) {
		assert_true(ring_next(r, &it, &rec));
		assert_int_equal(rec.tag, i);
		assert_int_equal(rec.len, 1000);
		assert_true(check(rec.data, rec.len, i));
	}
	assert_false(ring_next(r, &it, &rec));
	assert_int_equal(it.count, 4);
	ring_release(r, &it);
	assert_int_equal(ring_used(r), 0);
	assert_int_equal(ring_records_in(r), 5);
	assert_int_equal(ring_records_out(r), 5);
	ring_free(r);
}

/* A record that ends exactly at the end of the buffer needs no pad. */
static void
test_wrap_exact_fit(void **state)
{
	struct ring *r = new_ring(4096);
	struct ring_iter it;
	struct ring_rec rec;
	unsigned char *first, *p;

	(void)state;
	/* 4 records of 1016 payload bytes fill the buffer exactly. */
	first = push(r, 1016, 0, 0);
	assert_non_null(first);
	for (uint64_t i = 1; i < 4; i++)
		assert_non_null(push(r, 1016, i, (uint32_t)i));
	assert_int_equal(ring_used(r), 4096);
	assert_null(ring_reserve(r, 0));

	ring_iter_begin(r, &it);
	assert_true(ring_next(r, &it, &rec));
	ring_release(r, &it);
	/* The next record starts at offset 0 without any pad. */
	p = push(r, 1016, 4, 4);
	assert_ptr_equal(p, first);
	assert_int_equal(ring_used(r), 4096);

	ring_iter_begin(r, &it);
	for (uint64_t i = 1; i <= 4; i++) {
		assert_true(ring_next(r, &it, &rec));
		assert_int_equal(rec.tag, i);
		assert_true(check(rec.data, rec.len, i));
	}
	assert_false(ring_next(r, &it, &rec));
	ring_release(r, &it);
	assert_int_equal(ring_used(r), 0);
	ring_free(r);
}

/* Wrap many times over a small ring with odd lengths. */
static void
test_wrap_many_times(void **state)
{
	struct ring *r = new_ring(4096);
	struct ring_iter it;
	struct ring_rec rec;
	uint64_t seq_in = 0, seq_out = 0;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(round * 37 % 1017);

		while (push(r, len, seq_in, (uint32_t)seq_in) != NULL)
			seq_in++;
		assert_true(ring_used(r) <= 4096);
		ring_iter_begin(r, &it);
		/* Consume about half, so the free space is never aligned. */
		for (uint64_t n = (seq_in - seq_out + 1) / 2; n > 0; n--) {
			assert_true(ring_next(r, &it, &rec));
			assert_int_equal(rec.tag, (uint32_t)seq_out);
			assert_true(check(rec.data, rec.len, seq_out));
			seq_out++;
		}
		ring_release(r, &it);
	}
	ring_iter_begin(r, &it);
	while (ring_next(r, &it, &rec)) {
		assert_int_equal(rec.tag, (uint32_t)seq_out);
		assert_true(check(rec.data, rec.len, seq_out));
		seq_out++;
	}
	ring_release(r, &it);
	assert_int_equal(seq_out, seq_in);
	assert_int_equal(ring_used(r), 0);
	assert_int_equal(ring_records_in(r), seq_in);
	assert_int_equal(ring_records_out(r), seq_in);
	ring_free(r);
}

/* ---- full and oversize ------------------------------------------------- */

static void
test_full(void **state)
{
	struct ring *r = new_ring(8192);
	struct ring_iter it;
	struct ring_rec rec;
	uint64_t n = 0;
	size_t used;

	(void)state;
	while (push(r, 100, n, (uint32_t)(n + 1000)) != NULL)
		n++;
	/* 8192 / 112 = 73 whole records, 16 bytes left over. */
	assert_int_equal(n, 8192 / rec_bytes(100));
	used = ring_used(r);
	assert_int_equal(used, n * rec_bytes(100));
	/* A failed reserve changes nothing, even repeated. */
	for (int i = 0; i < 10; i++)
		assert_null(ring_reserve(r, 100));
	assert_int_equal(ring_used(r), used);
	assert_int_equal(ring_records_in(r), n);
	/* What still fits is allowed. */
	assert_non_null(push(r, 8, n, (uint32_t)(n + 1000)));
	n++;
	assert_int_equal(ring_used(r), 8192);
	assert_null(ring_reserve(r, 0));

	ring_iter_begin(r, &it);
	for (uint64_t i = 0; i < n; i++) {
		assert_true(ring_next(r, &it, &rec));
		assert_int_equal(rec.tag, i + 1000);
		assert_int_equal(rec.len, i == n - 1 ? 8 : 100);
		assert_true(check(rec.data, rec.len, i));
	}
	assert_false(ring_next(r, &it, &rec));
	ring_release(r, &it);
	assert_int_equal(ring_used(r), 0);
	assert_non_null(push(r, 100, 0, 0));
	ring_free(r);
}

static void
test_oversize(void **state)
{
	struct ring *r = new_ring(16384);
	size_t max = ring_max_payload(r);
	struct ring_iter it;
	struct ring_rec rec;

	(void)state;
	assert_int_equal(max, 16384 / 4 - RING_RECORD_OVERHEAD);
	assert_null(ring_reserve(r, max + 1));
	assert_null(ring_reserve(r, 1u << 20));
	assert_null(ring_reserve(r, SIZE_MAX));
	assert_int_equal(ring_used(r), 0);
	assert_non_null(push(r, max, 1, 2));
	assert_int_equal(ring_used(r), 16384 / 4);
	/* Four maximal records fill the ring; a fifth does not fit. */
	for (uint64_t i = 2; i <= 4; i++)
		assert_non_null(push(r, max, i, 2));
	assert_null(ring_reserve(r, max));
	ring_iter_begin(r, &it);
	for (uint64_t i = 1; i <= 4; i++) {
		assert_true(ring_next(r, &it, &rec));
		assert_int_equal(rec.len, max);
		assert_true(check(rec.data, rec.len, i));
	}
	ring_release(r, &it);
	assert_int_equal(ring_records_in(r), 4);
	assert_int_equal(ring_records_out(r), 4);
	ring_free(r);
}

static void
test_high_water(void **state)
{
	struct ring *r = new_ring(4096);
	struct ring_iter it;
	struct ring_rec rec;

	(void)state;
	assert_non_null(push(r, 100, 0, 0));
	assert_non_null(push(r, 100, 1, 0));
	ring_note_high_water(r);
	assert_int_equal(ring_high_water(r), 2 * rec_bytes(100));
	ring_iter_begin(r, &it);
	assert_true(ring_next(r, &it, &rec));
	ring_release(r, &it);
	ring_note_high_water(r);
	/* A high-water mark never goes down. */
	assert_int_equal(ring_high_water(r), 2 * rec_bytes(100));
	for (int i = 0; i < 5; i++)
		assert_non_null(push(r, 100, 2, 0));
	ring_note_high_water(r);
	assert_int_equal(ring_high_water(r), 6 * rec_bytes(100));
	ring_free(r);
}

/* ---- sleep protocol ---------------------------------------------------- */

static void
test_prepare_wait(void **state)
{
	struct ring *r = new_ring(4096);
	struct ring_iter it;
	struct ring_rec rec;

	(void)state;
	assert_true(ring_prepare_wait(r));
	ring_cancel_wait(r);
	assert_non_null(push(r, 10, 0, 0));
	assert_false(ring_prepare_wait(r));
	/* Read but not released: still not empty, the consumer must not sleep. */
	ring_iter_begin(r, &it);
	assert_true(ring_next(r, &it, &rec));
	assert_false(ring_prepare_wait(r));
	ring_release(r, &it);
	assert_true(ring_prepare_wait(r));
	ring_cancel_wait(r);
	ring_free(r);
}

static void
test_wake_needed(void **state)
{
	struct ring *r = new_ring(4096);
	struct ring_iter it;
	struct ring_rec rec;

	(void)state;
	/* No consumer waiting: never. */
	assert_false(ring_wake_needed(r));
	assert_non_null(push(r, 10, 0, 0));
	assert_false(ring_wake_needed(r));

	/* prepare_wait on a non-empty ring does not announce a sleep. */
	assert_false(ring_prepare_wait(r));
	assert_false(ring_wake_needed(r));

	ring_iter_begin(r, &it);
	assert_true(ring_next(r, &it, &rec));
	ring_release(r, &it);

	/* An announced sleep is reported exactly once. */
	assert_true(ring_prepare_wait(r));
	assert_non_null(push(r, 10, 1, 0));
	assert_true(ring_wake_needed(r));
	assert_false(ring_wake_needed(r));
	assert_non_null(push(r, 10, 2, 0));
	assert_false(ring_wake_needed(r));
	/* The consumer's own cancel after waking is harmless. */
	ring_cancel_wait(r);
	assert_false(ring_wake_needed(r));

	ring_iter_begin(r, &it);
	while (ring_next(r, &it, &rec))
		;
	ring_release(r, &it);

	/* A sleep cancelled before anything arrived needs no wake-up. */
	assert_true(ring_prepare_wait(r));
	ring_cancel_wait(r);
	assert_false(ring_wake_needed(r));

	/* Repeated prepare_wait still yields a single wake. */
	assert_true(ring_prepare_wait(r));
	assert_true(ring_prepare_wait(r));
	assert_true(ring_wake_needed(r));
	assert_false(ring_wake_needed(r));
	ring_free(r);
}

/* ---- randomized single-thread property test ---------------------------- */

struct model_rec {
	uint64_t	seq;
	uint32_t	len;
	uint32_t	tag;
};

#define MODEL_MAX	8192

static void
run_random(size_t cap, uint64_t seed, int iterations)
{
	struct ring *r = new_ring(cap);
	struct model_rec *q = calloc(MODEL_MAX, sizeof(*q));
	size_t qhead = 0, qtail = 0;	/* model: [qtail, qhead) unreleased */
	size_t max = ring_max_payload(r);
	uint64_t s = seed, seq = 0, fulls = 0, wraps = 0;
	unsigned char *last = NULL;

	assert_non_null(q);
	for (int i = 0; i < iterations; i++) {
		uint64_t op = rnd(&s) % 100;

		if (op < 55) {
			/* Produce: mostly small, sometimes up to the limit or above. */
			uint64_t k = rnd(&s) % 100;
			size_t len = k < 70 ? rnd(&s) % 200 :
			    k < 97 ? rnd(&s) % (max + 1) : max + 1 + rnd(&s) % 64;
			size_t used = ring_used(r);
			uint32_t tag = (uint32_t)rnd(&s);
			unsigned char *p = ring_reserve(r, len);

			if (len > max) {
				assert_null(p);
				continue;
			}
			/* It must fit when even a worst-case pad leaves room, and
			 * must not when the record alone does not. */
			if (used + 2 * rec_bytes(len) <= cap)
				assert_non_null(p);
			if (used + rec_bytes(len) > cap)
				assert_null(p);
			if (p == NULL) {
				fulls++;
				assert_int_equal(ring_used(r), used);
				continue;
			}
			if (last != NULL && p < last)
				wraps++;
			last = p;
			/* Sometimes commit less than reserved. */
			if (len > 0 && rnd(&s) % 4 == 0)
				len = rnd(&s) % (len + 1);
			fill(p, len, seq);
			ring_commit(r, len, tag);
			assert_true(qhead - qtail < MODEL_MAX);
			q[qhead % MODEL_MAX] = (struct model_rec){ seq, (uint32_t)len, tag };
			qhead++;
			seq++;
			assert_true(ring_used(r) >= used + rec_bytes(len));
			assert_true(ring_used(r) <= cap);
		} else {
			/* Consume up to k records; release unless told not to. */
			struct ring_iter it;
			struct ring_rec rec;
			size_t k = (size_t)(rnd(&s) % 20), got = 0;
			bool release = rnd(&s) % 8 != 0;

			ring_iter_begin(r, &it);
			while (got < k && ring_next(r, &it, &rec)) {
				struct model_rec *m = &q[(qtail + got) % MODEL_MAX];

				assert_true(qtail + got < qhead);
				assert_int_equal(rec.len, m->len);
				assert_int_equal(rec.tag, m->tag);
				assert_true(((uintptr_t)rec.data & 7) == 0);
				assert_true(check(rec.data, rec.len, m->seq));
				got++;
			}
			if (got < k)
				assert_int_equal(qtail + got, qhead);
			assert_int_equal(it.count, got);
			if (release) {
				ring_release(r, &it);
				qtail += got;
			}
		}
		assert_int_equal(ring_records_in(r), qhead);
		assert_int_equal(ring_records_out(r), qtail);
		assert_int_equal(ring_used(r) == 0, qhead == qtail);
		assert_int_equal(ring_prepare_wait(r), qhead == qtail);
		ring_cancel_wait(r);
	}
	/* Drain: everything comes out, and the accounting returns to zero. */
	{
		struct ring_iter it;
		struct ring_rec rec;

		ring_iter_begin(r, &it);
		while (ring_next(r, &it, &rec)) {
			struct model_rec *m = &q[qtail % MODEL_MAX];

			assert_true(qtail < qhead);
			assert_int_equal(rec.len, m->len);
			assert_int_equal(rec.tag, m->tag);
			assert_true(check(rec.data, rec.len, m->seq));
			qtail++;
		}
		ring_release(r, &it);
	}
	assert_int_equal(qtail, qhead);
	assert_int_equal(ring_used(r), 0);
	/* The run must have exercised the interesting paths. */
	assert_true(fulls > 0);
	assert_true(wraps > 0);
	free(q);
	ring_free(r);
}

static void
test_random_small(void **state)
{
	(void)state;
	run_random(4096, 0x1234567887654321ULL, 200000);
}

static void
test_random_large(void **state)
{
	(void)state;
	run_random(65536, 42, 80000);
}

/* ---- two-thread stress ------------------------------------------------- */

/* Fewer records under ThreadSanitizer, which makes every access slower. */
#if defined(__SANITIZE_THREAD__)
#define STRESS_TSAN		1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STRESS_TSAN		1
#endif
#endif
#ifdef STRESS_TSAN
#define STRESS_RECORDS		250000u
#else
#define STRESS_RECORDS		2000000u
#endif
#define STRESS_RING		(64 * 1024)
#define STRESS_MAX_LEN		2000	/* <= POOL_SLACK */
/* A bounded sleep: long enough that only a lost wake-up reaches it. */
#define STRESS_POLL_MS		1000
/* Give up on a run that cannot finish (it fails, it does not hang). */
#define STRESS_DEADLINE_S	60

struct stress {
	struct ring		*r;
	int			 efd;
	const unsigned char	*pool;
	_Atomic bool		 abort;
	uint64_t		 deadline_ns;

	/* Producer results. */
	uint64_t		 produced, wraps, full_spins, wakes;
	/* Consumer results. */
	uint64_t		 consumed, sleeps, timeouts, lost_wakeups, bad;
	char			 why[256];
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Length and pool offset of record seq, both derived from seq alone. */
static void
stress_shape(uint64_t seq, size_t *len, size_t *off)
{
	uint64_t s = seq * 0x9e3779b97f4a7c15ULL + 1;
	uint64_t x = rnd(&s);

	*len = 1 + (size_t)(x % STRESS_MAX_LEN);
	*off = (size_t)((x >> 32) % POOL_BYTES);
}

static void *
stress_producer(void *arg)
{
	struct stress *t = arg;
	unsigned char *last = NULL;
	uint64_t one = 1;

	for (uint64_t seq = 0; seq < STRESS_RECORDS; seq++) {
		size_t len, off;
		unsigned char *p;

		stress_shape(seq, &len, &off);
		while ((p = ring_reserve(t->r, len)) == NULL) {
			if (atomic_load(&t->abort))
				return NULL;
			t->full_spins++;
			sched_yield();
		}
		if (last != NULL && p < last)
			t->wraps++;
		last = p;
		/* The content: a slice of the pool, stamped with seq. */
		memcpy(p, t->pool + off, len);
		for (size_t i = 0; i < len && i < sizeof(seq); i++)
			p[i] ^= (unsigned char)(seq >> (8 * i));
		ring_commit(t->r, len, (uint32_t)seq);
		t->produced++;
		/* Every so often go idle, so the consumer goes to sleep and
		 * the empty->non-empty edge is exercised many times. */
		if ((seq & 0x3fff) == 0) {
			if (ring_wake_needed(t->r)) {
				t->wakes++;
				if (write(t->efd, &one, sizeof(one)) != sizeof(one))
					atomic_store(&t->abort, true);
			}
			for (int i = 0; i < 50 && ring_used(t->r) != 0; i++)
				sched_yield();
			usleep(200);
			continue;
		}
		if (ring_wake_needed(t->r)) {
			t->wakes++;
			if (write(t->efd, &one, sizeof(one)) != sizeof(one))
				atomic_store(&t->abort, true);
		}
	}
	return NULL;
}

static bool
stress_check(struct stress *t, const struct ring_rec *rec, uint64_t seq)
{
	unsigned char head[sizeof(uint64_t)];
	size_t len, off, n;

	stress_shape(seq, &len, &off);
	if (rec->tag != (uint32_t)seq || rec->len != len) {
		snprintf(t->why, sizeof(t->why), "record %llu: tag %u len %u, want %u len %zu",
		    (unsigned long long)seq, rec->tag, rec->len, (uint32_t)seq, len);
		return false;
	}
	n = len < sizeof(head) ? len : sizeof(head);
	for (size_t i = 0; i < n; i++)
		head[i] = t->pool[off + i] ^ (unsigned char)(seq >> (8 * i));
	if (memcmp(rec->data, head, n) != 0 ||
	    memcmp((const unsigned char *)rec->data + n, t->pool + off + n, len - n) != 0) {
		snprintf(t->why, sizeof(t->why), "record %llu: content differs",
		    (unsigned long long)seq);
		return false;
	}
	return true;
}

static void *
stress_consumer(void *arg)
{
	struct stress *t = arg;
	struct pollfd pfd = { .fd = t->efd, .events = POLLIN };
	uint64_t seq = 0, junk;

	while (seq < STRESS_RECORDS) {
		struct ring_iter it;
		struct ring_rec rec;
		unsigned batch = 0;
		int n;

		ring_iter_begin(t->r, &it);
		while (ring_next(t->r, &it, &rec)) {
			if (!stress_check(t, &rec, seq)) {
				t->bad++;
				atomic_store(&t->abort, true);
				return NULL;
			}
			seq++;
			/* Release in batches, as the writer does. */
			if (++batch == 64) {
				ring_release(t->r, &it);
				ring_iter_begin(t->r, &it);
				batch = 0;
			}
		}
		ring_release(t->r, &it);
		t->consumed = seq;
		if (seq == STRESS_RECORDS)
			break;
		if (atomic_load(&t->abort) || mono_ns() > t->deadline_ns) {
			snprintf(t->why, sizeof(t->why), "consumer gave up at record %llu",
			    (unsigned long long)seq);
			atomic_store(&t->abort, true);
			return NULL;
		}
		/* The sleep protocol, exactly as writer.c's wait_for_work(). */
		if (!ring_prepare_wait(t->r))
			continue;
		t->sleeps++;
		n = poll(&pfd, 1, STRESS_POLL_MS);
		if (n > 0) {
			ssize_t rd = read(t->efd, &junk, sizeof(junk));
			(void)rd;
		} else if (n == 0) {
			t->timeouts++;
			/* Records arrived while we slept and nobody woke us. */
			if (ring_used(t->r) != 0) {
				t->lost_wakeups++;
				snprintf(t->why, sizeof(t->why),
				    "lost wake-up at record %llu", (unsigned long long)seq);
				atomic_store(&t->abort, true);
				break;
			}
		}
		ring_cancel_wait(t->r);
	}
	t->consumed = seq;
	return NULL;
}

static void
test_two_thread_stress(void **state)
{
	struct stress *t = calloc(1, sizeof(*t));
	pthread_t prod, cons;
	uint64_t t0;

	(void)state;
	assert_non_null(t);
	t->pool = pool;
	t->r = new_ring(STRESS_RING);
	t->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(t->efd >= 0);
	t0 = mono_ns();
	t->deadline_ns = t0 + (uint64_t)STRESS_DEADLINE_S * 1000000000u;

	assert_int_equal(pthread_create(&cons, NULL, stress_consumer, t), 0);
	assert_int_equal(pthread_create(&prod, NULL, stress_producer, t), 0);
	assert_int_equal(pthread_join(prod, NULL), 0);
	assert_int_equal(pthread_join(cons, NULL), 0);

	print_message("stress: %llu records in %.2f s; %llu wraps, %llu full spins, "
	    "%llu wakes, %llu sleeps, %llu poll timeouts\n",
	    (unsigned long long)t->consumed, (double)(mono_ns() - t0) / 1e9,
	    (unsigned long long)t->wraps, (unsigned long long)t->full_spins,
	    (unsigned long long)t->wakes, (unsigned long long)t->sleeps,
	    (unsigned long long)t->timeouts);
	if (t->why[0] != '\0')
		print_error("stress: %s\n", t->why);
	assert_int_equal(t->lost_wakeups, 0);
	assert_int_equal(t->bad, 0);
	assert_false(atomic_load(&t->abort));
	assert_int_equal(t->produced, STRESS_RECORDS);
	assert_int_equal(t->consumed, STRESS_RECORDS);
	assert_int_equal(ring_records_in(t->r), STRESS_RECORDS);
	assert_int_equal(ring_records_out(t->r), STRESS_RECORDS);
	assert_int_equal(ring_used(t->r), 0);
	assert_true(t->wraps > 0);

	close(t->efd);
	ring_free(t->r);
	free(t);
}

/* ---- sleep protocol, two threads: the store-buffer litmus ------------- */

/*
 * The lost wake-up the fences in ring_prepare_wait() and ring_wake_needed()
 * exist to prevent: the consumer announces its sleep and finds the ring
 * empty while the producer commits and finds no sleeper. Both threads leave
 * a spin barrier together and race exactly these two steps, many times; the
 * outcome "consumer sleeps, producer does not wake" must never occur. No
 * thread sleeps, so the result does not depend on timing, only its power to
 * catch a broken ordering does.
 */
#ifdef STRESS_TSAN
#define LITMUS_ROUNDS	20000u
#else
#define LITMUS_ROUNDS	300000u
#endif
/* On a loaded machine spin barriers are slow: stop early, pass or fail
 * on the rounds run. */
#define LITMUS_MAX_S	3

struct litmus {
	struct ring	*r;
	_Atomic bool	 failed;	/* the producer could not reserve */
	_Atomic bool	 stop;		/* set by the consumer before the last barrier */
	_Atomic unsigned arrived;
	_Atomic bool	 sleeps;	/* consumer's ring_prepare_wait() */
	_Atomic bool	 wakes;		/* producer's ring_wake_needed() */
	uint64_t	 lost;
};

/* Wait until both threads arrived n times in total. */
static void
litmus_barrier(struct litmus *l, unsigned n)
{
	unsigned spins = 0;

	atomic_fetch_add(&l->arrived, 1);
	while (atomic_load(&l->arrived) < n)
		if (++spins % 1024 == 0)
			sched_yield();
}

/* A short, varying delay, so the two racing steps overlap in every way. */
static void
litmus_skew(unsigned n)
{
	for (volatile unsigned k = n; k > 0; k--)
		;
}

static void *
litmus_producer(void *arg)
{
	struct litmus *l = arg;

	for (unsigned i = 0;; i++) {
		litmus_barrier(l, 6 * i + 2);
		litmus_skew(i * 7 % 61);
		if (ring_reserve(l->r, 8) == NULL)
			atomic_store(&l->failed, true);
		else
			ring_commit(l->r, 8, i);
		atomic_store_explicit(&l->wakes, ring_wake_needed(l->r),
		    memory_order_relaxed);
		litmus_barrier(l, 6 * i + 4);
		litmus_barrier(l, 6 * i + 6);	/* consumer cleans up */
		if (atomic_load(&l->stop))
			break;
	}
	return NULL;
}

static void
test_wakeup_litmus(void **state)
{
	struct litmus *l = calloc(1, sizeof(*l));
	struct ring_iter it;
	struct ring_rec rec;
	pthread_t prod;
	uint64_t wakes = 0, sleeps = 0, deadline = mono_ns() + LITMUS_MAX_S * 1000000000ull;
	unsigned i;

	(void)state;
	assert_non_null(l);
	l->r = new_ring(4096);
	assert_int_equal(pthread_create(&prod, NULL, litmus_producer, l), 0);
	for (i = 0;; i++) {
		bool slept, woken;

		litmus_barrier(l, 6 * i + 2);
		litmus_skew(i * 13 % 59);
		atomic_store_explicit(&l->sleeps, ring_prepare_wait(l->r),
		    memory_order_relaxed);
		litmus_barrier(l, 6 * i + 4);
		slept = atomic_load_explicit(&l->sleeps, memory_order_relaxed);
		woken = atomic_load_explicit(&l->wakes, memory_order_relaxed);
		if (slept && !woken)
			l->lost++;
		sleeps += slept;
		wakes += woken;
		/* A wake without a sleep is allowed (spurious); clean up. */
		ring_cancel_wait(l->r);
		ring_iter_begin(l->r, &it);
		if (!ring_next(l->r, &it, &rec) || rec.tag != i)
			l->lost++;
		ring_release(l->r, &it);
		if (i + 1 == LITMUS_ROUNDS || (i % 1024 == 0 && mono_ns() > deadline))
			atomic_store(&l->stop, true);
		litmus_barrier(l, 6 * i + 6);
		if (atomic_load(&l->stop))
			break;
	}
	assert_int_equal(pthread_join(prod, NULL), 0);
	print_message("litmus: %u rounds, %llu sleeps, %llu wakes, %llu lost\n",
	    i + 1, (unsigned long long)sleeps, (unsigned long long)wakes,
	    (unsigned long long)l->lost);
	assert_false(atomic_load(&l->failed));
	assert_int_equal(l->lost, 0);
	assert_int_equal(ring_used(l->r), 0);
	ring_free(l->r);
	free(l);
}

/*
 * Adoption through the memfd, as a re-executed daemon does it: committed
 * records are there in order and can be consumed, a reservation that was
 * never committed is not, and the new producer continues where the old one
 * stopped. A descriptor that is not a ring of ours is refused.
 */
static void
test_adopt(void **state)
{
	struct ring *a = ring_new(64 * 1024, false), *b;
	struct ring_iter it;
	struct ring_rec rec;
	char text[32];
	void *p;
	int fd, bad;

	(void)state;
	assert_non_null(a);
	assert_int_equal(ring_carried(a), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "record %d", i);
		p = ring_reserve(a, strlen(text));
		assert_non_null(p);
		memcpy(p, text, strlen(text));
		ring_commit(a, strlen(text), 1300 + (uint32_t)i);
	}
	/* Consume the first two, as the old writer would have. */
	ring_iter_begin(a, &it);
	assert_true(ring_next(a, &it, &rec));
	assert_true(ring_next(a, &it, &rec));
	ring_release(a, &it);
	/* The old producer dies in the middle of a record. */
	p = ring_reserve(a, 6);
	assert_non_null(p);
	memcpy(p, "broken", 6);

	fd = dup(ring_fd(a));
	assert_true(fd >= 0);
	b = ring_adopt(fd, false);
	assert_non_null(b);
	assert_int_equal(ring_carried(b), 3);
	assert_int_equal(ring_capacity(b), 64 * 1024);
	assert_int_equal(ring_records_in(b), 5);
	assert_int_equal(ring_records_out(b), 2);
	ring_iter_begin(b, &it);
	for (int i = 2; i < 5; i++) {
		snprintf(text, sizeof(text), "record %d", i);
		assert_true(ring_next(b, &it, &rec));
		assert_int_equal(rec.len, strlen(text));
		assert_memory_equal(rec.data, text, rec.len);
		assert_int_equal(rec.tag, 1300 + (uint32_t)i);
	}
	assert_false(ring_next(b, &it, &rec));
	ring_release(b, &it);
	/* The new producer appends after the old one's last commit. */
	p = ring_reserve(b, 3);
	assert_non_null(p);
	memcpy(p, "new", 3);
	ring_commit(b, 3, 7);
	ring_iter_begin(b, &it);
	assert_true(ring_next(b, &it, &rec));
	assert_int_equal(rec.len, 3);
	assert_memory_equal(rec.data, "new", 3);
	assert_int_equal(ring_used(b), ring_used(a));
	ring_free(b);
	ring_free(a);

	/* Not a ring: wrong size and no magic. */
	bad = memfd_create("not-a-ring", MFD_CLOEXEC);
	assert_true(bad >= 0);
	assert_int_equal(ftruncate(bad, 4096 + 65536), 0);
	errno = 0;
	assert_null(ring_adopt(bad, false));
	assert_int_equal(errno, EINVAL);
	close(bad);
}

/*
 * Adoption of a damaged ring. The header layout is private to ring.c; these
 * offsets follow struct ring_shared (head, records_in on the producer's
 * cache line at 64; tail, records_out on the consumer's at 128), and
 * corrupt_setup() checks them against the public snapshots first.
 */
#define OFF_HEAD	64
#define OFF_IN		72
#define OFF_TAIL	128
#define OFF_OUT		136
#define DATA_OFF	4096

static uint64_t
hdr_get(int fd, off_t off)
{
	uint64_t v;

	assert_int_equal(pread(fd, &v, sizeof(v), off), sizeof(v));
	return v;
}

static void
hdr_put(int fd, off_t off, uint64_t v)
{
	assert_int_equal(pwrite(fd, &v, sizeof(v), off), sizeof(v));
}

/*
 * A 16 KiB ring with 2 released and 5 unreleased records "adopt N" of 100
 * bytes each (112 bytes in the ring); returns a dup of its fd. The
 * unreleased records start at byte 224.
 */
#define ADOPT_LEN	100
static int
corrupt_setup(struct ring **a)
{
	struct ring_iter it;
	struct ring_rec rec;
	char text[ADOPT_LEN];
	int fd;

	*a = ring_new(16 * 1024, false);
	assert_non_null(*a);
	for (int i = 0; i < 7; i++) {
		void *p = ring_reserve(*a, ADOPT_LEN);
		assert_non_null(p);
		memset(text, 'a' + i, sizeof(text));
		memcpy(p, text, ADOPT_LEN);
		ring_commit(*a, ADOPT_LEN, 1300 + (uint32_t)i);
	}
	ring_iter_begin(*a, &it);
	assert_true(ring_next(*a, &it, &rec));
	assert_true(ring_next(*a, &it, &rec));
	ring_release(*a, &it);
	fd = dup(ring_fd(*a));
	assert_true(fd >= 0);
	assert_int_equal(hdr_get(fd, OFF_HEAD), 7 * rec_bytes(ADOPT_LEN));
	assert_int_equal(hdr_get(fd, OFF_TAIL), 2 * rec_bytes(ADOPT_LEN));
	assert_int_equal(hdr_get(fd, OFF_IN), 7);
	assert_int_equal(hdr_get(fd, OFF_OUT), 2);
	return fd;
}

/*
 * The adopted ring holds exactly the records 2 .. 2+kept-1, then accepts,
 * returns and releases a new record, and its counts agree with what it
 * holds (records_in - records_out = records there).
 */
static void
check_adopted(struct ring *b, uint64_t kept, uint64_t lost)
{
	struct ring_iter it;
	struct ring_rec rec;
	void *p;

	assert_int_equal(ring_carried(b), kept);
	assert_int_equal(ring_adopt_lost(b), lost);
	assert_int_equal(ring_records_in(b) - ring_records_out(b), kept);
	assert_true(ring_used(b) <= ring_capacity(b));
	ring_iter_begin(b, &it);
	for (uint64_t i = 0; i < kept; i++) {
		assert_true(ring_next(b, &it, &rec));
		assert_int_equal(rec.len, ADOPT_LEN);
		assert_int_equal(rec.tag, 1302 + i);
		assert_int_equal(((const unsigned char *)rec.data)[0], 'c' + i);
	}
	assert_false(ring_next(b, &it, &rec));
	ring_release(b, &it);
	assert_int_equal(ring_used(b), 0);
	/* The producer goes on: the ring is whole again. */
	for (int i = 0; i < 200; i++) {
		p = ring_reserve(b, ADOPT_LEN);
		assert_non_null(p);
		memset(p, 'z', ADOPT_LEN);
		ring_commit(b, ADOPT_LEN, 9);
		ring_iter_begin(b, &it);
		assert_true(ring_next(b, &it, &rec));
		assert_int_equal(rec.len, ADOPT_LEN);
		assert_int_equal(rec.tag, 9);
		assert_false(ring_next(b, &it, &rec));
		ring_release(b, &it);
	}
	assert_int_equal(ring_records_in(b) - ring_records_out(b), 0);
}

static struct ring *
adopt_ok(int fd)
{
	struct ring *b = ring_adopt(fd, false);

	assert_non_null(b);
	return b;
}

static void
test_adopt_intact(void **state)
{
	struct ring *a, *b;
	int fd = corrupt_setup(&a);

	(void)state;
	b = adopt_ok(fd);
	check_adopted(b, 5, 0);
	ring_free(b);
	ring_free(a);
}

static void
test_adopt_corrupt_length(void **state)
{
	struct ring *a, *b;
	int fd = corrupt_setup(&a);
	uint32_t huge = 0x80000000u;

	(void)state;
	/* The length word of the fourth unreleased record (index 5). */
	assert_int_equal(pwrite(fd, &huge, sizeof(huge),
	    DATA_OFF + 5 * (off_t)rec_bytes(ADOPT_LEN)), sizeof(huge));
	b = adopt_ok(fd);
	check_adopted(b, 3, 2);
	ring_free(b);
	ring_free(a);
}

static void
test_adopt_length_past_head(void **state)
{
	struct ring *a, *b;
	int fd = corrupt_setup(&a);
	uint32_t len = ADOPT_LEN + 64;

	(void)state;
	/* The last record claims more bytes than lie before head. */
	assert_int_equal(pwrite(fd, &len, sizeof(len),
	    DATA_OFF + 6 * (off_t)rec_bytes(ADOPT_LEN)), sizeof(len));
	b = adopt_ok(fd);
	check_adopted(b, 4, 1);
	ring_free(b);
	ring_free(a);
}

static void
test_adopt_head_mid_record(void **state)
{
	struct ring *a, *b;
	int fd = corrupt_setup(&a);

	(void)state;
	/* head points (aligned) into the middle of the last record. */
	hdr_put(fd, OFF_HEAD, 6 * rec_bytes(ADOPT_LEN) + 48);
	b = adopt_ok(fd);
	check_adopted(b, 4, 1);
	ring_free(b);
	ring_free(a);
}

static void
test_adopt_misaligned(void **state)
{
	struct ring *a, *b;
	int fd = corrupt_setup(&a);

	(void)state;
	hdr_put(fd, OFF_TAIL, 2 * rec_bytes(ADOPT_LEN) + 3);
	b = adopt_ok(fd);
	check_adopted(b, 0, 5);
	ring_free(b);
	ring_free(a);

	fd = corrupt_setup(&a);
	hdr_put(fd, OFF_HEAD, 7 * rec_bytes(ADOPT_LEN) - 4);
	b = adopt_ok(fd);
	check_adopted(b, 4, 1);
	ring_free(b);
	ring_free(a);
}

static void
test_adopt_bad_indices_and_counts(void **state)
{
	struct ring *a, *b;
	int fd;

	(void)state;
	/* head more than a capacity ahead of tail: nothing can be trusted. */
	fd = corrupt_setup(&a);
	hdr_put(fd, OFF_HEAD, 7 * rec_bytes(ADOPT_LEN) + 32 * 1024);
	b = adopt_ok(fd);
	check_adopted(b, 0, 5);
	ring_free(b);
	ring_free(a);

	/* The chain is whole but the counts claim two more records. */
	fd = corrupt_setup(&a);
	hdr_put(fd, OFF_IN, 9);
	b = adopt_ok(fd);
	check_adopted(b, 5, 2);
	ring_free(b);
	ring_free(a);

	/* More records out than in: the chain decides, nothing is claimed. */
	fd = corrupt_setup(&a);
	hdr_put(fd, OFF_OUT, 100);
	b = adopt_ok(fd);
	check_adopted(b, 5, 0);
	ring_free(b);
	ring_free(a);
}

static void
test_count_tags(void **state)
{
	struct ring *a, *b;
	int fd = corrupt_setup(&a);

	(void)state;
	b = adopt_ok(fd);
	assert_int_equal(ring_count_tags(b, 1304), 3);
	assert_int_equal(ring_count_tags(b, 0), 5);
	assert_int_equal(ring_count_tags(b, 0xffff0000u), 0);
	/* Counting releases nothing. */
	assert_int_equal(ring_carried(b), 5);
	check_adopted(b, 5, 0);
	ring_free(b);
	ring_free(a);
}

static void
count_room(void *arg)
{
	(*(unsigned *)arg)++;
}

/* The producer's wait for room: the callback fires once, on the edge. */
static void
test_wait_room(void **state)
{
	struct ring *r = ring_new(64 * 1024, false);
	unsigned rooms = 0;
	struct ring_iter it;
	struct ring_rec rec;
	uint64_t n = 0;
	void *p;

	(void)state;
	assert_non_null(r);
	ring_set_room_cb(r, count_room, &rooms);
	/* Room there already: do not wait, no callback. */
	assert_false(ring_wait_room(r, 8 * 1024));
	assert_int_equal(rooms, 0);
	while ((p = ring_reserve(r, 1000)) != NULL) {
		ring_commit(r, 1000, 1);
		n++;
	}
	assert_true(ring_wait_room(r, 8 * 1024));
	/* A release that frees too little does not call back... */
	ring_iter_begin(r, &it);
	assert_true(ring_next(r, &it, &rec));
	ring_release(r, &it);
	assert_int_equal(rooms, 0);
	/* ...one that frees enough does, once. */
	for (int i = 0; i < 8; i++) {
		ring_iter_begin(r, &it);
		assert_true(ring_next(r, &it, &rec));
		ring_release(r, &it);
	}
	assert_int_equal(rooms, 1);
	ring_iter_begin(r, &it);
	assert_true(ring_next(r, &it, &rec));
	ring_release(r, &it);
	assert_int_equal(rooms, 1);
	/* Withdrawn: no callback. */
	while ((p = ring_reserve(r, 1000)) != NULL)
		ring_commit(r, 1000, 1);
	assert_true(ring_wait_room(r, 8 * 1024));
	ring_cancel_room(r);
	ring_iter_begin(r, &it);
	while (ring_next(r, &it, &rec))
		;
	ring_release(r, &it);
	assert_int_equal(rooms, 1);
	/* More than the capacity is capped: an empty ring is room enough. */
	assert_false(ring_wait_room(r, 1 << 30));
	assert_true(n > 0);
	ring_free(r);
}

/*
 * Two threads: a producer that stops when the ring is full and sleeps on
 * an eventfd until the room callback writes it, a consumer that releases
 * records one at a time. A lost wake-up fails the poll timeout instead of
 * hanging; every record arrives in order.
 */
struct room_stress {
	struct ring	*r;
	int		 efd;
	uint64_t	 total;
	_Atomic bool	 failed;
};

static void
room_wake(void *arg)
{
	struct room_stress *rs = arg;
	uint64_t one = 1;

	if (write(rs->efd, &one, sizeof(one)) != sizeof(one))
		atomic_store(&rs->failed, true);
}

static void *
room_producer(void *arg)
{
	struct room_stress *rs = arg;

	for (uint64_t seq = 0; seq < rs->total && !atomic_load(&rs->failed); ) {
		uint64_t *p = ring_reserve(rs->r, 200);

		if (p != NULL) {
			*p = seq++;
			ring_commit(rs->r, 200, 1);
			continue;
		}
		if (ring_wait_room(rs->r, 4096)) {
			struct pollfd pfd = { .fd = rs->efd, .events = POLLIN };
			uint64_t v;

			if (poll(&pfd, 1, 5000) != 1) {
				atomic_store(&rs->failed, true);
				break;
			}
			if (read(rs->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				atomic_store(&rs->failed, true);
		}
	}
	return NULL;
}

static void
test_wait_room_two_threads(void **state)
{
	struct room_stress rs = { .total = 200000 };
	struct ring_iter it;
	struct ring_rec rec;
	pthread_t t;
	uint64_t want = 0;
	time_t give_up = time(NULL) + 60;

	(void)state;
	rs.r = ring_new(16 * 1024, false);
	assert_non_null(rs.r);
	rs.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(rs.efd >= 0);
	ring_set_room_cb(rs.r, room_wake, &rs);
	assert_int_equal(pthread_create(&t, NULL, room_producer, &rs), 0);
	while (want < rs.total && !atomic_load(&rs.failed) && time(NULL) < give_up) {
		ring_iter_begin(rs.r, &it);
		if (!ring_next(rs.r, &it, &rec)) {
			sched_yield();
			continue;
		}
		assert_int_equal(*(const uint64_t *)rec.data, want);
		want++;
		ring_release(rs.r, &it);
	}
	atomic_store(&rs.failed, atomic_load(&rs.failed) || want < rs.total);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_false(atomic_load(&rs.failed));
	assert_int_equal(want, rs.total);
	close(rs.efd);
	ring_free(rs.r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_rejects_bad_sizes),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_unreleased_is_reread),
		cmocka_unit_test(test_wrap_with_pad),
		cmocka_unit_test(test_wrap_exact_fit),
		cmocka_unit_test(test_wrap_many_times),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_high_water),
		cmocka_unit_test(test_prepare_wait),
		cmocka_unit_test(test_wake_needed),
		cmocka_unit_test(test_random_small),
		cmocka_unit_test(test_random_large),
		cmocka_unit_test(test_wakeup_litmus),
		cmocka_unit_test(test_two_thread_stress),
		cmocka_unit_test(test_adopt),
		cmocka_unit_test(test_adopt_intact),
		cmocka_unit_test(test_adopt_corrupt_length),
		cmocka_unit_test(test_adopt_length_past_head),
		cmocka_unit_test(test_adopt_head_mid_record),
		cmocka_unit_test(test_adopt_misaligned),
		cmocka_unit_test(test_adopt_bad_indices_and_counts),
		cmocka_unit_test(test_count_tags),
		cmocka_unit_test(test_wait_room),
		cmocka_unit_test(test_wait_room_two_threads),
	};

	pool_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
