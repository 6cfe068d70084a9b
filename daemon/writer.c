/*
 * writer.c - this file is the writer thread: it drains the ring in batches
 * into the spool, applies the flush policy, rotates and prunes segments,
 * and rides out disk errors by keeping records in the ring and retrying.
 * See the DESIGN block in writer.h.
 *
 * It also keeps the tamper-evidence chain (chain.h): the bytes of the open
 * segment are digested once they are final (written, and synced when the
 * flush policy rewrites a batch whose sync failed), a rotation seals the
 * segment into the next one's DAEMON_ROTATE marker, and a start (also after
 * a crash, an upgrade or an fd-store restart) resumes from the segment
 * before, or writes a DAEMON_ERR op=chain-break saying why it cannot.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <libaudit.h>

#include "auditview.h"
#include "chain.h"
#include "cursors.h"
#include "diskpolicy.h"
#include "format.h"
#include "log.h"
#include "record.h"
#include "ring.h"
#include "spool.h"
#include "syncer.h"
#include "thread.h"
#include "writer.h"

/* Room for daemon records (segment marker, start, loss) ahead of a batch. */
#define WRITER_PRE_MAX		(16 * 1024)
/* How often an idle writer wakes to publish state while stopping. */
#define WRITER_STOP_POLL_MS	20

struct writer {
	struct ring		*ring;
	struct spool		*spool;
	struct writer_stats	*st;
	void			(*notify)(void *);
	void			*notify_arg;
	int			 efd;
	pthread_t		 thread;
	bool			 started;

	/* Requests from the main thread. */
	_Atomic bool		 stop;
	_Atomic uint64_t	 stop_deadline_ns;
	_Atomic bool		 rotate_req;
	_Atomic bool		 note_req;	/* note_type/note_text wait, under mu */
	int			 note_type;
	char			 note_text[1024];
	char			 rotate_who[320];	/* under mu; "" = the daemon's pid */
	_Atomic bool		 resume_req;
	_Atomic bool		 reconf_req;
	_Atomic bool		 finished;
	_Atomic bool		 detach;	/* pause at a batch boundary (re-exec) */
	bool			 resuming;	/* thread restarted after a detach */
	pthread_mutex_t		 mu;		/* guards pending and end_text */
	struct writer_settings	 pending;
	char			 end_text[1024];

	/* Writer thread only. */
	struct writer_settings	 ws;
	struct format_enricher	*enr;
	char			*batch;
	size_t			 batch_cap;
	char			 pre[WRITER_PRE_MAX];
	size_t			 pre_len;
	char			 start_text[1024];
	uint64_t		 daemon_serial;
	/* The data-at-risk window: written, not yet synced (flush != none). */
	uint64_t		 since_sync;	/* records written since the last sync started */
	uint64_t		 unsynced_b;	/* their bytes */
	uint64_t		 unsynced_ns;	/* when the oldest of them was written; 0 = none */
	struct syncer		*syncer;	/* the sync thread (flush = incremental) */
	bool			 deferred;	/* the freq trigger waits for the ring to drain */
	bool			 syncing;	/* a sync is in flight, covering: */
	uint64_t		 syncing_records, syncing_b, syncing_ns;
	uint64_t		 next_retry_ns;
	enum writer_state	 state;
	const char		*rotate_reason;
	struct cursors		*cursors;	/* consumers' cursor files, read by its own thread */
	int			 cursor_err[CURSORS_MAX]; /* last error of each, logged once */
	struct cursor_view	 views[CURSORS_MAX];	/* as the last retention pass saw them */
	size_t			 nviews;
	const char		*retention_reason;	/* of a forced deletion, for its record */
	uint64_t		 held;		/* segments retention kept for a consumer */
	uint64_t		 held_floor;	/* the floor's segment at that pass */
	bool			 nice_set;
	int			 nice;
	/* The chain: fields for the next marker, a break to explain after it. */
	struct chain		*chain;
	char			 chain_fields[CHAIN_FIELDS_MAX];
	const char		*chain_break;	/* reason, or NULL */
	bool			 chain_bad;	/* a digest update failed: break at the seal */
	enum { KEY_IDLE, KEY_QUEUED, KEY_WRITTEN } key_step; /* marker -> key advance */
	/* Issue 12: auditd's disk-space policy and auditd's tools' view. */
	struct diskpolicy	*dp;
	struct auditview	*view;
	int			 view_err;	/* last view error, logged once */
	char			 dp_text[4096];	/* its records' texts, NUL-separated, */
	size_t			 dp_len;	/* waiting for dp_flush() */
};

static int set_cursors(struct writer *w);
static void writer_settings_auditd(struct writer_settings *ws, const struct config *c);

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *
writer_state_name(enum writer_state s)
{
	switch (s) {
	case WRITER_OK:		return "ok";
	case WRITER_DISK_FULL:	return "disk_full";
	case WRITER_ERROR:	return "error";
	case WRITER_STOPPED:	return "stopped";
	case WRITER_NSTATES:	break;
	}
	return "unknown";
}

void
writer_settings_from_config(struct writer_settings *ws, const struct config *c)
{
	ws->flush = c->flush;
	ws->freq = c->freq;
	ws->flush_interval_ms = c->flush_interval_ms;
	ws->segment_size = c->segment_size;
	ws->num_segments = c->num_segments;
	ws->max_spool_size = c->max_spool_size;
	ws->log_format = c->log_format;
	ws->batch_size = c->batch_size;
	ws->retry_interval_ms = c->retry_interval_ms;
	if (c->ship_target[0] != '\0')
		config_ship_cursor(c, ws->ship_cursor, sizeof(ws->ship_cursor));
	else
		ws->ship_cursor[0] = '\0';
	/* The plugins themselves are listed by the caller, off the receive path. */
	config_plugin_cursor_dir(c, ws->plugin_cursor_dir, sizeof(ws->plugin_cursor_dir));
	ws->nplugins = 0;
	ws->plugins_valid = false;
	snprintf(ws->seal_key, sizeof(ws->seal_key), "%s", c->seal_key);
	writer_settings_auditd(ws, c);
}

static void sync_done(void *arg);
static void writer_auditd_open(struct writer *w);
static void writer_view_update(struct writer *w);
static size_t node_prefix(const struct writer *w, char *out, size_t cap);
static void dp_flush(struct writer *w);

/* The chain, keyed when a seal_key is configured. NULL with errno set. */
static struct chain *
chain_setup(const char *key_path)
{
	struct chain *c = chain_new();
	const char *what = "";
	int rc;

	if (c == NULL || key_path[0] == '\0')
		return c;
	if ((rc = chain_key_open(c, key_path, &what)) < 0) {
		log_warnx("writer: seal_key %s: %s: %s", key_path, what, strerror(-rc));
		chain_free(c);
		errno = -rc;
		return NULL;
	}
	return c;
}

