/*
 * syncer.c - this file is the writer's sync thread: it runs the one sync
 * the writer handed over, records the result and wakes the writer. See the
 * DESIGN block in syncer.h.
 */
#include "build_config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "mono.h"
#include "syncer.h"
#include "thread.h"

enum job { JOB_NONE, JOB_PENDING, JOB_RUNNING, JOB_DONE };

struct syncer {
	pthread_mutex_t		 mu;	/* guards everything below */
	pthread_cond_t		 cv;	/* a job, a stop, or a finished job */
	void			(*done)(void *);
	void			*arg;
	enum job		 job;
	int			 fd;
	bool			 data_only;
	struct syncer_result	 res;
	bool			 stop;
	bool			 started;
	pthread_t		 thread;
};

struct syncer *
syncer_new(void (*done)(void *), void *arg)
{
	struct syncer *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;

	if (s == NULL)
		return NULL;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_mutex_init(&s->mu, NULL) != 0 || pthread_cond_init(&s->cv, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	pthread_condattr_destroy(&ca);
	s->done = done;
	s->arg = arg;
	s->fd = -1;
	return s;
}

static void *
syncer_main(void *arg)
{
	struct syncer *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		int fd, rc;
		bool data_only;
		uint64_t t0;

		while (s->job != JOB_PENDING && !s->stop)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->job != JOB_PENDING)
			break;				/* stop, nothing pending */
		s->job = JOB_RUNNING;
		fd = s->fd;
		data_only = s->data_only;
		pthread_mutex_unlock(&s->mu);

		t0 = mono_ns();
		rc = data_only ? fdatasync(fd) : fsync(fd);
		rc = rc < 0 ? -errno : 0;
		close(fd);

		pthread_mutex_lock(&s->mu);
		s->fd = -1;
		s->res.err = rc;
		s->res.ns = mono_ns() - t0;
		s->job = JOB_DONE;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		if (s->done)
			s->done(s->arg);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int
syncer_start(struct syncer *s)
{
	int rc;

	if (s->started)
		return 0;
	s->stop = false;
	rc = thread_start(&s->thread, syncer_main, s);
	if (rc == 0)
		s->started = true;
	return rc;
}

bool
syncer_submit(struct syncer *s, int fd, bool data_only, uint64_t tag)
{
	bool ok;

	pthread_mutex_lock(&s->mu);
	ok = s->job == JOB_NONE && s->started && !s->stop;
	if (ok) {
		s->job = JOB_PENDING;
		s->fd = fd;
		s->data_only = data_only;
		s->res.tag = tag;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return ok;
}

bool
syncer_reap(struct syncer *s, struct syncer_result *r)
{
	bool done;

	pthread_mutex_lock(&s->mu);
	done = s->job == JOB_DONE;
	if (done) {
		*r = s->res;
		s->job = JOB_NONE;
	}
	pthread_mutex_unlock(&s->mu);
	return done;
}

bool
syncer_wait(struct syncer *s, unsigned ms)
{
	struct timespec ts;
	bool idle;

	mono_deadline(&ts, ms);
	pthread_mutex_lock(&s->mu);
	while (s->job == JOB_PENDING || s->job == JOB_RUNNING)
		if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
			break;
	idle = s->job != JOB_PENDING && s->job != JOB_RUNNING;
	pthread_mutex_unlock(&s->mu);
	return idle;
}

int
syncer_stop(struct syncer *s, unsigned ms)
{
	if (s == NULL || !s->started)
		return 0;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (thread_join_within(s->thread, ms) < 0) {
		pthread_detach(s->thread);
		return -ETIMEDOUT;	/* stays started: never freed under it */
	}
	s->started = false;
	return 0;
}

void
syncer_free(struct syncer *s)
{
	if (s == NULL || s->started)
		return;
	if (s->fd >= 0)
		close(s->fd);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
