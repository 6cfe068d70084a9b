/*
 * chain_verify.c - this file checks a spool directory against its chain:
 * it digests every segment file from the oldest present, compares each
 * sealed segment with the seal in the next segment's marker, recomputes
 * the links (MACs under the evolved verification key when one is given),
 * and reports gaps, renamed segments, edits, truncation, unexplained chain
 * restarts and rebuilt chains, each naming the segment file.
 */
#include "build_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "chain.h"
#include "chain_verify.h"
#include "format.h"
#include "spool.h"

#define VERIFY_READ_CHUNK	(64 * 1024)
#define VERIFY_REASON_MAX	64

/* What one pass over a segment file yields. */
struct scan {
	uint64_t		no;
	char			path[4200];
	int			err;		/* open/read failed: -errno */
	bool			notreg;		/* not a regular file */
	uint64_t		size;
	uint64_t		whole;		/* bytes up to and including the last '\n' */
	unsigned char		digest[CHAIN_HASH_LEN];
	int			marker_rc;	/* chain_marker_parse of the first line */
	struct chain_marker	m;
	bool			has_break;	/* a chain-break record in the head */
	char			reason[VERIFY_REASON_MAX];
};

struct verify {
	const struct chain_verify_key *key;
	chain_verify_cb		*cb;
	void			*arg;
	struct chain_verify_result *res;
	unsigned char		 link[CHAIN_HASH_LEN];	/* link of the previous segment */
	bool			 link_known;
	unsigned char		 k[CHAIN_HASH_LEN];	/* the key evolved to k_seg */
	uint64_t		 k_seg;
	bool			 noted_unchecked;
	/* A segment before an empty one: its seal was never written, its link
	 * is folded into the chain when the next seal is checked. */
	bool			 pending;
	uint64_t		 pending_no;
	unsigned char		 pending_digest[CHAIN_HASH_LEN];
	char			 pending_path[4200];
};

static void
say(struct verify *v, bool failure, const char *file, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (failure)
		v->res->failures++;
	if (v->cb != NULL)
		v->cb(v->arg, failure, file, msg);
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
list_segments(const char *dir, uint64_t **out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint64_t *v = NULL, no;
	size_t cap = 0;

	*n = 0;
	if (d == NULL)
		return -errno;
	/* Its own DIR stream: readdir is safe; readdir_r is deprecated. */
	while ((de = readdir(d)) != NULL) { /* cppcheck-suppress readdirCalled */
		if (!spool_parse_name(de->d_name, &no))
			continue;
		if (*n == cap) {
			uint64_t *nv = realloc(v, (cap ? cap * 2 : 64) * sizeof(*v));
			if (nv == NULL) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
			cap = cap ? cap * 2 : 64;
		}
		v[(*n)++] = no;
	}
	closedir(d);
	if (*n > 0)
		qsort(v, *n, sizeof(*v), u64_cmp);
	*out = v;
	return 0;
}

/* A DAEMON_ERR op=chain-break among the head's lines; its reason, tamed. */
static void
find_break(struct scan *s, const char *head, size_t len)
{
	const char *p = head, *end = head + len, *nl, *r;
	struct format_line fl;
	size_t i = 0;

	for (; p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL; p = nl + 1) {
		size_t l = (size_t)(nl - p);
		if (!format_parse_line(p, l, &fl) || !format_line_type_is(&fl, "DAEMON_ERR") ||
		    memmem(p, l, " op=chain-break ", 16) == NULL)
			continue;
		s->has_break = true;
		r = memmem(p, l, " reason=", 8);
		if (r != NULL)
			for (r += 8; r < nl && i + 1 < sizeof(s->reason) &&
			    ((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') ||
			    *r == '-' || *r == '_'); r++)
				s->reason[i++] = *r;
		s->reason[i] = '\0';
		return;
	}
}

static int
read_all(int fd, struct scan *s, char *head, size_t *head_len, char *buf)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int dn = 0;
	ssize_t n;
	int rc = 0;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		rc = -ENOMEM;
		goto fail;
	}
	while ((n = read(fd, buf, VERIFY_READ_CHUNK)) != 0) {
		const char *nl;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto fail;
		}
		if (*head_len < CHAIN_HEAD_MAX) {
			size_t take = CHAIN_HEAD_MAX - *head_len;
			take = take < (size_t)n ? take : (size_t)n;
			memcpy(head + *head_len, buf, take);
			*head_len += take;
		}
		if ((nl = memrchr(buf, '\n', (size_t)n)) != NULL)
			s->whole = s->size + (uint64_t)(nl - buf) + 1;
		s->size += (uint64_t)n;
		if (EVP_DigestUpdate(md, buf, (size_t)n) != 1) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	if (EVP_DigestFinal_ex(md, s->digest, &dn) != 1)
		rc = -EIO;
fail:
	EVP_MD_CTX_free(md);
	return rc;
}

