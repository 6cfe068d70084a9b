/*
 * mono.h - the daemon's one reading of CLOCK_MONOTONIC: now in nanoseconds
 * for durations and rates, and a deadline ms from now for the timed waits
 * on condition variables created with pthread_condattr_setclock(MONOTONIC)
 * (mono_add_ms serves thread_deadline's CLOCK_REALTIME ones too).
 * Any thread.
 */
#ifndef RAUDITD_MONO_H
#define RAUDITD_MONO_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* *ts plus ms, normalized. */
static inline void
mono_add_ms(struct timespec *ts, unsigned ms)
{
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static inline void
mono_deadline(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	mono_add_ms(ts, ms);
}

#endif
