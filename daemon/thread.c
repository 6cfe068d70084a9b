/*
 * thread.c - this file starts worker threads with signals blocked and joins
 * them within a time bound.
 */
#include "build_config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mono.h"
#include "thread.h"

/* The nice value new threads take (thread_set_nice); main thread only. */
static bool thread_nice_set;
static int thread_nice;

/* What a new thread runs first, before fn(arg). */
struct thread_entry {
	void	*(*fn)(void *);
	void	*arg;
	bool	 nice_set;
	int	 nice;
};

static void *
thread_main(void *p)
{
	struct thread_entry e = *(struct thread_entry *)p;

	free(p);
	if (e.nice_set)
		(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), e.nice);
	return e.fn(e.arg);
}

void
thread_set_nice(int nice)
{
	thread_nice = nice;
	thread_nice_set = true;
}

int
thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	struct thread_entry *e = malloc(sizeof(*e));
	sigset_t all, old;
	int rc;

	if (e == NULL)
		return -ENOMEM;
	e->fn = fn;
	e->arg = arg;
	e->nice_set = thread_nice_set;
	e->nice = thread_nice;
	/* The thread inherits the mask: all signals stay with the main loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(t, NULL, thread_main, e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		free(e);
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
