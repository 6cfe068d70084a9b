/*
 * audit_load.c - generate a known number of audited syscalls for the tests
 * and benchmarks, and measure how long each one took.
 *
 * It prints its pid ("pid N") and waits for SIGUSR1 (with -w) so the caller
 * can install a rule matching -F ppid=N before anything runs; then it forks
 * -p workers that switch to -u uid and call getsid(0) in a loop, in total -n
 * times (or for -t seconds), optionally paced to -r calls per second overall.
 * Output: "calls N elapsed_s S rate R max_latency_us L slow_calls K".
 * With -T FILE the parent also writes a timeline to FILE, one line every
 * 100 ms from the go signal on: "REALTIME_S ELAPSED_S CALLS_SO_FAR", so a
 * benchmark can line the audited call rate up with other samples by clock.
 * Its last line is "# workers_cpu_s S": user + system CPU of the workers.
 */
#include "build_config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A call slower than this counts as "slow" (the kernel made it wait). */
#define SLOW_CALL_NS	(100 * 1000 * 1000ULL)
/* Timeline sampling period (-T), in ns. */
#define TIMELINE_NS	(100 * 1000 * 1000ULL)

struct shared {
	uint64_t	calls[64];
	uint64_t	max_ns[64];
	uint64_t	slow[64];
};

static volatile sig_atomic_t go;

static void
on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
worker(struct shared *sh, int idx, uint64_t n, double rate, double max_s, uid_t uid)
{
	uint64_t start = now_ns(), deadline = start + (uint64_t)(max_s * 1e9);
	uint64_t interval = rate > 0 ? (uint64_t)(1e9 / rate) : 0;

	if (uid != (uid_t)-1 && (setgid((gid_t)uid) < 0 || setuid(uid) < 0)) {
		perror("audit_load: setuid");
		_exit(2);
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t t0, dt;

		if (interval) {
			uint64_t due = start + i * interval, now = now_ns();
			if (due > now) {
				struct timespec ts = { (time_t)((due - now) / 1000000000ULL),
				    (long)((due - now) % 1000000000ULL) };
				nanosleep(&ts, NULL);
			}
		}
		t0 = now_ns();
		if (t0 > deadline)
			break;
		syscall(SYS_getsid, 0);
		dt = now_ns() - t0;
		/* Relaxed: the -T sampler reads it while we run. */
		atomic_store_explicit((_Atomic uint64_t *)&sh->calls[idx],
		    sh->calls[idx] + 1, memory_order_relaxed);
		if (dt > sh->max_ns[idx])
			sh->max_ns[idx] = dt;
		if (dt > SLOW_CALL_NS)
			sh->slow[idx]++;
	}
	_exit(0);
}

int
main(int argc, char **argv)
{
	uint64_t n = 1000, total = 0, maxns = 0, slow = 0;
	int procs = 1, ch;
	double rate = 0, max_s = 60;
	bool wait_go = false;
	uid_t uid = (uid_t)-1;
	const char *timeline = NULL;
	FILE *tl = NULL;
	sigset_t chld;
	struct shared *sh;
	uint64_t t0, t1;

	while ((ch = getopt(argc, argv, "n:p:r:t:u:wT:")) != -1) {
		switch (ch) {
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'p': procs = atoi(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 't': max_s = atof(optarg); break;
		case 'u': uid = (uid_t)strtoul(optarg, NULL, 10); break;
		case 'w': wait_go = true; break;
		case 'T': timeline = optarg; break;
		default:
			fprintf(stderr, "usage: audit_load [-w] [-n calls] [-p procs] [-r rate] [-t seconds] [-u uid] [-T timeline]\n");
			return 2;
		}
	}
	if (procs < 1 || procs > 64) {
		fprintf(stderr, "audit_load: -p must be 1..64\n");
		return 2;
	}
	/* fd -1 is what MAP_ANONYMOUS takes (mmap(2)); cppcheck 2.10's
	 * posix.cfg wants fd >= 0 always, hence the suppression. */
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0); /* cppcheck-suppress invalidFunctionArg */
	if (sh == MAP_FAILED) {
		perror("audit_load: mmap");
		return 1;
	}
	memset(sh, 0, sizeof(*sh));
	if (timeline != NULL && (tl = fopen(timeline, "w")) == NULL) {
		perror(timeline);
		return 1;
	}
	if (wait_go) {
		sigset_t set, old;
		signal(SIGUSR1, on_usr1);
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, &old);
		printf("pid %ld\n", (long)getpid());
		fflush(stdout);
		/* Bounded: a caller that never says go does not leave us behind. */
		alarm(120);
		while (!go)
			sigsuspend(&old);
		alarm(0);
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (tl != NULL)
		sigprocmask(SIG_BLOCK, &chld, NULL);
	t0 = now_ns();
	for (int i = 0; i < procs; i++) {
		pid_t p = fork();
		if (p < 0) {
			perror("audit_load: fork");
			return 1;
		}
		if (p == 0)
			worker(sh, i, n / (uint64_t)procs + ((uint64_t)i < n % (uint64_t)procs),
			    rate > 0 ? rate / procs : 0, max_s, uid);
	}
	if (tl != NULL) {
		/*
		 * Sample on a fixed 100 ms grid. SIGCHLD stays blocked and is
		 * taken with sigtimedwait, so a worker's exit ends the wait at
		 * once (no race with a sleep) and elapsed_s stays exact.
		 */
		uint64_t next = t0 + TIMELINE_NS;
		int left = procs;

		for (;;) {
			uint64_t now, sum = 0;
			struct timespec rt, ts;
			int st;

			while (left > 0 && waitpid(-1, &st, WNOHANG) > 0) {
				left--;
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
					fprintf(stderr, "audit_load: a worker failed\n");
					return 1;
				}
			}
			now = now_ns();
			if (left > 0 && now < next) {
				ts.tv_sec = (time_t)((next - now) / 1000000000ULL);
				ts.tv_nsec = (long)((next - now) % 1000000000ULL);
				(void)sigtimedwait(&chld, NULL, &ts);
				continue;
			}
			for (int j = 0; j < procs; j++)
				sum += atomic_load_explicit((_Atomic uint64_t *)&sh->calls[j],
				    memory_order_relaxed);
			clock_gettime(CLOCK_REALTIME, &rt);
			fprintf(tl, "%lld.%06ld %.3f %llu\n", (long long)rt.tv_sec,
			    rt.tv_nsec / 1000, (double)(now - t0) / 1e9,
			    (unsigned long long)sum);
			if (left == 0)
				break;
			next += TIMELINE_NS;
		}
	} else {
		for (int i = 0; i < procs; i++) {
			int st;
			if (wait(&st) < 0)
				break;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				fprintf(stderr, "audit_load: a worker failed\n");
				return 1;
			}
		}
	}
	if (tl != NULL) {
		struct rusage ru;

		if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
			fprintf(tl, "# workers_cpu_s %.3f\n",
			    (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
			    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	}
	if (tl != NULL && fclose(tl) != 0) {
		perror(timeline);
		return 1;
	}
	t1 = now_ns();
	for (int i = 0; i < procs; i++) {
		total += sh->calls[i];
		slow += sh->slow[i];
		if (sh->max_ns[i] > maxns)
			maxns = sh->max_ns[i];
	}
	printf("calls %llu elapsed_s %.3f rate %.0f max_latency_us %llu slow_calls %llu\n",
	    (unsigned long long)total, (double)(t1 - t0) / 1e9,
	    (double)total / ((double)(t1 - t0) / 1e9), (unsigned long long)(maxns / 1000),
	    (unsigned long long)slow);
	return 0;
}
