/*
 * report.c - this file renders the daemon's counters (receive path,
 * writer, ring, monitor, control, disk policy) as status lines and as
 * Prometheus text, and parses and renders the consumers of
 * rauditd-dispatch's status file, whose text it treats as hostile.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "diskpolicy.h"
#include "dispatch.h"
#include "monitor.h"
#include "mono.h"
#include "report.h"
#include "ring.h"
#include "sidefile.h"
#include "stats.h"
#include "writer.h"

/* Thresholds for the derived writer states. */
#define SLOW_NS		(100 * 1000 * 1000ULL)
#define STALLED_NS	(1000 * 1000 * 1000ULL)
/* Their names, beside the writer's own (writer_state_name). */
#define STATE_SLOW	"slow"
#define STATE_STALLED	"stalled"


struct out {
	char	*buf;
	size_t	 cap, len;
};

static void __attribute__((format(printf, 2, 3)))
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len >= o->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	o->len += (size_t)n;
	if (o->len > o->cap)
		o->len = o->cap;
}

/*
 * Output cut at cap ends in the middle of a line, which a reader could take
 * for a value (a Prometheus scraper rejects the whole file): end it after
 * the last whole line instead.
 */
static size_t
whole_lines(struct out *o)
{
	if (o->len >= o->cap) {
		while (o->len > 0 && o->buf[o->len - 1] != '\n')
			o->len--;
		if (o->len < o->cap)
			o->buf[o->len] = '\0';
	}
	return o->len;
}

/*
 * Text that did not come from us (a configured path, today) on a status
 * line: a control byte could end the line, forge the next one or drive the
 * reader's terminal. Those and the backslash go out as \xNN.
 */
static void
put_text(struct out *o, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || c == '\\')
			put(o, "\\x%02x", c);
		else
			put(o, "%c", c);
	}
}

const char *
report_writer_state(const struct writer_stats *ws)
{
	enum writer_state st = (enum writer_state)stat_get(&ws->state);
	uint64_t started = stat_get(&ws->write_started_ns);

	if (st != WRITER_OK)
		return writer_state_name(st);
	if (started != 0 && mono_ns() - started > STALLED_NS)
		return STATE_STALLED;
	if (stat_get(&ws->last_write_ns) > SLOW_NS || stat_get(&ws->last_fsync_ns) > SLOW_NS)
		return STATE_SLOW;
	return "ok";
}

/* The counters both renderings need, taken once. */
struct snap {
	const struct report_src	*s;
	uint64_t		 written, in_ring, dropped[DROP_NREASONS];
	uint64_t		 dropped_total;
	struct monitor_status	 m;		/* zero without a monitor */
	bool			 mon;		/* s->monitor is set */
	uint64_t		 now;		/* CLOCK_MONOTONIC */
};

uint64_t
report_in_ring(const struct ring *ring, const struct rx_stats *rx,
    const struct writer *w, uint64_t *written)
{
	uint64_t markers, out;

	writer_counts(w, written, &markers, &out);
	return (ring_records_in(ring) - stat_get(&rx->loss_markers)) - (out - markers);
}

static void
take(const struct report_src *s, struct snap *sn)
{
	memset(sn, 0, sizeof(*sn));
	sn->s = s;
	sn->now = mono_ns();
	sn->in_ring = report_in_ring(s->ring, s->rx, s->writer, &sn->written);
	for (int i = 0; i < DROP_NREASONS; i++) {
		sn->dropped[i] = stat_get(&s->rx->dropped[i]);
		sn->dropped_total += sn->dropped[i];
	}
	if (s->monitor != NULL) {
		monitor_read(s->monitor, &sn->m);
		sn->mon = true;
	}
}

/* Values that are not a field of rx_stats or writer_stats. */
static uint64_t v_written(const struct snap *c) { return c->written; }
static uint64_t v_dropped(const struct snap *c) { return c->dropped_total; }
static uint64_t v_in_ring(const struct snap *c) { return c->in_ring; }
static uint64_t v_reexecs(const struct snap *c) { return c->s->reexecs; }
static uint64_t v_carried_ring(const struct snap *c) { return c->s->carried_ring; }
static uint64_t v_carried_socket(const struct snap *c) { return c->s->carried_socket; }
static uint64_t v_loss_pending(const struct snap *c) { return c->s->pending_loss; }
static uint64_t v_ring_used(const struct snap *c) { return ring_used(c->s->ring); }
static uint64_t v_ring_capacity(const struct snap *c) { return ring_capacity(c->s->ring); }
static uint64_t v_ring_high(const struct snap *c) { return ring_high_water(c->s->ring); }
static uint64_t v_k_valid(const struct snap *c) { return c->m.valid ? 1 : 0; }
static uint64_t v_k_age_ms(const struct snap *c) { return (c->now - c->m.updated_ns) / 1000000u; }
static uint64_t v_k_enabled(const struct snap *c) { return c->m.k.enabled; }
static uint64_t v_k_failure(const struct snap *c) { return c->m.k.failure; }
static uint64_t v_k_pid(const struct snap *c) { return c->m.k.pid; }
static uint64_t v_k_rate_limit(const struct snap *c) { return c->m.k.rate_limit; }
static uint64_t v_k_backlog_limit(const struct snap *c) { return c->m.k.backlog_limit; }
static uint64_t v_k_lost(const struct snap *c) { return c->m.k.lost; }
static uint64_t v_k_backlog(const struct snap *c) { return c->m.k.backlog; }
static uint64_t v_k_wait(const struct snap *c) { return c->m.k.backlog_wait_time; }
static uint64_t v_k_wait_actual(const struct snap *c) { return c->m.k.backlog_wait_time_actual; }
static uint64_t v_k_backlog_max(const struct snap *c) { return c->m.backlog_max; }
static uint64_t v_m_polls(const struct snap *c) { return c->m.polls; }
static uint64_t v_m_skipped(const struct snap *c) { return c->m.skipped; }
static uint64_t v_m_parked(const struct snap *c) { return c->m.parked; }
static uint64_t v_m_errors(const struct snap *c) { return c->m.errors; }
static uint64_t v_m_max_poll_us(const struct snap *c) { return c->m.max_poll_ns / 1000; }

