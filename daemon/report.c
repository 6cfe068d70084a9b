/*
 * report.c - this file renders the daemon's counters (receive path,
 * writer, ring, monitor, control) as status lines and as Prometheus text.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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
	uint64_t written, in_ring, dropped[DROP_NREASONS];
	uint64_t dropped_total;
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
	sn->in_ring = report_in_ring(s->ring, s->rx, s->writer, &sn->written);
	sn->dropped_total = 0;
	for (int i = 0; i < DROP_NREASONS; i++) {
		sn->dropped[i] = stat_get(&s->rx->dropped[i]);
		sn->dropped_total += sn->dropped[i];
	}
}

size_t
report_status(const struct report_src *s, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };
	struct snap sn;
	uint64_t now = mono_ns(), started;
	const struct writer_stats *ws = s->ws;

	take(s, &sn);
	put(&o, "rauditd_version %s\n", PACKAGE_VERSION);
	put(&o, "rauditd_pid %ld\n", (long)getpid());
	put(&o, "rauditd_state %s\n", s->state);
	put(&o, "uptime_s %lld\n", (long long)(time(NULL) - s->start_time));

	if (s->monitor != NULL) {
		struct monitor_status m;
		monitor_read(s->monitor, &m);
		put(&o, "kernel_valid %d\n", m.valid ? 1 : 0);
		if (m.valid) {
			put(&o, "kernel_age_ms %llu\n",
			    (unsigned long long)((now - m.updated_ns) / 1000000u));
			put(&o, "kernel_enabled %u\n", m.k.enabled);
			put(&o, "kernel_failure %u\n", m.k.failure);
			put(&o, "kernel_pid %u\n", m.k.pid);
			put(&o, "kernel_rate_limit %u\n", m.k.rate_limit);
			put(&o, "kernel_backlog_limit %u\n", m.k.backlog_limit);
			put(&o, "kernel_lost %u\n", m.k.lost);
			put(&o, "kernel_backlog %u\n", m.k.backlog);
			put(&o, "kernel_backlog_wait_time %u\n", m.k.backlog_wait_time);
			put(&o, "kernel_backlog_wait_time_actual %u\n", m.k.backlog_wait_time_actual);
			if (m.features_valid) {
				uint32_t mask = AUDIT_FEATURE_TO_MASK(AUDIT_FEATURE_LOGINUID_IMMUTABLE);
				if (m.f.mask & mask)
					put(&o, "kernel_loginuid_immutable %u %s\n",
					    (m.f.features & mask) ? 1u : 0u,
					    (m.f.lock & mask) ? "locked" : "unlocked");
			}
			put(&o, "kernel_lost_since_start %lld\n",
			    (long long)m.k.lost - (long long)m.lost_start);
			put(&o, "kernel_backlog_max %u\n", m.backlog_max);
			put(&o, "kernel_wait_actual_since_start %lld\n",
			    (long long)m.k.backlog_wait_time_actual - (long long)m.wait_actual_start);
		}
		put(&o, "monitor_polls %llu\n", (unsigned long long)m.polls);
		put(&o, "monitor_skipped %llu\n", (unsigned long long)m.skipped);
		put(&o, "monitor_parked %llu\n", (unsigned long long)m.parked);
		put(&o, "monitor_errors %llu\n", (unsigned long long)m.errors);
		put(&o, "monitor_max_poll_us %llu\n", (unsigned long long)(m.max_poll_ns / 1000));
	} else {
		put(&o, "kernel_valid 0\n");
	}

	put(&o, "received %llu\n", (unsigned long long)stat_get(&s->rx->received));
	put(&o, "written %llu\n", (unsigned long long)sn.written);
	put(&o, "dropped %llu\n", (unsigned long long)sn.dropped_total);
	for (int i = 0; i < DROP_NREASONS; i++)
		put(&o, "dropped_%s %llu\n", stats_drop_name((unsigned)i), (unsigned long long)sn.dropped[i]);
	put(&o, "in_ring %llu\n", (unsigned long long)sn.in_ring);
	put(&o, "reexecs %u\n", s->reexecs);
	put(&o, "carried_ring %llu\n", (unsigned long long)s->carried_ring);
	put(&o, "carried_socket %llu\n", (unsigned long long)s->carried_socket);
	put(&o, "loss_pending %llu\n", (unsigned long long)s->pending_loss);
	put(&o, "loss_records %llu\n", (unsigned long long)stat_get(&ws->loss_markers));
	put(&o, "rejected_spoofed %llu\n", (unsigned long long)stat_get(&s->rx->rejected_spoofed));
	put(&o, "rejected_malformed %llu\n", (unsigned long long)stat_get(&s->rx->rejected_malformed));
	put(&o, "control_messages %llu\n", (unsigned long long)stat_get(&s->rx->control));
	put(&o, "replace_probes %llu\n", (unsigned long long)stat_get(&s->rx->replace_probes));
	put(&o, "eoe_skipped %llu\n", (unsigned long long)stat_get(&s->rx->eoe));
	put(&o, "recv_errors %llu\n", (unsigned long long)stat_get(&s->rx->recv_errors));
	put(&o, "seq_gaps %llu\n", (unsigned long long)stat_get(&s->rx->seq_gaps));
	put(&o, "seq_late %llu\n", (unsigned long long)stat_get(&s->rx->seq_late));
	put(&o, "last_serial %llu\n", (unsigned long long)stat_get(&s->rx->last_serial));
	put(&o, "received_bytes %llu\n", (unsigned long long)stat_get(&s->rx->bytes));

	put(&o, "ring_used_bytes %zu\n", ring_used(s->ring));
	put(&o, "ring_capacity_bytes %zu\n", ring_capacity(s->ring));
	put(&o, "ring_high_water_bytes %zu\n", ring_high_water(s->ring));

	started = stat_get(&ws->write_started_ns);
	put(&o, "writer_state %s\n", report_writer_state(ws));
	put(&o, "writer_errno %llu\n", (unsigned long long)stat_get(&ws->last_errno));
	put(&o, "writer_busy_ms %llu\n",
	    (unsigned long long)(started ? (now - started) / 1000000u : 0));
	put(&o, "writer_degraded_ms %llu\n", (unsigned long long)
	    (stat_get(&ws->degraded_since_ns) ? (now - stat_get(&ws->degraded_since_ns)) / 1000000u : 0));
	put(&o, "writer_last_write_us %llu\n", (unsigned long long)(stat_get(&ws->last_write_ns) / 1000));
	put(&o, "writer_max_write_us %llu\n", (unsigned long long)(stat_get(&ws->max_write_ns) / 1000));
	put(&o, "writer_last_fsync_us %llu\n", (unsigned long long)(stat_get(&ws->last_fsync_ns) / 1000));
	put(&o, "writer_max_fsync_us %llu\n", (unsigned long long)(stat_get(&ws->max_fsync_ns) / 1000));
	put(&o, "writer_write_errors %llu\n", (unsigned long long)stat_get(&ws->write_errors));
	put(&o, "writer_fsyncs %llu\n", (unsigned long long)stat_get(&ws->fsyncs));
	put(&o, "writer_fsync_errors %llu\n", (unsigned long long)stat_get(&ws->fsync_errors));
	put(&o, "writer_unsynced_bytes %llu\n", (unsigned long long)stat_get(&ws->unsynced_bytes));
	put(&o, "writer_daemon_records %llu\n", (unsigned long long)stat_get(&ws->daemon_records));
	put(&o, "written_bytes %llu\n", (unsigned long long)stat_get(&ws->bytes));
	put(&o, "flush %s\n", config_flush_name(s->cfg->flush));
	put(&o, "spool_dir ");
	put_text(&o, s->cfg->spool_dir);
	put(&o, "\n");
	put(&o, "spool_segment %llu\n", (unsigned long long)stat_get(&ws->segment));
	put(&o, "spool_segment_bytes %llu\n", (unsigned long long)stat_get(&ws->segment_bytes));
	put(&o, "spool_bytes %llu\n", (unsigned long long)stat_get(&ws->spool_bytes));
	put(&o, "spool_segments %llu\n", (unsigned long long)stat_get(&ws->spool_segments));
	put(&o, "spool_rotations %llu\n", (unsigned long long)stat_get(&ws->rotations));
	put(&o, "spool_segments_deleted %llu\n", (unsigned long long)stat_get(&ws->segments_deleted));
	put(&o, "spool_unshipped_deleted %llu\n", (unsigned long long)stat_get(&ws->unshipped_deleted));
	put(&o, "spool_unshipped_bytes_deleted %llu\n",
	    (unsigned long long)stat_get(&ws->unshipped_bytes_deleted));
	put(&o, "spool_segments_held %llu\n", (unsigned long long)stat_get(&ws->retention_held));
	put(&o, "spool_torn_bytes %llu\n", (unsigned long long)stat_get(&ws->torn_bytes));
	if (s->control != NULL) {
		uint64_t served, refused, dropped;
		control_counts(s->control, &served, &refused, &dropped);
		put(&o, "control_served %llu\n", (unsigned long long)served);
		put(&o, "control_refused %llu\n", (unsigned long long)refused);
		put(&o, "control_dropped %llu\n", (unsigned long long)dropped);
	}
	return o.len;
}

static void
metric(struct out *o, const char *name, const char *type, const char *help,
    unsigned long long v)
{
	put(o, "# HELP rauditd_%s %s\n# TYPE rauditd_%s %s\nrauditd_%s %llu\n",
	    name, help, name, type, name, v);
}

static void
metric_seconds(struct out *o, const char *name, const char *help, uint64_t ns)
{
	put(o, "# HELP rauditd_%s %s\n# TYPE rauditd_%s gauge\nrauditd_%s %.6f\n",
	    name, help, name, name, (double)ns / 1e9);
}

size_t
report_prometheus(const struct report_src *s, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };
	struct snap sn;
	const struct writer_stats *ws = s->ws;
	const char *states[WRITER_NSTATES + 2];
	size_t nstates = 0;
	const char *cur = report_writer_state(ws);

	take(s, &sn);
	metric(&o, "received_records_total", "counter", "Audit records received from the kernel.",
	    (unsigned long long)stat_get(&s->rx->received));
	metric(&o, "written_records_total", "counter", "Kernel audit records written to the spool.",
	    (unsigned long long)sn.written);
	put(&o, "# HELP rauditd_dropped_records_total Records received but not written, by reason.\n"
	    "# TYPE rauditd_dropped_records_total counter\n");
	for (int i = 0; i < DROP_NREASONS; i++)
		put(&o, "rauditd_dropped_records_total{reason=\"%s\"} %llu\n", stats_drop_name((unsigned)i),
		    (unsigned long long)sn.dropped[i]);
	put(&o, "# HELP rauditd_rejected_messages_total Netlink messages refused, by reason.\n"
	    "# TYPE rauditd_rejected_messages_total counter\n"
	    "rauditd_rejected_messages_total{reason=\"spoofed\"} %llu\n"
	    "rauditd_rejected_messages_total{reason=\"malformed\"} %llu\n",
	    (unsigned long long)stat_get(&s->rx->rejected_spoofed),
	    (unsigned long long)stat_get(&s->rx->rejected_malformed));
	metric(&o, "ring_records", "gauge", "Kernel records waiting in the ring.",
	    (unsigned long long)sn.in_ring);
	metric(&o, "ring_used_bytes", "gauge", "Bytes in use in the ring.",
	    (unsigned long long)ring_used(s->ring));
	metric(&o, "ring_capacity_bytes", "gauge", "Capacity of the ring.",
	    (unsigned long long)ring_capacity(s->ring));
	metric(&o, "ring_high_water_bytes", "gauge", "Most bytes ever in use in the ring.",
	    (unsigned long long)ring_high_water(s->ring));
	metric(&o, "sequence_gaps_total", "counter", "Kernel serials that never arrived.",
	    (unsigned long long)stat_get(&s->rx->seq_gaps));
	metric(&o, "written_bytes_total", "counter", "Bytes written to the spool.",
	    (unsigned long long)stat_get(&ws->bytes));
	metric(&o, "writer_errors_total", "counter", "Failed spool writes.",
	    (unsigned long long)stat_get(&ws->write_errors));
	metric_seconds(&o, "writer_last_write_seconds", "Duration of the last spool write.",
	    stat_get(&ws->last_write_ns));
	metric_seconds(&o, "writer_last_fsync_seconds", "Duration of the last fsync.",
	    stat_get(&ws->last_fsync_ns));
	put(&o, "# HELP rauditd_writer_state Writer state (1 for the current one).\n"
	    "# TYPE rauditd_writer_state gauge\n");
	/* ok, the derived slow and stalled, then the writer's other states. */
	states[nstates++] = writer_state_name(WRITER_OK);
	states[nstates++] = STATE_SLOW;
	states[nstates++] = STATE_STALLED;
	for (int i = WRITER_OK + 1; i < WRITER_NSTATES; i++)
		states[nstates++] = writer_state_name((enum writer_state)i);
	for (size_t i = 0; i < nstates; i++)
		put(&o, "rauditd_writer_state{state=\"%s\"} %d\n", states[i],
		    strcmp(states[i], cur) == 0);
	metric(&o, "spool_bytes", "gauge", "Bytes in the spool.",
	    (unsigned long long)stat_get(&ws->spool_bytes));
	metric(&o, "spool_segments", "gauge", "Segments in the spool.",
	    (unsigned long long)stat_get(&ws->spool_segments));
	metric(&o, "spool_unshipped_deleted_segments_total", "counter",
	    "Segments max_spool_size deleted before rauditd-ship had shipped them.",
	    (unsigned long long)stat_get(&ws->unshipped_deleted));
	if (s->monitor != NULL) {
		struct monitor_status m;
		monitor_read(s->monitor, &m);
		if (m.valid) {
			metric(&o, "kernel_lost_records", "gauge",
			    "The kernel's lost counter (audit_status.lost).", m.k.lost);
			metric(&o, "kernel_backlog_records", "gauge",
			    "Records waiting in the kernel queue.", m.k.backlog);
			metric(&o, "kernel_backlog_limit_records", "gauge",
			    "The kernel's backlog_limit.", m.k.backlog_limit);
			metric(&o, "kernel_backlog_max_records", "gauge",
			    "Highest kernel backlog seen since start.", m.backlog_max);
			metric(&o, "kernel_backlog_wait_time_ticks", "gauge",
			    "The kernel's backlog_wait_time (kernel ticks).", m.k.backlog_wait_time);
			metric(&o, "kernel_backlog_wait_time_actual_ticks", "gauge",
			    "Time audited processes spent waiting on the backlog (kernel ticks).",
			    m.k.backlog_wait_time_actual);
			metric(&o, "kernel_enabled", "gauge", "The kernel's audit enabled flag.", m.k.enabled);
		}
		metric(&o, "monitor_polls_total", "counter", "Kernel status polls sent.", m.polls);
		metric(&o, "monitor_skipped_polls_total", "counter",
		    "Kernel status polls skipped because the kernel queue was busy.", m.skipped);
		metric(&o, "monitor_parked_polls_total", "counter",
		    "Kernel status polls the kernel put to sleep.", m.parked);
	}
	return o.len;
}

int
report_write_file(const char *path, const char *text, size_t len)
{
	char tmp[4200];
	size_t off = 0;
	int fd, rc = 0, n;

	/*
	 * The directory may be writable by someone less privileged (the
	 * metrics textfile directory, a run_dir handed to another user): a
	 * predictable name could be a planted link, hard link or FIFO. A
	 * random name created exclusively is ours alone, never followed.
	 */
	n = snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0644) < 0)
		rc = -errno;
	while (rc == 0 && off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = -errno;
			break;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}
