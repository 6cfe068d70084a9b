/*
 * ring.c - this file implements the lock-free SPSC record ring declared in
 * ring.h; see the DESIGN block there for ownership and layout.
 */
#include "build_config.h"

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring.h"

/* Separate cache lines for each side's hot fields (false sharing). */
#define RING_CACHELINE	64
/* Length value of a pad marker: "skip to the start of the buffer". */
#define RING_PAD	UINT32_MAX

struct ring_hdr {
	uint32_t	len;
	uint32_t	tag;
};

/*
 * The ring's memory is a memfd: one header page, then the data. Everything
 * another process needs to adopt the ring (indices, counts) is in the
 * header; what only this process needs (caches, the reservation, the sleep
 * flag) is in struct ring.
 */
#define RING_MAGIC	0x474e495244554152ULL	/* "RAUDRING", little-endian */
#define RING_VERSION	1
#define RING_HDR_SIZE	4096

struct ring_shared {
	uint64_t	 magic;
	uint32_t	 version;
	uint32_t	 hdr_size;
	uint64_t	 capacity;

	/* Producer side. */
	alignas(RING_CACHELINE) _Atomic uint64_t head;
	_Atomic uint64_t records_in;
	_Atomic uint64_t high_water;

	/* Consumer side. */
	alignas(RING_CACHELINE) _Atomic uint64_t tail;
	_Atomic uint64_t records_out;

	/* Consumer side: the batch being written (ring_set_inflight). */
	alignas(RING_CACHELINE) uint64_t inflight_valid;
	struct ring_inflight inflight;

	/* The owner's notes for whoever adopts the ring (ring_set_note). */
	alignas(RING_CACHELINE) uint32_t note_len;
	unsigned char	 note[RING_NOTE_MAX];
};

struct ring {
	/* Read-mostly, set by ring_new() or ring_adopt(). */
	struct ring_shared *sh;
	unsigned char	*buf;
	size_t		 cap;
	size_t		 mask;
	size_t		 map_len;
	int		 fd;
	bool		 locked;
	uint64_t	 carried;	/* records found in an adopted ring */
	uint64_t	 adopt_lost;	/* records it claimed that did not validate */

	/* Producer side, this process only. */
	alignas(RING_CACHELINE) uint64_t tail_cache;
	uint64_t	 res_pos;	/* reserved record's header position */
	uint64_t	 res_pad;	/* pad bytes before it (0 = none) */
	size_t		 res_len;

	/* Shared flag, its own line: 1 while the consumer is going to sleep. */
	alignas(RING_CACHELINE) _Atomic int waiting;

	/*
	 * Shared, its own line: the free bytes the producer waits for (0 = it
	 * does not wait), set by the producer, cleared by either side (see
	 * ring_wait_room). room_fn and room_arg are set before threads start.
	 */
	alignas(RING_CACHELINE) _Atomic uint64_t room_wait;
	void		(*room_fn)(void *);
	void		*room_arg;
};

_Static_assert(sizeof(struct ring_shared) <= RING_HDR_SIZE, "ring header exceeds its page");

static size_t
rec_size(size_t len)
{
	return RING_RECORD_OVERHEAD + ((len + 7) & ~(size_t)7);
}

static struct ring *
ring_alloc(void)
{
	struct ring *r;
	void *p;

	if (posix_memalign(&p, RING_CACHELINE, sizeof(*r)) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	r = p;
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	atomic_init(&r->waiting, 0);
	atomic_init(&r->room_wait, 0);
	return r;
}

/* Map fd (header + capacity bytes) and lock it if asked. */
static int
ring_map(struct ring *r, int fd, size_t capacity, bool lock)
{
	void *m;

	r->map_len = RING_HDR_SIZE + capacity;
	m = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	if (lock && mlock(m, r->map_len) < 0) {
		int e = errno;
		munmap(m, r->map_len);
		return -e;
	}
	r->locked = lock;
	r->sh = m;
	r->buf = (unsigned char *)m + RING_HDR_SIZE;
	r->cap = capacity;
	r->mask = capacity - 1;
	r->fd = fd;
	return 0;
}

struct ring *
ring_new(size_t capacity, bool lock)
{
	struct ring *r;
	int fd, rc;

	if (capacity < 4096 || (capacity & (capacity - 1)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((r = ring_alloc()) == NULL)
		return NULL;
	fd = memfd_create("rauditd-ring", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)(RING_HDR_SIZE + capacity)) < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = ring_map(r, fd, capacity, lock)) < 0)
		goto fail;
	r->sh->magic = RING_MAGIC;
	r->sh->version = RING_VERSION;
	r->sh->hdr_size = RING_HDR_SIZE;
	r->sh->capacity = capacity;
	atomic_init(&r->sh->head, 0);
	atomic_init(&r->sh->tail, 0);
	atomic_init(&r->sh->records_in, 0);
	atomic_init(&r->sh->records_out, 0);
	atomic_init(&r->sh->high_water, 0);
	return r;
fail:
	if (fd >= 0)
		close(fd);
	free(r);
	errno = -rc;
	return NULL;
}

