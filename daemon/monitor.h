/*
 * monitor.h - the monitor thread: the kernel's audit counters, polled with
 * AUDIT_GET on a netlink socket of its own.
 *
 * DESIGN
 * It is a thread of its own because the kernel makes any sender of an audit
 * request sleep while its backlog is over the limit. That sleep must land
 * neither on the receive path nor here: the sleeper joins the exclusive wait
 * queue of the blocked audited processes and can swallow the one wake-up
 * kauditd gives per pass, leaving them blocked for the whole
 * backlog_wait_time. So the monitor polls only when the receive socket has
 * just run dry (the main thread's last drain ended on EAGAIN, so kauditd has
 * nothing queued in front of us) and the last backlog it saw was well below
 * the limit; otherwise it skips the poll and counts the skip. A receiver
 * that stopped reading because the ring is full is not dry, and while its
 * socket is past half full no poll is sent at all. The monitor also samples
 * how much that socket holds (SO_MEMINFO) for the status. Every poll is
 * timed; one that took longer than MONITOR_PARKED_NS is counted as parked.
 *
 * Owner of struct monitor_status: the monitor thread. Readers (main thread:
 * control socket, metrics) copy it with monitor_read() under a sequence
 * count, never a lock.
 */
#ifndef RAUDITD_MONITOR_H
#define RAUDITD_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/audit.h>

#include "stats.h"

/* A poll slower than this was put to sleep by the kernel (parked). */
#define MONITOR_PARKED_NS	(50 * 1000 * 1000ULL)

struct monitor;

struct monitor_status {
	bool			valid;		/* at least one poll succeeded */
	struct audit_status	k;		/* the last answer */
	bool			features_valid;
	struct audit_features	f;		/* AUDIT_GET_FEATURE, same poll */
	uint32_t		lost_start;	/* kernel lost at the first poll */
	uint32_t		wait_actual_start;
	uint32_t		backlog_max;	/* highest backlog seen */
	uint64_t		polls;
	uint64_t		skipped;	/* not sent: the kernel queue was busy */
	uint64_t		parked;		/* took longer than MONITOR_PARKED_NS */
	uint64_t		errors;
	int			last_error;	/* negative errno of the last failure */
	uint64_t		last_poll_ns;	/* duration of the last poll */
	uint64_t		max_poll_ns;
	uint64_t		updated_ns;	/* CLOCK_MONOTONIC of the last answer */

	/* The receive socket, sampled every interval (also without polls). */
	bool			socket_valid;
	uint64_t		socket_queued_bytes;	/* SO_MEMINFO rmem_alloc */
	uint64_t		socket_rcvbuf_bytes;	/* its limit */
	uint64_t		socket_drops;		/* the socket's drop counter */
	uint64_t		socket_full_since_ns;	/* CLOCK_MONOTONIC since it was
							 * seen full, 0 = not full */
};

/*
 * Create a monitor that reads the receive path's timestamps from rx (only
 * socket_empty_ns, last_rx_ns, ring_full_since_ns and socket_fd) and polls every interval_ms (without
 * poll_kernel it only runs the tick). NULL with errno set. Main thread.
 */
struct monitor *monitor_new(const struct rx_stats *rx, unsigned interval_ms,
    bool poll_kernel);

/*
 * Side work for the monitor thread: fn(arg, settings, now_requested) runs
 * after every interval, and at once after monitor_kick(). The daemon uses
 * it for file output (metrics, state report) that must not run on the
 * receive path. settings is the thread's own copy of the last snapshot of
 * settings_len bytes pushed with monitor_push_settings() (as the writer
 * gets writer_settings): the tick never reads the main thread's config.
 * Set before monitor_start(); 0 or -ENOMEM.
 */
int monitor_set_tick(struct monitor *m,
    void (*fn)(void *arg, const void *settings, bool kicked), void *arg, size_t settings_len);
/* Push a settings snapshot (copied) for the next tick. Main thread. */
void monitor_push_settings(struct monitor *m, const void *settings);
void monitor_kick(struct monitor *m);

/* The nice value the thread sets for itself at start. Before monitor_start. */
void monitor_set_nice(struct monitor *m, int nice);

/* Start the thread (all signals blocked in it). 0 or a negative errno. */
int monitor_start(struct monitor *m);

/*
 * Stop and join, waiting at most timeout_ms (a poll may be asleep in the
 * kernel). Returns 0, or -ETIMEDOUT when the thread is abandoned to process
 * exit; the monitor must then not be freed.
 */
int monitor_stop(struct monitor *m, unsigned timeout_ms);
void monitor_free(struct monitor *m);

/* Change the poll period (SIGHUP). */
void monitor_set_interval(struct monitor *m, unsigned interval_ms);

/*
 * A first reading that came without a poll (kreg_status_now: what the
 * daemon read and set while registering, read_ns its CLOCK_MONOTONIC time).
 * The thread takes it at once unless it has polled already; the status
 * shows its age like a polled one. Main thread, after monitor_start().
 */
void monitor_seed(struct monitor *m, const struct audit_status *k, uint64_t read_ns);

/*
 * For another thread about to send the kernel a request of its own (the
 * exclude-rule re-check): wait until the receive path is as quiet as a
 * monitor poll needs (monitor_may_poll, knowing nothing of the kernel), at
 * most max_ms. true when it got quiet; false when the wait ran out, and the
 * caller sends anyway when what it puts right matters more.
 */
bool monitor_wait_quiet(const struct rx_stats *rx, unsigned max_ms);

/* A consistent copy of the status. Any thread. */
void monitor_read(const struct monitor *m, struct monitor_status *out);

/* What the poll policy looks at; CLOCK_MONOTONIC times in ns. */
struct monitor_poll_input {
	uint64_t	rx_empty_ns;	/* when recv last hit an empty socket */
	uint64_t	rx_last_ns;	/* when the last record arrived */
	bool		rx_waiting;	/* reading stopped for ring room */
	uint64_t	rx_recent;	/* records received in the last interval */
	uint64_t	now_ns;
};

/*
 * The policy, exposed for tests: may a kernel status request be sent now
 * without sleeping in the kernel's backlog wait queue? Only when the
 * receive socket ran dry, nothing arrived for a quiet period, the last
 * interval brought fewer records than the kernel queue holds, and the
 * last known backlog was low. last is the previous status. Any thread.
 */
bool monitor_may_poll(const struct monitor_poll_input *in, const struct monitor_status *last);

#endif
