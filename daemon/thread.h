/*
 * thread.h - how the daemon starts and stops its worker threads (writer,
 * monitor): with every signal blocked, so signals stay with the main loop,
 * and joined with a bound, so a thread stuck in the kernel or on a hung
 * disk cannot hold up a stop.
 */
#ifndef RAUDITD_THREAD_H
#define RAUDITD_THREAD_H

#include <pthread.h>
#include <time.h>

/*
 * Threads started from now on set their nice value to nice first: only the
 * receive path (the main thread) keeps priority_boost, so a flood cannot
 * starve the audited system through the writer, its sync and cursor
 * threads, the monitor or a helper. Main thread, before the first start.
 */
void thread_set_nice(int nice);

/* Start fn(arg) with all signals blocked. 0 or a negative errno. */
int thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/* Join t, waiting at most ms. 0, or -ETIMEDOUT (t is still running). */
int thread_join_within(pthread_t t, unsigned ms);

/* The CLOCK_REALTIME time ms from now, for the pthread timed waits. */
void thread_deadline(struct timespec *ts, unsigned ms);

#endif
