/*
 * stats.h - counters, each with exactly one writing thread.
 *
 * A counter is bumped by its owner with a relaxed load and store (no locked
 * instruction on the hot path) and read by anyone as a relaxed snapshot.
 * struct rx_stats belongs to the main thread, struct writer_stats to the
 * writer thread. The writer publishes its record counts together with the
 * ring release under a sequence count, so a reader can take a snapshot in
 * which received = written + dropped + in_ring holds exactly.
 */
#ifndef RAUDITD_STATS_H
#define RAUDITD_STATS_H

#include <stdatomic.h>
#include <stdint.h>

typedef _Atomic uint64_t stat_t;

static inline void
stat_add(stat_t *s, uint64_t n)
{
	atomic_store_explicit(s, atomic_load_explicit(s, memory_order_relaxed) + n,
	    memory_order_relaxed);
}

static inline void
stat_set(stat_t *s, uint64_t v)
{
	atomic_store_explicit(s, v, memory_order_relaxed);
}

static inline uint64_t
stat_get(const stat_t *s)
{
	return atomic_load_explicit(s, memory_order_relaxed);
}

static inline void
stat_max(stat_t *s, uint64_t v)
{
	if (v > atomic_load_explicit(s, memory_order_relaxed))
		atomic_store_explicit(s, v, memory_order_relaxed);
}

/* Why a record that reached rauditd did not reach the spool. */
enum drop_reason {
	DROP_RING_FULL,		/* the ring had no room */
	DROP_OVERSIZE,		/* larger than the receive buffer or the ring allows */
	DROP_SHUTDOWN,		/* still in the ring when the drain timeout expired */
	DROP_RING_CORRUPT,	/* in an adopted ring past its first inconsistency */
	DROP_NREASONS
};

/* The name of a drop reason in status, metrics and loss records. */
static inline const char *
stats_drop_name(unsigned r)
{
	static const char *const names[DROP_NREASONS] = {
		"ring_full", "oversize", "shutdown", "ring_corrupt",
	};

	return r < DROP_NREASONS ? names[r] : "unknown";
}

/* Owner: main thread (netlink_rx). */
struct rx_stats {
	stat_t	received;		/* audit records from the kernel */
	stat_t	bytes;			/* their payload bytes */
	stat_t	dropped[DROP_NREASONS];	/* [DROP_SHUTDOWN] is set by main at stop */
	stat_t	loss_markers;		/* loss records put into the ring */
	stat_t	rejected_spoofed;	/* messages whose sender port is not 0 */
	stat_t	rejected_malformed;	/* truncated or inconsistent netlink headers */
	stat_t	control;		/* netlink acks and control replies */
	stat_t	replace_probes;		/* AUDIT_REPLACE liveness probes */
	stat_t	eoe;			/* end-of-event markers, not logged (as auditd) */
	stat_t	enobufs;		/* receive errors ENOBUFS (socket overrun) */
	stat_t	recv_errors;		/* other receive errors */
	stat_t	batches;		/* recvmmsg calls that returned data */
	stat_t	wakeups;		/* writer wake-ups (eventfd writes) */
	stat_t	seq_gaps;		/* kernel serials that never arrived */
	stat_t	seq_late;		/* serials that arrived after being declared gaps */
	stat_t	last_serial;
	stat_t	last_rx_ns;		/* CLOCK_MONOTONIC of the last record */
	stat_t	socket_empty_ns;	/* CLOCK_MONOTONIC when recv last hit EAGAIN */
	stat_t	ring_full_since_ns;	/* CLOCK_MONOTONIC since the receiver stopped
					 * reading for ring room; 0 = reading */
	stat_t	ring_full_waits;	/* times it stopped reading for ring room */
	stat_t	ring_full_wait_ns;	/* total time of the waits that ended */
	stat_t	socket_fd;		/* the receive socket + 1 (0 = none), for the
					 * monitor's SO_MEMINFO; not a counter */
	stat_t	exclude_restored;	/* owner: kreg's recheck helper: times it put
					 * back the rule excluding our pid */
};

/* DISKPOLICY_EVENTS; writer.c checks that they agree. */
#define STATS_DP_EVENTS		5
/* Consumers with a loss counter; past that, one entry named "other". */
#define STATS_CONSUMERS_MAX	32
#define STATS_CONSUMER_NAME	80

/*
 * Segments retention deleted before one consumer (consumer=ship,
 * plugin:NAME) had read them. The name is written once, before the
 * writer's release store of consumers_n makes the entry visible.
 */
struct consumer_loss {
	char	name[STATS_CONSUMER_NAME];
	stat_t	deleted;		/* segments */
	stat_t	bytes_deleted;		/* bytes of them the consumer had not read */
};

/* Owner: writer thread. */
struct writer_stats {
	_Atomic uint64_t seq;		/* odd while written/ring release change */
	stat_t	written;		/* kernel records in the spool */
	stat_t	loss_markers;		/* loss markers taken from the ring */
	stat_t	daemon_records;		/* records rauditd wrote itself */
	stat_t	bytes;
	stat_t	batches;
	stat_t	write_errors;
	stat_t	fsyncs;
	stat_t	fsync_errors;
	stat_t	sync_rewrites;		/* batches cut and written again after a failed sync */
	stat_t	sync_failed_records;	/* records released before a sync that failed */
	stat_t	rotations;
	stat_t	segments_deleted;
	stat_t	bytes_deleted;
	stat_t	unshipped_deleted;	/* segments max_spool_size deleted before shipping */
	stat_t	unshipped_bytes_deleted;
	stat_t	retention_held;		/* segments over num_segments kept for the shipper */
	stat_t	state;			/* enum writer_state (writer.h) */
	stat_t	last_errno;
	stat_t	write_started_ns;	/* != 0 while a write is in progress */
	stat_t	last_write_ns, max_write_ns;	/* duration of writes */
	stat_t	last_fsync_ns, max_fsync_ns;
	stat_t	unsynced_bytes;		/* written but not yet fsynced (at risk) */
	stat_t	unsynced_records;	/* records among them */
	stat_t	unsynced_oldest_ns;	/* CLOCK_MONOTONIC when the oldest was written; 0 = none */
	stat_t	sync_in_flight;		/* 1 while the sync thread syncs */
	stat_t	syncs_deferred;		/* freq reached with the ring > 1/4 full: time bound only */
	stat_t	segment;		/* open segment number */
	stat_t	segment_bytes;
	stat_t	spool_bytes;
	stat_t	spool_segments;
	stat_t	torn_bytes;		/* cut at startup */
	stat_t	degraded_since_ns;
	/* The disk policy (diskpolicy.h), by enum diskpolicy_event. */
	stat_t	dp_fired[STATS_DP_EVENTS];	/* times each event fired */
	stat_t	dp_active[STATS_DP_EVENTS];	/* 1 while it is in progress */
	stat_t	dp_exec_started, dp_exec_failed, dp_exec_killed;
	_Atomic uint64_t consumers_n;	/* entries of consumer[] in use (release) */
	struct consumer_loss consumer[STATS_CONSUMERS_MAX];
	stat_t	rules_removed;		/* CONFIG_CHANGE op=remove_rule records seen */
};

#endif
