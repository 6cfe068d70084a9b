/*
 * fuzz_config.c - libFuzzer target for config.c: config_parse_buffer() on
 * the input as NUL-terminated text. When it parses, config_print()'s output
 * must parse again to the same configuration (config_diff() finds nothing)
 * and print byte for byte the same: the printed config is a valid config
 * file, which rauditd -n and the reload path rely on. A rejected input must
 * leave a "name:line: message" error.
 */
#include "build_config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
on_diff(const char *key, bool reloadable, void *arg)
{
	(void)reloadable;
	(void)arg;
	fprintf(stderr, "round trip changed %s\n", key);
}

/* config_print into a malloc'd string. */
static char *
print(const struct config *c, size_t *len)
{
	char *buf = NULL;
	FILE *fp = open_memstream(&buf, len);

	if (fp == NULL)
		abort();
	config_print(c, fp);
	if (fclose(fp) != 0)
		abort();
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config a, b;
	char err[CONFIG_ERR_MAX], *text, *p1, *p2;
	size_t l1, l2;
	int rc;

	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	config_defaults(&a);
	err[0] = '\0';
	rc = config_parse_buffer(&a, "fuzz.conf", text, err, sizeof(err));
	free(text);
	if (rc < 0) {
		if (strncmp(err, "fuzz.conf:", 10) != 0) {
			fprintf(stderr, "rc %d without a file:line error: \"%s\"\n", rc, err);
			abort();
		}
		return 0;
	}

	p1 = print(&a, &l1);
	config_defaults(&b);
	rc = config_parse_buffer(&b, "printed", p1, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "printed config does not parse: %s\n--\n%s", err, p1);
		abort();
	}
	if (config_diff(&a, &b, on_diff, NULL) != 0)
		abort();
	p2 = print(&b, &l2);
	if (l1 != l2 || memcmp(p1, p2, l1) != 0) {
		fprintf(stderr, "printed twice differently:\n%s--\n%s", p1, p2);
		abort();
	}
	free(p1);
	free(p2);
	return 0;
}
