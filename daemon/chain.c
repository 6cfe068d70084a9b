/*
 * chain.c - this file keeps the writer's side of the tamper-evidence chain:
 * the running SHA-256 of the open segment, the seal (digest and link) that
 * goes into the next segment's marker, the forward-secure sealing key and
 * its file, and the parsing of the chain fields that the verifier shares.
 * The record format and the rules the writer follows are in chain.h. Leaf
 * module: no logging.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "chain.h"
#include "format.h"

#define CHAIN_EVOLVE_LABEL	"rauditd-evolve"
#define CHAIN_KEY_PREFIX	"seal1-"
/* Key file line: prefix, 20-digit segment, '-', 64 hex, '\n'. Fixed width,
 * so each rewrite covers the previous key byte for byte. */
#define CHAIN_KEY_LINE_LEN	(6 + 20 + 1 + CHAIN_HEX_LEN + 1)
/* resume() reads the segment in chunks of this size. */
#define CHAIN_READ_CHUNK	(64 * 1024)

struct chain {
	EVP_MD_CTX	*md;		/* running digest of the open segment */
	uint64_t	 segment;	/* the open segment */
	unsigned char	 prev[CHAIN_HASH_LEN];	/* link of the segment before it */
	bool		 keyed;
	unsigned char	 key[CHAIN_HASH_LEN];	/* K_key_seg */
	uint64_t	 key_seg;
	int		 key_fd;
};

static const char hexdig[] = "0123456789abcdef";

