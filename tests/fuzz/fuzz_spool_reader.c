/*
 * fuzz_spool_reader.c - libFuzzer target for the spool reader (spool.c),
 * the code rauditctl verify and the shipper read every segment with.
 *
 * Input: an 8-byte header, then the bytes of the segments:
 *   FLAGS SPLIT_HI SPLIT_LO APPEND_HI APPEND_LO PAD START_HI START_LO
 * The bytes are written as one segment or, with FLAGS bit 0, split at byte
 * SPLIT (modulo their length) into two. Bit 1 leaves a number out between
 * them (a missing segment); bit 5 numbers them from 2 instead of 1. Bit 2
 * puts the start of a record line padded with 'a' to about SPOOL_READ_BUF
 * bytes (PAD picks the exact length around the reader's limit) in front of
 * the first segment, so the long-line skipping and its boundary run.
 * Bit 3 follows a live spool: the first segment is written up to APPEND,
 * read to its end, completed, read again, and only then is the second
 * created. Bit 4 starts the reader at byte START of the
 * first segment instead of at the oldest segment's start.
 *
 * The lines the reader returns must be exactly those a plain model of the
 * format gives: every complete line, at its segment and offset, that is
 * shorter than the reader's buffer and passes spool_line_valid(); a partial
 * last line of a sealed segment is torn (counted, never returned) and one of
 * the open segment is not returned yet. No crash, no leak, no fd left open.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"

/* spool.c's reader buffer (SPOOL_READ_BUF): lines this long are skipped. */
#define READ_BUF	(256 * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seg {
	uint64_t	 no;
	const char	*data;
	size_t		 len;
};

struct line {
	uint64_t	 seg, off;
	size_t		 len;
};

#define PAD_PREFIX	"type=SYSCALL msg=audit(1796117749.645:1): x="

static char dir[64];
static char *padbuf;

static void
cleanup_dir(void)
{
	char path[128];

	for (unsigned n = 1; n <= 4; n++) {
		char name[SPOOL_NAME_LEN + 8];
		spool_segment_name(name, sizeof(name), n);
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		(void)unlink(path);
	}
}

static void
cleanup_at_exit(void)
{
	cleanup_dir();
	(void)rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/fuzz_spool.XXXXXX", tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	atexit(cleanup_at_exit);
	padbuf = malloc(READ_BUF + 16);
	if (padbuf == NULL)
		abort();
	/* A record line's start, so a line under the limit is returned. */
	memset(padbuf, 'a', READ_BUF + 16);
	memcpy(padbuf, PAD_PREFIX, sizeof(PAD_PREFIX) - 1);
	return 0;
}

/* The lowest free descriptor number: a higher one later means a leak. */
static int
lowest_free_fd(void)
{
	int fd = 0;

	while (fcntl(fd, F_GETFD) != -1)
		fd++;
	return fd;
}

static void
append_file(uint64_t no, const void *p, size_t len)
{
	char name[SPOOL_NAME_LEN + 8], path[128];
	int fd;

	spool_segment_name(name, sizeof(name), no);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || (len > 0 && write(fd, p, len) != (ssize_t)len))
		abort();
	close(fd);
}

/* The model: lines the reader must return, and the torn tails it counts. */
static size_t
model(const struct seg *segs, size_t nsegs, uint64_t start_off,
    struct line *out, size_t max, uint64_t *torn, uint64_t *bad)
{
	size_t n = 0;

	*torn = *bad = 0;
	for (size_t s = 0; s < nsegs; s++) {
		size_t p = s == 0 ? (size_t)start_off : 0;

		for (;;) {
			const char *nl = memchr(segs[s].data + p, '\n', segs[s].len - p);
			size_t l;

			if (nl == NULL) {
				if (p < segs[s].len && s + 1 < nsegs)
					(*torn)++;
				break;
			}
			l = (size_t)(nl - (segs[s].data + p));
			if (l < READ_BUF && spool_line_valid(segs[s].data + p, l)) {
				if (n == max)
					abort();
				out[n].seg = segs[s].no;
				out[n].off = p;
				out[n].len = l;
				n++;
			} else {
				(*bad)++;
			}
			p += l + 1;
		}
	}
	return n;
}

struct got {
	const struct seg *segs;
	size_t		  nsegs;
	const struct line *want;
	size_t		  nwant, n;
};

