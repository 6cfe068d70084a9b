/*
 * format.c - this file turns kernel audit record text into audit.log lines
 * (RAW, or ENRICHED through libauparse with a uid/gid name cache).
 *
 * Record text is hostile (DESIGN invariant 8): the kernel hex-encodes the
 * untrusted strings it logs itself, but AUDIT_USER* records carry the text
 * of any process with CAP_AUDIT_WRITE verbatim, and an interpreted value
 * (an AF_UNIX socket path decoded from saddr) is raw bytes of the audited
 * process. So no byte of a line may end it or start the interpretation
 * part except our own: in the RAW part '\n' and the interpretation
 * separator 0x1D become spaces (auditd's convention for newlines, extended
 * to the one other byte that changes how ausearch splits a line); in the
 * ENRICHED part every control byte (< 0x20, which includes '\n' and 0x1D)
 * of an interpreted value is written as a backslash and three octal digits,
 * exactly as auparse's AUPARSE_ESC_TTY does. We chose TTY escaping because
 * it is what `ausearch -i` prints by default, it keeps the "{ ... }" shape
 * auparse's interpretation loader looks for in SADDR=, and for every value
 * without control bytes it is byte-identical to auditd's ENRICHED output
 * (which writes such values unescaped and can be forged). Shell escaping
 * would change ordinary values (spaces, parentheses); hex encoding would
 * make ausearch print hex for a socket address.
 */
#include "build_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <unistd.h>
#include <stddef.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <auparse.h>
#include <libaudit.h>

#include "format.h"

#ifndef AUDIT_INTERP_SEPARATOR
#define AUDIT_INTERP_SEPARATOR 0x1D
#endif

/* Name cache slots (open addressing); a fleet host has few distinct ids. */
#define NAME_CACHE_SLOTS	1024
/* Longest user or group name we keep; longer ones are cut, never overflow. */
#define NAME_MAX_LEN		64
/*
 * How long "this id has no name" is believed. A user added without an
 * ADD_USER record (an edited /etc/passwd, a directory service) shows up by
 * name after at most this long; names found are kept until the record
 * stream says users or groups changed (format_enriched flushes the cache).
 */
#define NAME_NEGATIVE_TTL_MS	30000

const char *
format_type_name(int type, char *buf, size_t buflen)
{
	const char *name = audit_msg_type_to_name(type);

	if (name != NULL)
		return name;
	snprintf(buf, buflen, "UNKNOWN[%d]", type);
	return buf;
}

ssize_t
format_raw(char *out, size_t cap, int type, const char *body, size_t len)
{
	char tbuf[32];
	const char *name = format_type_name(type, tbuf, sizeof(tbuf));
	const char *nul = memchr(body, '\0', len);
	size_t nlen = strlen(name), n;
	char *p;

	if (nul != NULL)
		len = (size_t)(nul - body);
	/* "type=" NAME " msg=" BODY "\n" */
	if (5 + nlen + 5 + len + 1 > cap)
		return -ENOSPC;
	p = out;
	/* NOLINTBEGIN(bugprone-not-null-terminated-result): the line is
	 * counted bytes ending in '\n', not a C string; no NUL is wanted. */
	memcpy(p, "type=", 5);
	p += 5;
	memcpy(p, name, nlen);
	p += nlen;
	memcpy(p, " msg=", 5);
	/* NOLINTEND(bugprone-not-null-terminated-result) */
	p += 5;
	for (size_t i = 0; i < len; i++)
		*p++ = (char)(body[i] == '\n' || body[i] == AUDIT_INTERP_SEPARATOR ?
		    ' ' : body[i]);
	n = (size_t)(p - out);
	/* auditd trims one trailing space: a kernel "\n" at the end would
	 * otherwise leave one on every line. */
	if (n > 0 && out[n - 1] == ' ')
		n--;
	out[n++] = '\n';
	return (ssize_t)n;
}

/*
 * A byte a node name may hold: printable and not a blank (isgraph() in the
 * C locale, spelled out so that the writer and every reader agree whatever
 * the locale). A blank would end the field, a control byte the line.
 */
