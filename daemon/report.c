/*
 * report.c - this file renders the daemon's counters (receive path,
 * writer, ring, monitor, control) as status lines and as Prometheus text.
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
#include "monitor.h"
#include "mono.h"
#include "report.h"
#include "ring.h"
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
};
/* Row flags. */
#define R_MON		0x1	/* only with a monitor */
#define R_VALID		0x2	/* only once the monitor has an answer */
#define R_SIGNED	0x4	/* a signed difference */
#define R_NS_US		0x8	/* nanoseconds: status in us, Prometheus in seconds */

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
	{ "writer_unsynced_bytes", NULL, NULL, NULL, WS(unsynced_bytes), 0 },
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
	{ "spool_torn_bytes", NULL, NULL, NULL, WS(torn_bytes), 0 },
	{ "rules_removed", NULL, NULL, NULL, WS(rules_removed), 0 },
	{ "exclude_rule_restored", "exclude_rule_restored_total", C,
	    "Times rauditd put back the rule excluding its own pid after rules were removed.",
	    RX(exclude_restored), 0 },
	{ NULL, NULL, NULL, NULL, SP(SP_CONTROL), 0 },
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
	case SP_CONTROL:
		if (s->control == NULL)
			break;
		control_counts(s->control, &served, &refused, &dropped);
		put(o, "control_served %llu\n", (unsigned long long)served);
		put(o, "control_refused %llu\n", (unsigned long long)refused);
		put(o, "control_dropped %llu\n", (unsigned long long)dropped);
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
	return o.len;
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
	if (r->flags & R_NS_US)
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
	return o.len;
}
