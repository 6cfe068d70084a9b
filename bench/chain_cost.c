/*
 * chain_cost.c - this file measures what the tamper-evidence chain costs
 * the writer: chain_update() once per typical 200-byte record (the worst
 * case: the writer calls it once per append of a whole batch), once per
 * 64 KiB batch, and a seal. Build with `make bench/chain_cost`; run as
 * `bench/chain_cost [records]` (default 1000000).
 */
#include "build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain.h"

#define RECORD_LEN	200
#define BATCH_LEN	(64 * 1024)

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	static char batch[BATCH_LEN];
	char fields[CHAIN_FIELDS_MAX];
	struct chain *c = chain_new();
	double t0, t1, t2;
	long per_batch = BATCH_LEN / RECORD_LEN, batches;

	if (c == NULL || n <= 0 || chain_start(c, 1, fields, sizeof(fields)) < 0)
		return 1;
	for (size_t i = 0; i < sizeof(batch); i++)
		batch[i] = (char)(' ' + i % 90);
	t0 = now();
	for (long i = 0; i < n; i++)
		chain_update(c, batch + (i % per_batch) * RECORD_LEN, RECORD_LEN);
	t1 = now();
	batches = n / per_batch;
	for (long i = 0; i < batches; i++)
		chain_update(c, batch, (size_t)per_batch * RECORD_LEN);
	t2 = now();
	printf("chain_update per record (%d B): %.1f ns/record, %.0f MB/s (%ld records)\n",
	    RECORD_LEN, (t1 - t0) * 1e9 / (double)n, (double)n * RECORD_LEN / (t1 - t0) / 1e6, n);
	printf("chain_update per batch (%ld records): %.1f ns/record, %.0f MB/s\n", per_batch,
	    (t2 - t1) * 1e9 / (double)(batches * per_batch),
	    (double)batches * (double)per_batch * RECORD_LEN / (t2 - t1) / 1e6);
	t0 = now();
	for (int i = 0; i < 1000; i++)
		chain_seal(c, fields, sizeof(fields));
	printf("chain_seal: %.1f us\n", (now() - t0) * 1e6 / 1000);
	chain_free(c);
	return 0;
}