/*
 * Walk the records from tail and return the position where the chain of
 * valid records ends: head when every length word leads from one record to
 * the next and exactly to head, else the end of the last valid record. A
 * record is valid when it starts 8-byte aligned, its length is one the
 * producer could have written, and it lies inside the contiguous bytes
 * before the end of the buffer and before head. *n receives the number of
 * valid records.
 */
static uint64_t
ring_validate(const struct ring *r, uint64_t tail, uint64_t head, uint64_t *n)
{
	uint64_t pos = tail;

	*n = 0;
	if ((tail & 7) != 0 || head - tail > r->cap)
		return tail;
	while (pos != head) {
		const struct ring_hdr *h = (const struct ring_hdr *)(r->buf + (size_t)(pos & r->mask));
		size_t contig = r->cap - (size_t)(pos & r->mask);
		uint64_t next;

		if (head - pos < RING_RECORD_OVERHEAD)
			break;
		if (h->len == RING_PAD) {
			/* A pad is written only where a record did not fit. */
			next = pos + contig;
		} else {
			if (h->len > ring_max_payload(r) || rec_size(h->len) > contig)
				break;
			next = pos + rec_size(h->len);
		}
		if (next - tail > head - tail)
			break;
		if (h->len != RING_PAD)
			(*n)++;
		pos = next;
	}
	return pos;
}

