/*
 * test_chain.c - unit tests of the tamper-evidence chain (chain.c) and its
 * verifier (chain_verify.c). Each test writes a spool the way the writer
 * will (real DAEMON_ROTATE markers and records through format.c, the chain
 * fed with exactly the bytes appended, sealed at each rotation), then
 * verifies it untouched and after one kind of tampering: a byte edited in
 * a sealed segment, a middle segment deleted, a sealed segment cut short,
 * two segments swapped, a chain rebuilt with a later (stolen) key or
 * without a key, and the oldest segments removed by retention, which must
 * still pass. Also: chain breaks with and without their record, resuming
 * the running digest after a restart, key evolution and the key file.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libaudit.h>
#include <openssl/evp.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "chain.h"
#include "chain_verify.h"
#include "format.h"

/* auditd's name_format: "node=NAME " in front of every line (NULL: none). */
static const char *gen_node;

/* Records per segment in the synthetic spools. */
#define RECS		20

struct fx {
	char	dir[64];
	char	keypath[128];
	char	vkey[CHAIN_KEY_TEXT_MAX];
	char	out[16384];		/* verifier findings, one per line */
	size_t	out_len;
};

static int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_chain.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->keypath, sizeof(f->keypath), "%s/seal.key", f->dir);
	*state = f;
	return 0;
}

static int
rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;

	nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	gen_node = NULL;
	return 0;
}

/* ---- a writer in miniature ------------------------------------------------ */

struct gen {
	struct fx	*f;
	struct chain	*c;
	int		 fd;
	uint64_t	 serial;
};

static void
gen_append(struct gen *g, const char *buf, size_t len)
{
	assert_int_equal(write(g->fd, buf, len), (ssize_t)len);
	assert_int_equal(chain_update(g->c, buf, len), 0);
}

/* A record line, behind the node prefix when there is one. */
static void
gen_line(struct gen *g, int type, const char *body, size_t blen)
{
	char line[FORMAT_NODE_MAX + 1024];
	ssize_t p = 0, n;

	if (gen_node != NULL)
		p = format_node_prefix(line, sizeof(line), gen_node);
	assert_true(p >= 0);
	n = format_raw(line + p, sizeof(line) - (size_t)p, type, body, blen);
	assert_true(n > 0);
	gen_append(g, line, (size_t)(p + n));
}

static void
gen_daemon(struct gen *g, int type, const char *text)
{
	char body[1024];
	struct timespec ts = { 1700000000 + (time_t)g->serial, 0 };
	ssize_t n = format_daemon_body(body, sizeof(body), &ts, ++g->serial, text);

	assert_true(n > 0);
	gen_line(g, type, body, (size_t)n);
}

/* Open segment no and write its marker with the chain fields. */
static void
gen_open(struct gen *g, uint64_t no, const char *fields)
{
	char path[256], text[512];

	snprintf(path, sizeof(path), "%s/audit-%08llu.log", g->f->dir, (unsigned long long)no);
	g->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(g->fd >= 0);
	snprintf(text, sizeof(text), "op=rotate-logs segment=%llu reason=%s pid=4242 %s res=success",
	    (unsigned long long)no, no == 1 ? "start" : "size", fields);
	gen_daemon(g, AUDIT_DAEMON_ROTATE, text);
}

/* Typical kernel records, about 200 bytes each; tag makes them differ. */
static void
gen_records(struct gen *g, int n, const char *tag)
{
	char body[512];

	for (int i = 0; i < n; i++) {
		int bl = snprintf(body, sizeof(body),
		    "audit(1700000100.%03d:%llu): arch=c000003e syscall=257 success=yes exit=3 "
		    "a0=ffffff9c a1=7ffd2 a2=0 a3=0 items=1 ppid=1 pid=%d auid=1000 uid=0 "
		    "comm=\"cat\" exe=\"/usr/bin/cat\" key=\"%s\"", i % 1000,
		    (unsigned long long)(++g->serial), 100 + i, tag);

		gen_line(g, AUDIT_SYSCALL, body, (size_t)bl);
	}
}