/* How long ago a CLOCK_MONOTONIC time t was (ns); 0 when t is 0 (never). */
static uint64_t
ago(const struct snap *c, uint64_t t)
{
	return t != 0 && c->now > t ? c->now - t : 0;
}

static uint64_t
v_ring_full_ns(const struct snap *c)
{
	return ago(c, stat_get(&c->s->rx->ring_full_since_ns));
}

static uint64_t
v_unsynced_age_ns(const struct snap *c)
{
	return ago(c, stat_get(&c->s->ws->unsynced_oldest_ns));
}

static uint64_t v_s_valid(const struct snap *c) { return c->m.socket_valid ? 1 : 0; }
static uint64_t v_s_queued(const struct snap *c) { return c->m.socket_queued_bytes; }
static uint64_t v_s_rcvbuf(const struct snap *c) { return c->m.socket_rcvbuf_bytes; }
static uint64_t v_s_drops(const struct snap *c) { return c->m.socket_drops; }
static uint64_t v_s_full_ns(const struct snap *c) { return ago(c, c->m.socket_full_since_ns); }

/* Signed differences, carried in the uint64_t as two's complement. */
static uint64_t
v_k_lost_since(const struct snap *c)
{
	return (uint64_t)((long long)c->m.k.lost - (long long)c->m.lost_start);
}

static uint64_t
v_k_wait_since(const struct snap *c)
{
	return (uint64_t)((long long)c->m.k.backlog_wait_time_actual -
	    (long long)c->m.wait_actual_start);
}

static uint64_t
v_writer_busy_ms(const struct snap *c)
{
	uint64_t started = stat_get(&c->s->ws->write_started_ns);

	return started ? (c->now - started) / 1000000u : 0;
}

static uint64_t
v_writer_degraded_ms(const struct snap *c)
{
	uint64_t since = stat_get(&c->s->ws->degraded_since_ns);

	return since ? (c->now - since) / 1000000u : 0;
}

enum row_src { SRC_RX, SRC_WS, SRC_FN, SRC_SPECIAL };
enum row_special {
	SP_LOGINUID,		/* kernel_loginuid_immutable VALUE LOCK */
	SP_DROPPED,		/* one per drop reason */
	SP_REJECTED,		/* Prometheus: by reason, under one name */
	SP_WRITER_STATE,
	SP_FLUSH,
	SP_SPOOL_DIR,
	SP_CONTROL,		/* the control server's counts (main thread only) */
	SP_RING_FULL_ACTION,
	SP_DISKPOLICY,		/* fired and active, by event */
	SP_CONSUMERS,		/* rauditd-dispatch's consumers, when read */
	SP_CONSUMER_LOSS,	/* per consumer: segments deleted before it read them */
};
/* Row flags. */
#define R_MON		0x1	/* only with a monitor */
#define R_VALID		0x2	/* only once the monitor has an answer */
#define R_SIGNED	0x4	/* a signed difference */
#define R_NS_US		0x8	/* nanoseconds: status in us, Prometheus in seconds */
#define R_NS_MS		0x10	/* nanoseconds: status in ms, Prometheus in seconds */
#define R_SOCK		0x20	/* only once the monitor has sampled the socket */

/*
 * DESIGN: the one list of what rauditd reports. Each row is a status line
 * (status name), a Prometheus metric (prom name, type, help), or both, in
 * status order; report_status and report_prometheus walk it.
 */
struct report_row {
	const char		*status;	/* NULL: not in status */
	const char		*prom;		/* NULL: not in Prometheus (rauditd_ prefixed) */
	const char		*type;		/* "counter" or "gauge" */
	const char		*help;
	enum row_src		 src;
	size_t			 off;		/* SRC_RX/SRC_WS: offsetof; SRC_SPECIAL: which */
	uint64_t		(*fn)(const struct snap *);
	unsigned		 flags;
};

#define C		"counter"
#define G		"gauge"
#define RX(f)		SRC_RX, offsetof(struct rx_stats, f), NULL
#define WS(f)		SRC_WS, offsetof(struct writer_stats, f), NULL
#define FN(g)		SRC_FN, 0, g
#define SP(k)		SRC_SPECIAL, k, NULL

