/*
 * ring.h - single-producer single-consumer ring of length-prefixed records.
 *
 * DESIGN
 * The ring is the only structure the main thread (producer) and the writer
 * thread (consumer) touch per record. It is a fixed power-of-two byte buffer
 * allocated once by ring_new() and never resized. Indices run free (64-bit,
 * never wrap in practice) and are compared only by difference.
 *
 * Ownership (head, tail and the counts live in the memfd's header page):
 *   head, records_in, high_water, reservation  written by the producer only
 *   tail, records_out                          written by the consumer only
 *   waiting                                    set by the consumer, cleared
 *                                              by either (see ring_wake_needed)
 *   room_wait                                  set by the producer, cleared
 *                                              by either (see ring_wait_room)
 * Every other thread may read the counters through the ring_*_count() and
 * ring_used() snapshots.
 *
 * A record never wraps around the end of the buffer: when it does not fit
 * in the bytes left before the end, the producer writes a pad marker there
 * and places the record at the start. Records are 8-byte aligned, so a
 * record's payload can be read in place by the consumer.
 *
 * Neither side blocks, allocates or makes a system call in this module. The
 * consumer may sleep on an eventfd of its own, and uses ring_prepare_wait()
 * and ring_wake_needed() to make sure a wake-up is never lost; a producer
 * that waits for room uses ring_wait_room() and the room callback the same
 * way in the other direction.
 */
#ifndef RAUDITD_RING_H
#define RAUDITD_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ring;

/* The bytes one record occupies besides its payload (the length prefix). */
#define RING_RECORD_OVERHEAD	8

/*
 * Allocate a ring of capacity bytes (a power of two, at least 4096). The
 * memory is prefaulted so the producer never takes a page fault on first
 * touch; with lock, it is also mlock()ed. Returns NULL with errno set.
 * Call before any thread uses it.
 */
struct ring *ring_new(size_t capacity, bool lock);

/*
 * The ring lives in a memfd (header page with the indices, then the data),
 * so another process can adopt it: ring_fd() is the descriptor to hand over
 * (close-on-exec is set; clear it to pass it across execve). ring_adopt()
 * maps a ring handed over that way, checks its magic and version, and
 * walks the whole chain of records from tail: it keeps the committed
 * records that lead from tail exactly to head (a reservation the old
 * producer never committed is not there) and continues after them. When a
 * length word, an index or the record counts do not agree, it keeps the
 * valid records before the first inconsistency, drops the rest and starts
 * clean after them; ring_adopt_lost() then tells how many records the old
 * counts claimed beyond those kept. NULL with errno set (EINVAL: not a
 * ring of ours). The ring owns fd after.
 */
int ring_fd(const struct ring *r);
struct ring *ring_adopt(int fd, bool lock);

/*
 * A few bytes the owner keeps in the ring's header for whoever adopts it
 * (rauditd: the kernel state to restore at stop). Not for the hot path.
 */
#define RING_NOTE_MAX	256
int ring_set_note(struct ring *r, const void *note, size_t len);
size_t ring_get_note(const struct ring *r, void *buf, size_t cap);

/*
 * Consumer: a note on the batch being written right now, kept in the shared
 * header so that an adopter after a crash can tell how much of it reached
 * the disk (see writer_settle_inflight). Its words are the consumer's and
 * opaque to the ring. Not for the producer.
 */
struct ring_inflight {
	uint64_t	word[4];
};
void ring_set_inflight(struct ring *r, const struct ring_inflight *in);
void ring_clear_inflight(struct ring *r);
bool ring_get_inflight(const struct ring *r, struct ring_inflight *in);

/* Consumer: release the n oldest records unread (already on disk). */
uint64_t ring_skip(struct ring *r, uint64_t n);

/* Records that were in the ring when it was adopted (0 for a new one). */
uint64_t ring_carried(const struct ring *r);

/* Records an adopted ring claimed but that did not validate (0 if none). */
uint64_t ring_adopt_lost(const struct ring *r);

/*
 * The number of unreleased records whose tag is at least min_tag. It walks
 * the ring from tail as the consumer does, so only before the consumer
 * thread starts (the producer uses it on an adopted ring).
 */
uint64_t ring_count_tags(struct ring *r, uint32_t min_tag);

/* Release the ring. Only when neither thread uses it any more. */
void ring_free(struct ring *r);

/* Capacity in bytes, and the largest payload a record may carry. */
size_t ring_capacity(const struct ring *r);
size_t ring_max_payload(const struct ring *r);

/*
 * Producer: return a pointer to len contiguous writable bytes for the next
 * record, or NULL when the ring has no room (the caller drops and counts).
 * Nothing is visible to the consumer until ring_commit().
 */
void *ring_reserve(struct ring *r, size_t len);

/*
 * Producer: publish the reserved record with its final length (at most the
 * reserved length) and a caller-defined tag.
 */
void ring_commit(struct ring *r, size_t len, uint32_t tag);

/*
 * Producer, once per batch of commits: true when the consumer announced it
 * is about to sleep and must be woken (the caller writes its eventfd). This
 * is the empty->non-empty edge; otherwise no system call is needed.
 */
bool ring_wake_needed(struct ring *r);

/* Producer, once per batch: update the high-water mark. */
void ring_note_high_water(struct ring *r);

struct ring_rec {
	const void	*data;
	uint32_t	 len;
	uint32_t	 tag;
};

/* A consumer's read position; starts at ring_iter_begin(). */
struct ring_iter {
	uint64_t	pos;
	uint64_t	head;		/* cached producer index */
	uint64_t	count;		/* records returned since begin */
};

/* Consumer: start iterating at the oldest unreleased record. */
void ring_iter_begin(struct ring *r, struct ring_iter *it);

/*
 * Consumer: return the next committed record after it, without releasing
 * it. false when there is none (yet). The data stays valid until released.
 */
bool ring_next(struct ring *r, struct ring_iter *it, struct ring_rec *out);

/* Consumer: free everything up to the iterator; counts it->count records. */
void ring_release(struct ring *r, const struct ring_iter *it);

/*
 * Consumer sleep protocol: call ring_prepare_wait(); if it returns true the
 * ring is still empty and the consumer may block on its eventfd (the
 * producer will see the flag and wake it). If false, a record arrived:
 * do not sleep.
 */
bool ring_prepare_wait(struct ring *r);
void ring_cancel_wait(struct ring *r);

/*
 * The producer's side of the same protocol, for a producer that stops
 * rather than drops when the ring is full: ring_wait_room(r, bytes)
 * announces that it waits for at least bytes free (capped at the capacity)
 * and returns true, or returns false when they are free already (do not
 * wait). The consumer's ring_release() that frees enough then calls
 * fn(arg) once, on the consumer's thread; fn must be safe to call from
 * there (rauditd: ev_async_send). ring_cancel_room() withdraws the wait.
 * Set the callback before either thread uses the ring.
 */
void ring_set_room_cb(struct ring *r, void (*fn)(void *), void *arg);
bool ring_wait_room(struct ring *r, size_t bytes);
void ring_cancel_room(struct ring *r);

/* Snapshots, any thread. */
size_t ring_used(const struct ring *r);
size_t ring_high_water(const struct ring *r);
uint64_t ring_records_in(const struct ring *r);
uint64_t ring_records_out(const struct ring *r);

#endif