static bool
node_byte_ok(char c)
{
	return c > ' ' && c < 0x7f;
}

static bool
node_ok(const char *node)
{
	size_t n = strlen(node);

	if (n > FORMAT_NODE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!node_byte_ok(node[i]))
			return false;
	return true;
}

ssize_t
format_node_prefix(char *out, size_t cap, const char *node)
{
	size_t n = strlen(node);

	if (n == 0)
		return 0;
	if (!node_ok(node))
		return -EINVAL;
	/* auditd: "node=%s type=%s msg=..." */
	if (5 + n + 1 > cap)
		return -ENOSPC;
	/* NOLINTBEGIN(bugprone-not-null-terminated-result): counted bytes. */
	memcpy(out, "node=", 5);
	memcpy(out + 5, node, n);
	/* NOLINTEND(bugprone-not-null-terminated-result) */
	out[5 + n] = ' ';
	return (ssize_t)(5 + n + 1);
}

/* fqd: the canonical name; numeric: the first address (IPv4 first, as auditd). */
static int
resolve_host(const char *host, bool numeric, char *buf, size_t len)
{
	struct addrinfo hints, *res = NULL, *ai;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = numeric ? AI_ADDRCONFIG : AI_CANONNAME;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0)
		return rc == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	rc = -EHOSTUNREACH;
	if (!numeric) {
		if (res->ai_canonname != NULL && strlen(res->ai_canonname) < len) {
			snprintf(buf, len, "%s", res->ai_canonname);
			rc = 0;
		}
	} else {
		for (int pass = 0; pass < 2 && rc < 0; pass++)
			for (ai = res; ai != NULL && rc < 0; ai = ai->ai_next) {
				const void *a = NULL;

				if (pass == 0 && ai->ai_family == AF_INET)
					a = &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr;
				else if (pass == 1 && ai->ai_family == AF_INET6)
					a = &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr;
				if (a != NULL && inet_ntop(ai->ai_family, a, buf, (socklen_t)len))
					rc = 0;
			}
	}
	freeaddrinfo(res);
	return rc;
}

int
format_node_name(int name_format, const char *user, char *buf, size_t len)
{
	char host[FORMAT_NODE_MAX + 1];
	int rc = 0;

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	switch (name_format) {
	case 0:
		return 0;
	case 4:
		if (!node_ok(user) || strlen(user) >= len)
			return -EINVAL;
		snprintf(buf, len, "%s", user);
		return 0;
	default:
		break;
	}
	if (gethostname(host, sizeof(host)) < 0)
		return -errno;
	host[sizeof(host) - 1] = '\0';
	if (name_format == 2 || name_format == 3)
		rc = resolve_host(host, name_format == 3, buf, len);
	if (name_format == 1 || rc < 0)
		snprintf(buf, len, "%s", host);
	if (!node_ok(buf)) {
		buf[0] = '\0';
		return -EINVAL;
	}
	return rc;
}

struct name_slot {
	uint32_t	id;
	uint8_t		used;
	uint8_t		is_group;
	uint8_t		found;		/* 0: negative entry */
	uint64_t	expires_ms;	/* negative entries only */
	char		name[NAME_MAX_LEN];
};

