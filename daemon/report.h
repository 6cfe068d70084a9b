/*
 * report.h - the daemon's counters as text: the control socket's status
 * ("name value" lines), the state report file and the Prometheus textfile.
 *
 * Reads snapshots only (relaxed counters, the writer's and the monitor's
 * sequence counts), so it may run on the main thread at any time. The
 * accounting identity received + carried_ring = written + dropped + in_ring
 * (carried_ring: records an in-place upgrade found in the ring) holds in every
 * report: the writer's half is read under its sequence count and the
 * receive path's half belongs to the calling (main) thread.
 */
#ifndef RAUDITD_REPORT_H
#define RAUDITD_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct config;
struct rx_stats;
struct writer_stats;
struct writer;
struct ring;
struct monitor;
struct control;

struct report_src {
	const struct config		*cfg;
	const struct rx_stats		*rx;
	const struct writer_stats	*ws;
	const struct writer		*writer;
	const struct ring		*ring;
	const struct monitor		*monitor;	/* NULL without a kernel */
	const struct control		*control;	/* NULL if not listening */
	time_t				 start_time;
	const char			*state;		/* "running", "stopping" */
	uint64_t			 pending_loss;	/* lost, no marker yet */
	unsigned			 reexecs;	/* in-place upgrades so far */
	uint64_t			 carried_ring;	/* in the ring adopted at the last one */
	uint64_t			 carried_socket; /* in the socket across it */
};

/*
 * Kernel records in the ring now: committed but not loss markers, minus
 * released but not loss markers; *written gets the writer's count of the
 * same snapshot. The one place the identity's in_ring is computed.
 */
uint64_t report_in_ring(const struct ring *ring, const struct rx_stats *rx,
    const struct writer *w, uint64_t *written);

/* "name value\n" lines into buf; returns the length (truncated at cap). */
size_t report_status(const struct report_src *s, char *buf, size_t cap);

/* The Prometheus text exposition of the same counters. */
size_t report_prometheus(const struct report_src *s, char *buf, size_t cap);

/*
 * The writer's state for people: its own state, refined to "slow" (the
 * last write or fsync took over 100 ms) or "stalled" (one has been running
 * for over a second).
 */
const char *report_writer_state(const struct writer_stats *ws);

#endif