static const struct report_row report_rows[] = {
	{ "kernel_valid", NULL, NULL, NULL, FN(v_k_valid), 0 },
	{ "kernel_age_ms", NULL, NULL, NULL, FN(v_k_age_ms), R_MON | R_VALID },
	{ "kernel_enabled", "kernel_enabled", G, "The kernel's audit enabled flag.",
	    FN(v_k_enabled), R_MON | R_VALID },
	{ "kernel_failure", NULL, NULL, NULL, FN(v_k_failure), R_MON | R_VALID },
	{ "kernel_pid", NULL, NULL, NULL, FN(v_k_pid), R_MON | R_VALID },
	{ "kernel_rate_limit", NULL, NULL, NULL, FN(v_k_rate_limit), R_MON | R_VALID },
	{ "kernel_backlog_limit", "kernel_backlog_limit_records", G, "The kernel's backlog_limit.",
	    FN(v_k_backlog_limit), R_MON | R_VALID },
	{ "kernel_lost", "kernel_lost_records", G, "The kernel's lost counter (audit_status.lost).",
	    FN(v_k_lost), R_MON | R_VALID },
	{ "kernel_backlog", "kernel_backlog_records", G, "Records waiting in the kernel queue.",
	    FN(v_k_backlog), R_MON | R_VALID },
	{ "kernel_backlog_wait_time", "kernel_backlog_wait_time_ticks", G,
	    "The kernel's backlog_wait_time (kernel ticks).", FN(v_k_wait), R_MON | R_VALID },
	{ "kernel_backlog_wait_time_actual", "kernel_backlog_wait_time_actual_ticks", G,
	    "Time audited processes spent waiting on the backlog (kernel ticks).",
	    FN(v_k_wait_actual), R_MON | R_VALID },
	{ NULL, NULL, NULL, NULL, SP(SP_LOGINUID), R_MON | R_VALID },
	{ "kernel_lost_since_start", NULL, NULL, NULL, FN(v_k_lost_since),
	    R_MON | R_VALID | R_SIGNED },
	{ "kernel_backlog_max", "kernel_backlog_max_records", G,
	    "Highest kernel backlog seen since start.", FN(v_k_backlog_max), R_MON | R_VALID },
	{ "kernel_wait_actual_since_start", NULL, NULL, NULL, FN(v_k_wait_since),
	    R_MON | R_VALID | R_SIGNED },
	{ "monitor_polls", "monitor_polls_total", C, "Kernel status polls sent.",
	    FN(v_m_polls), R_MON },
	{ "monitor_skipped", "monitor_skipped_polls_total", C,
	    "Kernel status polls skipped because the kernel queue was busy.", FN(v_m_skipped), R_MON },
	{ "monitor_parked", "monitor_parked_polls_total", C,
	    "Kernel status polls the kernel put to sleep.", FN(v_m_parked), R_MON },
	{ "monitor_errors", NULL, NULL, NULL, FN(v_m_errors), R_MON },
	{ "monitor_max_poll_us", NULL, NULL, NULL, FN(v_m_max_poll_us), R_MON },
	/* The second buffer: the receive socket, as the monitor sampled it. */
	{ "socket_valid", NULL, NULL, NULL, FN(v_s_valid), R_MON },
	{ "socket_queued_bytes", "socket_queued_bytes", G,
	    "Bytes waiting in the audit receive socket.", FN(v_s_queued), R_MON | R_SOCK },
	{ "socket_rcvbuf_bytes", "socket_rcvbuf_bytes", G,
	    "Size of the audit receive socket's buffer.", FN(v_s_rcvbuf), R_MON | R_SOCK },
	{ "socket_drops", "socket_drops_total", C,
	    "Messages the kernel could not queue on the receive socket.", FN(v_s_drops),
	    R_MON | R_SOCK },
	{ "socket_full_ms", "socket_full_seconds", G,
	    "How long the receive socket has been full (0: not full).", FN(v_s_full_ns),
	    R_MON | R_SOCK | R_NS_MS },

	{ "received", "received_records_total", C, "Audit records received from the kernel.",
	    RX(received), 0 },
	{ "written", "written_records_total", C, "Kernel audit records written to the spool.",
	    FN(v_written), 0 },
	{ "dropped", NULL, NULL, NULL, FN(v_dropped), 0 },
	{ NULL, NULL, NULL, NULL, SP(SP_DROPPED), 0 },
	{ "in_ring", "ring_records", G, "Kernel records waiting in the ring.", FN(v_in_ring), 0 },
	{ "reexecs", NULL, NULL, NULL, FN(v_reexecs), 0 },
	{ "carried_ring", NULL, NULL, NULL, FN(v_carried_ring), 0 },
	{ "carried_socket", NULL, NULL, NULL, FN(v_carried_socket), 0 },
	{ "loss_pending", NULL, NULL, NULL, FN(v_loss_pending), 0 },
	{ "loss_records", NULL, NULL, NULL, WS(loss_markers), 0 },
	{ "rejected_spoofed", NULL, NULL, NULL, RX(rejected_spoofed), 0 },
	{ "rejected_malformed", NULL, NULL, NULL, RX(rejected_malformed), 0 },
	{ NULL, NULL, NULL, NULL, SP(SP_REJECTED), 0 },
	{ "control_messages", NULL, NULL, NULL, RX(control), 0 },
	{ "replace_probes", NULL, NULL, NULL, RX(replace_probes), 0 },
	{ "eoe_skipped", NULL, NULL, NULL, RX(eoe), 0 },
	{ "recv_errors", NULL, NULL, NULL, RX(recv_errors), 0 },
	{ "seq_gaps", "sequence_gaps_total", C, "Kernel serials that never arrived.",
	    RX(seq_gaps), 0 },
	{ "seq_late", NULL, NULL, NULL, RX(seq_late), 0 },
	{ "last_serial", NULL, NULL, NULL, RX(last_serial), 0 },
	{ "received_bytes", NULL, NULL, NULL, RX(bytes), 0 },

	{ "ring_used_bytes", "ring_used_bytes", G, "Bytes in use in the ring.", FN(v_ring_used), 0 },
	{ "ring_capacity_bytes", "ring_capacity_bytes", G, "Capacity of the ring.",
	    FN(v_ring_capacity), 0 },
	{ "ring_high_water_bytes", "ring_high_water_bytes", G, "Most bytes ever in use in the ring.",
	    FN(v_ring_high), 0 },
	{ NULL, NULL, NULL, NULL, SP(SP_RING_FULL_ACTION), 0 },
	{ "ring_full_ms", "ring_full_seconds", G,
	    "How long the receiver has waited for ring room (0: reading).", FN(v_ring_full_ns),
	    R_NS_MS },
	{ "ring_full_waits", "ring_full_waits_total", C,
	    "Times the receiver stopped reading until the writer made ring room.",
	    RX(ring_full_waits), 0 },
	{ "ring_full_wait_us", "ring_full_wait_seconds_total", C,
	    "Time the receiver spent waiting for ring room (waits that ended).",
	    RX(ring_full_wait_ns), R_NS_US },

	{ NULL, NULL, NULL, NULL, SP(SP_WRITER_STATE), 0 },
	{ "writer_errno", NULL, NULL, NULL, WS(last_errno), 0 },
	{ "writer_busy_ms", NULL, NULL, NULL, FN(v_writer_busy_ms), 0 },
	{ "writer_degraded_ms", NULL, NULL, NULL, FN(v_writer_degraded_ms), 0 },
	{ "writer_last_write_us", "writer_last_write_seconds", G, "Duration of the last spool write.",
	    WS(last_write_ns), R_NS_US },
	{ "writer_max_write_us", NULL, NULL, NULL, WS(max_write_ns), R_NS_US },
	{ "writer_last_fsync_us", "writer_last_fsync_seconds", G, "Duration of the last fsync.",
	    WS(last_fsync_ns), R_NS_US },
	{ "writer_max_fsync_us", NULL, NULL, NULL, WS(max_fsync_ns), R_NS_US },
	{ "writer_write_errors", "writer_errors_total", C, "Failed spool writes.",
	    WS(write_errors), 0 },
	{ "writer_fsyncs", NULL, NULL, NULL, WS(fsyncs), 0 },
	{ "writer_fsync_errors", NULL, NULL, NULL, WS(fsync_errors), 0 },
	/* The data-at-risk window: written, not yet synced. */
	{ "writer_unsynced_records", "writer_unsynced_records", G,
	    "Records written but not yet synced.", WS(unsynced_records), 0 },
	{ "writer_unsynced_bytes", "writer_unsynced_bytes", G,
	    "Bytes written but not yet synced.", WS(unsynced_bytes), 0 },
	{ "writer_unsynced_age_ms", "writer_unsynced_age_seconds", G,
	    "Age of the oldest record not yet synced (0: none).", FN(v_unsynced_age_ns), R_NS_MS },
	{ "writer_sync_in_flight", "writer_sync_in_flight", G, "1 while a sync runs.",
	    WS(sync_in_flight), 0 },
	{ "writer_syncs_deferred", "writer_syncs_deferred_total", C,
	    "Syncs freq asked for, left to the time bound because the ring was filling.",
	    WS(syncs_deferred), 0 },
	{ "writer_sync_rewrites", "writer_sync_rewrites_total", C,
	    "Batches written again after a failed sync.", WS(sync_rewrites), 0 },
	{ "writer_sync_failed_records", "writer_sync_failed_records_total", C,
	    "Records released before a sync that then failed.", WS(sync_failed_records), 0 },
	{ "writer_daemon_records", NULL, NULL, NULL, WS(daemon_records), 0 },
	{ "written_bytes", "written_bytes_total", C, "Bytes written to the spool.", WS(bytes), 0 },
	{ NULL, NULL, NULL, NULL, SP(SP_FLUSH), 0 },
	{ NULL, NULL, NULL, NULL, SP(SP_SPOOL_DIR), 0 },
	{ "spool_segment", NULL, NULL, NULL, WS(segment), 0 },
	{ "spool_segment_bytes", NULL, NULL, NULL, WS(segment_bytes), 0 },
	{ "spool_bytes", "spool_bytes", G, "Bytes in the spool.", WS(spool_bytes), 0 },
	{ "spool_segments", "spool_segments", G, "Segments in the spool.", WS(spool_segments), 0 },
	{ "spool_rotations", NULL, NULL, NULL, WS(rotations), 0 },
	{ "spool_segments_deleted", NULL, NULL, NULL, WS(segments_deleted), 0 },
	{ "spool_unshipped_deleted", "spool_unshipped_deleted_segments_total", C,
	    "Segments max_spool_size deleted before rauditd-ship had shipped them.",
	    WS(unshipped_deleted), 0 },
	{ "spool_unshipped_bytes_deleted", NULL, NULL, NULL, WS(unshipped_bytes_deleted), 0 },
	{ "spool_segments_held", NULL, NULL, NULL, WS(retention_held), 0 },
	{ NULL, NULL, NULL, NULL, SP(SP_CONSUMER_LOSS), 0 },
	{ "spool_torn_bytes", NULL, NULL, NULL, WS(torn_bytes), 0 },
	{ NULL, NULL, NULL, NULL, SP(SP_DISKPOLICY), 0 },
	{ "diskpolicy_exec_started", "diskpolicy_exec_started_total", C,
	    "Disk policy exec actions started.", WS(dp_exec_started), 0 },
	{ "diskpolicy_exec_failed", "diskpolicy_exec_failed_total", C,
	    "Disk policy exec actions that did not start or exited non-zero.",
	    WS(dp_exec_failed), 0 },
	{ "diskpolicy_exec_killed", "diskpolicy_exec_killed_total", C,
	    "Disk policy exec actions killed after their timeout.", WS(dp_exec_killed), 0 },
	{ "rules_removed", NULL, NULL, NULL, WS(rules_removed), 0 },
	{ "exclude_rule_restored", "exclude_rule_restored_total", C,
	    "Times rauditd put back the rule excluding its own pid after rules were removed.",
	    RX(exclude_restored), 0 },
	{ NULL, NULL, NULL, NULL, SP(SP_CONTROL), 0 },
	{ NULL, NULL, NULL, NULL, SP(SP_CONSUMERS), 0 },
};