struct format_enricher {
	struct name_slot slots[NAME_CACHE_SLOTS];
	uint64_t	 hits, misses, flushes;
	uint64_t	 negative_ttl_ms;
	bool		 use_fast;	/* SYSCALL records without auparse */
	auparse_state_t	*au;		/* one parser, reloaded per record */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct format_enricher *
format_enricher_new(void)
{
	static const char first[] = "type=EOE msg=audit(0.000:0): \n";
	struct format_enricher *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	/*
	 * auparse_init() reads /etc/audit/auditd.conf and looks at the log
	 * directory each time: ~20 us. It is done once here; each record
	 * then replaces the parser's buffer (auparse_new_buffer).
	 */
	e->au = auparse_init(AUSOURCE_BUFFER, first);
	if (e->au == NULL) {
		free(e);
		errno = ENOMEM;
		return NULL;
	}
	auparse_set_escape_mode(e->au, AUPARSE_ESC_RAW);
	e->negative_ttl_ms = NAME_NEGATIVE_TTL_MS;
	e->use_fast = true;
	return e;
}

void
format_enricher_set_fast_path(struct format_enricher *e, bool on)
{
	e->use_fast = on;
}

void
format_enricher_set_negative_ttl(struct format_enricher *e, unsigned ms)
{
	e->negative_ttl_ms = ms;
}

void
format_enricher_flush(struct format_enricher *e)
{
	memset(e->slots, 0, sizeof(e->slots));
	e->flushes++;
}

/*
 * The record types after which auditd forgets its names: users or groups
 * were added, removed or changed, so a cached name (or "no such id") may be
 * wrong now.
 */
static bool
changes_names(int type)
{
	switch (type) {
	case AUDIT_USER_MGMT:
	case AUDIT_ADD_USER:
	case AUDIT_DEL_USER:
	case AUDIT_ADD_GROUP:
	case AUDIT_DEL_GROUP:
	case AUDIT_GRP_MGMT:
		return true;
	default:
		return false;
	}
}

void
format_enricher_free(struct format_enricher *e)
{
	if (e == NULL)
		return;
	auparse_destroy_ext(e->au, AUPARSE_DESTROY_COMMON);
	free(e);
}

void
format_enricher_stats(const struct format_enricher *e, uint64_t *hits,
    uint64_t *misses)
{
	*hits = e->hits;
	*misses = e->misses;
}

uint64_t
format_enricher_flushes(const struct format_enricher *e)
{
	return e->flushes;
}

/*
 * Look up a uid or gid name, caching the answer (including "no such id",
 * which without a cache costs a full name-service round trip per record).
 * Returns what auditd writes for it: the name, or "unknown(ID)".
 */
static const char *
lookup_name(struct format_enricher *e, uint32_t id, bool group)
{
	uint32_t h = (id * 2654435761u) ^ (group ? 0x9e3779b9u : 0);
	struct name_slot *s = NULL;

	for (unsigned i = 0; i < 8; i++) {
		struct name_slot *c = &e->slots[(h + i) % NAME_CACHE_SLOTS];
		if (c->used && c->id == id && c->is_group == group) {
			if (!c->found && now_ms() >= c->expires_ms) {
				s = c;		/* expired "no such id": ask again */
				break;
			}
			e->hits++;
			return c->name;
		}
		if (!c->used && s == NULL)
			s = c;
	}
	e->misses++;
	if (s == NULL)			/* probe window full: replace the home slot */
		s = &e->slots[h % NAME_CACHE_SLOTS];
	memset(s, 0, sizeof(*s));
	s->used = 1;
	s->id = id;
	s->is_group = group;

	{
		char buf[4096];
		int rc;
		if (group) {
			struct group gr, *res = NULL;
			rc = getgrgid_r((gid_t)id, &gr, buf, sizeof(buf), &res);
			if (rc == 0 && res != NULL) {
				snprintf(s->name, sizeof(s->name), "%s", res->gr_name);
				s->found = 1;
			}
		} else {
			struct passwd pw, *res = NULL;
			rc = getpwuid_r((uid_t)id, &pw, buf, sizeof(buf), &res);
			if (rc == 0 && res != NULL) {
				snprintf(s->name, sizeof(s->name), "%s", res->pw_name);
				s->found = 1;
			}
		}
	}
	if (!s->found) {
		/* As libauparse prints it: the id as a signed int. */
		snprintf(s->name, sizeof(s->name), "unknown(%d)", (int)id);
		s->expires_ms = now_ms() + e->negative_ttl_ms;
	}
	return s->name;
}

/*
 * Interpret a uid/gid field value the way libauparse 3.0.9 does (so the
 * line is auditd's), but through our cache: the number is read as strtoul()
 * reads it (trailing garbage ignored) and cut to 32 bits; -1 is "unset",
 * 0 is "root" without a lookup, an unknown id prints as a signed int
 * ("unknown(-294967296)" for 4000000000), out of range is a conversion
 * error.
 */
static const char *
interpret_id(struct format_enricher *e, const char *val, bool group,
    char *out, size_t outlen)
{
	unsigned long v = 0;
	const char *c = val;
	uint32_t id;

	/* Plain decimal below 2^32 (nearly always): no strtoul needed. */
	while (*c >= '0' && *c <= '9' && c - val < 10)
		v = v * 10 + (unsigned long)(*c++ - '0');
	if (*c != '\0' || c == val || v > UINT32_MAX) {
		errno = 0;
		v = strtoul(val, NULL, 10);
		if (errno != 0) {
			snprintf(out, outlen, "conversion error(%s)", val);
			return out;
		}
	}
	id = (uint32_t)v;
	if (id == UINT32_MAX)
		return "unset";
	if (id == 0)
		return "root";
	return lookup_name(e, id, group);
}

/*
 * Length of value with every control byte written as "\ooo" (AUPARSE_ESC_TTY),
 * and the escaping itself into dst (which has room for that length + 1).
 */
static size_t
tty_escaped_len(const char *value)
{
	size_t n = 0;

	for (const unsigned char *s = (const unsigned char *)value; *s; s++)
		n += *s < 0x20 ? 4 : 1;
	return n;
}

static void
tty_escape(char *dst, const char *value)
{
	for (const unsigned char *s = (const unsigned char *)value; *s; s++) {
		if (*s < 0x20) {
			*dst++ = '\\';
			*dst++ = (char)('0' + (*s >> 6));
			*dst++ = (char)('0' + ((*s >> 3) & 7));
			*dst++ = (char)('0' + (*s & 7));
		} else
			*dst++ = (char)*s;
	}
	*dst = '\0';
}

/*
 * Append "NAME=value" (with a leading space after the first) to out, the
 * name in upper case: with encode as audit_encode_nv_string() does (quoted,
 * or hex when libaudit says the value needs it), otherwise with control
 * bytes TTY-escaped (see the top).
 */
static bool
append_field(char **p, char *end, bool *first, const char *name,
    const char *value, bool encode)
{
	size_t nlen = strlen(name), vlen = strlen(value), need;
	bool hex = false;
	char *q;

	if (encode) {
		hex = audit_value_needs_encoding(value, (unsigned)vlen) != 0;
		need = nlen + 1 + (hex ? 2 * vlen : vlen + 2);
	} else
		need = nlen + 1 + tty_escaped_len(value);
	/*
	 * Do not truncate a field: leave it out if it does not fit. *end is
	 * the final newline's slot, so a trailing NUL may land there.
	 */
	if ((size_t)(end - *p) < need + (*first ? 0 : 1))
		return false;
	q = *p;
	if (!*first)
		*q++ = ' ';
	*first = false;
	for (size_t i = 0; i < nlen; i++)
		*q++ = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
	*q++ = '=';
	if (encode && hex) {
		audit_encode_value(q, value, (unsigned)vlen);
		q += 2 * vlen;
	} else if (encode) {
		*q++ = '"';
		/* Counted bytes of a line, closed by the quote below. */
		memcpy(q, value, vlen);	/* NOLINT(bugprone-not-null-terminated-result) */
		q += vlen;
		*q++ = '"';
	} else {
		tty_escape(q, value);	/* fits: need was counted above */
		q += need - nlen - 1;
	}
	*p = q;
	return true;
}

/*
 * Whether auparse could interpret anything auditd's ENRICHED writes for
 * this line: those are the fields auparse types as UID or GID (every such
 * name ends in "id": uid, auid, ouid, obj_gid, new_gid, id, ...), SYSCALL
 * (syscall, uring_op), ARCH (arch) and SOCKADDR (saddr). A line with no
 * "NAME=" ending so (PROCTITLE, CWD, EXECVE, EOE, most others) would gain
 * nothing, so it skips the parser. A value that merely looks like such a
 * name only costs a parse, never changes the output.
 */
static bool
may_enrich(const char *line, size_t n)
{
	for (const char *q = memchr(line, '=', n); q != NULL;
	    q = memchr(q + 1, '=', n - (size_t)(q + 1 - line))) {
		size_t before = (size_t)(q - line);

		if ((before >= 2 && q[-2] == 'i' && q[-1] == 'd') ||
		    (before >= 4 && memcmp(q - 4, "arch", 4) == 0) ||
		    (before >= 7 && memcmp(q - 7, "syscall", 7) == 0) ||
		    (before >= 5 && memcmp(q - 5, "saddr", 5) == 0) ||
		    (before >= 3 && memcmp(q - 3, "_op", 3) == 0))
			return true;
	}
	return false;
}

/* Where the interpretations go: after the RAW line's text, in out. */
struct interp_out {
	char	*p;		/* next byte */
	char	*end;		/* the final newline's slot */
	bool	 first;		/* no field written yet */
	bool	 sep;		/* the separator is written */
};

/* Append one interpreted field; false when not even the separator fits. */
static bool
emit(struct interp_out *o, const char *name, const char *value, bool encode)
{
	if (!o->sep) {
		if (o->end - o->p < 2)
			return false;
		*o->p++ = AUDIT_INTERP_SEPARATOR;
		o->sep = true;
	}
	append_field(&o->p, o->end, &o->first, name, value, encode);
	return true;
}

/* The general path: libauparse types and interprets every field. */
static void
enrich_auparse(struct format_enricher *e, const char *line, size_t n,
    struct interp_out *o)
{
	auparse_state_t *au = e->au;
	char value[256];
	int rc;