/* Seal the open segment, open the next with the seal, advance the key. */
static void
gen_rotate(struct gen *g)
{
	char fields[CHAIN_FIELDS_MAX];
	uint64_t next = chain_segment(g->c) + 1;

	assert_true(chain_seal(g->c, fields, sizeof(fields)) > 0);
	close(g->fd);
	gen_open(g, next, fields);
	assert_int_equal(chain_key_advance(g->c), 0);
}

/*
 * A spool of nseg segments, the last open with a partial line at its end;
 * keyed from segment key_from (0: unkeyed). tag varies the record text.
 */
static void
build(struct fx *f, int nseg, uint64_t key_from, const char *tag)
{
	struct gen g = { .f = f, .fd = -1 };
	char fields[CHAIN_FIELDS_MAX];
	const char *what;

	g.c = chain_new();
	assert_non_null(g.c);
	assert_true(chain_start(g.c, 1, fields, sizeof(fields)) > 0);
	gen_open(&g, 1, fields);
	gen_records(&g, RECS, tag);
	for (int s = 2; s <= nseg; s++) {
		/* The key belongs to the first segment it seals. */
		if (key_from != 0 && (uint64_t)s == key_from + 1) {
			unlink(f->keypath);
			assert_int_equal(chain_key_create(f->keypath, key_from, f->vkey,
			    sizeof(f->vkey)), 0);
			assert_int_equal(chain_key_open(g.c, f->keypath, &what), 0);
		}
		gen_rotate(&g);
		gen_records(&g, RECS, tag);
	}
	gen_append(&g, "type=SYSCALL msg=audit(1700000200.000:9", 39);	/* torn */
	close(g.fd);
	chain_free(g.c);
}

/* build(), keyed from the very first segment. */
static void
build_keyed(struct fx *f, int nseg, const char *tag)
{
	struct gen g = { .f = f, .fd = -1 };
	char fields[CHAIN_FIELDS_MAX];
	const char *what;

	unlink(f->keypath);
	assert_int_equal(chain_key_create(f->keypath, 1, f->vkey, sizeof(f->vkey)), 0);
	g.c = chain_new();
	assert_non_null(g.c);
	assert_int_equal(chain_key_open(g.c, f->keypath, &what), 0);
	assert_true(chain_start(g.c, 1, fields, sizeof(fields)) > 0);
	gen_open(&g, 1, fields);
	gen_records(&g, RECS, tag);
	for (int s = 2; s <= nseg; s++) {
		gen_rotate(&g);
		gen_records(&g, RECS, tag);
	}
	close(g.fd);
	chain_free(g.c);
}

/* ---- verifying ---------------------------------------------------------------- */

static void
collect(void *arg, bool failure, const char *file, const char *msg)
{
	struct fx *f = arg;
	int n = snprintf(f->out + f->out_len, sizeof(f->out) - f->out_len, "%s %s: %s\n",
	    failure ? "FAIL" : "note", file, msg);

	if (n > 0 && (size_t)n < sizeof(f->out) - f->out_len)
		f->out_len += (size_t)n;
}

static struct chain_verify_result
verify(struct fx *f, const char *vkey)
{
	struct chain_verify_result res;
	struct chain_verify_key k, *kp = NULL;

	if (vkey != NULL) {
		assert_int_equal(chain_key_parse(vkey, strlen(vkey), &k.segment, k.key), 0);
		kp = &k;
	}
	f->out_len = 0;
	f->out[0] = '\0';
	assert_int_equal(chain_verify_dir(f->dir, kp, collect, f, &res), 0);
	if (getenv("TEST_CHAIN_VERBOSE") != NULL)
		fprintf(stderr, "%s", f->out);
	return res;
}

/* A failure line naming segment no. */
static bool
failed_on(const struct fx *f, uint64_t no)
{
	char want[128];

	snprintf(want, sizeof(want), "FAIL %s/audit-%08llu.log:", f->dir, (unsigned long long)no);
	return strstr(f->out, want) != NULL;
}

static void
seg_path(const struct fx *f, uint64_t no, char *buf, size_t len)
{
	snprintf(buf, len, "%s/audit-%08llu.log", f->dir, (unsigned long long)no);
}

/* ---- tests -------------------------------------------------------------------- */