struct writer *
writer_new(struct ring *ring, struct spool *spool,
    const struct writer_settings *ws, struct writer_stats *st,
    void (*notify)(void *), void *arg)
{
	struct writer *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	/* The batch holds batch_size bytes plus one more line of each kind. */
	w->batch_cap = ws->batch_size + 2 * FORMAT_LINE_MAX;
	w->batch = malloc(w->batch_cap);
	if (w->efd < 0 || w->batch == NULL) {
		int e = w->efd < 0 ? errno : ENOMEM;
		if (w->efd >= 0)
			close(w->efd);
		free(w->batch);
		free(w);
		errno = e;
		return NULL;
	}
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		close(w->efd);
		free(w->batch);
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	w->cursors = cursors_new(1000);
	w->syncer = syncer_new(sync_done, w);
	errno = ENOMEM;
	if (w->cursors != NULL && w->syncer != NULL)
		w->chain = chain_setup(ws->seal_key);
	if (w->cursors == NULL || w->syncer == NULL || w->chain == NULL) {
		int e = errno;

		cursors_free(w->cursors);
		syncer_free(w->syncer);
		pthread_mutex_destroy(&w->mu);
		close(w->efd);
		free(w->batch);
		free(w);
		errno = e;
		return NULL;
	}
	w->ring = ring;
	w->spool = spool;
	w->st = st;
	w->notify = notify;
	w->notify_arg = arg;
	w->ws = *ws;
	w->rotate_reason = "start";
	(void)set_cursors(w);	/* sizes are checked by config: cannot fail */
	stat_set(&st->state, WRITER_OK);
	return w;
}