static void
scan_segment(const char *dir, uint64_t no, struct scan *s, char *head, char *buf)
{
	char name[SPOOL_NAME_LEN + 8];
	size_t head_len = 0;
	const char *nl;
	struct stat sb;
	int fd;

	memset(s, 0, sizeof(*s));
	s->no = no;
	spool_segment_name(name, sizeof(name), no);
	snprintf(s->path, sizeof(s->path), "%s/%s", dir, name);
	s->marker_rc = -EINVAL;
	fd = open(s->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		s->err = -errno;
		return;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		s->err = -EINVAL;
		s->notreg = true;
		close(fd);
		return;
	}
	s->err = read_all(fd, s, head, &head_len, buf);
	close(fd);
	if (s->err < 0)
		return;
	nl = memchr(head, '\n', head_len);
	if (nl != NULL)
		s->marker_rc = chain_marker_parse(head, (size_t)(nl - head), &s->m);
	find_break(s, head, head_len);
}

/* The key of segment no, evolving the working copy forward. */
static int
key_for(struct verify *v, uint64_t no)
{
	int rc;

	while (v->k_seg < no) {
		if ((rc = chain_key_evolve(v->k)) < 0)
			return rc;
		v->k_seg++;
	}
	return 0;
}

/* Check the link that seals prev, given in cur's marker; pending: the
 * segment before prev was sealed nowhere (prev is empty), fold it in first. */
static void
check_link(struct verify *v, const struct scan *prev, const struct scan *cur, bool pending)
{
	const struct chain_marker *m = &cur->m;
	unsigned char link[CHAIN_HASH_LEN];
	const unsigned char *key = NULL;
	bool ok = true;

	if (m->keyed && v->key == NULL) {
		if (!v->noted_unchecked)
			say(v, false, cur->path, "links are MACs (chain=hmac-sha256): digests and "
			    "sequence checked, links not; give the verification key with --key");
		v->noted_unchecked = true;
		v->res->macs_unchecked++;
		goto next;
	}
	if (v->key != NULL && prev->no >= v->key->segment && !m->keyed) {
		say(v, true, prev->path, "sealed without a key, but the verification key covers "
		    "it (from segment %llu): the chain was rebuilt",
		    (unsigned long long)v->key->segment);
		goto next;
	}
	if (m->keyed && prev->no < v->key->segment) {
		say(v, true, prev->path, "sealed with a key older than the verification key "
		    "(which starts at segment %llu): cannot be checked",
		    (unsigned long long)v->key->segment);
		goto next;
	}
	if (pending) {
		/* The link of the segment before the empty one, never written. */
		if ((m->keyed && key_for(v, v->pending_no) < 0) ||
		    chain_link(v->link, v->pending_no, v->pending_digest,
		    m->keyed ? v->k : NULL, v->link) < 0) {
			say(v, true, prev->path, "cannot compute the link before it");
			goto next;
		}
	}
	if (m->keyed) {
		if (key_for(v, prev->no) < 0) {
			say(v, true, prev->path, "cannot evolve the verification key");
			goto next;
		}
		key = v->k;
	}
	if (chain_link(v->link, prev->no, prev->digest, key, link) < 0 ||
	    CRYPTO_memcmp(link, m->link, CHAIN_HASH_LEN) != 0) {
		ok = false;
		if (pending)
			say(v, true, v->pending_path, "its link, sealed with the empty %s in %s, "
			    "does not verify%s: it or the segments before it changed, or the "
			    "chain was rebuilt", prev->path, cur->path,
			    key ? " under the verification key" : "");
		else
			say(v, true, prev->path, "its link in %s does not verify%s: the chain was "
			    "rebuilt or the segments before it changed", cur->path,
			    key ? " under the verification key" : "");
	}
	if (ok)
		v->res->sealed_ok++;
next:
	/* Go on from the link as written, to report later problems too. */
	memcpy(v->link, m->link, CHAIN_HASH_LEN);
	v->link_known = true;
}