static void
test_untouched_passes(void **state)
{
	struct fx *f = *state;
	struct chain_verify_result r;

	build(f, 5, 0, "k");
	r = verify(f, NULL);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.segments, 5);
	assert_int_equal(r.sealed_ok, 4);
	assert_non_null(strstr(f->out, "the chain starts here"));
	assert_non_null(strstr(f->out, "open segment"));
}

static void
test_edited_byte_fails(void **state)
{
	struct fx *f = *state;
	struct chain_verify_result r;
	char path[256];
	int fd;

	build(f, 5, 0, "k");
	seg_path(f, 2, path, sizeof(path));
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 1000), 1);
	close(fd);
	r = verify(f, NULL);
	assert_true(r.failures > 0);
	assert_true(failed_on(f, 2));
	assert_non_null(strstr(f->out, "changed or cut short"));
}

static void
test_middle_deleted_fails(void **state)
{
	struct fx *f = *state;
	struct chain_verify_result r;
	char path[256];

	build(f, 5, 0, "k");
	seg_path(f, 3, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	r = verify(f, NULL);
	assert_int_equal(r.failures, 1);
	assert_true(failed_on(f, 4));
	assert_non_null(strstr(f->out, "missing before it, from audit-00000003.log"));
}

static void
test_truncated_fails(void **state)
{
	struct fx *f = *state;
	struct chain_verify_result r;
	char path[256];
	struct stat sb;

	build(f, 5, 0, "k");
	seg_path(f, 3, path, sizeof(path));
	assert_int_equal(stat(path, &sb), 0);
	/* Cut a whole last line: what a reader alone would not notice. */
	assert_int_equal(truncate(path, sb.st_size - 150), 0);
	r = verify(f, NULL);
	assert_int_equal(r.failures, 1);
	assert_true(failed_on(f, 3));
}

static void
test_swapped_fails(void **state)
{
	struct fx *f = *state;
	struct chain_verify_result r;
	char a[256], b[256], t[300];

	build(f, 5, 0, "k");
	seg_path(f, 2, a, sizeof(a));
	seg_path(f, 3, b, sizeof(b));
	snprintf(t, sizeof(t), "%s.tmp", a);
	assert_int_equal(rename(a, t), 0);
	assert_int_equal(rename(b, a), 0);
	assert_int_equal(rename(t, b), 0);
	r = verify(f, NULL);
	assert_true(r.failures > 0);
	assert_true(failed_on(f, 2));
	assert_non_null(strstr(f->out, "renamed or reordered"));
}

static void
test_retention_passes(void **state)
{
	struct fx *f = *state;
	struct chain_verify_result r;
	char path[256];

	build_keyed(f, 6, "k");
	for (uint64_t no = 1; no <= 2; no++) {
		seg_path(f, no, path, sizeof(path));
		assert_int_equal(unlink(path), 0);
	}
	r = verify(f, NULL);
	assert_int_equal(r.failures, 0);
	assert_non_null(strstr(f->out, "oldest segment present"));
	r = verify(f, f->vkey);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.sealed_ok, 3);
}

static void
test_keyed_passes(void **state)
{
	struct fx *f = *state;
	struct chain_verify_result r;

	build_keyed(f, 5, "k");
	r = verify(f, f->vkey);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.sealed_ok, 4);
	/* Without the key the MACs cannot be checked, and it says so. */
	r = verify(f, NULL);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.macs_unchecked, 4);
	assert_non_null(strstr(f->out, "--key"));
}

/* A key configured later: the unkeyed segments before it still pass. */
static void
test_key_added_later_passes(void **state)
{
	struct fx *f = *state;
	struct chain_verify_result r;

	build(f, 5, 3, "k");
	r = verify(f, f->vkey);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.sealed_ok, 4);
}

/*
 * An intruder who steals the key file while segment 5 is open holds K_5.
 * Rebuilding the spool with edited records and a chain keyed with it
 * passes the unkeyed check but not the verification key's.
 */
