/*
 * format_cpu.c - CPU time per record of format_raw() and format_enriched()
 * over a file of RAW audit.log lines (by default the captured fixture
 * tests/fixtures/enriched/raw.txt), cycled until COUNT records have been
 * formatted by each. One enricher is kept across records, as in the writer.
 * Prints the process CPU time per record of each mode and their ratio.
 *
 * usage: format_cpu RAW_LOG [COUNT]   (built and run by bench/format_cpu.sh)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libaudit.h>

#include "format.h"

struct rec {
	int	 type;
	char	*body;
	size_t	 len;
};

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
load(const char *path, struct rec **out)
{
	FILE *f = fopen(path, "r");
	char line[70000];
	struct rec *v = NULL;
	size_t n = 0;

	if (f == NULL) {
		fprintf(stderr, "format_cpu: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *sp = strstr(line, " msg=");
		size_t len;

		if (strncmp(line, "type=", 5) != 0 || sp == NULL)
			continue;
		*sp = '\0';
		v = realloc(v, (n + 1) * sizeof(*v));
		if (v == NULL)
			exit(2);
		len = strcspn(sp + 5, "\n");
		v[n].type = audit_name_to_msg_type(line + 5);
		v[n].body = strndup(sp + 5, len);
		v[n].len = len;
		if (v[n].type <= 0 || v[n].body == NULL) {
			fprintf(stderr, "format_cpu: %s: bad line %zu\n", path, n + 1);
			exit(2);
		}
		n++;
	}
	fclose(f);
	*out = v;
	return n;
}

int
main(int argc, char **argv)
{
	static char out[FORMAT_LINE_MAX];
	struct format_enricher *e;
	struct rec *v;
	size_t n, count = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
	unsigned long long bytes = 0;
	double t0, raw, enr;

	if (argc < 2) {
		fprintf(stderr, "usage: format_cpu RAW_LOG [COUNT]\n");
		return 2;
	}
	n = load(argv[1], &v);
	if (n == 0 || (e = format_enricher_new()) == NULL)
		return 2;
	t0 = cpu_now();
	for (size_t i = 0; i < count; i++) {
		const struct rec *r = &v[i % n];
		bytes += (unsigned long long)format_raw(out, sizeof(out), r->type, r->body, r->len);
	}
	raw = cpu_now() - t0;
	t0 = cpu_now();
	for (size_t i = 0; i < count; i++) {
		const struct rec *r = &v[i % n];
		bytes += (unsigned long long)format_enriched(e, out, sizeof(out), r->type, r->body, r->len);
	}
	enr = cpu_now() - t0;
	printf("records %zu (%zu distinct), output %llu bytes\n", count, n, bytes);
	printf("raw      %.3f us/record\n", raw * 1e6 / (double)count);
	printf("enriched %.3f us/record (%.1fx raw)\n", enr * 1e6 / (double)count, enr / raw);
	return 0;
}
