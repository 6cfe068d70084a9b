/*
 * eoe.c - this file synthesizes the kernel's end-of-event records for the
 * consumers of the spool, from the record types and stamps of the lines
 * that pass (see the DESIGN block in eoe.h).
 */
#include "build_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "eoe.h"

/* Stamps closed recently: a late PROCTITLE of one gets no second EOE. */
#define EOE_CLOSED_RING		64

struct open_ev {
	char		stamp[EOE_STAMP_MAX];
	uint64_t	last;		/* ... and of its latest */
	bool		uring;		/* URINGOP without SYSCALL: no PROCTITLE comes */
};

struct eoe {
	struct open_ev	open[EOE_MAX_OPEN];
	size_t		nopen;
	char		closed[EOE_CLOSED_RING][EOE_STAMP_MAX];
	size_t		closed_next;
	uint64_t	records;
	uint64_t	count;
};

struct eoe *
eoe_new(void)
{
	return calloc(1, sizeof(struct eoe));
}

void
eoe_free(struct eoe *e)
{
	free(e);
}

void
eoe_reset(struct eoe *e)
{
	uint64_t count = e->count;

	memset(e, 0, sizeof(*e));
	e->count = count;
}

size_t eoe_open(const struct eoe *e) { return e->nopen; }
uint64_t eoe_count(const struct eoe *e) { return e->count; }

static bool
all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool
eoe_parse(const char *line, size_t len, const char **type, size_t *tlen,
    const char **stamp, size_t *slen)
{
	const char *p, *end = line + len, *sp, *dot, *colon, *close;

	if (len < 5 || memcmp(line, "type=", 5) != 0)
		return false;
	p = line + 5;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (sp == NULL || sp == p || (size_t)(end - sp) < 12 ||
	    memcmp(sp, " msg=audit(", 11) != 0)
		return false;
	*type = p;
	*tlen = (size_t)(sp - p);
	p = sp + 11;
	close = memchr(p, ')', (size_t)(end - p));
	if (close == NULL || close + 1 >= end || close[1] != ':' ||
	    (size_t)(close - p) >= EOE_STAMP_MAX)
		return false;
	dot = memchr(p, '.', (size_t)(close - p));
	colon = dot ? memchr(dot, ':', (size_t)(close - dot)) : NULL;
	/* SEC.MSEC:SERIAL, digits only: the stamp goes into our own lines. */
	if (dot == NULL || colon == NULL || !all_digits(p, (size_t)(dot - p)) ||
	    !all_digits(dot + 1, (size_t)(colon - dot - 1)) ||
	    !all_digits(colon + 1, (size_t)(close - colon - 1)))
		return false;
	*stamp = p;
	*slen = (size_t)(close - p);
	return true;
}

static bool
type_is(const char *t, size_t tlen, const char *name)
{
	return strlen(name) == tlen && memcmp(t, name, tlen) == 0;
}

static void
emit_eoe(struct eoe *e, const char *stamp, eoe_emit_fn *emit, void *arg)
{
	char line[EOE_LINE_MAX];
	int n;

	/* auditd's string format of the kernel's EOE: the stamp alone. */
	n = snprintf(line, sizeof(line), "type=EOE msg=audit(%s):", stamp);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	e->count++;
	snprintf(e->closed[e->closed_next], EOE_STAMP_MAX, "%s", stamp);
	e->closed_next = (e->closed_next + 1) % EOE_CLOSED_RING;
	emit(arg, line, (size_t)n, true);
}

static void
close_at(struct eoe *e, size_t i, eoe_emit_fn *emit, void *arg)
{
	char stamp[EOE_STAMP_MAX];

	memcpy(stamp, e->open[i].stamp, sizeof(stamp));
	memmove(&e->open[i], &e->open[i + 1], (e->nopen - i - 1) * sizeof(e->open[0]));
	e->nopen--;
	emit_eoe(e, stamp, emit, arg);
}

static ssize_t
find_open(const struct eoe *e, const char *stamp)
{
	for (size_t i = 0; i < e->nopen; i++)
		if (strcmp(e->open[i].stamp, stamp) == 0)
			return (ssize_t)i;
	return -1;
}

static bool
recently_closed(const struct eoe *e, const char *stamp)
{
	for (size_t i = 0; i < EOE_CLOSED_RING; i++)
		if (strcmp(e->closed[i], stamp) == 0)
			return true;
	return false;
}

/* Before a record of another stamp: close the events that went silent. */
static void
close_stale(struct eoe *e, const char *stamp, eoe_emit_fn *emit, void *arg)
{
	size_t i = 0;

	while (i < e->nopen) {
		struct open_ev *o = &e->open[i];

		if (strcmp(o->stamp, stamp) != 0 &&
		    (o->uring || e->records - o->last >= EOE_STALE_RECORDS))
			close_at(e, i, emit, arg);
		else
			i++;
	}
}

void
eoe_feed(struct eoe *e, const char *line, size_t len, eoe_emit_fn *emit, void *arg)
{
	const char *type, *st;
	size_t tlen, slen;
	char stamp[EOE_STAMP_MAX];
	ssize_t at;
	bool syscall, uring;

	e->records++;
	if (!eoe_parse(line, len, &type, &tlen, &st, &slen)) {
		emit(arg, line, len, false);
		return;
	}
	memcpy(stamp, st, slen);
	stamp[slen] = '\0';
	close_stale(e, stamp, emit, arg);
	syscall = type_is(type, tlen, "SYSCALL");
	uring = type_is(type, tlen, "URINGOP") || type_is(type, tlen, "UNKNOWN[1336]");
	at = find_open(e, stamp);
	if (at < 0 && (syscall || uring)) {
		if (e->nopen == EOE_MAX_OPEN)
			close_at(e, 0, emit, arg);
		at = (ssize_t)e->nopen++;
		memcpy(e->open[at].stamp, stamp, sizeof(stamp));
		e->open[at].uring = uring;
	}
	if (at >= 0) {
		e->open[at].last = e->records;
		if (syscall)
			e->open[at].uring = false;
	}
	emit(arg, line, len, false);
	if (type_is(type, tlen, "PROCTITLE")) {
		if (at >= 0)
			close_at(e, (size_t)at, emit, arg);
		else if (!recently_closed(e, stamp))
			emit_eoe(e, stamp, emit, arg);
	}
}

void
eoe_idle(struct eoe *e, eoe_emit_fn *emit, void *arg)
{
	while (e->nopen > 0)
		close_at(e, 0, emit, arg);
}