static void
test_stolen_key_rebuild_fails(void **state)
{
	struct fx *f = *state;
	struct chain_verify_result r;
	char stolen[CHAIN_KEY_TEXT_MAX], vkey[CHAIN_KEY_TEXT_MAX], path[256];
	uint64_t seg;
	unsigned char k[CHAIN_HASH_LEN];
	const char *what;
	struct gen g = { .f = f, .fd = -1 };
	char fields[CHAIN_FIELDS_MAX];
	ssize_t n;
	int fd;

	build_keyed(f, 5, "k");
	snprintf(vkey, sizeof(vkey), "%s", f->vkey);
	fd = open(f->keypath, O_RDONLY);
	n = read(fd, stolen, sizeof(stolen) - 1);
	close(fd);
	assert_true(n > 0);
	stolen[n] = '\0';
	assert_int_equal(chain_key_parse(stolen, (size_t)n, &seg, k), 0);
	assert_int_equal(seg, 5);

	/* Rebuild every segment with edited records, the stolen key posing as
	 * the key of segment 1. */
	for (uint64_t no = 1; no <= 5; no++) {
		seg_path(f, no, path, sizeof(path));
		unlink(path);
	}
	unlink(f->keypath);
	fd = open(f->keypath, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	n = dprintf(fd, "seal1-1-%s", strrchr(stolen, '-') + 1);
	close(fd);
	g.c = chain_new();
	assert_int_equal(chain_key_open(g.c, f->keypath, &what), 0);
	assert_true(chain_start(g.c, 1, fields, sizeof(fields)) > 0);
	gen_open(&g, 1, fields);
	gen_records(&g, RECS, "forged");
	for (int s = 2; s <= 5; s++) {
		gen_rotate(&g);
		gen_records(&g, RECS, "forged");
	}
	close(g.fd);
	chain_free(g.c);

	r = verify(f, NULL);
	assert_int_equal(r.failures, 0);		/* consistent without the key */
	r = verify(f, vkey);
	assert_int_equal(r.failures, 4);
	assert_true(failed_on(f, 1));
	assert_non_null(strstr(f->out, "under the verification key"));
}

/* Rebuilt without any key: the verification key says it must be keyed. */
static void
test_unkeyed_rebuild_fails(void **state)
{
	struct fx *f = *state;
	struct chain_verify_result r;
	char vkey[CHAIN_KEY_TEXT_MAX], path[256];

	build_keyed(f, 4, "k");
	snprintf(vkey, sizeof(vkey), "%s", f->vkey);
	for (uint64_t no = 1; no <= 4; no++) {
		seg_path(f, no, path, sizeof(path));
		unlink(path);
	}
	build(f, 4, 0, "forged");
	r = verify(f, vkey);
	assert_int_equal(r.failures, 3);
	assert_true(failed_on(f, 1));
	assert_non_null(strstr(f->out, "sealed without a key"));
}

/* A restart of the chain passes only with a chain-break record. */
static void
break_spool(struct fx *f, bool with_record)
{
	struct gen g = { .f = f, .fd = -1 };
	char fields[CHAIN_FIELDS_MAX];

	g.c = chain_new();
	assert_true(chain_start(g.c, 1, fields, sizeof(fields)) > 0);
	gen_open(&g, 1, fields);
	gen_records(&g, RECS, "k");
	gen_rotate(&g);
	gen_records(&g, RECS, "k");
	close(g.fd);
	/* The daemon could not rebuild segment 2's digest: it breaks. */
	assert_true(chain_start(g.c, 3, fields, sizeof(fields)) > 0);
	gen_open(&g, 3, fields);
	if (with_record)
		gen_daemon(&g, AUDIT_DAEMON_ERR,
		    "op=chain-break segment=3 reason=no-marker res=failed");
	gen_records(&g, RECS, "k");
	gen_rotate(&g);
	gen_records(&g, RECS, "k");
	close(g.fd);
	chain_free(g.c);
}

static void
test_break_explained_passes(void **state)
{
	struct fx *f = *state;
	struct chain_verify_result r;

	break_spool(f, true);
	r = verify(f, NULL);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.breaks, 1);
	assert_int_equal(r.sealed_ok, 2);
	assert_non_null(strstr(f->out, "reason=no-marker"));
}

static void
test_break_unexplained_fails(void **state)
{
	struct fx *f = *state;
	struct chain_verify_result r;

	break_spool(f, false);
	r = verify(f, NULL);
	assert_int_equal(r.failures, 1);
	assert_true(failed_on(f, 3));
	assert_non_null(strstr(f->out, "without a chain-break record"));
}