#undef C
#undef G
#undef RX
#undef WS
#undef FN
#undef SP

static bool
row_shown(const struct report_row *r, const struct snap *c)
{
	if ((r->flags & R_MON) && !c->mon)
		return false;
	if ((r->flags & R_SOCK) && !c->m.socket_valid)
		return false;
	return !(r->flags & R_VALID) || c->m.valid;
}

static uint64_t
row_value(const struct report_row *r, const struct snap *c)
{
	switch (r->src) {
	case SRC_RX:
		return stat_get((const stat_t *)(const void *)((const char *)c->s->rx + r->off));
	case SRC_WS:
		return stat_get((const stat_t *)(const void *)((const char *)c->s->ws + r->off));
	case SRC_FN:
		return r->fn(c);
	case SRC_SPECIAL:
		break;
	}
	return 0;
}

static const char *
ring_full_name(enum config_ring_full a)
{
	return a == CONFIG_RING_FULL_DROP ? "drop" : "wait";
}

/* ---- consumers (rauditd-dispatch's status file) ---------------------------- */

/* Bytes of dispatch.status read at most (it has ~1 KiB per consumer). */
#define CONSUMERS_FILE_MAX	(256 * 1024)

/*
 * The fields of a consumer that are reported, in status order: the parser,
 * the status lines and the Prometheus families all walk this list. text:
 * a string field (char[16]), else a uint64_t.
 */
