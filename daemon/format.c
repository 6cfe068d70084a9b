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

#include <errno.h>
#include <grp.h>
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
	return e;
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
 * Returns the name, or NULL when the id has none.
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
			return c->found ? c->name : NULL;
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
	if (!s->found)
		s->expires_ms = now_ms() + e->negative_ttl_ms;
	return s->found ? s->name : NULL;
}

/*
 * Interpret a uid/gid field value the way libauparse 3.0.9 does (so the
 * line is auditd's), but through our cache: the number is read as strtoul()
 * reads it (trailing garbage ignored) and cut to 32 bits; -1 is "unset",
 * 0 is "root" without a lookup, an unknown id prints as a signed int
 * ("unknown(-294967296)" for 4000000000), out of range is a conversion
 * error.
 */
static void
interpret_id(struct format_enricher *e, const char *val, bool group,
    char *out, size_t outlen)
{
	unsigned long v;
	uint32_t id;
	const char *name;

	errno = 0;
	v = strtoul(val, NULL, 10);
	if (errno != 0) {
		snprintf(out, outlen, "conversion error(%s)", val);
		return;
	}
	id = (uint32_t)v;
	if (id == UINT32_MAX) {
		snprintf(out, outlen, "unset");
		return;
	}
	if (id == 0) {
		snprintf(out, outlen, "root");
		return;
	}
	name = lookup_name(e, id, group);
	if (name != NULL)
		snprintf(out, outlen, "%s", name);
	else
		snprintf(out, outlen, "unknown(%d)", (int)id);
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
 * Append "NAME=value" (with a leading space after the first) to out: with
 * encode as audit_encode_nv_string() does (quoted, or hex when the value
 * needs it), otherwise with control bytes TTY-escaped (see the top).
 */
static bool
append_field(char **p, char *end, bool *first, const char *name,
    const char *value, bool encode)
{
	char upper[64], *enc = NULL;
	const char *text;
	size_t i, need;
	int n;

	for (i = 0; i < sizeof(upper) - 1 && name[i]; i++)
		upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
	upper[i] = '\0';
	if (encode) {
		enc = audit_encode_nv_string(upper, value, (unsigned)strlen(value));
		if (enc == NULL)
			return false;
		text = enc;
		need = strlen(enc);
	} else {
		text = NULL;
		need = strlen(upper) + 1 + tty_escaped_len(value);
	}
	/*
	 * Do not truncate a field: leave it out if it does not fit. *end is
	 * the final newline's slot, so snprintf's NUL may land there.
	 */
	if ((size_t)(end - *p) < need + (*first ? 0 : 1)) {
		free(enc);
		return false;
	}
	if (!*first)
		*(*p)++ = ' ';
	*first = false;
	if (text) {
		n = snprintf(*p, (size_t)(end - *p) + 1, "%s", text);
		*p += n;
	} else {
		n = snprintf(*p, (size_t)(end - *p) + 1, "%s=", upper);
		*p += n;
		tty_escape(*p, value);	/* fits: need was counted above */
		*p += strlen(*p);
	}
	free(enc);
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
	static const char *const names[] = { "id", "arch", "syscall", "saddr", "_op" };

	for (const char *q = memchr(line, '=', n); q != NULL;
	    q = memchr(q + 1, '=', n - (size_t)(q + 1 - line))) {
		size_t before = (size_t)(q - line);

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			size_t k = strlen(names[i]);
			if (before >= k && memcmp(q - k, names[i], k) == 0)
				return true;
		}
	}
	return false;
}

ssize_t
format_enriched(struct format_enricher *e, char *out, size_t cap, int type,
    const char *body, size_t len)
{
	ssize_t n = format_raw(out, cap, type, body, len);
	auparse_state_t *au = e->au;
	char *p, *end, value[256];
	bool first = true, sep = false;
	int rc;

	if (n < 0)
		return n;
	if (changes_names(type))
		format_enricher_flush(e);
	if (!may_enrich(out, (size_t)n))
		return n;
	/* The parser copies the line (ending in its newline). */
	if (auparse_new_buffer(au, out, (size_t)n) != 0)
		return n;		/* RAW is still a correct record */

	p = out + n - 1;		/* overwrite the newline */
	end = out + cap - 1;		/* keep room for the final newline */
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
			interpret_id(e, auparse_get_field_str(au),
			    ftype == AUPARSE_TYPE_GID, value, sizeof(value));
			interp = value;
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
		if (interp != NULL && fname != NULL) {
			if (!sep) {
				if (end - p < 2)
					break;
				*p++ = AUDIT_INTERP_SEPARATOR;
				sep = true;
			}
			append_field(&p, end, &first, fname, interp, encode);
		}
		rc = auparse_next_field(au);
	}
	if (first) {
		/* Nothing to add, or no field fitted: the RAW line as is. */
		out[n - 1] = '\n';
		return n;
	}
	*p++ = '\n';
	return (ssize_t)(p - out);
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
