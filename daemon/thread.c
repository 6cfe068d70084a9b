/*
 * thread.c - this file starts worker threads with signals blocked and joins
 * them within a time bound.
 */
#include "build_config.h"

#include <errno.h>
#include <signal.h>

#include "mono.h"
#include "thread.h"

int
thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	/* The thread inherits the mask: all signals stay with the main loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -rc;
}

void
thread_deadline(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	mono_add_ms(ts, ms);
}

int
thread_join_within(pthread_t t, unsigned ms)
{
	struct timespec ts;

	thread_deadline(&ts, ms);
	return pthread_timedjoin_np(t, NULL, &ts) == 0 ? 0 : -ETIMEDOUT;
}