struct consumer_row {
	const char	*field;		/* dispatch.status's FIELD, the status name */
	const char	*prom;		/* NULL: not in Prometheus; "consumer_state": a state set */
	const char	*type, *help;
	size_t		 off;
	bool		 text;
};

#define CF(f)	offsetof(struct report_consumer, f)
static const struct consumer_row consumer_rows[] = {
	{ "kind", NULL, NULL, NULL, CF(kind), true },
	{ "state", "consumer_state", "gauge", "Consumer state (1 for the current one).",
	    CF(state), true },
	{ "pid", "consumer_pid", "gauge", "Consumer process id (0: none).", CF(pid), false },
	{ "restarts", "consumer_restarts_total", "counter", "Consumer restarts.",
	    CF(restarts), false },
	{ "lag_records", "consumer_lag_records", "gauge",
	    "Records in the spool the consumer has not read.", CF(lag_records), false },
	{ "lag_bytes", "consumer_lag_bytes", "gauge",
	    "Bytes in the spool the consumer has not read.", CF(lag_bytes), false },
	{ "lag_seconds", "consumer_lag_seconds", "gauge",
	    "Age of the oldest record the consumer has not read.", CF(lag_seconds), false },
};
#undef CF
#define NCONSUMER_ROWS	(sizeof(consumer_rows) / sizeof(consumer_rows[0]))

/* rauditd-dispatch's states (man/rauditd-dispatch.8), for the state set. */
static const char *const consumer_states[] = {
	"idle", "running", "backoff", "failed", "stopping", "listening",
};

static struct report_consumer *
consumer_find(struct report_consumers *rc, const char *name)
{
	for (size_t i = 0; i < rc->n; i++)
		if (strcmp(rc->c[i].name, name) == 0)
			return &rc->c[i];
	if (rc->n == REPORT_CONSUMERS_MAX)
		return NULL;
	snprintf(rc->c[rc->n].name, sizeof(rc->c[0].name), "%s", name);
	return &rc->c[rc->n++];
}

