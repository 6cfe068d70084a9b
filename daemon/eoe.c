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

/* An event: its node ("" without name_format) and stamp. */
struct evkey {
	char		node[FORMAT_NODE_MAX + 1];
	char		stamp[EOE_STAMP_MAX];
};

struct open_ev {
	struct evkey	key;
	uint64_t	last;		/* ... and of its latest */
	bool		uring;		/* URINGOP without SYSCALL: no PROCTITLE comes */
};

struct eoe {
	struct open_ev	open[EOE_MAX_OPEN];
	size_t		nopen;
	struct evkey	closed[EOE_CLOSED_RING];
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
key_eq(const struct evkey *a, const struct evkey *b)
{
	return strcmp(a->stamp, b->stamp) == 0 && strcmp(a->node, b->node) == 0;
}

static void
emit_eoe(struct eoe *e, const struct evkey *k, eoe_emit_fn *emit, void *arg)
{
	char line[EOE_LINE_MAX];
	int n;

	/*
	 * auditd's string format of the kernel's EOE: the stamp alone, behind
	 * the node of the event's records. Both were checked by
	 * format_parse_line: no byte of them can split the line.
	 */
	n = snprintf(line, sizeof(line), "%s%s%stype=EOE msg=audit(%s):",
	    k->node[0] ? "node=" : "", k->node, k->node[0] ? " " : "", k->stamp);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	e->count++;
	e->closed[e->closed_next] = *k;
	e->closed_next = (e->closed_next + 1) % EOE_CLOSED_RING;
	emit(arg, line, (size_t)n, true);
}

static void
close_at(struct eoe *e, size_t i, eoe_emit_fn *emit, void *arg)
{
	struct evkey k = e->open[i].key;

	memmove(&e->open[i], &e->open[i + 1], (e->nopen - i - 1) * sizeof(e->open[0]));
	e->nopen--;
	emit_eoe(e, &k, emit, arg);
}

static ssize_t
find_open(const struct eoe *e, const struct evkey *k)
{
	for (size_t i = 0; i < e->nopen; i++)
		if (key_eq(&e->open[i].key, k))
			return (ssize_t)i;
	return -1;
}

static bool
recently_closed(const struct eoe *e, const struct evkey *k)
{
	for (size_t i = 0; i < EOE_CLOSED_RING; i++)
		if (key_eq(&e->closed[i], k))
			return true;
	return false;
}

/* Before a record of another event: close the events that went silent. */
static void
close_stale(struct eoe *e, const struct evkey *k, eoe_emit_fn *emit, void *arg)
{
	size_t i = 0;

	while (i < e->nopen) {
		struct open_ev *o = &e->open[i];

		if (!key_eq(&o->key, k) &&
		    (o->uring || e->records - o->last >= EOE_STALE_RECORDS))
			close_at(e, i, emit, arg);
		else
			i++;
	}
}

void
eoe_feed(struct eoe *e, const char *line, size_t len, eoe_emit_fn *emit, void *arg)
{
	struct format_line fl;
	struct evkey k;
	ssize_t at;
	bool syscall, uring;

	e->records++;
	if (!format_parse_line(line, len, &fl) || fl.stamp_len >= sizeof(k.stamp)) {
		emit(arg, line, len, false);
		return;
	}
	memcpy(k.node, fl.node != NULL ? fl.node : "", fl.node_len);
	k.node[fl.node_len] = '\0';
	memcpy(k.stamp, fl.stamp, fl.stamp_len);
	k.stamp[fl.stamp_len] = '\0';
	close_stale(e, &k, emit, arg);
	syscall = format_line_type_is(&fl, "SYSCALL");
	uring = format_line_type_is(&fl, "URINGOP") || format_line_type_is(&fl, "UNKNOWN[1336]");
	at = find_open(e, &k);
	if (at < 0 && (syscall || uring)) {
		if (e->nopen == EOE_MAX_OPEN)
			close_at(e, 0, emit, arg);
		at = (ssize_t)e->nopen++;
		e->open[at].key = k;
		e->open[at].uring = uring;
	}
	if (at >= 0) {
		e->open[at].last = e->records;
		if (syscall)
			e->open[at].uring = false;
	}
	emit(arg, line, len, false);
	if (format_line_type_is(&fl, "PROCTITLE")) {
		if (at >= 0)
			close_at(e, (size_t)at, emit, arg);
		else if (!recently_closed(e, &k))
			emit_eoe(e, &k, emit, arg);
	}
}

void
eoe_idle(struct eoe *e, eoe_emit_fn *emit, void *arg)
{
	while (e->nopen > 0)
		close_at(e, 0, emit, arg);
}
