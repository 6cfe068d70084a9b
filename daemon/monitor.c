/*
 * monitor.c - this file is the monitor thread: it polls the kernel's audit
 * status once per interval, when that cannot park it (see monitor.h), and
 * keeps the counters the status report and metrics show.
 */
#include "build_config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <time.h>
#include <linux/sock_diag.h>

#include "kaudit.h"
#include "monitor.h"
#include "mono.h"
#include "thread.h"

/* Bound on one request's wait for its answer (not on a kernel-side sleep). */
#define MONITOR_TIMEOUT_MS	1000
/*
 * A poll is sent only after the receive socket has been silent this long
 * (ns): records that arrive are what fills the kernel queue, and a request
 * that meets a queue over its limit sleeps among the audited processes and
 * takes one of their wake-ups. 20 ms without a record is an idle kernel.
 */
#define MONITOR_QUIET_NS	(20u * 1000000u)
/* How often monitor_wait_quiet looks again. */
#define MONITOR_QUIET_STEP_NS	(5 * 1000000L)
/*
 * The receive socket counts as full when less than this is left of its
 * buffer (bytes): more than the truesize of any one audit record, so the
 * kernel could not add another.
 */
#define MONITOR_SOCKET_SLACK	(64 * 1024)

struct monitor {
	const struct rx_stats	*rx;
	_Atomic unsigned	 interval_ms;
	pthread_t		 thread;
	bool			 started;
	pthread_mutex_t		 mu;		/* the stop condition, the pushed settings */
	pthread_cond_t		 cv;
	bool			 stop;
	bool			 kicked;
	bool			 poll_kernel;
	bool			 nice_set;
	int			 nice;
	void			(*tick)(void *, const void *, bool);
	void			*tick_arg;
	size_t			 settings_len;
	void			*pending;	/* the last push (under mu) */
	bool			 pending_new;	/* under mu */
	void			*settings;	/* the thread's own copy */
	bool			 have_settings;	/* monitor thread */
	struct audit_status	 seed;		/* monitor_seed (under mu) */
	uint64_t		 seed_ns;
	bool			 seed_new;	/* under mu */
	_Atomic bool		 finished;

	_Atomic uint64_t	 seq;		/* sequence count over status */
	struct monitor_status	 status;
};

bool
monitor_may_poll(const struct monitor_poll_input *in, const struct monitor_status *last)
{
	/* Not reading is not running dry: records wait in the socket. */
	if (in->rx_waiting)
		return false;
	/* The receive path's last drain did not end on an empty socket: the
	 * kernel is pushing records at us right now. */
	if (in->rx_empty_ns < in->rx_last_ns)
		return false;
	/*
	 * A record arrived a moment ago: audited processes are active, and the
	 * queue can pass its limit between two of our reads. There is no
	 * forced poll while they stay busy (an earlier one, sent after ten
	 * skips, parked behind a flood): the status says how old the kernel's
	 * counters are instead.
	 */
	if (in->now_ns < in->rx_last_ns + MONITOR_QUIET_NS)
		return false;
	/* More records in the last interval than the kernel queue holds: a
	 * burst like it could fill the queue while our request is handled. */
	if (last->valid && last->k.backlog_limit != 0 &&
	    in->rx_recent > last->k.backlog_limit)
		return false;
	/* The kernel queue was past a quarter of its limit last time. */
	if (last->valid && last->k.backlog_limit != 0 &&
	    last->k.backlog > last->k.backlog_limit / 4)
		return false;
	return true;
}

/* What the policy looks at now; *received_before moves to the current count. */
static void
poll_input(const struct rx_stats *rx, uint64_t *received_before, struct monitor_poll_input *in)
{
	uint64_t received = stat_get(&rx->received);

	in->rx_empty_ns = stat_get(&rx->socket_empty_ns);
	in->rx_last_ns = stat_get(&rx->last_rx_ns);
	in->rx_waiting = stat_get(&rx->ring_full_since_ns) != 0;
	in->rx_recent = received - *received_before;
	in->now_ns = mono_ns();
	*received_before = received;
}

bool
monitor_wait_quiet(const struct rx_stats *rx, unsigned max_ms)
{
	struct monitor_status none;
	struct monitor_poll_input in;
	uint64_t received = stat_get(&rx->received);
	uint64_t end = mono_ns() + (uint64_t)max_ms * 1000000u;

	memset(&none, 0, sizeof(none));
	for (;;) {
		struct timespec step = { 0, MONITOR_QUIET_STEP_NS };

		poll_input(rx, &received, &in);
		if (monitor_may_poll(&in, &none))
			return true;
		if (in.now_ns >= end)
			return false;
		nanosleep(&step, NULL);
	}
}