/* "consumer NAME FIELD VALUE", NAME perhaps with blanks: split from the right. */
static void
consumer_line(struct report_consumers *rc, char *rest)
{
	char *value = strrchr(rest, ' '), *field, *end;
	struct report_consumer *c;
	const struct consumer_row *r = NULL;
	uint64_t v;

	if (value == NULL)
		return;
	*value++ = '\0';
	if ((field = strrchr(rest, ' ')) == NULL || field == rest)
		return;
	*field++ = '\0';
	for (size_t i = 0; i < NCONSUMER_ROWS && r == NULL; i++)
		if (strcmp(consumer_rows[i].field, field) == 0)
			r = &consumer_rows[i];
	if (r == NULL)
		return;
	if (strlen(rest) >= REPORT_NAME_MAX || (c = consumer_find(rc, rest)) == NULL) {
		if (r->off == offsetof(struct report_consumer, kind))
			rc->refused++;		/* once per consumer: its first line */
		return;
	}
	if (r->text) {
		snprintf((char *)c + r->off, sizeof(c->kind), "%s", value);
		return;
	}
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno == 0 && end != value && *end == '\0' && value[0] != '-')
		memcpy((char *)c + r->off, &v, sizeof(v));
}

void
report_consumers_parse(struct report_consumers *rc, char *text, time_t now)
{
	char *line, *save = NULL;

	memset(rc, 0, sizeof(*rc));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "consumer ", 9) == 0)
			consumer_line(rc, line + 9);
		else if (strncmp(line, "dispatch_updated ", 17) == 0)
			rc->age_s = (long long)now - strtoll(line + 17, NULL, 10);
	}
}

struct report_consumers *
report_consumers_load(const struct config *cfg)
{
	struct report_consumers *rc;
	char path[PATH_MAX], *text;
	ssize_t n;

	dispatch_status_path(cfg, path, sizeof(path));
	if ((n = sidefile_read(path, CONSUMERS_FILE_MAX, &text)) < 0) {
		errno = (int)-n;
		return NULL;
	}
	if ((rc = malloc(sizeof(*rc))) != NULL)
		report_consumers_parse(rc, text, time(NULL));
	free(text);
	return rc;
}

/*
 * A name or a state from the file: only [A-Za-z0-9_.-] as they are, any
 * other byte (a blank, a quote, a backslash, a control byte, a line end)
 * as \xNN, so that it can neither split the status line nor forge another,
 * nor end a Prometheus label. Injective: a real backslash is escaped too.
 */
static void
put_name(struct out *o, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-')
			put(o, "%c", ch);
		else
			put(o, "\\x%02x", ch);
	}
}

void
report_escape_name(const char *s, char *buf, size_t cap)
{
	struct out o = { buf, cap ? cap - 1 : 0, 0 };

	if (cap == 0)
		return;
	put_name(&o, s);
	buf[o.len] = '\0';
}

/* The same inside a Prometheus label value, where \ itself is \\. */
static void
put_label(struct out *o, const char *s)
{
	char buf[REPORT_NAME_MAX * 4 + 1];

	report_escape_name(s, buf, sizeof(buf));
	for (const char *p = buf; *p; p++)
		if (*p == '\\')
			put(o, "\\\\");
		else
			put(o, "%c", *p);
}

static void
consumers_status(struct out *o, const struct report_consumers *rc)
{
	put(o, "dispatch_status_age_s %lld\n", rc->age_s);
	put(o, "dispatch_consumers %zu\n", rc->n);
	put(o, "dispatch_consumers_refused %zu\n", rc->refused);
	for (size_t i = 0; i < rc->n; i++) {
		const struct report_consumer *c = &rc->c[i];

		for (size_t j = 0; j < NCONSUMER_ROWS; j++) {
			const struct consumer_row *r = &consumer_rows[j];

			put(o, "consumer ");
			put_name(o, c->name);
			put(o, " %s ", r->field);
			if (r->text) {
				put_name(o, (const char *)c + r->off);
			} else {
				uint64_t v;

				memcpy(&v, (const char *)c + r->off, sizeof(v));
				put(o, "%llu", (unsigned long long)v);
			}
			put(o, "\n");
		}
	}
}

size_t
report_consumers_status(const struct report_consumers *rc, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };

	consumers_status(&o, rc);
	return whole_lines(&o);
}

static void prom_head(struct out *o, const char *name, const char *type, const char *help);

static void
consumers_prom(struct out *o, const struct report_consumers *rc)
{
	prom_head(o, "dispatch_status_age_seconds", "gauge",
	    "Age of rauditd-dispatch's status file.");
	put(o, "rauditd_dispatch_status_age_seconds %lld\n", rc->age_s);
	prom_head(o, "dispatch_consumers", "gauge",
	    "Consumers in rauditd-dispatch's status file (as many follow if all fit).");
	put(o, "rauditd_dispatch_consumers %zu\n", rc->n);
	for (size_t j = 0; j < NCONSUMER_ROWS; j++) {
		const struct consumer_row *r = &consumer_rows[j];

		if (r->prom == NULL || rc->n == 0)
			continue;
		prom_head(o, r->prom, r->type, r->help);
		for (size_t i = 0; i < rc->n; i++) {
			const struct report_consumer *c = &rc->c[i];
			uint64_t v;

			if (r->text) {		/* the state set */
				for (size_t k = 0; k < sizeof(consumer_states) /
				    sizeof(consumer_states[0]); k++) {
					put(o, "rauditd_%s{consumer=\"", r->prom);
					put_label(o, c->name);
					put(o, "\",state=\"%s\"} %d\n", consumer_states[k],
					    strcmp(consumer_states[k], c->state) == 0);
				}
				continue;
			}
			memcpy(&v, (const char *)c + r->off, sizeof(v));
			put(o, "rauditd_%s{consumer=\"", r->prom);
			put_label(o, c->name);
			put(o, "\"} %llu\n", (unsigned long long)v);
		}
	}
}