/*
 * After a crash the writer re-reads the newest segment once and seals it:
 * the seal equals the one the running chain would have made.
 */
static void
test_resume_matches_running(void **state)
{
	struct fx *f = *state;
	struct gen g = { .f = f, .fd = -1 };
	char fields[CHAIN_FIELDS_MAX], running[CHAIN_FIELDS_MAX], resumed[CHAIN_FIELDS_MAX];
	char path[256];
	struct chain *c2;
	struct chain_verify_result r;
	int fd;

	g.c = chain_new();
	assert_true(chain_start(g.c, 1, fields, sizeof(fields)) > 0);
	gen_open(&g, 1, fields);
	gen_records(&g, RECS, "k");
	gen_rotate(&g);
	gen_records(&g, RECS, "k");
	close(g.fd);
	assert_true(chain_seal(g.c, running, sizeof(running)) > 0);
	chain_free(g.c);

	seg_path(f, 2, path, sizeof(path));
	fd = open(path, O_RDONLY);
	c2 = chain_new();
	assert_int_equal(chain_resume(c2, fd, 2), 0);
	close(fd);
	assert_true(chain_seal(c2, resumed, sizeof(resumed)) > 0);
	assert_string_equal(resumed, running);
	assert_int_equal(chain_segment(c2), 3);

	g.c = c2;
	gen_open(&g, 3, resumed);
	gen_records(&g, RECS, "k");
	close(g.fd);
	chain_free(c2);
	r = verify(f, NULL);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.sealed_ok, 2);
}

/*
 * A crash right after segment 3 was created, before its marker: the
 * restarted writer resumes segment 2, seals it (that seal goes nowhere)
 * and seals the empty 3 into the marker of 4. Keyed, it verifies; a byte
 * changed in segment 2, whose seal was never written, is still caught.
 */
static void
empty_spool(struct fx *f)
{
	struct gen g = { .f = f, .fd = -1 };
	char fields[CHAIN_FIELDS_MAX], path[256];
	const char *what;
	struct chain *c2;
	int fd;

	assert_int_equal(chain_key_create(f->keypath, 1, f->vkey, sizeof(f->vkey)), 0);
	g.c = chain_new();
	assert_int_equal(chain_key_open(g.c, f->keypath, &what), 0);
	assert_true(chain_start(g.c, 1, fields, sizeof(fields)) > 0);
	gen_open(&g, 1, fields);
	gen_records(&g, RECS, "k");
	gen_rotate(&g);
	gen_records(&g, RECS, "k");
	close(g.fd);
	chain_free(g.c);			/* the crash */
	seg_path(f, 3, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	close(fd);

	c2 = chain_new();
	assert_int_equal(chain_key_open(c2, f->keypath, &what), 0);
	seg_path(f, 3, path, sizeof(path));
	fd = open(path, O_RDONLY);
	assert_int_equal(chain_resume(c2, fd, 3), -ENODATA);
	close(fd);
	seg_path(f, 2, path, sizeof(path));
	fd = open(path, O_RDONLY);
	assert_int_equal(chain_resume(c2, fd, 2), 0);
	close(fd);
	assert_true(chain_seal(c2, fields, sizeof(fields)) > 0);
	assert_true(chain_seal(c2, fields, sizeof(fields)) > 0);
	g.c = c2;
	gen_open(&g, 4, fields);
	assert_int_equal(chain_key_advance(c2), 0);
	gen_records(&g, RECS, "k");
	gen_rotate(&g);
	gen_records(&g, RECS, "k");
	close(g.fd);
	chain_free(c2);
}

static void
test_empty_segment_after_crash(void **state)
{
	struct fx *f = *state;
	struct chain_verify_result r;
	char path[256];
	int fd;

	empty_spool(f);
	r = verify(f, f->vkey);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.sealed_ok, 3);
	assert_non_null(strstr(f->out, "empty: the daemon stopped before writing its marker"));
	seg_path(f, 2, path, sizeof(path));
	fd = open(path, O_WRONLY);
	assert_int_equal(pwrite(fd, "Z", 1, 700), 1);
	close(fd);
	r = verify(f, f->vkey);
	assert_int_equal(r.failures, 1);
	assert_true(failed_on(f, 2));
	r = verify(f, NULL);
	assert_int_equal(r.failures, 0);	/* MACs: only the key tells */
}