	/* The parser copies the line (ending in its newline). */
	if (auparse_new_buffer(au, line, n) != 0)
		return;			/* RAW is still a correct record */
	rc = auparse_first_record(au);
	if (rc > 0)
		rc = auparse_first_field(au);
	while (rc > 0) {
		int ftype = auparse_get_field_type(au);
		const char *fname = auparse_get_field_name(au);
		const char *interp = NULL;
		bool encode = false;

		switch (ftype) {
		case AUPARSE_TYPE_UID:
		case AUPARSE_TYPE_GID:
			interp = interpret_id(e, auparse_get_field_str(au),
			    ftype == AUPARSE_TYPE_GID, value, sizeof(value));
			encode = true;
			break;
		case AUPARSE_TYPE_SYSCALL:
		case AUPARSE_TYPE_ARCH:
		case AUPARSE_TYPE_SOCKADDR:
			interp = auparse_interpret_field(au);
			if (interp == NULL)
				interp = "?";
			break;
		default:
			break;
		}
		if (interp != NULL && fname != NULL && !emit(o, fname, interp, encode))
			break;
		rc = auparse_next_field(au);
	}
}

/*
 * The fast path for the commonest record, SYSCALL: the kernel writes a
 * fixed set of fields, and what auparse makes of each is known (arch to
 * a machine name, syscall to its name for that machine, the ids through
 * the name cache; the rest is not enriched). Anything unexpected (another
 * field name, a repeated or empty one, an unknown arch or syscall number,
 * socketcall/ipc which auparse decodes further) returns false before
 * writing, and the line goes through auparse: the output is the same
 * either way, test_format checks it against auparse and auditd.
 */
enum fkind { F_NONE, F_UID, F_GID, F_ARCH, F_SYSCALL };

static const struct syscall_field {
	const char	*name;
	uint8_t		 len;
	uint8_t		 kind;
} syscall_fields[] = {
	{ "arch", 4, F_ARCH }, { "syscall", 7, F_SYSCALL }, { "success", 7, F_NONE },
	{ "exit", 4, F_NONE }, { "a0", 2, F_NONE }, { "a1", 2, F_NONE },
	{ "a2", 2, F_NONE }, { "a3", 2, F_NONE }, { "items", 5, F_NONE },
	{ "ppid", 4, F_NONE }, { "pid", 3, F_NONE }, { "auid", 4, F_UID },
	{ "uid", 3, F_UID }, { "gid", 3, F_GID }, { "euid", 4, F_UID },
	{ "suid", 4, F_UID }, { "fsuid", 5, F_UID }, { "egid", 4, F_GID },
	{ "sgid", 4, F_GID }, { "fsgid", 5, F_GID }, { "tty", 3, F_NONE },
	{ "ses", 3, F_NONE }, { "comm", 4, F_NONE }, { "exe", 3, F_NONE },
	{ "subj", 4, F_NONE }, { "key", 3, F_NONE },
};
#define SYSCALL_FIELDS	(sizeof(syscall_fields) / sizeof(syscall_fields[0]))

struct token {
	const char	*val;
	size_t		 vlen;
	uint8_t		 field;		/* index into syscall_fields */
};

/* memcmp() == 0 for the few bytes of a field name, without the call. */
static inline bool
same_bytes(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/*
 * A value as the kernel writes one in a SYSCALL record: a number, a word
 * like (none), a label, or one "quoted string" (the kernel hex-encodes
 * any string with a quote, space or control byte). Anything else (a stray
 * quote, '=', a backslash, a parenthesis inside: "):" ends auparse's
 * header) may make auparse read the line differently, so the line goes
 * to auparse.
 */
static bool
kernel_value(const char *v, size_t len)
{
	size_t i = 0;

	if (len >= 2 && ((v[0] == '"' && v[len - 1] == '"') ||
	    (v[0] == '(' && v[len - 1] == ')'))) {
		i = 1;
		len--;
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x21 || c > 0x7e || c == '"' || c == '\'' || c == '=' ||
		    c == '\\' || c == '(' || c == ')')
			return false;
	}
	return true;
}

/* Split "NAME=VALUE ..." up to the newline; false on anything unexpected. */
static bool
syscall_tokens(const char *q, const char *stop, struct token *t, size_t *nt)
{
	uint32_t seen = 0;

	*nt = 0;
	while (q < stop) {
		const char *sp = memchr(q, ' ', (size_t)(stop - q));
		const char *eq, *tend = sp != NULL ? sp : stop;
		size_t i, nlen;

		eq = memchr(q, '=', (size_t)(tend - q));
		if (eq == NULL || eq == q || eq + 1 == tend || *nt == SYSCALL_FIELDS)
			return false;
		nlen = (size_t)(eq - q);
		for (i = 0; i < SYSCALL_FIELDS; i++)
			if (syscall_fields[i].len == nlen &&
			    same_bytes(syscall_fields[i].name, q, nlen))
				break;
		if (i == SYSCALL_FIELDS || (seen & (1u << i)) != 0 ||
		    !kernel_value(eq + 1, (size_t)(tend - eq - 1)))
			return false;
		seen |= 1u << i;
		t[*nt].val = eq + 1;
		t[*nt].vlen = (size_t)(tend - eq - 1);
		t[*nt].field = (uint8_t)i;
		(*nt)++;
		q = tend + 1;
	}
	return true;
}

/* A token's value as a C string in buf; false if it does not fit. */
static bool
token_str(const struct token *t, char *buf, size_t cap)
{
	if (t->vlen >= cap)
		return false;
	memcpy(buf, t->val, t->vlen);
	buf[t->vlen] = '\0';
	return true;
}

/* Skip min..max digits at *q; false if there are fewer or more. */
static bool
digits(const char **q, const char *stop, int min, int max)
{
	int k = 0;

	while (*q < stop && **q >= '0' && **q <= '9') {
		(*q)++;
		k++;
	}
	return k >= min && k <= max;
}

/*
 * The start of the fields of "type=SYSCALL msg=audit(SEC.MSC:SERIAL): ",
 * if the stamp has the kernel's own shape (auparse refuses some other
 * shapes, and then enriches nothing): seconds without a leading zero,
 * three digits of milliseconds; NULL otherwise.
 */
static const char *
kernel_stamp_end(const char *line, const char *stop)
{
	static const char head[] = "type=SYSCALL msg=audit(";
	const char *q = line + sizeof(head) - 1;

	/* auparse takes a time of 0 for no stamp: the kernel's is never 0. */
	if (stop - line < (ptrdiff_t)sizeof(head) ||
	    memcmp(line, head, sizeof(head) - 1) != 0 || *q < '1' || *q > '9' ||
	    !digits(&q, stop, 1, 12) || q >= stop || *q++ != '.' ||
	    !digits(&q, stop, 3, 3) || q >= stop || *q++ != ':' ||
	    !digits(&q, stop, 1, 18) || stop - q < 3 || memcmp(q, "): ", 3) != 0)
		return NULL;
	return q + 3;
}

static bool
enrich_syscall(struct format_enricher *e, const char *line, size_t n,
    struct interp_out *o)
{
	struct token t[SYSCALL_FIELDS];
	const char *start = kernel_stamp_end(line, line + n - 1);
	const char *arch = NULL, *sys = NULL;
	char buf[32], value[256];
	size_t nt, i;
	int machine = -1;