/*
 * An empty segment that is not the newest: the daemon stopped after
 * creating it and before writing its marker, and sealed it, empty, in the
 * marker of the next. The seal of the segment before it was never written;
 * its link goes into the next check. Returns false when cur is not that.
 */
static bool
pass_empty(struct verify *v, const struct scan *prev, const struct scan *cur, bool newest)
{
	if (cur->err < 0 || cur->size != 0)
		return false;
	if (newest) {
		say(v, false, cur->path, "open segment: empty, its marker not written yet");
		return true;
	}
	say(v, false, cur->path, "empty: the daemon stopped before writing its marker; "
	    "the chain goes through it");
	if (prev == NULL || prev->err < 0 || v->pending) {
		v->link_known = false;	/* an empty anchor, or two in a row */
		v->pending = false;
		return true;
	}
	v->pending = v->link_known;
	v->pending_no = prev->no;
	memcpy(v->pending_digest, prev->digest, CHAIN_HASH_LEN);
	snprintf(v->pending_path, sizeof(v->pending_path), "%s", prev->path);
	return true;
}

/* The oldest present segment, or the first after a gap: taken as given. */
static void
anchor(struct verify *v, const struct scan *s, bool after_gap)
{
	v->link_known = false;
	if (s->marker_rc < 0 || !s->m.chained)
		return;
	memcpy(v->link, s->m.link, CHAIN_HASH_LEN);
	v->link_known = true;
	if (after_gap)
		return;
	if (chain_is_zero(s->m.link))
		say(v, false, s->path, "the chain starts here");
	else
		say(v, false, s->path, "oldest segment present: the chain is checked from "
		    "here, its own link taken as given (older segments removed by retention)");
}

/* Everything about cur that does not need the previous segment. */
static bool
check_marker(struct verify *v, const struct scan *cur)
{
	if (cur->err < 0) {
		say(v, true, cur->path, "cannot be read: %s", cur->notreg ? "not a regular file" :
		    cur->err == -ELOOP ? "a symbolic link" : strerror(-cur->err));
		return false;
	}
	if (cur->marker_rc < 0) {
		say(v, true, cur->path, "does not begin with a DAEMON_ROTATE marker");
		return false;
	}
	if (cur->m.segment != cur->no) {
		say(v, true, cur->path, "begins with the marker of segment %llu: renamed or "
		    "reordered", (unsigned long long)cur->m.segment);
		return false;
	}
	if (!cur->m.chained) {
		say(v, true, cur->path, "its marker has no chain fields");
		return false;
	}
	return true;
}

/* prev and cur are consecutive segment files. */
static void
check_pair(struct verify *v, const struct scan *prev, const struct scan *cur)
{
	const struct chain_marker *m = &cur->m;
	bool pending = v->pending;

	/* Only a link that is checked folds the pending one in. */
	v->pending = false;
	if (!check_marker(v, cur)) {
		v->link_known = false;
		return;
	}
	if (m->sealed != prev->no) {
		say(v, true, cur->path, "seals segment %llu, not the one before it",
		    (unsigned long long)m->sealed);
		v->link_known = false;
		return;
	}
	if (chain_is_zero(m->digest) && chain_is_zero(m->link)) {
		if (cur->has_break) {
			v->res->breaks++;
			say(v, false, cur->path, "the chain restarts here (chain-break, reason=%s): "
			    "%s is not covered", cur->reason[0] ? cur->reason : "?", prev->path);
		} else {
			say(v, true, cur->path, "the chain restarts here without a chain-break "
			    "record: %s is not covered", prev->path);
		}
		memset(v->link, 0, CHAIN_HASH_LEN);
		v->link_known = true;
		return;
	}
	if (prev->err < 0 || CRYPTO_memcmp(prev->digest, m->digest, CHAIN_HASH_LEN) != 0) {
		if (prev->err == 0)
			say(v, true, prev->path, "does not match the digest sealed in %s: "
			    "changed or cut short", cur->path);
		memcpy(v->link, m->link, CHAIN_HASH_LEN);
		v->link_known = true;
		return;
	}
	if (!v->link_known) {
		memcpy(v->link, m->link, CHAIN_HASH_LEN);
		v->link_known = true;
		return;			/* prev had no usable marker: reported */
	}
	check_link(v, prev, cur, pending);
}