/* ---- the specials ---------------------------------------------------------- */

/* The consumers with a loss counter; names are final once counted in. */
static size_t
consumer_losses(const struct writer_stats *ws)
{
	/* acquire: pairs with the writer's release after writing a name. */
	uint64_t n = atomic_load_explicit(&ws->consumers_n, memory_order_acquire);

	return n < STATS_CONSUMERS_MAX ? (size_t)n : STATS_CONSUMERS_MAX;
}

static void
status_special(struct out *o, enum row_special k, const struct snap *c)
{
	const struct report_src *s = c->s;
	uint64_t served, refused, dropped;
	uint32_t mask = AUDIT_FEATURE_TO_MASK(AUDIT_FEATURE_LOGINUID_IMMUTABLE);

	switch (k) {
	case SP_LOGINUID:
		if (c->m.features_valid && (c->m.f.mask & mask))
			put(o, "kernel_loginuid_immutable %u %s\n",
			    (c->m.f.features & mask) ? 1u : 0u,
			    (c->m.f.lock & mask) ? "locked" : "unlocked");
		break;
	case SP_DROPPED:
		for (int i = 0; i < DROP_NREASONS; i++)
			put(o, "dropped_%s %llu\n", stats_drop_name((unsigned)i),
			    (unsigned long long)c->dropped[i]);
		break;
	case SP_REJECTED:
		break;
	case SP_WRITER_STATE:
		put(o, "writer_state %s\n", report_writer_state(s->ws));
		break;
	case SP_FLUSH:
		put(o, "flush %s\n", config_flush_name(s->cfg->flush));
		break;
	case SP_SPOOL_DIR:
		put(o, "spool_dir ");
		put_text(o, s->cfg->spool_dir);
		put(o, "\n");
		break;
	case SP_RING_FULL_ACTION:
		put(o, "ring_full_action %s\n", ring_full_name(s->cfg->ring_full_action));
		break;
	case SP_DISKPOLICY:
		for (int i = 0; i < DISKPOLICY_EVENTS; i++) {
			const char *ev = diskpolicy_event_name((enum diskpolicy_event)i);

			put(o, "diskpolicy_%s_fired %llu\n", ev,
			    (unsigned long long)stat_get(&s->ws->dp_fired[i]));
			if (i != DISKPOLICY_LOSS)
				put(o, "diskpolicy_%s_active %llu\n", ev,
				    (unsigned long long)stat_get(&s->ws->dp_active[i]));
		}
		break;
	case SP_CONSUMERS:
		if (s->consumers != NULL)
			consumers_status(o, s->consumers);
		break;
	case SP_CONTROL:
		if (s->control == NULL)
			break;
		control_counts(s->control, &served, &refused, &dropped);
		put(o, "control_served %llu\n", (unsigned long long)served);
		put(o, "control_refused %llu\n", (unsigned long long)refused);
		put(o, "control_dropped %llu\n", (unsigned long long)dropped);
		break;
	case SP_CONSUMER_LOSS:
		/* Names are checked (cursors_name_ok): one token each. */
		for (size_t i = 0; i < consumer_losses(s->ws); i++) {
			const struct consumer_loss *e = &s->ws->consumer[i];

			put(o, "spool_unconsumed_deleted.%s %llu\n", e->name,
			    (unsigned long long)stat_get(&e->deleted));
			put(o, "spool_unconsumed_bytes_deleted.%s %llu\n", e->name,
			    (unsigned long long)stat_get(&e->bytes_deleted));
		}
		break;
	}
}

/* How one rendering prints a plain row and a special one. */
struct renderer {
	void	(*row)(struct out *, const struct report_row *, uint64_t);
	void	(*special)(struct out *, enum row_special, const struct snap *);
};

static void
walk(struct out *o, const struct snap *sn, const struct renderer *rd)
{
	for (size_t i = 0; i < sizeof(report_rows) / sizeof(report_rows[0]); i++) {
		const struct report_row *r = &report_rows[i];

		if (!row_shown(r, sn))
			continue;
		if (r->src == SRC_SPECIAL)
			rd->special(o, (enum row_special)r->off, sn);
		else
			rd->row(o, r, row_value(r, sn));
	}
}

static void
status_row(struct out *o, const struct report_row *r, uint64_t v)
{
	if (r->status == NULL)
		return;
	if (r->flags & R_SIGNED)
		put(o, "%s %lld\n", r->status, (long long)v);
	else if (r->flags & R_NS_MS)
		put(o, "%s %llu\n", r->status, (unsigned long long)(v / 1000000u));
	else
		put(o, "%s %llu\n", r->status,
		    (unsigned long long)(r->flags & R_NS_US ? v / 1000 : v));
}