static void
hex_encode(char *out, const unsigned char *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[in[i] >> 4];
		out[2 * i + 1] = hexdig[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
hex_val(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Exactly 2n lower-case hex digits. */
static bool
hex_decode(unsigned char *out, const char *in, size_t len, size_t n)
{
	if (len != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_val(in[2 * i]), lo = hex_val(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

/* 1 to 20 decimal digits that fit in 64 bits. */
static bool
dec_decode(uint64_t *out, const char *in, size_t len)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (in[i] < '0' || in[i] > '9')
			return false;
		if (v > (UINT64_MAX - (uint64_t)(in[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(in[i] - '0');
	}
	*out = v;
	return true;
}

bool
chain_is_zero(const unsigned char h[CHAIN_HASH_LEN])
{
	unsigned char acc = 0;

	for (size_t i = 0; i < CHAIN_HASH_LEN; i++)
		acc |= h[i];
	return acc == 0;
}

/* ---- primitives ------------------------------------------------------------ */

int
chain_key_evolve(unsigned char key[CHAIN_HASH_LEN])
{
	unsigned char buf[sizeof(CHAIN_EVOLVE_LABEL) - 1 + CHAIN_HASH_LEN];
	unsigned int n = 0;
	int rc = 0;

	memcpy(buf, CHAIN_EVOLVE_LABEL, sizeof(CHAIN_EVOLVE_LABEL) - 1);
	memcpy(buf + sizeof(CHAIN_EVOLVE_LABEL) - 1, key, CHAIN_HASH_LEN);
	/* The digest overwrites the old key in place: no copy of it remains
	 * but in buf, erased below. */
	if (EVP_Digest(buf, sizeof(buf), key, &n, EVP_sha256(), NULL) != 1 ||
	    n != CHAIN_HASH_LEN)
		rc = -EIO;
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

int
chain_link(const unsigned char prev[CHAIN_HASH_LEN], uint64_t segment,
    const unsigned char digest[CHAIN_HASH_LEN], const unsigned char *key,
    unsigned char out[CHAIN_HASH_LEN])
{
	unsigned char msg[CHAIN_HASH_LEN + 8 + CHAIN_HASH_LEN];
	unsigned int n = 0;

	memcpy(msg, prev, CHAIN_HASH_LEN);
	for (int i = 0; i < 8; i++)
		msg[CHAIN_HASH_LEN + i] = (unsigned char)(segment >> (56 - 8 * i));
	memcpy(msg + CHAIN_HASH_LEN + 8, digest, CHAIN_HASH_LEN);
	if (key != NULL) {
		if (HMAC(EVP_sha256(), key, CHAIN_HASH_LEN, msg, sizeof(msg), out, &n) == NULL)
			return -EIO;
	} else if (EVP_Digest(msg, sizeof(msg), out, &n, EVP_sha256(), NULL) != 1) {
		return -EIO;
	}
	return n == CHAIN_HASH_LEN ? 0 : -EIO;
}

int
chain_key_parse(const char *text, size_t len, uint64_t *segment,
    unsigned char key[CHAIN_HASH_LEN])
{
	const char *dash;
	size_t plen = sizeof(CHAIN_KEY_PREFIX) - 1;

	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len < plen || memcmp(text, CHAIN_KEY_PREFIX, plen) != 0)
		return -EINVAL;
	text += plen;
	len -= plen;
	dash = memchr(text, '-', len);
	if (dash == NULL || !dec_decode(segment, text, (size_t)(dash - text)) ||
	    *segment == 0)
		return -EINVAL;
	len -= (size_t)(dash - text) + 1;
	if (!hex_decode(key, dash + 1, len, CHAIN_HASH_LEN))
		return -EINVAL;
	return 0;
}

/* One token "name=value" of the marker. Returns -EINVAL on a bad or
 * repeated chain field; unknown names are other fields of the record. */
static int
marker_field(struct chain_marker *m, unsigned *seen, const char *t, size_t len)
{
	static const char *const names[] = { "segment", "chain", "chain_seg",
	    "chain_digest", "chain_link" };
	const char *eq = memchr(t, '=', len);
	size_t nlen, vlen;
	const char *v;
	unsigned i;

	if (eq == NULL)
		return 0;
	nlen = (size_t)(eq - t);
	v = eq + 1;
	vlen = len - nlen - 1;
	for (i = 0; i < 5; i++)
		if (strlen(names[i]) == nlen && memcmp(t, names[i], nlen) == 0)
			break;
	if (i == 5)
		return 0;
	if (*seen & (1u << i))
		return -EINVAL;
	*seen |= 1u << i;
	switch (i) {
	case 0:
		return dec_decode(&m->segment, v, vlen) ? 0 : -EINVAL;
	case 1:
		if (vlen == 6 && memcmp(v, "sha256", 6) == 0)
			m->keyed = false;
		else if (vlen == 11 && memcmp(v, "hmac-sha256", 11) == 0)
			m->keyed = true;
		else
			return -EINVAL;
		return 0;
	case 2:
		return dec_decode(&m->sealed, v, vlen) ? 0 : -EINVAL;
	case 3:
		return hex_decode(m->digest, v, vlen, CHAIN_HASH_LEN) ? 0 : -EINVAL;
	default:
		return hex_decode(m->link, v, vlen, CHAIN_HASH_LEN) ? 0 : -EINVAL;
	}
}

int
chain_marker_parse(const char *line, size_t len, struct chain_marker *m)
{
	const char *p, *end = line + len;
	struct format_line fl;
	unsigned seen = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	/* With or without auditd's "node=NAME " in front (name_format). */
	if (!format_parse_line(line, len, &fl) || !format_line_type_is(&fl, "DAEMON_ROTATE"))
		return -EINVAL;
	for (p = fl.fields; p < end; ) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t tlen = sp ? (size_t)(sp - p) : (size_t)(end - p);

		if ((rc = marker_field(m, &seen, p, tlen)) < 0)
			return rc;
		p += tlen + 1;
	}
	if (!(seen & 1u))
		return -EINVAL;			/* no segment= */
	if ((seen & 0x1eu) == 0x1eu)
		m->chained = true;
	else if (seen & 0x1eu)
		return -EINVAL;			/* some chain fields, not all */
	return 0;
}

/* ---- the writer's chain ------------------------------------------------------ */

struct chain *
chain_new(void)
{
	struct chain *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->key_fd = -1;
	c->md = EVP_MD_CTX_new();
	if (c->md == NULL || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c->md);
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void
chain_free(struct chain *c)
{
	if (c == NULL)
		return;
	OPENSSL_cleanse(c->key, sizeof(c->key));
	if (c->key_fd >= 0)
		close(c->key_fd);
	EVP_MD_CTX_free(c->md);
	free(c);
}

uint64_t chain_segment(const struct chain *c) { return c->segment; }
bool chain_keyed(const struct chain *c) { return c->keyed; }

static int
fields(const struct chain *c, uint64_t sealed, const unsigned char *digest,
    const unsigned char *link, char *out, size_t cap)
{
	char dh[CHAIN_HEX_LEN + 1], lh[CHAIN_HEX_LEN + 1];
	int n;

	hex_encode(dh, digest, CHAIN_HASH_LEN);
	hex_encode(lh, link, CHAIN_HASH_LEN);
	n = snprintf(out, cap, "chain=%s chain_seg=%llu chain_digest=%s chain_link=%s",
	    c->keyed ? "hmac-sha256" : "sha256", (unsigned long long)sealed, dh, lh);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

int
chain_start(struct chain *c, uint64_t segment, char *out, size_t cap)
{
	static const unsigned char zero[CHAIN_HASH_LEN];
	int n;

	if (segment == 0)
		return -EINVAL;			/* segment numbers start at 1 */
	if ((n = fields(c, segment - 1, zero, zero, out, cap)) < 0)
		return n;
	if (EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1)
		return -ENOMEM;
	memset(c->prev, 0, sizeof(c->prev));
	c->segment = segment;
	return n;
}

int
chain_update(struct chain *c, const void *buf, size_t len)
{
	return EVP_DigestUpdate(c->md, buf, len) == 1 ? 0 : -ENOMEM;
}

int
chain_seal(struct chain *c, char *out, size_t cap)
{
	unsigned char digest[CHAIN_HASH_LEN], link[CHAIN_HASH_LEN];
	unsigned int dn = 0;
	int n, rc;

	if (c->keyed && c->key_seg > c->segment)
		return -ESTALE;
	/* Check room first: a failure below must leave the state unchanged,
	 * but EVP_DigestFinal_ex consumes the running digest. */
	if (cap < CHAIN_FIELDS_MAX)
		return -ENOSPC;
	if (c->keyed)
		while (c->key_seg < c->segment) {
			if ((rc = chain_key_evolve(c->key)) < 0)
				return rc;
			c->key_seg++;
		}
	if (EVP_DigestFinal_ex(c->md, digest, &dn) != 1 || dn != CHAIN_HASH_LEN)
		return -EIO;
	rc = chain_link(c->prev, c->segment, digest, c->keyed ? c->key : NULL, link);
	if (rc < 0)
		return rc;
	n = fields(c, c->segment, digest, link, out, cap);
	if (n < 0)
		return n;
	memcpy(c->prev, link, sizeof(link));
	c->segment++;
	if (EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1)
		return -ENOMEM;
	return n;
}

int
chain_resume(struct chain *c, int fd, uint64_t segment)
{
	char *buf = malloc(CHAIN_READ_CHUNK);
	struct chain_marker m;
	bool have_marker = false;
	off_t off = 0;
	ssize_t n;
	int rc = 0;

	if (buf == NULL)
		return -ENOMEM;
	if (EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
		rc = -ENOMEM;
		goto fail;
	}
	memset(c->prev, 0, sizeof(c->prev));
	c->segment = segment;
	while ((n = pread(fd, buf, CHAIN_READ_CHUNK, off)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto fail;
		}
		if (off == 0) {
			/* The marker is the first line; it is short. */
			const char *nl = memchr(buf, '\n', (size_t)n);
			if (nl != NULL && chain_marker_parse(buf, (size_t)(nl - buf), &m) == 0 &&
			    m.chained)
				have_marker = true;
		}
		if ((rc = chain_update(c, buf, (size_t)n)) < 0)
			goto fail;
		off += n;
	}
	if (!have_marker)
		rc = -ENODATA;
	else if (m.segment != segment || m.sealed + 1 != segment)
		rc = -EINVAL;
	else
		memcpy(c->prev, m.link, sizeof(c->prev));
fail:
	free(buf);
	return rc;
}

/* ---- the key file -------------------------------------------------------------- */

static int
key_line(char *out, size_t cap, uint64_t segment, const unsigned char key[CHAIN_HASH_LEN])
{
	char hex[CHAIN_HEX_LEN + 1];
	int n;

	hex_encode(hex, key, CHAIN_HASH_LEN);
	n = snprintf(out, cap, CHAIN_KEY_PREFIX "%020llu-%s\n", (unsigned long long)segment, hex);
	OPENSSL_cleanse(hex, sizeof(hex));
	return n == CHAIN_KEY_LINE_LEN ? 0 : -ENOSPC;
}

int
chain_key_open(struct chain *c, const char *path, const char **what)
{
	char buf[CHAIN_KEY_TEXT_MAX + 32];
	struct stat sb;
	ssize_t n;
	int fd, rc;

	*what = "open";
	fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = -EPERM;
	*what = "fstat";
	if (fstat(fd, &sb) < 0) {
		rc = -errno;
		goto fail;
	}
	*what = "not a regular file";
	if (!S_ISREG(sb.st_mode))
		goto fail;
	*what = "not owned by the daemon's user";
	if (sb.st_uid != geteuid())
		goto fail;
	*what = "readable or writable by group or others";
	if (sb.st_mode & 077)
		goto fail;
	*what = "read";
	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		rc = -errno;
		goto fail;
	}
	*what = "not a key file";
	rc = chain_key_parse(buf, (size_t)n, &c->key_seg, c->key);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc < 0)
		goto fail;
	if (c->key_fd >= 0)
		close(c->key_fd);
	c->key_fd = fd;
	c->keyed = true;
	*what = NULL;
	return 0;
fail:
	close(fd);
	return rc;
}

/* Write line over the key file from offset 0, cut it there, fsync. */
static int
key_write(int fd, const char *line)
{
	size_t len = strlen(line), done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, line + done, len - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	if (ftruncate(fd, (off_t)len) < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

int
chain_key_advance(struct chain *c)
{
	char line[CHAIN_KEY_LINE_LEN + 1];
	int rc;

	if (!c->keyed)
		return 0;
	while (c->key_seg < c->segment) {
		if ((rc = chain_key_evolve(c->key)) < 0)
			return rc;
		c->key_seg++;
	}
	/* In place, same length: the new key overwrites the old one's bytes
	 * (on a file system that rewrites blocks in place; see rauditctl(8)). */
	if ((rc = key_line(line, sizeof(line), c->key_seg, c->key)) == 0)
		rc = key_write(c->key_fd, line);
	OPENSSL_cleanse(line, sizeof(line));
	return rc;
}

int
chain_key_create(const char *path, uint64_t segment, char *vkey, size_t cap)
{
	unsigned char key[CHAIN_HASH_LEN];
	char line[CHAIN_KEY_LINE_LEN + 1], dir[PATH_MAX];
	const char *slash;
	int fd = -1, dfd = -1, rc;

	if (segment == 0 || cap < CHAIN_KEY_TEXT_MAX)
		return -EINVAL;
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
		rc = errno ? -errno : -EIO;
		goto fail;
	}
	if ((rc = key_line(line, sizeof(line), segment, key)) < 0)
		goto fail;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = key_write(fd, line)) < 0)
		goto fail;
	slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + (slash == path) : 1,
	    slash ? path : ".");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		rc = -errno;
		goto fail;
	}
	/* The verification key: the same fields, without the padding. */
	hex_encode(line, key, CHAIN_HASH_LEN);
	snprintf(vkey, cap, CHAIN_KEY_PREFIX "%llu-%s", (unsigned long long)segment, line);
	rc = 0;
fail:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(line, sizeof(line));
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	return rc;
}