static void
check_open(struct verify *v, const struct scan *s)
{
	if (s->err < 0)
		return;
	say(v, false, s->path, "open segment: %llu bytes up to its last whole line, not "
	    "sealed yet%s", (unsigned long long)s->whole,
	    v->key ? " (nothing to check with the key until it is sealed)" : "");
}

int
chain_verify_survey(const char *dir, uint64_t *newest, uint64_t *chained)
{
	uint64_t *nos = NULL;
	size_t n = 0;
	int rc;

	*newest = *chained = 0;
	if ((rc = list_segments(dir, &nos, &n)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		/* Room for a marker behind the longest "node=NAME ". */
		char name[SPOOL_NAME_LEN + 8], line[2048];
		struct chain_marker m;
		const char *nl;
		ssize_t got;
		int fd;

		spool_segment_name(name, sizeof(name), nos[i]);
		snprintf(line, sizeof(line), "%s/%s", dir, name);
		fd = open(line, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		got = read(fd, line, sizeof(line));
		close(fd);
		if (got > 0 && (nl = memchr(line, '\n', (size_t)got)) != NULL &&
		    chain_marker_parse(line, (size_t)(nl - line), &m) == 0 && m.chained)
			(*chained)++;
	}
	if (n > 0)
		*newest = nos[n - 1];
	free(nos);
	return 0;
}

int
chain_verify_dir(const char *dir, const struct chain_verify_key *key,
    chain_verify_cb *cb, void *arg, struct chain_verify_result *res)
{
	struct verify v = { .key = key, .cb = cb, .arg = arg, .res = res };
	struct scan *scans = NULL;
	uint64_t *nos = NULL;
	char *head = NULL, *buf = NULL;
	size_t n = 0;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = list_segments(dir, &nos, &n)) < 0)
		return rc;
	scans = calloc(2, sizeof(*scans));
	head = malloc(CHAIN_HEAD_MAX);
	buf = malloc(VERIFY_READ_CHUNK);
	if (scans == NULL || head == NULL || buf == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	if (key != NULL) {
		memcpy(v.k, key->key, CHAIN_HASH_LEN);
		v.k_seg = key->segment;
	}
	if (n == 0)
		say(&v, false, dir, "no segments");
	for (size_t i = 0; i < n; i++) {
		struct scan *prev = &scans[(i + 1) & 1], *cur = &scans[i & 1];

		scan_segment(dir, nos[i], cur, head, buf);
		res->segments++;
		if ((i == 0 || nos[i] == nos[i - 1] + 1) &&
		    pass_empty(&v, i ? prev : NULL, cur, i + 1 == n)) {
			continue;
		} else if (i == 0) {
			if (check_marker(&v, cur))
				anchor(&v, cur, false);
		} else if (nos[i] != nos[i - 1] + 1) {
			char name[SPOOL_NAME_LEN + 8];
			spool_segment_name(name, sizeof(name), nos[i - 1] + 1);
			say(&v, true, cur->path, "%llu segment(s) missing before it, from %s: "
			    "the chain is broken", (unsigned long long)(nos[i] - nos[i - 1] - 1),
			    name);
			if (check_marker(&v, cur))
				anchor(&v, cur, true);
		} else {
			check_pair(&v, prev, cur);
		}
		if (i + 1 == n)
			check_open(&v, cur);
	}
	rc = 0;
fail:
	OPENSSL_cleanse(v.k, sizeof(v.k));
	free(nos);
	free(scans);
	free(head);
	free(buf);
	return rc;
}