struct ring *
ring_adopt(int fd, bool lock)
{
	struct ring_shared hdr;
	struct ring *r;
	struct stat st;
	uint64_t head, tail, in, out, end, valid;
	int rc;

	if (fstat(fd, &st) < 0)
		return NULL;
	if (pread(fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
		errno = EINVAL;
		return NULL;
	}
	/* Only a ring of ours, of this layout and of a sane size. */
	if (hdr.magic != RING_MAGIC || hdr.version != RING_VERSION ||
	    hdr.hdr_size != RING_HDR_SIZE || hdr.capacity < 4096 ||
	    (hdr.capacity & (hdr.capacity - 1)) != 0 ||
	    (uint64_t)st.st_size != RING_HDR_SIZE + hdr.capacity) {
		errno = EINVAL;
		return NULL;
	}
	if ((r = ring_alloc()) == NULL)
		return NULL;
	if ((rc = ring_map(r, fd, (size_t)hdr.capacity, lock)) < 0) {
		free(r);
		errno = -rc;
		return NULL;
	}
	/*
	 * A reservation the old producer never committed is simply not there:
	 * head is only moved by a commit. The rest is trusted only as far as
	 * the chain of lengths leads from tail to head: one corrupt length word
	 * would otherwise hand the consumer a record reaching past head and
	 * leave the indices crossed for good. What does not validate is cut
	 * off, counted as lost (the old counts said how many records there
	 * were), and the producer continues cleanly after the last valid one.
	 */
	head = atomic_load(&r->sh->head);
	tail = atomic_load(&r->sh->tail);
	in = atomic_load(&r->sh->records_in);
	out = atomic_load(&r->sh->records_out);
	end = ring_validate(r, tail, head, &valid);
	if (end != head || in - out != valid || in < out) {
		if ((tail & 7) != 0)
			end = tail = (tail + 7) & ~(uint64_t)7;
		r->adopt_lost = in >= out && in - out > valid ? in - out - valid : 0;
		atomic_store(&r->sh->tail, tail);
		atomic_store(&r->sh->head, end);
		atomic_store(&r->sh->records_in, out + valid);
		if (atomic_load(&r->sh->high_water) > r->cap)
			atomic_store(&r->sh->high_water, end - tail);
	}
	r->tail_cache = tail;
	r->carried = valid;
	return r;
}

uint64_t
ring_adopt_lost(const struct ring *r)
{
	return r->adopt_lost;
}

uint64_t
ring_count_tags(struct ring *r, uint32_t min_tag)
{
	struct ring_iter it;
	struct ring_rec rec;
	uint64_t n = 0;

	ring_iter_begin(r, &it);
	while (ring_next(r, &it, &rec))
		if (rec.tag >= min_tag)
			n++;
	return n;
}

int
ring_set_note(struct ring *r, const void *note, size_t len)
{
	if (len > RING_NOTE_MAX)
		return -EMSGSIZE;
	memcpy(r->sh->note, note, len);
	r->sh->note_len = (uint32_t)len;
	return 0;
}

size_t
ring_get_note(const struct ring *r, void *buf, size_t cap)
{
	size_t len = r->sh->note_len > RING_NOTE_MAX ? 0 : r->sh->note_len;

	if (len > cap)
		len = cap;
	memcpy(buf, r->sh->note, len);
	return len;
}

void
ring_set_inflight(struct ring *r, const struct ring_inflight *in)
{
	r->sh->inflight = *in;
	r->sh->inflight_valid = 1;
}

void
ring_clear_inflight(struct ring *r)
{
	r->sh->inflight_valid = 0;
}

bool
ring_get_inflight(const struct ring *r, struct ring_inflight *in)
{
	if (!r->sh->inflight_valid)
		return false;
	*in = r->sh->inflight;
	return true;
}

uint64_t
ring_skip(struct ring *r, uint64_t n)
{
	struct ring_iter it;
	struct ring_rec rec;

	ring_iter_begin(r, &it);
	while (it.count < n && ring_next(r, &it, &rec))
		;
	ring_release(r, &it);
	return it.count;
}

int
ring_fd(const struct ring *r)
{
	return r->fd;
}

uint64_t
ring_carried(const struct ring *r)
{
	return r->carried;
}

void
ring_free(struct ring *r)
{
	if (r == NULL)
		return;
	if (r->locked)
		munlock(r->sh, r->map_len);
	munmap(r->sh, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

size_t
ring_capacity(const struct ring *r)
{
	return r->cap;
}

size_t
ring_max_payload(const struct ring *r)
{
	/* A quarter of the ring, so one record can never starve the rest. */
	return r->cap / 4 - RING_RECORD_OVERHEAD;
}

void *
ring_reserve(struct ring *r, size_t len)
{
	/* relaxed: head is written only by this thread. */
	uint64_t head = atomic_load_explicit(&r->sh->head, memory_order_relaxed);
	size_t need, off, contig;
	uint64_t pad;

	if (len > ring_max_payload(r))
		return NULL;
	need = rec_size(len);
	off = (size_t)(head & r->mask);
	contig = r->cap - off;
	pad = contig < need ? contig : 0;

	if (head + pad + need - r->tail_cache > r->cap) {
		/* acquire: pairs with the release in ring_release(), so the
		 * consumer is done reading the bytes we are about to reuse. */
		r->tail_cache = atomic_load_explicit(&r->sh->tail, memory_order_acquire);
		if (head + pad + need - r->tail_cache > r->cap)
			return NULL;
	}
	r->res_pos = head + pad;
	r->res_pad = pad;
	r->res_len = len;
	return r->buf + (size_t)(r->res_pos & r->mask) + RING_RECORD_OVERHEAD;
}

void
ring_commit(struct ring *r, size_t len, uint32_t tag)
{
	struct ring_hdr *h;
	uint64_t head;

	if (len > r->res_len)
		len = r->res_len;
	if (r->res_pad) {
		h = (struct ring_hdr *)(r->buf + (size_t)((r->res_pos - r->res_pad) & r->mask));
		h->len = RING_PAD;
		h->tag = 0;
	}
	h = (struct ring_hdr *)(r->buf + (size_t)(r->res_pos & r->mask));
	h->len = (uint32_t)len;
	h->tag = tag;
	head = r->res_pos + rec_size(len);
	r->res_pad = 0;
	r->res_len = 0;
	atomic_fetch_add_explicit(&r->sh->records_in, 1, memory_order_relaxed);
	/* release: publishes the header and payload; pairs with the acquire
	 * in ring_next(). */
	atomic_store_explicit(&r->sh->head, head, memory_order_release);
}

bool
ring_wake_needed(struct ring *r)
{
	/*
	 * seq_cst fence: orders our head store before the load of waiting.
	 * Pairs with the fence in ring_prepare_wait(): either the consumer
	 * sees the new head and does not sleep, or we see waiting == 1.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&r->waiting, memory_order_relaxed) == 0)
		return false;
	return atomic_exchange_explicit(&r->waiting, 0, memory_order_relaxed) != 0;
}

void
ring_note_high_water(struct ring *r)
{
	size_t used = ring_used(r);

	if (used > atomic_load_explicit(&r->sh->high_water, memory_order_relaxed))
		atomic_store_explicit(&r->sh->high_water, used, memory_order_relaxed);
}

void
ring_iter_begin(struct ring *r, struct ring_iter *it)
{
	it->pos = atomic_load_explicit(&r->sh->tail, memory_order_relaxed);
	it->head = it->pos;
	it->count = 0;
}

bool
ring_next(struct ring *r, struct ring_iter *it, struct ring_rec *out)
{
	const struct ring_hdr *h;

	for (;;) {
		if (it->pos == it->head) {
			/* acquire: pairs with the release in ring_commit(). */
			it->head = atomic_load_explicit(&r->sh->head, memory_order_acquire);
			if (it->pos == it->head)
				return false;
		}
		h = (const struct ring_hdr *)(r->buf + (size_t)(it->pos & r->mask));
		if (h->len == RING_PAD) {
			it->pos += r->cap - (size_t)(it->pos & r->mask);
			continue;
		}
		out->data = (const unsigned char *)h + RING_RECORD_OVERHEAD;
		out->len = h->len;
		out->tag = h->tag;
		it->pos += rec_size(h->len);
		it->count++;
		return true;
	}
}

void
ring_release(struct ring *r, const struct ring_iter *it)
{
	uint64_t want;

	atomic_fetch_add_explicit(&r->sh->records_out, it->count, memory_order_relaxed);
	/* release: we are done with the bytes; pairs with the acquire in
	 * ring_reserve(). */
	atomic_store_explicit(&r->sh->tail, it->pos, memory_order_release);
	/*
	 * seq_cst fence: orders the tail store before the load of room_wait.
	 * Pairs with the fence in ring_wait_room(): either the producer sees
	 * the new tail and does not wait, or we see what it waits for.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	want = atomic_load_explicit(&r->room_wait, memory_order_relaxed);
	if (want == 0 || r->cap - ring_used(r) < want)
		return;
	/* acquire: pairs with the release in ring_wait_room(), so room_fn,
	 * set before the first wait, is seen. */
	if (atomic_exchange_explicit(&r->room_wait, 0, memory_order_acquire) != 0 &&
	    r->room_fn != NULL)
		r->room_fn(r->room_arg);
}

void
ring_set_room_cb(struct ring *r, void (*fn)(void *), void *arg)
{
	r->room_fn = fn;
	r->room_arg = arg;
}

bool
ring_wait_room(struct ring *r, size_t bytes)
{
	if (bytes > r->cap)
		bytes = r->cap;
	/* release: publishes room_fn; pairs with the acquire in ring_release(). */
	atomic_store_explicit(&r->room_wait, bytes, memory_order_release);
	/* seq_cst fence: pairs with the one in ring_release(). */
	atomic_thread_fence(memory_order_seq_cst);
	if (r->cap - ring_used(r) < bytes)
		return true;
	/* The room is there already. Whoever clears the flag first owns the
	 * wake-up; a consumer that beat us to it has called room_fn once
	 * more than needed, which is harmless. */
	atomic_store_explicit(&r->room_wait, 0, memory_order_relaxed);
	return false;
}

void
ring_cancel_room(struct ring *r)
{
	atomic_store_explicit(&r->room_wait, 0, memory_order_relaxed);
}

bool
ring_prepare_wait(struct ring *r)
{
	uint64_t head, tail;

	atomic_store_explicit(&r->waiting, 1, memory_order_relaxed);
	/* seq_cst fence: pairs with the one in ring_wake_needed(). */
	atomic_thread_fence(memory_order_seq_cst);
	head = atomic_load_explicit(&r->sh->head, memory_order_acquire);
	tail = atomic_load_explicit(&r->sh->tail, memory_order_relaxed);
	if (head != tail) {
		atomic_store_explicit(&r->waiting, 0, memory_order_relaxed);
		return false;
	}
	return true;
}

void
ring_cancel_wait(struct ring *r)
{
	atomic_store_explicit(&r->waiting, 0, memory_order_relaxed);
}

size_t
ring_used(const struct ring *r)
{
	/* Load tail first: head only grows, so the difference never goes
	 * negative even when both move between the loads. */
	uint64_t tail = atomic_load_explicit(&r->sh->tail, memory_order_acquire);
	uint64_t head = atomic_load_explicit(&r->sh->head, memory_order_acquire);

	return (size_t)(head - tail);
}

size_t
ring_high_water(const struct ring *r)
{
	return atomic_load_explicit(&r->sh->high_water, memory_order_relaxed);
}

uint64_t
ring_records_in(const struct ring *r)
{
	return atomic_load_explicit(&r->sh->records_in, memory_order_relaxed);
}

uint64_t
ring_records_out(const struct ring *r)
{
	return atomic_load_explicit(&r->sh->records_out, memory_order_relaxed);
}
