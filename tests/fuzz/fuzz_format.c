/*
 * fuzz_format.c - libFuzzer target for format.c: format_raw(),
 * format_enriched() with one enricher kept across inputs (its uid/gid name
 * cache fills and wraps as in the writer), and format_parse_stamp().
 *
 * Input: TYPE_LO TYPE_HI CAP BODY... The record type is any 16-bit value;
 * CAP picks the output capacity: 0 the writer's FORMAT_LINE_MAX, otherwise
 * a small one so the -ENOSPC and "field does not fit" paths run. Checked on
 * every line: it fits the capacity, ends in exactly one newline, holds no
 * NUL and no other newline, and the enriched line starts with the RAW line;
 * 0x1D (the interpretation separator) is never in the RAW line and at most
 * once in the enriched one, right after the RAW part (issue 10: record text
 * must not forge a line or an interpretation part). A second enricher with
 * the SYSCALL fast path off must give the same line byte for byte (issue
 * 15: the fast path is an optimisation of auparse's reading, not another).
 */
#include "build_config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct format_enricher *enr, *slow;
static char raw[FORMAT_LINE_MAX], enriched[FORMAT_LINE_MAX], enriched2[FORMAT_LINE_MAX];

static void
check_line(const char *what, const char *line, ssize_t n, size_t cap)
{
	if (n == -ENOSPC)
		return;
	if (n <= 0 || (size_t)n > cap || line[n - 1] != '\n' ||
	    memchr(line, '\n', (size_t)n - 1) != NULL ||
	    memchr(line, '\0', (size_t)n) != NULL ||
	    memcmp(line, "type=", 5) != 0) {
		fprintf(stderr, "%s: bad line (n %zd, cap %zu)\n", what, n, cap);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body;
	size_t len, cap;
	ssize_t n, m;
	int type;
	uint64_t sec = 0, serial = 0;
	unsigned msec = 0;
	char *copy;

	if (size < 3)
		return 0;
	if (enr == NULL && (enr = format_enricher_new()) == NULL)
		abort();
	if (slow == NULL) {
		if ((slow = format_enricher_new()) == NULL)
			abort();
		format_enricher_set_fast_path(slow, false);
	}
	type = data[0] | data[1] << 8;
	cap = data[2] == 0 ? sizeof(raw) : (size_t)data[2] * 4;
	len = size - 3;
	/* An exact-size heap copy, so ASan sees any read past the body. */
	copy = malloc(len ? len : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 3, len);
	body = copy;

	if (format_parse_stamp(body, len, &sec, &msec, &serial) && msec > 999)
		abort();

	n = format_raw(raw, cap, type, body, len);
	check_line("raw", raw, n, cap);

	m = format_enriched(enr, enriched, cap, type, body, len);
	check_line("enriched", enriched, m, cap);
	if (format_enriched(slow, enriched2, cap, type, body, len) != m ||
	    (m > 0 && memcmp(enriched, enriched2, (size_t)m) != 0)) {
		fprintf(stderr, "fast and auparse paths differ\n");
		abort();
	}
	if ((n < 0) != (m < 0))
		abort();
	if (n > 0) {
		/* RAW line, then nothing or the separator and fields. */
		if (m < n || memcmp(raw, enriched, (size_t)n - 1) != 0 ||
		    (m > n && enriched[n - 1] != 0x1d))
			abort();
		if (memchr(raw, 0x1d, (size_t)n) != NULL ||
		    (m > n && memchr(enriched + n, 0x1d, (size_t)(m - n)) != NULL))
			abort();
	}
	free(copy);
	return 0;
}