	if (start == NULL || !syscall_tokens(start, line + n - 1, t, &nt))
		return false;
	for (i = 0; i < nt; i++) {
		const struct token *k = &t[i];
		char *endp;
		unsigned long v;

		if (syscall_fields[k->field].kind != F_NONE && k->vlen >= sizeof(buf))
			return false;	/* auparse's reading of it is not ours */
		if (syscall_fields[k->field].kind == F_ARCH) {
			if (!token_str(k, buf, sizeof(buf)))
				return false;
			errno = 0;
			v = strtoul(buf, &endp, 16);
			if (errno != 0 || *endp != '\0' || v > UINT32_MAX ||
			    (machine = audit_elf_to_machine((unsigned)v)) < 0 ||
			    (arch = audit_machine_to_name(machine)) == NULL)
				return false;
		}
	}
	for (i = 0; i < nt; i++) {
		const struct token *k = &t[i];
		char *endp;
		long v;

		if (syscall_fields[k->field].kind == F_SYSCALL) {
			if (machine < 0 || !token_str(k, buf, sizeof(buf)))
				return false;
			errno = 0;
			v = strtol(buf, &endp, 10);
			if (errno != 0 || *endp != '\0' || v < 0 || v > INT32_MAX ||
			    (sys = audit_syscall_to_name((int)v, machine)) == NULL ||
			    strcmp(sys, "socketcall") == 0 || strcmp(sys, "ipc") == 0)
				return false;
		}
	}
	for (i = 0; i < nt; i++) {
		const struct token *k = &t[i];
		const struct syscall_field *f = &syscall_fields[k->field];
		bool ok = true;

		switch (f->kind) {
		case F_ARCH:
			ok = emit(o, f->name, arch, false);
			break;
		case F_SYSCALL:
			ok = emit(o, f->name, sys, false);
			break;
		case F_UID:
		case F_GID:
			token_str(k, buf, sizeof(buf));		/* fits: checked above */
			ok = emit(o, f->name, interpret_id(e, buf, f->kind == F_GID,
			    value, sizeof(value)), true);
			break;
		default:
			break;
		}
		if (!ok)
			break;
	}
	return true;
}

ssize_t
format_enriched(struct format_enricher *e, char *out, size_t cap, int type,
    const char *body, size_t len)
{
	ssize_t n = format_raw(out, cap, type, body, len);
	struct interp_out o;

	if (n < 0)
		return n;
	if (changes_names(type))
		format_enricher_flush(e);
	if (type != AUDIT_SYSCALL && !may_enrich(out, (size_t)n))
		return n;
	o.p = out + n - 1;		/* overwrite the newline */
	o.end = out + cap - 1;		/* keep room for the final newline */
	o.first = true;
	o.sep = false;
	if (type != AUDIT_SYSCALL || !e->use_fast ||
	    !enrich_syscall(e, out, (size_t)n, &o))
		enrich_auparse(e, out, (size_t)n, &o);
	if (o.first) {
		/* Nothing to add, or no field fitted: the RAW line as is. */
		out[n - 1] = '\n';
		return n;
	}
	*o.p++ = '\n';
	return (ssize_t)(o.p - out);
}

bool
format_parse_stamp(const char *body, size_t len, uint64_t *sec,
    unsigned *msec, uint64_t *serial)
{
	const char *p = body, *end = body + len;
	uint64_t s = 0, ser = 0;
	unsigned ms = 0;
	int digits;

	if (len < 12 || memcmp(p, "audit(", 6) != 0)
		return false;
	p += 6;
	for (digits = 0; p < end && *p >= '0' && *p <= '9'; p++, digits++)
		s = s * 10 + (uint64_t)(*p - '0');
	if (digits == 0 || digits > 19 || p >= end || *p != '.')
		return false;
	p++;
	for (digits = 0; p < end && *p >= '0' && *p <= '9'; p++, digits++)
		ms = ms * 10 + (unsigned)(*p - '0');
	if (digits == 0 || digits > 3 || p >= end || *p != ':')
		return false;
	p++;
	for (digits = 0; p < end && *p >= '0' && *p <= '9'; p++, digits++)
		ser = ser * 10 + (uint64_t)(*p - '0');
	if (digits == 0 || digits > 19 || p >= end || *p != ')')
		return false;
	if (sec)
		*sec = s;
	if (msec)
		*msec = ms;
	if (serial)
		*serial = ser;
	return true;
}

ssize_t
format_daemon_body(char *out, size_t cap, const struct timespec *ts,
    uint64_t serial, const char *text)
{
	int n = snprintf(out, cap, "audit(%lld.%03ld:%llu): %s",
	    (long long)ts->tv_sec, ts->tv_nsec / 1000000L,
	    (unsigned long long)serial, text);

	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

/* "node=NAME " at line: its length, 0 when there is none, -1 when malformed. */
static ssize_t
node_field(const char *line, size_t len, const char **name, size_t *nlen)
{
	size_t i;

	*name = NULL;
	*nlen = 0;
	if (len < 5 || memcmp(line, "node=", 5) != 0)
		return 0;
	for (i = 5; i < len && i - 5 <= FORMAT_NODE_MAX && node_byte_ok(line[i]); i++)
		;
	if (i == 5 || i - 5 > FORMAT_NODE_MAX || i >= len || line[i] != ' ')
		return -1;
	*name = line + 5;
	*nlen = i - 5;
	return (ssize_t)(i + 1);
}

bool
format_parse_line(const char *line, size_t len, struct format_line *fl)
{
	static const char msg[] = " msg=";
	const char *p, *end = line + len, *t, *rp;
	ssize_t skip;

	memset(fl, 0, sizeof(*fl));
	if ((skip = node_field(line, len, &fl->node, &fl->node_len)) < 0)
		return false;
	p = line + skip;
	if (end - p < 5 || memcmp(p, "type=", 5) != 0)
		return false;
	t = p + 5;
	for (p = t; p < end && p - t <= FORMAT_TYPE_MAX && node_byte_ok(*p); p++)
		;
	if (p == t || p - t > FORMAT_TYPE_MAX || (size_t)(end - p) < sizeof(msg) - 1 ||
	    memcmp(p, msg, sizeof(msg) - 1) != 0)
		return false;
	fl->type = t;
	fl->type_len = (size_t)(p - t);
	p += sizeof(msg) - 1;
	if (!format_parse_stamp(p, (size_t)(end - p), &fl->sec, &fl->msec, &fl->serial))
		return false;
	/* The stamp is digits, '.' and ':' only: its ')' is the first one. */
	if ((rp = memchr(p, ')', (size_t)(end - p))) == NULL)
		return false;
	fl->stamp = p + 6;
	fl->stamp_len = (size_t)(rp - fl->stamp);
	p = rp + 1;
	if (p < end && *p == ':')
		p++;
	if (p < end && *p == ' ')
		p++;
	fl->fields = p;
	return true;
}

bool
format_line_type_is(const struct format_line *fl, const char *name)
{
	size_t n = strlen(name);

	return fl->type_len == n && memcmp(fl->type, name, n) == 0;
}