/* Wake the thread from its poll(). Any thread; async-signal-safe. */
static void
kick(struct writer *w)
{
	uint64_t one = 1;
	ssize_t n;

	do
		n = write(w->efd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
	/* EAGAIN means the counter is already non-zero: it is awake anyway. */
}

/* The sync thread finished a sync: the writer collects it. */
static void
sync_done(void *arg)
{
	kick(arg);
}

void
writer_set_nice(struct writer *w, int nice)
{
	w->nice_set = true;
	w->nice = nice;
}

void
writer_wake(struct writer *w)
{
	kick(w);
}

void
writer_rotate(struct writer *w)
{
	atomic_store(&w->rotate_req, true);
	kick(w);
}

void
writer_rotate_by(struct writer *w, const char *who)
{
	pthread_mutex_lock(&w->mu);
	snprintf(w->rotate_who, sizeof(w->rotate_who), "%s", who);
	pthread_mutex_unlock(&w->mu);
	writer_rotate(w);
}

void
writer_note(struct writer *w, int type, const char *text)
{
	pthread_mutex_lock(&w->mu);
	w->note_type = type;
	snprintf(w->note_text, sizeof(w->note_text), "%s", text);
	pthread_mutex_unlock(&w->mu);
	atomic_store(&w->note_req, true);
	kick(w);
}

void
writer_resume(struct writer *w)
{
	atomic_store(&w->resume_req, true);
	kick(w);
}

void
writer_reconfigure(struct writer *w, const struct writer_settings *ws)
{
	pthread_mutex_lock(&w->mu);
	w->pending = *ws;
	pthread_mutex_unlock(&w->mu);
	atomic_store(&w->reconf_req, true);
	kick(w);
}

/* ---- formatting ------------------------------------------------------ */

/* Append a daemon record (type, text) to the pre-batch buffer. */
static void
add_daemon_record(struct writer *w, int type, const char *text)
{
	char body[2048];
	struct timespec ts;
	ssize_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = format_daemon_body(body, sizeof(body), &ts, ++w->daemon_serial, text);
	if (n < 0)
		return;
	{
		size_t p = node_prefix(w, w->pre + w->pre_len, sizeof(w->pre) - w->pre_len);

		n = format_raw(w->pre + w->pre_len + p, sizeof(w->pre) - w->pre_len - p, type,
		    body, (size_t)n);
		if (n < 0)
			return;		/* pre is full of unwritten daemon records */
		w->pre_len += p + (size_t)n;
	}
	stat_add(&w->st->daemon_records, 1);
}

static void
add_segment_marker(struct writer *w)
{
	char text[1024], who[sizeof(w->rotate_who)] = "";

	/* A requested rotation names its sender when the request did. */
	if (strcmp(w->rotate_reason, "request") == 0) {
		pthread_mutex_lock(&w->mu);
		memcpy(who, w->rotate_who, sizeof(who));
		w->rotate_who[0] = '\0';
		pthread_mutex_unlock(&w->mu);
	}
	if (who[0] == '\0')
		snprintf(who, sizeof(who), "pid=%ld", (long)getpid());
	snprintf(text, sizeof(text),
	    "op=rotate-logs segment=%llu reason=%s %s %s res=success",
	    (unsigned long long)spool_segment(w->spool), w->rotate_reason,
	    who, w->chain_fields);
	add_daemon_record(w, AUDIT_DAEMON_ROTATE, text);
	if (w->chain_break != NULL) {
		snprintf(text, sizeof(text),
		    "op=chain-break segment=%llu reason=%s res=failed",
		    (unsigned long long)spool_segment(w->spool), w->chain_break);
		add_daemon_record(w, AUDIT_DAEMON_ERR, text);
		log_warnx("writer: the seal chain restarts at segment %llu: %s",
		    (unsigned long long)spool_segment(w->spool), w->chain_break);
		w->chain_break = NULL;
	}
	w->key_step = KEY_QUEUED;
}

static ssize_t
format_loss(struct writer *w, char *out, size_t cap, const struct rx_loss *l)
{
	char text[256], body[512];
	struct timespec ts;
	ssize_t n;

	if (l->has_serials)
		snprintf(text, sizeof(text),
		    "op=overflow reason=%s lost=%llu first_serial=%llu last_serial=%llu res=failed",
		    stats_drop_name(l->reason), (unsigned long long)l->count,
		    (unsigned long long)l->first_serial,
		    (unsigned long long)l->last_serial);
	else
		snprintf(text, sizeof(text), "op=overflow reason=%s lost=%llu res=failed",
		    stats_drop_name(l->reason), (unsigned long long)l->count);
	clock_gettime(CLOCK_REALTIME, &ts);
	n = format_daemon_body(body, sizeof(body), &ts, ++w->daemon_serial, text);
	if (n < 0)
		return n;
	{
		size_t p = node_prefix(w, out, cap);

		n = format_raw(out + p, cap - p, AUDIT_DAEMON_ERR, body, (size_t)n);
		return n < 0 ? n : n + (ssize_t)p;
	}
}

static ssize_t
format_record(struct writer *w, char *out, size_t cap, const struct ring_rec *r)
{
	size_t p = node_prefix(w, out, cap);
	ssize_t n = -1;

	if (w->ws.log_format == CONFIG_FORMAT_ENRICHED) {
		if (w->enr == NULL)
			w->enr = format_enricher_new();
		if (w->enr != NULL)
			n = format_enriched(w->enr, out + p, cap - p, (int)r->tag, r->data, r->len);
	}
	if (n < 0 && (w->ws.log_format != CONFIG_FORMAT_ENRICHED || w->enr == NULL))
		n = format_raw(out + p, cap - p, (int)r->tag, r->data, r->len);
	return n < 0 ? n : n + (ssize_t)p;
}

/*
 * The kernel says a rule was removed (auditctl -d, or each rule of an
 * auditctl -D such as augenrules --load starts with): the main thread
 * checks that the rule excluding our own pid is still in. Only
 * CONFIG_CHANGE records are looked at, and they are rare.
 */
static void
note_config_change(struct writer *w, const struct ring_rec *r)
{
	static const char op[] = "op=remove_rule ";

	if (memmem(r->data, r->len, op, sizeof(op) - 1) == NULL)
		return;
	stat_add(&w->st->rules_removed, 1);
	if (w->notify)
		w->notify(w->notify_arg);
}

/* ---- writing --------------------------------------------------------- */

int
writer_settle_inflight(struct ring *r, const char *spool_dir, uint64_t *skipped)
{
	struct ring_inflight raw;
	struct writer_inflight in;
	struct ring_iter it;
	uint64_t lines = 0;
	int rc;

	*skipped = 0;
	if (!ring_get_inflight(r, &raw))
		return 0;
	memcpy(&in, &raw, sizeof(in));
	ring_iter_begin(r, &it);
	/* The tail moved past the batch's start: it was released (a crash
	 * between the release and clearing this note). Nothing to skip. */
	if (it.pos == in.ring_pos) {
		/* Whole lines at the batch's place: the torn tail is already cut.
		 * A segment gone (retention) proves nothing written. */
		uint64_t upto;

		rc = spool_count_lines(spool_dir, in.at.segment, in.at.offset, UINT64_MAX,
		    NULL, &lines, &upto);
		if (rc < 0 && rc != -ENOENT)
			return rc;
		if (lines > 0)
			*skipped = ring_skip(r, lines < in.records ? lines : in.records);
	}
	ring_clear_inflight(r);
	return 0;
}

static void
publish(struct writer *w, uint64_t written, uint64_t markers,
    const struct ring_iter *it)
{
	uint64_t s = atomic_load_explicit(&w->st->seq, memory_order_relaxed);

	/* Sequence count: readers retry while it is odd or changed. */
	atomic_store_explicit(&w->st->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	stat_add(&w->st->written, written);
	stat_add(&w->st->loss_markers, markers);
	if (it != NULL)
		ring_release(w->ring, it);
	atomic_store_explicit(&w->st->seq, s + 2, memory_order_release);
}

void
writer_counts(const struct writer *w, uint64_t *written, uint64_t *markers,
    uint64_t *ring_out)
{
	uint64_t s1, s2;

	for (;;) {
		s1 = atomic_load_explicit(&w->st->seq, memory_order_acquire);
		*written = stat_get(&w->st->written);
		*markers = stat_get(&w->st->loss_markers);
		*ring_out = ring_records_out(w->ring);
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&w->st->seq, memory_order_relaxed);
		if (!(s1 & 1) && s1 == s2)
			return;
		sched_yield();
	}
}

static void
update_spool_stats(struct writer *w)
{
	stat_set(&w->st->segment, spool_segment(w->spool));
	stat_set(&w->st->segment_bytes, spool_segment_bytes(w->spool));
	stat_set(&w->st->spool_bytes, spool_total_bytes(w->spool));
	stat_set(&w->st->spool_segments, spool_segment_count(w->spool));
}

static void
set_state(struct writer *w, enum writer_state s, int err)
{
	enum writer_state old = w->state;

	if (s == old)
		return;
	w->state = s;
	stat_set(&w->st->state, s);
	stat_set(&w->st->last_errno, (uint64_t)(err < 0 ? -err : err));
	if (s == WRITER_OK && w->dp != NULL) {
		diskpolicy_fault(w->dp, DISKPOLICY_DISK_FULL, false, 0);
		diskpolicy_fault(w->dp, DISKPOLICY_DISK_ERROR, false, 0);
	}
	if (s == WRITER_OK) {
		uint64_t since = stat_get(&w->st->degraded_since_ns);
		log_warnx("writer: segment %llu is writable again after %.1f s; resuming",
		    (unsigned long long)spool_segment(w->spool),
		    since ? (double)(mono_ns() - since) / 1e9 : 0.0);
		stat_set(&w->st->degraded_since_ns, 0);
	} else if (s != WRITER_STOPPED) {
		log_warnx("writer: cannot write segment %llu: %s; records stay in the ring, "
		    "retrying every %u ms", (unsigned long long)spool_segment(w->spool),
		    strerror(-err), w->ws.retry_interval_ms);
		stat_set(&w->st->degraded_since_ns, mono_ns());
	}
	if (w->notify)
		w->notify(w->notify_arg);
}

static void
degrade(struct writer *w, int err)
{
	stat_add(&w->st->write_errors, 1);
	set_state(w, err == -ENOSPC || err == -EDQUOT ? WRITER_DISK_FULL : WRITER_ERROR, err);
	if (w->dp != NULL)
		diskpolicy_fault(w->dp, err == -ENOSPC || err == -EDQUOT ? DISKPOLICY_DISK_FULL :
		    DISKPOLICY_DISK_ERROR, true, err);
	w->next_retry_ns = mono_ns() + (uint64_t)w->ws.retry_interval_ms * 1000000u;
}

_Static_assert(STATS_DP_EVENTS == DISKPOLICY_EVENTS, "writer_stats.dp_* per policy event");

/* The disk policy's counts into the stats (the policy is the writer's). */
static void
publish_policy(struct writer *w)
{
	uint64_t started, failed, killed;

	if (w->dp == NULL)
		return;
	for (int i = 0; i < DISKPOLICY_EVENTS; i++) {
		stat_set(&w->st->dp_fired[i], diskpolicy_fired(w->dp, (enum diskpolicy_event)i));
		stat_set(&w->st->dp_active[i], diskpolicy_active(w->dp, (enum diskpolicy_event)i));
	}
	diskpolicy_exec_counts(w->dp, &started, &failed, &killed);
	stat_set(&w->st->dp_exec_started, started);
	stat_set(&w->st->dp_exec_failed, failed);
	stat_set(&w->st->dp_exec_killed, killed);
}

/* The data-at-risk window into the stats: what is unsynced or syncing. */
static void
publish_risk(struct writer *w)
{
	uint64_t oldest = w->syncing_ns ? w->syncing_ns : w->unsynced_ns;

	stat_set(&w->st->unsynced_records, w->since_sync + w->syncing_records);
	stat_set(&w->st->unsynced_bytes, w->unsynced_b + w->syncing_b);
	stat_set(&w->st->unsynced_oldest_ns, oldest);
	stat_set(&w->st->sync_in_flight, w->syncing);
}

/* Records and bytes just written join the window. */
static void
note_written(struct writer *w, uint64_t records, uint64_t bytes)
{
	if (w->unsynced_ns == 0 && (records > 0 || bytes > 0))
		w->unsynced_ns = mono_ns();
	w->since_sync += records;
	w->unsynced_b += bytes;
	publish_risk(w);
}

static int
do_sync(struct writer *w, bool data_only)
{
	uint64_t t0 = mono_ns(), dt;
	int rc;

	stat_set(&w->st->write_started_ns, t0);
	rc = spool_sync(w->spool, data_only);
	stat_set(&w->st->write_started_ns, 0);
	dt = mono_ns() - t0;
	stat_set(&w->st->last_fsync_ns, dt);
	stat_max(&w->st->max_fsync_ns, dt);
	if (rc < 0) {
		stat_add(&w->st->fsync_errors, 1);
		return rc;
	}
	stat_add(&w->st->fsyncs, 1);
	/* Everything written is durable, whatever the sync thread is doing. */
	w->since_sync = w->unsynced_b = w->unsynced_ns = 0;
	w->syncing_records = w->syncing_b = w->syncing_ns = 0;
	publish_risk(w);
	return 0;
}

/* flush = data|sync: a batch leaves the ring only once it is durable. */
static bool
durable(const struct writer *w)
{
	return w->ws.flush == CONFIG_FLUSH_DATA || w->ws.flush == CONFIG_FLUSH_SYNC;
}

/*
 * flush = incremental: records already released from the ring were in a
 * sync that failed. After an fsync error the kernel may have dropped their
 * pages: a write error (state, counter, retry), and a daemon record saying
 * how many records may be lost. The next batch syncs again.
 */
static void
incremental_sync_failed(struct writer *w, int err, uint64_t records)
{
	char text[256];

	stat_add(&w->st->sync_failed_records, records);
	snprintf(text, sizeof(text),
	    "op=sync-failed segment=%llu records=%llu errno=%d res=failed",
	    (unsigned long long)spool_segment(w->spool), (unsigned long long)records, -err);
	add_daemon_record(w, AUDIT_DAEMON_ERR, text);
	log_warnx("writer: fsync segment %llu: %s; %llu records written before it may be "
	    "lost", (unsigned long long)spool_segment(w->spool), strerror(-err),
	    (unsigned long long)records);
	degrade(w, err);
}

/* Collect the sync thread's result, if it has one. */
static void
reap_sync(struct writer *w)
{
	struct syncer_result r;

	if (!w->syncing || !syncer_reap(w->syncer, &r))
		return;
	w->syncing = false;
	stat_set(&w->st->last_fsync_ns, r.ns);
	stat_max(&w->st->max_fsync_ns, r.ns);
	if (r.err < 0) {
		stat_add(&w->st->fsync_errors, 1);
		incremental_sync_failed(w, r.err, w->syncing_records);
	} else {
		stat_add(&w->st->fsyncs, 1);
	}
	w->syncing_records = w->syncing_b = w->syncing_ns = 0;
	publish_risk(w);
}

/*
 * Group commit, flush = incremental: once freq records are unsynced or the
 * oldest of them is flush_interval old, hand one sync of everything written
 * so far to the sync thread, and go on writing meanwhile. At most one sync
 * is in flight; what is written during it goes with the next one. Where the
 * filesystem holds writes back during a sync (FUSE takes the inode lock), a
 * sync every freq records under a flood would stall the writer until the
 * ring overflows: while the ring is more than a quarter full, the freq
 * trigger waits and only the time bound starts a sync (counted in
 * syncs_deferred). Returns the ms until the oldest unsynced record comes
 * due (for the idle wait), or -1 when there is nothing to wait for.
 */
static int
group_commit(struct writer *w)
{
	uint64_t now, due;
	int fd;

	reap_sync(w);
	if (w->ws.flush != CONFIG_FLUSH_INCREMENTAL || w->unsynced_ns == 0)
		return -1;
	now = mono_ns();
	due = w->unsynced_ns + (uint64_t)w->ws.flush_interval_ms * 1000000u;
	if (w->syncing)
		return -1;		/* its completion kicks the writer */
	if (now < due && w->since_sync >= w->ws.freq &&
	    ring_used(w->ring) > ring_capacity(w->ring) / 4) {
		if (!w->deferred) {
			w->deferred = true;
			stat_add(&w->st->syncs_deferred, 1);
		}
		return (int)((due - now) / 1000000u) + 1;
	}
	if (w->since_sync < w->ws.freq && now < due)
		return (int)((due - now) / 1000000u) + 1;
	w->deferred = false;
	fd = spool_dup(w->spool);
	if (fd < 0 || !syncer_submit(w->syncer, fd, true, spool_segment(w->spool))) {
		int rc;

		if (fd >= 0)
			close(fd);
		/* No sync thread: sync here. */
		if ((rc = do_sync(w, true)) < 0)
			incremental_sync_failed(w, rc, w->since_sync);
		return -1;
	}
	w->syncing = true;
	w->syncing_records = w->since_sync;
	w->syncing_b = w->unsynced_b;
	w->syncing_ns = w->unsynced_ns;
	w->since_sync = w->unsynced_b = w->unsynced_ns = 0;
	publish_risk(w);
	return -1;
}

/* Write pre + batch as one append. Returns 0 or -errno. */
static int
append(struct writer *w, size_t batch_len)
{
	struct iovec iov[2];
	int n = 0, rc;
	uint64_t t0, dt;

	if (w->pre_len) {
		iov[n].iov_base = w->pre;
		iov[n++].iov_len = w->pre_len;
	}
	if (batch_len) {
		iov[n].iov_base = w->batch;
		iov[n++].iov_len = batch_len;
	}
	if (n == 0)
		return 0;
	t0 = mono_ns();
	stat_set(&w->st->write_started_ns, t0);
	rc = spool_append(w->spool, iov, n);
	stat_set(&w->st->write_started_ns, 0);
	dt = mono_ns() - t0;
	stat_set(&w->st->last_write_ns, dt);
	stat_max(&w->st->max_write_ns, dt);
	if (rc < 0)
		return rc;
	stat_add(&w->st->bytes, w->pre_len + batch_len);
	stat_add(&w->st->batches, 1);
	update_spool_stats(w);
	return 0;
}

/* ---- the seal chain (chain.h) ---------------------------------------- */

/* The chain cannot go on: restart it at the open segment, explained. */
static void
chain_restart(struct writer *w, const char *why)
{
	int n = chain_start(w->chain, spool_segment(w->spool), w->chain_fields,
	    sizeof(w->chain_fields));

	if (n < 0)			/* cannot happen: room is CHAIN_FIELDS_MAX */
		w->chain_fields[0] = '\0';
	w->chain_break = why;
	w->chain_bad = false;
}

/* Seal the chain's open segment into the fields of the next one's marker. */
static void
chain_seal_one(struct writer *w)
{
	int n;

	if (w->chain_bad) {
		chain_restart(w, "digest-failed");
		return;
	}
	n = chain_seal(w->chain, w->chain_fields, sizeof(w->chain_fields));
	if (n == -ESTALE)
		chain_restart(w, "key-evolved-past-segment");
	else if (n < 0)
		chain_restart(w, "seal-failed");
}

/* The segment just closed, sealed for the marker of the spool's open one. */
static void
chain_rotated(struct writer *w)
{
	chain_seal_one(w);
	if (w->chain_break == NULL && chain_segment(w->chain) != spool_segment(w->spool))
		chain_restart(w, "segment-mismatch");
}

static int
open_segment_ro(struct writer *w, uint64_t no, uint64_t *size)
{
	char path[PATH_MAX], name[SPOOL_NAME_LEN];
	struct stat sb;
	int fd;

	spool_segment_name(name, sizeof(name), no);
	snprintf(path, sizeof(path), "%s/%s", spool_dir(w->spool), name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	*size = (uint64_t)sb.st_size;
	return fd;
}

/*
 * A start (first, after a crash, an upgrade, an fd-store restart): the
 * spool opened a new segment above the one that was newest, whose torn tail
 * is already cut. Re-read that one to rebuild its digest and seal it; if it
 * is empty (a crash before its marker was written), the one before it, and
 * seal twice. A fresh spool starts the chain; anything else breaks it.
 */
static void
chain_begin(struct writer *w)
{
	uint64_t seg = spool_segment(w->spool), prev = seg - 1, size = 0;
	int fd, rc, seals = 1;

	if (seg <= 1) {
		chain_restart(w, NULL);
		return;
	}
	fd = open_segment_ro(w, prev, &size);
	if (fd >= 0 && size == 0 && prev > 1) {
		close(fd);
		prev--;
		seals = 2;
		fd = open_segment_ro(w, prev, &size);
	}
	if (fd == -ENOENT) {
		/* Nothing before: a fresh spool. */
		chain_restart(w, seals == 1 && spool_segment_count(w->spool) <= 1 ?
		    NULL : "previous-segment-missing");
		return;
	}
	if (fd < 0) {
		chain_restart(w, "previous-segment-unreadable");
		return;
	}
	rc = chain_resume(w->chain, fd, prev);
	close(fd);
	if (rc == -ENODATA) {
		chain_restart(w, "previous-segment-not-chained");
		return;
	}
	if (rc < 0) {
		chain_restart(w, rc == -EINVAL ? "previous-marker-mismatch" :
		    "previous-segment-unreadable");
		return;
	}
	/* The first of two seals (the empty segment's predecessor) is
	 * written nowhere: the verifier folds it in. */
	if (seals == 2)
		chain_seal_one(w);
	if (w->chain_break == NULL)
		chain_rotated(w);
}

/* Bytes now final in the open segment (the last append): into the digest. */
static void
chain_add(struct writer *w, size_t batch_len)
{
	if ((w->pre_len && chain_update(w->chain, w->pre, w->pre_len) < 0) ||
	    (batch_len && chain_update(w->chain, w->batch, batch_len) < 0))
		w->chain_bad = true;
	/* The pre-batch buffer, with any marker in it, is on disk now. */
	if (w->pre_len && w->key_step == KEY_QUEUED)
		w->key_step = KEY_WRITTEN;
}

/*
 * Keyed chain: once the marker holding the last seal is written and synced,
 * the key moves on to the open segment and the old one is erased. A crash
 * before leaves the key file behind, which the next seal makes up for.
 */
static void
chain_advance_key(struct writer *w, bool synced)
{
	int rc;

	if (w->key_step != KEY_WRITTEN)
		return;
	if (!chain_keyed(w->chain)) {
		w->key_step = KEY_IDLE;
		return;
	}
	if (!synced && do_sync(w, true) < 0)
		return;			/* the next batch tries again */
	w->key_step = KEY_IDLE;
	if ((rc = chain_key_advance(w->chain)) < 0)
		log_warnx("writer: rewriting the seal key for segment %llu: %s",
		    (unsigned long long)chain_segment(w->chain), strerror(-rc));
}

/* The loss counters of consumer name: found, added, or "other" when full. */
static struct consumer_loss *
consumer_loss(struct writer_stats *st, const char *name)
{
	uint64_t n = atomic_load_explicit(&st->consumers_n, memory_order_relaxed);
	struct consumer_loss *e;

	for (uint64_t i = 0; i < n; i++)
		if (strcmp(st->consumer[i].name, name) == 0)
			return &st->consumer[i];
	if (n == STATS_CONSUMERS_MAX)
		return &st->consumer[n - 1];
	if (n == STATS_CONSUMERS_MAX - 1)
		name = "other";
	e = &st->consumer[n];
	snprintf(e->name, sizeof(e->name), "%s", name);
	/* release: the name is written; pairs with the reader's acquire. */
	atomic_store_explicit(&st->consumers_n, n + 1, memory_order_release);
	return e;
}

/*
 * Retention deleted a segment (number, bytes) the floor had not passed
 * (max_spool_size, or a forced disk action). Each consumer waited for whose
 * cursor had not passed it loses it: counted for it, named in one
 * DAEMON_ERR, and a loss event for the disk policy. A cursor at the very
 * end of the segment counts too (with 0 bytes unread): its reader, finding
 * the segment gone, cannot tell and counts it missing, and the two counts
 * must agree.
 */
static void
retention_unshipped(void *arg, uint64_t segment, uint64_t bytes)
{
	struct writer *w = arg;
	char text[256 + CURSORS_MAX * CURSORS_NAME_MAX], who[CURSORS_MAX * CURSORS_NAME_MAX];
	size_t len = 0;

	who[0] = '\0';
	for (size_t i = 0; i < w->nviews && i < CURSORS_MAX; i++) {
		const struct cursor_view *v = &w->views[i];
		struct consumer_loss *e;
		uint64_t unread = bytes;

		if (!v->waits || v->pos.segment > segment)
			continue;
		if (v->pos.segment == segment)
			unread = v->pos.offset < bytes ? bytes - v->pos.offset : 0;
		e = consumer_loss(w->st, v->name);
		stat_add(&e->deleted, 1);
		stat_add(&e->bytes_deleted, unread);
		/* Names are checked by cursors_set: no blank, '=' or ','. */
		len += (size_t)snprintf(who + len, sizeof(who) - len, "%s%s", len ? "," : "",
		    v->name);
		if (len >= sizeof(who))
			len = sizeof(who) - 1;
	}
	if (len == 0)
		return;
	stat_add(&w->st->unshipped_deleted, 1);
	stat_add(&w->st->unshipped_bytes_deleted, bytes);
	snprintf(text, sizeof(text),
	    "op=retention-unshipped segment=%llu bytes=%llu reason=%s consumer=%s res=failed",
	    (unsigned long long)segment, (unsigned long long)bytes, w->retention_reason, who);
	add_daemon_record(w, AUDIT_DAEMON_ERR, text);
	log_warnx("writer: %s forced the deletion of segment %llu (%llu bytes) before %s "
	    "had read it", w->retention_reason, (unsigned long long)segment,
	    (unsigned long long)bytes, who);
	if (w->dp != NULL) {
		snprintf(text, sizeof(text),
		    "reason=unshipped_deleted segment=%llu bytes=%llu consumer=%s",
		    (unsigned long long)segment, (unsigned long long)bytes, who);
		diskpolicy_loss(w->dp, text);
	}
}

/*
 * The consumers with a cursor file: rauditd-ship's when shipping is on
 * (absent: not started yet, waited for), and each active plugin's
 * (absent: never started, not waited for; see cursors.h).
 */
static int
set_cursors(struct writer *w)
{
	char names[CURSORS_MAX][CURSORS_NAME_MAX], paths[CURSORS_MAX][PATH_MAX];
	const char *np[CURSORS_MAX], *pp[CURSORS_MAX];
	bool optional[CURSORS_MAX];
	size_t n = 0;

	if (w->ws.ship_cursor[0] != '\0') {
		snprintf(names[n], sizeof(names[n]), "ship");
		snprintf(paths[n], sizeof(paths[n]), "%s", w->ws.ship_cursor);
		optional[n++] = false;
	}
	for (uint32_t i = 0; i < w->ws.nplugins && n < CURSORS_MAX; i++) {
		snprintf(names[n], sizeof(names[n]), "plugin:%s", w->ws.plugins[i]);
		plugins_cursor_path(w->ws.plugin_cursor_dir, w->ws.plugins[i], paths[n],
		    sizeof(paths[n]));
		optional[n++] = true;
	}
	for (size_t i = 0; i < n; i++) {
		np[i] = names[i];
		pp[i] = paths[i];
	}
	memset(w->cursor_err, 0, sizeof(w->cursor_err));
	return cursors_set(w->cursors, np, pp, optional, n);
}

static const char *
cursor_error_text(int err)
{
	switch (err) {
	case -EINVAL:	return "not a cursor file";
	case -ENOTSUP:	return "a symlink or not a regular file, refused";
	default:	return strerror(-err);
	}
}

/*
 * Where the consumers are, as the cursor thread last read them (the writer
 * never opens a cursor file: it may be a FIFO or on a hung filesystem). No
 * cursor yet, or one that cannot be read, means nothing is consumed, so
 * retention keeps everything the size limit allows. NULL: no consumers.
 */
static const struct spool_pos *
shipped_position(struct writer *w, struct spool_pos *pos)
{
	struct cursor_view *v = w->views;
	size_t n = cursors_snapshot(w->cursors, v, CURSORS_MAX, pos);

	w->nviews = n < CURSORS_MAX ? n : CURSORS_MAX;
	for (size_t i = 0; i < w->nviews; i++) {
		int rc = v[i].err;

		if (v[i].reads == 0 || rc == w->cursor_err[i])
			continue;
		if (rc < 0 && rc != -ENOENT)
			log_warnx("writer: reading %s's cursor: %s; keeping every segment the "
			    "size limit allows", v[i].name, cursor_error_text(rc));
		else if (rc == 0 && w->cursor_err[i] != -ENOENT)
			log_info("writer: %s's cursor is readable again", v[i].name);
		w->cursor_err[i] = rc;
	}
	return n > 0 ? pos : NULL;
}

static void
run_retention(struct writer *w)
{
	struct spool_pos pos = { 0, 0 };
	uint64_t freed = 0, held = 0;
	int n;

	w->retention_reason = "max_spool_size";
	n = spool_retention_shipped(w->spool, w->ws.num_segments, w->ws.max_spool_size,
	    shipped_position(w, &pos), &freed, &held, retention_unshipped, w);

	w->held = held;
	w->held_floor = pos.segment;
	stat_set(&w->st->retention_held, held);
	if (n > 0) {
		stat_add(&w->st->segments_deleted, (uint64_t)n);
		stat_add(&w->st->bytes_deleted, freed);
		log_debug("writer: retention removed %d segment(s), %llu bytes", n,
		    (unsigned long long)freed);
		writer_view_update(w);
	} else if (n < 0) {
		log_warnx("writer: retention in %s: %s", spool_dir(w->spool), strerror(-n));
	}
	update_spool_stats(w);
}

/* Open the next segment; its marker goes out with the next write. */
static int
rotate(struct writer *w, const char *reason)
{
	int rc;

	/* Daemon records for the open segment are not written yet (a failing
	 * disk): a new segment now would not begin with its own marker, or
	 * would begin with the old segment's. The caller tries again later. */
	if (w->pre_len > 0)
		return -EAGAIN;
	rc = spool_rotate(w->spool);
	if (rc < 0) {
		log_warnx("writer: rotate after segment %llu: %s",
		    (unsigned long long)spool_segment(w->spool), strerror(-rc));
		return rc;
	}
	stat_add(&w->st->rotations, 1);
	cursors_poke(w->cursors);
	/* spool_rotate synced the sealed segment: all written so far. */
	w->since_sync = w->unsynced_b = w->unsynced_ns = 0;
	publish_risk(w);
	w->rotate_reason = reason;
	chain_rotated(w);
	add_segment_marker(w);
	run_retention(w);
	writer_view_update(w);
	return 0;
}

/* Note the batch about to be written (struct writer_inflight). */
static void
set_inflight(struct writer *w, const struct ring_iter *it)
{
	struct ring_iter start;
	struct ring_inflight raw;
	struct writer_inflight in = { 0, it->count, { spool_segment(w->spool),
	    spool_segment_bytes(w->spool) + w->pre_len } };

	_Static_assert(sizeof(in) == sizeof(raw), "the note fits the ring's words");
	ring_iter_begin(w->ring, &start);
	in.ring_pos = start.pos;
	memcpy(&raw, &in, sizeof(raw));
	ring_set_inflight(w->ring, &raw);
}

/*
 * Build one batch from the ring and write it. Returns the number of ring
 * records consumed (0 when the ring was empty) or a negative errno when the
 * write failed (the records stay in the ring).
 */
static int64_t
write_batch(struct writer *w)
{
	struct ring_iter it;
	struct ring_rec rec;
	uint64_t seg_bytes = spool_segment_bytes(w->spool), at = seg_bytes;
	size_t len = 0, limit = w->ws.batch_size;
	uint64_t written = 0, markers = 0, lost = 0;
	int rc;

	/* Keep segments near segment_size: stop the batch at the boundary. */
	if (seg_bytes + w->pre_len < w->ws.segment_size &&
	    w->ws.segment_size - seg_bytes - w->pre_len < limit)
		limit = (size_t)(w->ws.segment_size - seg_bytes - w->pre_len);

	ring_iter_begin(w->ring, &it);
	while (len < limit && ring_next(w->ring, &it, &rec)) {
		ssize_t n;

		if (rec.tag == RX_TAG_LOSS && rec.len == sizeof(struct rx_loss)) {
			struct rx_loss l;
			memcpy(&l, rec.data, sizeof(l));
			lost += l.count;
			n = format_loss(w, w->batch + len, w->batch_cap - len, &l);
			markers++;
		} else {
			n = format_record(w, w->batch + len, w->batch_cap - len, &rec);
			written++;
			if (rec.tag == AUDIT_CONFIG_CHANGE)
				note_config_change(w, &rec);
		}
		/* Cannot happen: the batch has room for a longest line past
		 * limit, and the receiver caps a record's length. */
		if (n < 0)
			n = 0;
		len += (size_t)n;
	}
	if (it.count == 0 && w->pre_len == 0)
		return 0;
	/* Should the process die inside this write, the next instance adopting
	 * the ring learns how much of the batch the segment holds. */
	set_inflight(w, &it);
	rc = append(w, len);
	if (rc < 0) {
		/* The formatted daemon records of this batch (loss) will be
		 * formatted again; the serials they used are simply skipped. */
		return rc;
	}
	/*
	 * flush = data|sync: release nothing before the sync that covers it.
	 * After a failed fsync the kernel may have dropped the pages: cut the
	 * batch off and write it again from the ring (pre is kept) on retry.
	 */
	if (durable(w) && (rc = do_sync(w, w->ws.flush == CONFIG_FLUSH_DATA)) < 0) {
		(void)spool_cut(w->spool, at);
		stat_add(&w->st->sync_rewrites, 1);
		update_spool_stats(w);
		log_warnx("writer: fsync segment %llu: %s; the batch stays in the ring "
		    "and is written again", (unsigned long long)spool_segment(w->spool),
		    strerror(-rc));
		return rc;
	}
	/* Final now: not cut back, never written again. */
	chain_add(w, len);
	if (!durable(w))
		note_written(w, written + markers, w->pre_len + len);
	w->pre_len = 0;
	publish(w, written, markers, &it);
	ring_clear_inflight(w->ring);
	chain_advance_key(w, durable(w));
	if (lost > 0 && w->dp != NULL) {
		char d[96];
		snprintf(d, sizeof(d), "reason=ring records=%llu", (unsigned long long)lost);
		diskpolicy_loss(w->dp, d);
	}
	if (w->state != WRITER_OK)
		set_state(w, WRITER_OK, 0);
	(void)group_commit(w);
	if (spool_segment_bytes(w->spool) >= w->ws.segment_size)
		rotate(w, "size");
	return (int64_t)it.count;
}

static void
take_requests(struct writer *w)
{
	if (atomic_exchange(&w->reconf_req, false)) {
		pthread_mutex_lock(&w->mu);
		w->ws.flush = w->pending.flush;
		w->ws.freq = w->pending.freq;
		w->ws.flush_interval_ms = w->pending.flush_interval_ms;
		w->ws.segment_size = w->pending.segment_size;
		w->ws.num_segments = w->pending.num_segments;
		w->ws.max_spool_size = w->pending.max_spool_size;
		w->ws.log_format = w->pending.log_format;
		w->ws.retry_interval_ms = w->pending.retry_interval_ms;
		memcpy(w->ws.ship_cursor, w->pending.ship_cursor, sizeof(w->ws.ship_cursor));
		/* A plugins.d that could not be read keeps the list we have. */
		if (w->pending.plugins_valid) {
			memcpy(w->ws.plugin_cursor_dir, w->pending.plugin_cursor_dir,
			    sizeof(w->ws.plugin_cursor_dir));
			memcpy(w->ws.plugins, w->pending.plugins, sizeof(w->ws.plugins));
			w->ws.nplugins = w->pending.nplugins;
		}
		w->ws.dp = w->pending.dp;
		memcpy(w->ws.node, w->pending.node, sizeof(w->ws.node));
		if (w->dp != NULL)
			diskpolicy_set(w->dp, &w->ws.dp);
		/* batch_size sizes a buffer: it needs a restart. */
		pthread_mutex_unlock(&w->mu);
		if (set_cursors(w) < 0)
			log_warnx("writer: too many consumer cursors, a bad name or a path too long");
		run_retention(w);
	}
	if (atomic_exchange(&w->note_req, false)) {
		char text[sizeof(w->note_text)];
		int type;

		pthread_mutex_lock(&w->mu);
		type = w->note_type;
		memcpy(text, w->note_text, sizeof(text));
		pthread_mutex_unlock(&w->mu);
		add_daemon_record(w, type, text);
	}
	/* Waits for the records ahead of it (see rotate). */
	if (w->pre_len == 0 && atomic_exchange(&w->rotate_req, false))
		rotate(w, "request");
	/* A consumer moved on past what the last pass kept for it. */
	if (w->held > 0) {
		struct spool_pos floor = { 0, 0 };

		if (cursors_snapshot(w->cursors, NULL, 0, &floor) == 0 ||
		    floor.segment != w->held_floor)
			run_retention(w);
	}
	if (atomic_exchange(&w->resume_req, false))
		w->next_retry_ns = 0;
}

static void
wait_for_work(struct writer *w, int timeout_ms)
{
	struct pollfd pfd = { .fd = w->efd, .events = POLLIN };
	uint64_t junk;

	if (!ring_prepare_wait(w->ring))
		return;
	if (poll(&pfd, 1, timeout_ms) > 0) {
		ssize_t n = read(w->efd, &junk, sizeof(junk));
		(void)n;
	}
	ring_cancel_wait(w->ring);
}

/*
 * Degraded: the unwritten records are still in the ring, so
 * ring_prepare_wait() would refuse to sleep and the loop would spin. Sleep
 * on the eventfd alone: the retry timer, or a request (stop, resume,
 * rotate, reconfigure all kick it), ends the sleep.
 */
static void
wait_for_retry(struct writer *w, int timeout_ms)
{
	struct pollfd pfd = { .fd = w->efd, .events = POLLIN };
	uint64_t junk;

	if (poll(&pfd, 1, timeout_ms) > 0) {
		ssize_t n = read(w->efd, &junk, sizeof(junk));
		(void)n;
	}
}

/* Before the last sync: let the sync in flight finish and count it. */
static void
settle_sync(struct writer *w)
{
	if (w->syncing) {
		(void)syncer_wait(w->syncer, 10000);
		reap_sync(w);
	}
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	char text[1024];

	/* Nice values are per thread on Linux; only the receiver is boosted. */
	if (w->nice_set)
		(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), w->nice);
	update_spool_stats(w);
	writer_auditd_open(w);
	if (!w->resuming) {
		chain_begin(w);
		add_segment_marker(w);
		add_daemon_record(w, AUDIT_DAEMON_START, w->start_text);
		run_retention(w);
	}

	for (;;) {
		bool stopping = atomic_load(&w->stop);
		uint64_t now;
		int64_t n;

		/* Between batches: nothing half-written, nothing unreleased. */
		if (atomic_load(&w->detach))
			goto detached;
		take_requests(w);
		now = mono_ns();
		if (w->dp != NULL)
			diskpolicy_check(w->dp, spool_dir(w->spool), now);
		dp_flush(w);
		/* Everything the last pass fired (faults, losses, retention). */
		publish_policy(w);
		if (w->state != WRITER_OK && now < w->next_retry_ns) {
			uint64_t until = w->next_retry_ns;

			if (stopping) {
				uint64_t deadline = atomic_load(&w->stop_deadline_ns);

				if (now >= deadline)
					break;
				/* Give up at the drain deadline, not at the retry. */
				if (deadline < until)
					until = deadline;
			}
			wait_for_retry(w, (int)((until - now) / 1000000u) + 1);
			continue;
		}
		n = write_batch(w);
		if (n < 0) {
			degrade(w, (int)n);
			continue;
		}
		/* A slow disk that works: drain_timeout bounds the stop all the same. */
		if (n > 0 && stopping && mono_ns() >= atomic_load(&w->stop_deadline_ns))
			break;
		if (n > 0)
			continue;
		if (stopping)
			break;			/* the ring is empty and so is pre */
		/* Idle: wake when the oldest unsynced record comes due. */
		n = group_commit(w);
		wait_for_work(w, n >= 0 && n < 1000 ? (int)n : 1000);
	}

	/* Stopped: the last record, then make it durable. */
	settle_sync(w);
	pthread_mutex_lock(&w->mu);
	snprintf(text, sizeof(text), "%s", w->end_text);
	pthread_mutex_unlock(&w->mu);
	if (ring_used(w->ring) == 0 || w->state == WRITER_OK) {
		add_daemon_record(w, AUDIT_DAEMON_END, text);
		if (append(w, 0) == 0) {
			chain_add(w, 0);
			w->pre_len = 0;
			chain_advance_key(w, do_sync(w, false) == 0);
		}
	}
	set_state(w, WRITER_STOPPED, 0);
	atomic_store(&w->finished, true);
	if (w->notify)
		w->notify(w->notify_arg);
	return NULL;

detached:
	/* Daemon records still waiting (a segment marker) and a sync, so the
	 * next image finds the spool as durable as a stop would leave it. */
	settle_sync(w);
	if (w->state == WRITER_OK && append(w, 0) == 0) {
		chain_add(w, 0);
		w->pre_len = 0;
		chain_advance_key(w, do_sync(w, false) == 0);
	}
	atomic_store(&w->finished, true);
	return NULL;
}

int
writer_detach(struct writer *w, unsigned timeout_ms)
{
	if (!w->started)
		return 0;
	atomic_store(&w->detach, true);
	kick(w);
	if (thread_join_within(w->thread, timeout_ms) < 0)
		return -ETIMEDOUT;
	w->started = false;
	/* A cursor thread stuck in the kernel is left behind: it holds no fd
	 * the next image needs. */
	(void)cursors_stop(w->cursors, 200);
	(void)syncer_stop(w->syncer, 200);
	return 0;
}

int
writer_reattach(struct writer *w)
{
	atomic_store(&w->detach, false);
	atomic_store(&w->finished, false);
	w->resuming = true;
	return writer_start(w, w->start_text);
}

int
writer_start(struct writer *w, const char *start_text)
{
	int rc;

	if (start_text != w->start_text)
		snprintf(w->start_text, sizeof(w->start_text), "%s", start_text);
	if ((rc = cursors_start(w->cursors)) < 0)
		return rc;
	if ((rc = syncer_start(w->syncer)) < 0) {
		cursors_stop(w->cursors, 1000);
		return rc;
	}
	if ((rc = thread_start(&w->thread, writer_main, w)) < 0) {
		cursors_stop(w->cursors, 1000);
		syncer_stop(w->syncer, 1000);
		return rc;
	}
	w->started = true;
	return 0;
}

int
writer_stop(struct writer *w, unsigned timeout_s, const char *end_text,
    uint64_t *left)
{
	*left = 0;
	if (!w->started)
		return 0;
	pthread_mutex_lock(&w->mu);
	snprintf(w->end_text, sizeof(w->end_text), "%s", end_text);
	pthread_mutex_unlock(&w->mu);
	atomic_store(&w->stop_deadline_ns, mono_ns() + (uint64_t)timeout_s * 1000000000u);
	atomic_store(&w->stop, true);
	kick(w);

	/* Room past the deadline for the batch in progress when it passed. */
	if (thread_join_within(w->thread, (timeout_s + 5) * 1000u) < 0) {
		uint64_t written, markers, out;
		writer_counts(w, &written, &markers, &out);
		*left = ring_records_in(w->ring) - out;
		return -ETIMEDOUT;
	}
	w->started = false;
	*left = ring_records_in(w->ring) - ring_records_out(w->ring);
	(void)cursors_stop(w->cursors, 1000);
	(void)syncer_stop(w->syncer, 1000);
	return 0;
}

void
writer_free(struct writer *w)
{
	if (w == NULL || w->started)
		return;			/* never free under a running thread */
	spool_close(w->spool);
	diskpolicy_free(w->dp);
	auditview_close(w->view);
	cursors_free(w->cursors);
	syncer_free(w->syncer);
	chain_free(w->chain);
	format_enricher_free(w->enr);
	pthread_mutex_destroy(&w->mu);
	close(w->efd);
	free(w->batch);
	free(w);
}

/* ---- issue 12: what auditd's users expect (node=, disk policy, view) ---- */

/* Main thread: the node name, the disk policy and where auditd's tools look. */
static void
writer_settings_auditd(struct writer_settings *ws, const struct config *c)
{
	char err[512];
	int rc;

	diskpolicy_settings_from_config(&ws->dp, c);
	rc = format_node_name(c->name_format, c->name, ws->node, sizeof(ws->node));
	if (rc < 0)
		log_warnx("writer: name_format: cannot resolve the host name (%s); node=%s",
		    strerror(-rc), ws->node[0] ? ws->node : "(none)");
	ws->view_log_file[0] = '\0';
	if (c->auditd_view && auditview_auditd_conf() != NULL &&
	    auditview_log_file(auditview_auditd_conf(), ws->view_log_file,
	    sizeof(ws->view_log_file), err, sizeof(err)) < 0) {
		log_warnx("writer: auditd_view: %s; no view for auditd's tools", err);
		ws->view_log_file[0] = '\0';
	}
}

/* "node=NAME " in front of a line, or nothing. */
static size_t
node_prefix(const struct writer *w, char *out, size_t cap)
{
	ssize_t n = w->ws.node[0] ? format_node_prefix(out, cap, w->ws.node) : 0;

	return n > 0 ? (size_t)n : 0;
}

/*
 * The policy's records wait here until the top of the writer's loop: one
 * made between an append and a rotation must not go into pre before the
 * new segment's marker, which has to be the segment's first line.
 */
static void
dp_record(void *arg, const char *text)
{
	struct writer *w = arg;
	size_t n = strlen(text) + 1;

	if (n > sizeof(w->dp_text) - w->dp_len) {
		log_warnx("writer: too many disk policy records at once; \"%s\" not written", text);
		return;
	}
	memcpy(w->dp_text + w->dp_len, text, n);
	w->dp_len += n;
}

static void
dp_flush(struct writer *w)
{
	for (size_t i = 0; i < w->dp_len; i += strlen(w->dp_text + i) + 1)
		add_daemon_record(w, AUDIT_DAEMON_ERR, w->dp_text + i);
	w->dp_len = 0;
}

/*
 * A disk action "rotate": delete the oldest sealed segment. Unforced, the
 * count limit does it, which never passes the consumers' floor; forced, the
 * size limit does, which reports what it deletes unshipped (counted, and a
 * loss event).
 */
static int
dp_rotate(void *arg, bool force)
{
	struct writer *w = arg;
	struct spool_pos pos = { 0, 0 };
	uint64_t count = spool_segment_count(w->spool), total = spool_total_bytes(w->spool);
	uint64_t freed = 0, held = 0;
	int n;

	if (count < 2)
		return 0;
	w->retention_reason = "disk_action";
	n = spool_retention_shipped(w->spool, force ? 0 : (uint32_t)(count - 1),
	    force ? total - 1 : 0, shipped_position(w, &pos), &freed, &held,
	    retention_unshipped, w);
	if (n > 0) {
		stat_add(&w->st->segments_deleted, (uint64_t)n);
		stat_add(&w->st->bytes_deleted, freed);
		log_warnx("writer: disk action rotate deleted %d segment(s), %llu bytes", n,
		    (unsigned long long)freed);
		writer_view_update(w);
	}
	update_spool_stats(w);
	return n;
}

/* Writer thread, at start (and after a re-exec): the policy and the view. */
static void
writer_auditd_open(struct writer *w)
{
	struct diskpolicy_hooks h = { dp_record, dp_rotate, w };
	char err[512];

	if (w->dp == NULL && (w->dp = diskpolicy_new(&w->ws.dp, &h)) == NULL)
		log_warn("writer: disk policy");
	if (w->view == NULL && w->ws.view_log_file[0] != '\0') {
		w->view = auditview_open(w->ws.view_log_file, err, sizeof(err));
		if (w->view == NULL && errno == ENOENT)
			log_info("writer: no view for auditd's tools: %s", err);
		else if (w->view == NULL)
			log_warnx("writer: no view for auditd's tools: %s", err);
		else if (auditview_saved(w->view) > 0)
			log_info("writer: auditd's %u log file(s) kept in %s%s, still listed",
			    auditview_saved(w->view), w->ws.view_log_file, AUDITVIEW_SAVED_SUFFIX);
	}
	writer_view_update(w);
}

/* The view lists the segments now in the spool: after start, rotation, deletion. */
static void
writer_view_update(struct writer *w)
{
	struct spool_seg *segs = NULL;
	uint64_t *nos = NULL;
	size_t n = 0;
	char err[512];
	int rc;

	if (w->view == NULL)
		return;
	rc = spool_list(spool_dir(w->spool), &segs, &n);
	if (rc == 0 && (nos = calloc(n ? n : 1, sizeof(*nos))) == NULL)
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++)
		nos[i] = segs[i].no;
	if (rc == 0)
		rc = auditview_update(w->view, spool_dir(w->spool), nos, n, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "listing %s: %s", spool_dir(w->spool), strerror(-rc));
	if (rc < 0 && rc != w->view_err)
		log_warnx("writer: updating the view for auditd's tools: %s", err);
	else if (rc == 0 && w->view_err != 0)
		log_info("writer: the view for auditd's tools is up to date again");
	w->view_err = rc;
	free(nos);
	free(segs);
}