size_t
report_status(const struct report_src *s, char *buf, size_t cap)
{
	static const struct renderer rd = { status_row, status_special };
	struct out o = { buf, cap, 0 };
	struct snap sn;

	take(s, &sn);
	put(&o, "rauditd_version %s\n", PACKAGE_VERSION);
	put(&o, "rauditd_pid %ld\n", (long)getpid());
	put(&o, "rauditd_state %s\n", s->state);
	put(&o, "uptime_s %lld\n", (long long)(time(NULL) - s->start_time));
	walk(&o, &sn, &rd);
	return whole_lines(&o);
}

static void
prom_head(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP rauditd_%s %s\n# TYPE rauditd_%s %s\n", name, help, name, type);
}

static void
prom_special(struct out *o, enum row_special k, const struct snap *c)
{
	const char *states[WRITER_NSTATES + 2], *cur;
	size_t nstates = 0;

	switch (k) {
	case SP_DROPPED:
		prom_head(o, "dropped_records_total", "counter",
		    "Records received but not written, by reason.");
		for (int i = 0; i < DROP_NREASONS; i++)
			put(o, "rauditd_dropped_records_total{reason=\"%s\"} %llu\n",
			    stats_drop_name((unsigned)i), (unsigned long long)c->dropped[i]);
		break;
	case SP_REJECTED:
		prom_head(o, "rejected_messages_total", "counter",
		    "Netlink messages refused, by reason.");
		put(o, "rauditd_rejected_messages_total{reason=\"spoofed\"} %llu\n"
		    "rauditd_rejected_messages_total{reason=\"malformed\"} %llu\n",
		    (unsigned long long)stat_get(&c->s->rx->rejected_spoofed),
		    (unsigned long long)stat_get(&c->s->rx->rejected_malformed));
		break;
	case SP_WRITER_STATE:
		prom_head(o, "writer_state", "gauge", "Writer state (1 for the current one).");
		/* ok, the derived slow and stalled, then the writer's other states. */
		states[nstates++] = writer_state_name(WRITER_OK);
		states[nstates++] = STATE_SLOW;
		states[nstates++] = STATE_STALLED;
		for (int i = WRITER_OK + 1; i < WRITER_NSTATES; i++)
			states[nstates++] = writer_state_name((enum writer_state)i);
		cur = report_writer_state(c->s->ws);
		for (size_t i = 0; i < nstates; i++)
			put(o, "rauditd_writer_state{state=\"%s\"} %d\n", states[i],
			    strcmp(states[i], cur) == 0);
		break;
	case SP_RING_FULL_ACTION:
		prom_head(o, "ring_full_action", "gauge",
		    "What the receiver does when the ring is full (1 for the setting).");
		for (int a = CONFIG_RING_FULL_WAIT; a <= CONFIG_RING_FULL_DROP; a++)
			put(o, "rauditd_ring_full_action{action=\"%s\"} %d\n",
			    ring_full_name((enum config_ring_full)a),
			    a == (int)c->s->cfg->ring_full_action);
		break;
	case SP_DISKPOLICY:
		prom_head(o, "diskpolicy_fired_total", "counter",
		    "Disk policy events fired, by event.");
		for (int i = 0; i < DISKPOLICY_EVENTS; i++)
			put(o, "rauditd_diskpolicy_fired_total{event=\"%s\"} %llu\n",
			    diskpolicy_event_name((enum diskpolicy_event)i),
			    (unsigned long long)stat_get(&c->s->ws->dp_fired[i]));
		prom_head(o, "diskpolicy_active", "gauge",
		    "Disk policy events in progress (1: fired, not yet recovered).");
		for (int i = 0; i < DISKPOLICY_EVENTS; i++)
			if (i != DISKPOLICY_LOSS)
				put(o, "rauditd_diskpolicy_active{event=\"%s\"} %llu\n",
				    diskpolicy_event_name((enum diskpolicy_event)i),
				    (unsigned long long)stat_get(&c->s->ws->dp_active[i]));
		break;
	case SP_CONSUMERS:
		if (c->s->consumers != NULL)
			consumers_prom(o, c->s->consumers);
		break;
	case SP_CONSUMER_LOSS:
		prom_head(o, "spool_unconsumed_deleted_segments_total", "counter",
		    "Segments retention deleted before a consumer had read them, by consumer.");
		for (size_t i = 0; i < consumer_losses(c->s->ws); i++)
			put(o, "rauditd_spool_unconsumed_deleted_segments_total{consumer=\"%s\"} %llu\n",
			    c->s->ws->consumer[i].name,
			    (unsigned long long)stat_get(&c->s->ws->consumer[i].deleted));
		break;
	default:
		break;
	}
}

static void
prom_row(struct out *o, const struct report_row *r, uint64_t v)
{
	if (r->prom == NULL)
		return;
	prom_head(o, r->prom, r->type, r->help);
	if (r->flags & (R_NS_US | R_NS_MS))
		put(o, "rauditd_%s %.6f\n", r->prom, (double)v / 1e9);
	else
		put(o, "rauditd_%s %llu\n", r->prom, (unsigned long long)v);
}

size_t
report_prometheus(const struct report_src *s, char *buf, size_t cap)
{
	static const struct renderer rd = { prom_row, prom_special };
	struct out o = { buf, cap, 0 };
	struct snap sn;

	take(s, &sn);
	walk(&o, &sn, &rd);
	return whole_lines(&o);
}
