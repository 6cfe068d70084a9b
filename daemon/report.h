/*
 * report.h - the daemon's counters as text: the control socket's status
 * ("name value" lines), the state report file and the Prometheus textfile.
 *
 * Reads snapshots only (relaxed counters, the writer's and the monitor's
 * sequence counts), so it may run on the main thread at any time; the one
 * exception, report_consumers_load(), reads a file and runs elsewhere (the
 * monitor thread, rauditctl). The
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

/* Consumers shown from rauditd-dispatch's status file, at most. */
#define REPORT_CONSUMERS_MAX	64
#define REPORT_NAME_MAX		64	/* with the NUL; longer names are refused */

/* One consumer as dispatch.status has it; text is hostile until escaped. */
struct report_consumer {
	char		name[REPORT_NAME_MAX];
	char		kind[16], state[16];
	uint64_t	pid, restarts, lag_records, lag_bytes, lag_seconds;
};

/* rauditd-dispatch's status file, parsed. */
struct report_consumers {
	long long		age_s;		/* now - dispatch_updated */
	size_t			n;
	size_t			refused;	/* consumers past the max, names too long */
	struct report_consumer	c[REPORT_CONSUMERS_MAX];
};

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
	const struct report_consumers	*consumers;	/* NULL: none read */
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
 * Parse the text of rauditd-dispatch's status file (modified in place) into
 * *rc; now is time(NULL). Lines it does not know are ignored.
 */
void report_consumers_parse(struct report_consumers *rc, char *text, time_t now);

/*
 * Read and parse run_dir/dispatch.status (sidefile_read: no link, no FIFO,
 * bounded). A new struct to free(), or NULL with errno set (ENOENT: no
 * dispatcher has written one). File I/O: never on the receive path.
 */
struct report_consumers *report_consumers_load(const struct config *cfg);

/*
 * A consumer's name or state as status shows it: [A-Za-z0-9_.-] as is, any
 * other byte as \xNN (a blank, a quote, a backslash, a control byte).
 * Cut to fit cap (4 bytes per input byte always fit).
 */
void report_escape_name(const char *s, char *buf, size_t cap);

/* The status lines of the consumers alone (what report_status adds). */
size_t report_consumers_status(const struct report_consumers *rc, char *buf, size_t cap);

/*
 * The writer's state for people: its own state, refined to "slow" (the
 * last write or fsync took over 100 ms) or "stalled" (one has been running
 * for over a second).
 */
const char *report_writer_state(const struct writer_stats *ws);

#endif
