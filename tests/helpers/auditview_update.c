/*
 * auditview_update.c - test helper: point the auditd-compatible view at
 * log_file to the given segments of spool_dir (oldest first, the last one
 * open) through auditview.h, as the daemon does after a rotation.
 *
 * usage: auditview_update LOG_FILE SPOOL_DIR N...
 * Prints how many of auditd's files were moved aside; exits 1 on error.
 */
#include "build_config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "auditview.h"

int
main(int argc, char **argv)
{
	uint64_t seg[256];
	struct auditview *v;
	char err[512], *end;
	int n = argc - 3, rc;

	if (argc < 3 || n > 256) {
		fprintf(stderr, "usage: auditview_update LOG_FILE SPOOL_DIR N...\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		errno = 0;
		seg[i] = strtoull(argv[3 + i], &end, 10);
		if (errno != 0 || *end != '\0' || end == argv[3 + i]) {
			fprintf(stderr, "auditview_update: bad segment number \"%s\"\n", argv[3 + i]);
			return 2;
		}
	}
	if ((v = auditview_open(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "auditview_update: %s\n", err);
		return 1;
	}
	printf("saved %u\n", auditview_saved(v));
	rc = auditview_update(v, argv[2], seg, (size_t)n, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "auditview_update: %s\n", err);
	auditview_close(v);
	return rc < 0 ? 1 : 0;
}