/*
 * Segment files an intruder or a broken disk may leave: a first line longer
 * than the head, binary bytes, a symlink, a FIFO (which must not block the
 * verifier). Each fails, named; nothing crashes or hangs.
 */
static void
test_hostile_files(void **state)
{
	struct fx *f = *state;
	struct chain_verify_result r;
	char path[256], *big = malloc(CHAIN_HEAD_MAX + 100);
	int fd;

	assert_non_null(big);
	build(f, 2, 0, "k");
	memset(big, 'A', CHAIN_HEAD_MAX + 100);
	memcpy(big, "type=DAEMON_ROTATE msg=audit(1.000:1): segment=3 ", 49);
	seg_path(f, 3, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_int_equal(write(fd, big, CHAIN_HEAD_MAX + 100), CHAIN_HEAD_MAX + 100);
	close(fd);
	seg_path(f, 4, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_int_equal(write(fd, "type=DAEMON_ROTATE\0\n\xff\xfe\n", 23), 23);
	close(fd);
	seg_path(f, 5, path, sizeof(path));
	assert_int_equal(symlink("/etc/passwd", path), 0);
	seg_path(f, 6, path, sizeof(path));
	assert_int_equal(mkfifo(path, 0600), 0);
	r = verify(f, NULL);
	assert_int_equal(r.segments, 6);
	for (uint64_t no = 3; no <= 6; no++)
		assert_true(failed_on(f, no));
	assert_non_null(strstr(f->out, "a symbolic link"));
	assert_non_null(strstr(f->out, "not a regular file"));
	free(big);
}

static void
test_resume_without_marker(void **state)
{
	struct fx *f = *state;
	char path[256];
	struct chain *c = chain_new();
	int fd;

	seg_path(f, 7, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_int_equal(chain_resume(c, fd, 7), -ENODATA);	/* empty */
	assert_int_equal(write(fd, "type=DAEMON_ROTATE msg=audit(1.000:1): op=rotate-logs "
	    "segment=7 res=success\n", 75), 75);
	assert_int_equal(chain_resume(c, fd, 7), -ENODATA);	/* before chaining */
	close(fd);
	chain_free(c);
}

/* The key file lags behind a sealed segment's key by at most the marker;
 * a key that is already past the segment cannot seal it. */
static void
test_seal_with_key_ahead(void **state)
{
	struct fx *f = *state;
	char fields[CHAIN_FIELDS_MAX];
	const char *what;
	struct chain *c = chain_new();

	assert_int_equal(chain_key_create(f->keypath, 5, f->vkey, sizeof(f->vkey)), 0);
	assert_int_equal(chain_key_open(c, f->keypath, &what), 0);
	assert_int_equal(chain_start(c, 0, fields, sizeof(fields)), -EINVAL);
	assert_true(chain_start(c, 3, fields, sizeof(fields)) > 0);
	assert_int_equal(chain_seal(c, fields, sizeof(fields)), -ESTALE);
	assert_int_equal(chain_segment(c), 3);
	chain_free(c);
}

static void
read_file(const char *path, char *buf, size_t cap, ssize_t *n)
{
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	*n = read(fd, buf, cap - 1);
	assert_true(*n >= 0);
	buf[*n] = '\0';
	close(fd);
}

static void
test_key_evolution(void **state)
{
	struct fx *f = *state;
	char before[256], after[256], fields[CHAIN_FIELDS_MAX];
	unsigned char k0[CHAIN_HASH_LEN], k1[CHAIN_HASH_LEN], want[CHAIN_HASH_LEN];
	unsigned char buf[14 + CHAIN_HASH_LEN];
	uint64_t s0, s1;
	unsigned int dn;
	struct stat sa, sb;
	const char *what;
	ssize_t n0, n1;
	struct chain *c = chain_new();

	assert_int_equal(chain_key_create(f->keypath, 1, f->vkey, sizeof(f->vkey)), 0);
	assert_int_equal(stat(f->keypath, &sa), 0);
	assert_int_equal(sa.st_mode & 0777, 0600);
	read_file(f->keypath, before, sizeof(before), &n0);
	/* The verification key holds what the file holds: K_0 and its segment. */
	assert_int_equal(chain_key_parse(f->vkey, strlen(f->vkey), &s1, k1), 0);
	assert_int_equal(chain_key_parse(before, (size_t)n0, &s0, k0), 0);
	assert_int_equal(s0, 1);
	assert_int_equal(s1, 1);
	assert_memory_equal(k0, k1, CHAIN_HASH_LEN);

	assert_int_equal(chain_key_open(c, f->keypath, &what), 0);
	assert_true(chain_start(c, 1, fields, sizeof(fields)) > 0);
	assert_true(chain_seal(c, fields, sizeof(fields)) > 0);
	assert_int_equal(chain_key_advance(c), 0);

	read_file(f->keypath, after, sizeof(after), &n1);
	assert_int_equal(n1, n0);
	assert_int_equal(chain_key_parse(after, (size_t)n1, &s1, k1), 0);
	assert_int_equal(s1, 2);
	memcpy(buf, "rauditd-evolve", 14);
	memcpy(buf + 14, k0, CHAIN_HASH_LEN);
	assert_int_equal(EVP_Digest(buf, sizeof(buf), want, &dn, EVP_sha256(), NULL), 1);
	assert_memory_equal(k1, want, CHAIN_HASH_LEN);
	/* The file holds the new key only; the old one's text is gone. */
	assert_null(strstr(after, strrchr(before, '-') + 1));
	/* Rewritten in place, not replaced: no old copy left in another inode. */
	assert_int_equal(stat(f->keypath, &sb), 0);
	assert_int_equal(sb.st_ino, sa.st_ino);
	chain_free(c);
}

static void
test_key_file_checks(void **state)
{
	struct fx *f = *state;
	char link[160], other[160];
	const char *what;
	struct chain *c = chain_new();
	int fd;

	assert_int_equal(chain_key_create(f->keypath, 1, f->vkey, sizeof(f->vkey)), 0);
	assert_int_equal(chain_key_create(f->keypath, 1, f->vkey, sizeof(f->vkey)), -EEXIST);
	snprintf(link, sizeof(link), "%s/link.key", f->dir);
	assert_int_equal(symlink(f->keypath, link), 0);
	assert_int_equal(chain_key_open(c, link, &what), -ELOOP);
	assert_int_equal(chmod(f->keypath, 0640), 0);
	assert_int_equal(chain_key_open(c, f->keypath, &what), -EPERM);
	assert_non_null(strstr(what, "group or others"));
	snprintf(other, sizeof(other), "%s/junk.key", f->dir);
	fd = open(other, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_int_equal(write(fd, "seal1-1-abc\n", 12), 12);
	close(fd);
	assert_int_equal(chain_key_open(c, other, &what), -EINVAL);
	assert_false(chain_keyed(c));
	chain_free(c);
}

static void
test_marker_parse(void **state)
{
	static const char z[] = "0000000000000000000000000000000000000000000000000000000000000000";
	char line[512];
	struct chain_marker m;
	(void)state;

#define LINE(...) snprintf(line, sizeof(line), __VA_ARGS__)
	LINE("type=DAEMON_ROTATE msg=audit(1.000:1): op=rotate-logs segment=4 reason=size "
	    "pid=1 chain=sha256 chain_seg=3 chain_digest=%s chain_link=%s res=success", z, z);
	assert_int_equal(chain_marker_parse(line, strlen(line), &m), 0);
	assert_true(m.chained);
	assert_false(m.keyed);
	assert_int_equal(m.segment, 4);
	assert_int_equal(m.sealed, 3);
	LINE("type=DAEMON_ROTATE msg=audit(1.000:1): op=rotate-logs segment=4 res=success");
	assert_int_equal(chain_marker_parse(line, strlen(line), &m), 0);
	assert_false(m.chained);
	/* Some chain fields but not all, repeated, upper-case hex, unknown alg. */
	LINE("type=DAEMON_ROTATE msg=audit(1.000:1): segment=4 chain=sha256 chain_seg=3");
	assert_int_equal(chain_marker_parse(line, strlen(line), &m), -EINVAL);
	LINE("type=DAEMON_ROTATE msg=audit(1.000:1): segment=4 segment=5");
	assert_int_equal(chain_marker_parse(line, strlen(line), &m), -EINVAL);
	LINE("type=DAEMON_ROTATE msg=audit(1.000:1): segment=4 chain=md5 chain_seg=3 "
	    "chain_digest=%s chain_link=%s", z, z);
	assert_int_equal(chain_marker_parse(line, strlen(line), &m), -EINVAL);
	LINE("type=DAEMON_ROTATE msg=audit(1.000:1): segment=4 chain=sha256 chain_seg=3 "
	    "chain_digest=%.63sA chain_link=%s", z, z);
	assert_int_equal(chain_marker_parse(line, strlen(line), &m), -EINVAL);
	LINE("type=DAEMON_START msg=audit(1.000:1): segment=4");
	assert_int_equal(chain_marker_parse(line, strlen(line), &m), -EINVAL);
	/* Behind auditd's node field; a malformed one is not a marker. */
	LINE("node=web-01 type=DAEMON_ROTATE msg=audit(1.000:1): op=rotate-logs segment=4 "
	    "reason=size pid=1 chain=hmac-sha256 chain_seg=3 chain_digest=%s chain_link=%s "
	    "res=success", z, z);
	assert_int_equal(chain_marker_parse(line, strlen(line), &m), 0);
	assert_true(m.chained);
	assert_true(m.keyed);
	assert_int_equal(m.segment, 4);
	LINE("node= type=DAEMON_ROTATE msg=audit(1.000:1): op=rotate-logs segment=4");
	assert_int_equal(chain_marker_parse(line, strlen(line), &m), -EINVAL);
	LINE("node=a\tb type=DAEMON_ROTATE msg=audit(1.000:1): op=rotate-logs segment=4");
	assert_int_equal(chain_marker_parse(line, strlen(line), &m), -EINVAL);
	LINE("node=web-01 type=DAEMON_START msg=audit(1.000:1): segment=4");
	assert_int_equal(chain_marker_parse(line, strlen(line), &m), -EINVAL);
#undef LINE
}

/*
 * auditd's name_format puts "node=NAME " in front of every line, the
 * markers too (here the longest name the writer writes): the chain
 * verifies, the survey counts the chained segments, a chain-break record
 * explains a break, and the writer resumes from the newest marker.
 */
static void
test_node_prefix(void **state)
{
	static char node[FORMAT_NODE_MAX + 1];
	struct fx *f = *state;
	struct chain_verify_result r;
	uint64_t newest, chained;
	char path[256];
	struct chain *c;
	int fd;

	memset(node, 'n', FORMAT_NODE_MAX);
	memcpy(node + FORMAT_NODE_MAX - 8, ".example", 8);
	gen_node = node;
	build(f, 4, 0, "k");
	r = verify(f, NULL);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.segments, 4);
	assert_int_equal(r.sealed_ok, 3);
	assert_int_equal(chain_verify_survey(f->dir, &newest, &chained), 0);
	assert_int_equal(newest, 4);
	assert_int_equal(chained, 4);
	seg_path(f, 4, path, sizeof(path));
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	c = chain_new();
	assert_int_equal(chain_resume(c, fd, 4), 0);
	close(fd);
	chain_free(c);
}

static void
test_node_prefix_break_explained(void **state)
{
	struct fx *f = *state;
	struct chain_verify_result r;

	gen_node = "web-01";
	break_spool(f, true);
	r = verify(f, NULL);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.breaks, 1);
	assert_non_null(strstr(f->out, "reason=no-marker"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_untouched_passes),
		T(test_edited_byte_fails),
		T(test_middle_deleted_fails),
		T(test_truncated_fails),
		T(test_swapped_fails),
		T(test_retention_passes),
		T(test_keyed_passes),
		T(test_key_added_later_passes),
		T(test_stolen_key_rebuild_fails),
		T(test_unkeyed_rebuild_fails),
		T(test_break_explained_passes),
		T(test_break_unexplained_fails),
		T(test_resume_matches_running),
		T(test_empty_segment_after_crash),
		T(test_hostile_files),
		T(test_resume_without_marker),
		T(test_seal_with_key_ahead),
		T(test_key_evolution),
		T(test_key_file_checks),
		T(test_node_prefix),
		T(test_node_prefix_break_explained),
		cmocka_unit_test(test_marker_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