struct monitor *
monitor_new(const struct rx_stats *rx, unsigned interval_ms, bool poll_kernel)
{
	struct monitor *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	if (pthread_mutex_init(&m->mu, NULL) != 0) {
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	if (pthread_cond_init(&m->cv, NULL) != 0) {
		pthread_mutex_destroy(&m->mu);
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	m->rx = rx;
	m->poll_kernel = poll_kernel;
	atomic_init(&m->interval_ms, interval_ms);
	return m;
}

int
monitor_set_tick(struct monitor *m, void (*fn)(void *, const void *, bool), void *arg,
    size_t settings_len)
{
	free(m->pending);
	free(m->settings);
	m->pending = calloc(1, settings_len ? settings_len : 1);
	m->settings = calloc(1, settings_len ? settings_len : 1);
	if (m->pending == NULL || m->settings == NULL)
		return -ENOMEM;
	m->settings_len = settings_len;
	m->tick = fn;
	m->tick_arg = arg;
	return 0;
}

void
monitor_push_settings(struct monitor *m, const void *settings)
{
	if (m->pending == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	memcpy(m->pending, settings, m->settings_len);
	m->pending_new = true;
	pthread_mutex_unlock(&m->mu);
}

void
monitor_set_nice(struct monitor *m, int nice)
{
	m->nice_set = true;
	m->nice = nice;
}

void
monitor_kick(struct monitor *m)
{
	pthread_mutex_lock(&m->mu);
	m->kicked = true;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

void
monitor_seed(struct monitor *m, const struct audit_status *k, uint64_t read_ns)
{
	pthread_mutex_lock(&m->mu);
	m->seed = *k;
	m->seed_ns = read_ns;
	m->seed_new = true;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

/* The seed as a first answer: only while no poll has succeeded. */
static void
take_seed(struct monitor_status *st, const struct audit_status *k, uint64_t read_ns)
{
	if (st->valid)
		return;
	st->valid = true;
	st->k = *k;
	st->lost_start = k->lost;
	st->wait_actual_start = k->backlog_wait_time_actual;
	st->backlog_max = k->backlog;
	st->updated_ns = read_ns;
}

void
monitor_read(const struct monitor *m, struct monitor_status *out)
{
	struct monitor *mm = (struct monitor *)(uintptr_t)m;
	uint64_t s1, s2;

	for (int i = 0; ; i++) {
		s1 = atomic_load_explicit(&mm->seq, memory_order_acquire);
		memcpy(out, &mm->status, sizeof(*out));
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&mm->seq, memory_order_relaxed);
		if (!(s1 & 1) && s1 == s2)
			return;
		if (i > 1000)
			sched_yield();
	}
}

/* Publish a new status (monitor thread only). */
static void
publish(struct monitor *m, const struct monitor_status *st)
{
	uint64_t s = atomic_load_explicit(&m->seq, memory_order_relaxed);

	atomic_store_explicit(&m->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(&m->status, st, sizeof(*st));
	atomic_store_explicit(&m->seq, s + 2, memory_order_release);
}

static void
poll_once(struct monitor *m, int fd, struct monitor_status *st)
{
	struct audit_status k;
	uint64_t t0 = mono_ns(), dt;
	int rc;

	memset(&k, 0, sizeof(k));
	rc = kaudit_get_status(fd, &k);
	dt = mono_ns() - t0;
	st->polls++;
	st->last_poll_ns = dt;
	if (dt > st->max_poll_ns)
		st->max_poll_ns = dt;
	if (dt > MONITOR_PARKED_NS)
		st->parked++;
	if (rc < 0) {
		st->errors++;
		st->last_error = rc;
		return;
	}
	if (!st->valid) {
		st->lost_start = k.lost;
		st->wait_actual_start = k.backlog_wait_time_actual;
	}
	st->valid = true;
	st->k = k;
	if (k.backlog > st->backlog_max)
		st->backlog_max = k.backlog;
	st->updated_ns = mono_ns();
	/* Same moment, same policy: the kernel queue was quiet a moment ago. */
	if (kaudit_get_features(fd, &st->f) == 0)
		st->features_valid = true;
	(void)m;
}

/*
 * How much the receive socket holds (SO_MEMINFO: the kernel's accounting,
 * skb overhead included, as rcvbuf limits it). Here, not on the receive
 * path, which makes no system call but recv.
 */
static void
sample_socket(const struct monitor *m, struct monitor_status *st, uint64_t now)
{
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mi);
	uint64_t fd1 = stat_get(&m->rx->socket_fd);

	if (fd1 == 0 || getsockopt((int)(fd1 - 1), SOL_SOCKET, SO_MEMINFO, mi, &len) < 0 ||
	    len < (socklen_t)(sizeof(uint32_t) * (SK_MEMINFO_DROPS + 1))) {
		st->socket_valid = false;
		st->socket_full_since_ns = 0;
		return;
	}
	st->socket_valid = true;
	st->socket_queued_bytes = mi[SK_MEMINFO_RMEM_ALLOC];
	st->socket_rcvbuf_bytes = mi[SK_MEMINFO_RCVBUF];
	st->socket_drops = mi[SK_MEMINFO_DROPS];
	if (st->socket_queued_bytes + MONITOR_SOCKET_SLACK < st->socket_rcvbuf_bytes)
		st->socket_full_since_ns = 0;
	else if (st->socket_full_since_ns == 0)
		st->socket_full_since_ns = now;
}

static void *
monitor_main(void *arg)
{
	struct monitor *m = arg;
	struct monitor_status st;
	uint64_t received_before = 0;
	int fd = -1;

	memset(&st, 0, sizeof(st));
	if (m->nice_set)
		(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), m->nice);
	pthread_mutex_lock(&m->mu);
	while (!m->stop) {
		struct timespec ts;
		unsigned ms = atomic_load(&m->interval_ms);
		bool kicked = m->kicked, seeded = m->seed_new;
		struct audit_status seed = m->seed;
		uint64_t seed_ns = m->seed_ns;

		m->kicked = false;
		m->seed_new = false;
		if (m->pending_new) {
			memcpy(m->settings, m->pending, m->settings_len);
			m->pending_new = false;
			m->have_settings = true;
		}
		pthread_mutex_unlock(&m->mu);
		if (seeded) {
			take_seed(&st, &seed, seed_ns);
			publish(m, &st);
		}
		if (m->poll_kernel && fd < 0) {
			fd = kaudit_open(MONITOR_TIMEOUT_MS);
			if (fd < 0) {
				st.errors++;
				st.last_error = fd;
			}
		}
		if (!kicked) {
			sample_socket(m, &st, mono_ns());
			if (fd < 0)
				publish(m, &st);
		}
		if (fd >= 0 && !kicked) {
			struct monitor_poll_input in;

			poll_input(m->rx, &received_before, &in);
			if (monitor_may_poll(&in, &st)) {
				poll_once(m, fd, &st);
				if (st.last_error == -ETIMEDOUT) {
					/* A late answer would confuse the next poll. */
					kaudit_close(fd);
					fd = -1;
					st.last_error = 0;
				}
			} else {
				st.skipped++;
			}
			publish(m, &st);
		}
		if (m->tick && m->have_settings)
			m->tick(m->tick_arg, m->settings, kicked);
		thread_deadline(&ts, ms);
		pthread_mutex_lock(&m->mu);
		while (!m->stop && !m->kicked && !m->seed_new &&
		    pthread_cond_timedwait(&m->cv, &m->mu, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&m->mu);
	kaudit_close(fd);
	atomic_store(&m->finished, true);
	return NULL;
}

int
monitor_start(struct monitor *m)
{
	int rc = thread_start(&m->thread, monitor_main, m);

	if (rc < 0)
		return rc;
	m->started = true;
	return 0;
}

void
monitor_set_interval(struct monitor *m, unsigned interval_ms)
{
	atomic_store(&m->interval_ms, interval_ms);
}

int
monitor_stop(struct monitor *m, unsigned timeout_ms)
{
	if (!m->started)
		return 0;
	pthread_mutex_lock(&m->mu);
	m->stop = true;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
	if (thread_join_within(m->thread, timeout_ms) < 0)
		return -ETIMEDOUT;
	m->started = false;
	return 0;
}

void
monitor_free(struct monitor *m)
{
	if (m == NULL || m->started)
		return;
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m->pending);
	free(m->settings);
	free(m);
}