/* Read until the reader has nothing more; check each line against the model. */
static void
read_all(struct spool_reader *r, struct got *g)
{
	const char *line;
	size_t len;
	struct spool_pos pos;
	int rc;

	while ((rc = spool_reader_next(r, &line, &len, &pos)) > 0) {
		const struct line *w;
		const struct seg *s = NULL;

		if (g->n >= g->nwant) {
			fprintf(stderr, "extra line at %llu:%llu\n",
			    (unsigned long long)pos.segment, (unsigned long long)pos.offset);
			abort();
		}
		w = &g->want[g->n++];
		for (size_t i = 0; i < g->nsegs; i++)
			if (g->segs[i].no == pos.segment)
				s = &g->segs[i];
		if (pos.segment != w->seg || pos.offset != w->off || len != w->len ||
		    s == NULL || memcmp(line, s->data + pos.offset, len) != 0) {
			fprintf(stderr, "line %zu: got %llu:%llu len %zu, want %llu:%llu len %zu\n",
			    g->n - 1, (unsigned long long)pos.segment,
			    (unsigned long long)pos.offset, len, (unsigned long long)w->seg,
			    (unsigned long long)w->off, w->len);
			abort();
		}
	}
	if (rc < 0) {
		fprintf(stderr, "spool_reader_next: %s\n", strerror(-rc));
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seg segs[2];
	struct line *want;
	struct got g;
	struct spool_reader *r;
	struct spool_reader_stats st;
	struct spool_pos start;
	uint8_t flags;
	size_t len, split, app, pad = 0, nsegs, nwant;
	uint64_t first_no, torn, bad;
	char *seg1;
	int fd0;

	if (size < 8)
		return 0;
	flags = data[0];
	len = size - 8;
	split = (flags & 1) ? ((size_t)data[1] << 8 | data[2]) % (len + 1) : len;
	if (flags & 4)
		pad = READ_BUF - 8 + data[5] % 16;
	first_no = (flags & 32) ? 2 : 1;

	/* The first segment: the pad, then its share of the bytes. */
	seg1 = malloc(pad + split + 1);
	if (seg1 == NULL)
		return 0;
	memcpy(seg1, padbuf, pad);
	memcpy(seg1 + pad, data + 8, split);
	segs[0].no = first_no;
	segs[0].data = seg1;
	segs[0].len = pad + split;
	nsegs = 1;
	if (flags & 1) {
		segs[1].no = first_no + ((flags & 2) ? 2 : 1);
		segs[1].data = (const char *)data + 8 + split;
		segs[1].len = len - split;
		nsegs = 2;
	}
	app = (flags & 8) ? ((size_t)data[3] << 8 | data[4]) % (segs[0].len + 1) : segs[0].len;
	start.segment = first_no;
	start.offset = ((size_t)data[6] << 8 | data[7]) % (segs[0].len + 1);
	if (!(flags & 16))
		start.offset = 0;

	want = malloc((segs[0].len + len + 2) / 2 * sizeof(*want) + sizeof(*want));
	if (want == NULL) {
		free(seg1);
		return 0;
	}
	nwant = model(segs, nsegs, start.offset, want, (segs[0].len + len + 2) / 2 + 1, &torn, &bad);

	cleanup_dir();
	fd0 = lowest_free_fd();

	append_file(segs[0].no, segs[0].data, app);
	if (!(flags & 8) && nsegs == 2)
		append_file(segs[1].no, segs[1].data, segs[1].len);
	r = spool_reader_open(dir, (flags & 16) ? &start : NULL, NULL, NULL);
	if (r == NULL)
		abort();
	g = (struct got){ segs, nsegs, want, nwant, 0 };
	read_all(r, &g);
	if (flags & 8) {
		/* Live: the rest of the open segment, then the next one. */
		append_file(segs[0].no, segs[0].data + app, segs[0].len - app);
		read_all(r, &g);
		if (nsegs == 2)
			append_file(segs[1].no, segs[1].data, segs[1].len);
		read_all(r, &g);
	}
	spool_reader_stats(r, &st);
	spool_reader_close(r);
	if (g.n != nwant || st.lines != nwant || st.torn != torn || st.bad_lines != bad) {
		fprintf(stderr, "got %zu lines (stats %llu), want %zu; torn %llu, want %llu; "
		    "bad %llu, want %llu\n", g.n, (unsigned long long)st.lines, nwant,
		    (unsigned long long)st.torn, (unsigned long long)torn,
		    (unsigned long long)st.bad_lines, (unsigned long long)bad);
		abort();
	}
	if (lowest_free_fd() != fd0) {	/* the reader left a descriptor open */
		fprintf(stderr, "fd leak: lowest free fd was %d\n", fd0);
		abort();
	}
	free(want);
	free(seg1);
	return 0;
}
