/*
 * seqgap.c - this file implements the sliding-window serial gap counter
 * described in seqgap.h.
 *
 * seen[] flags serials in [base, base + WINDOW); missing[] remembers which
 * serials of [base - WINDOW, base) were declared missing, so a record that
 * arrives after its serial slid out of the window undoes exactly its own
 * gap, and a further record of an already settled event changes nothing.
 */
#include "build_config.h"

#include <string.h>

#include "seqgap.h"

#define IDX(s)	((s) % SEQGAP_WINDOW)

static bool
get(const uint64_t *b, uint32_t s)
{
	return (b[IDX(s) / 64] >> (IDX(s) % 64)) & 1;
}

static void
put(uint64_t *b, uint32_t s, bool v)
{
	uint64_t m = (uint64_t)1 << (IDX(s) % 64);

	if (v)
		b[IDX(s) / 64] |= m;
	else
		b[IDX(s) / 64] &= ~m;
}

void
seqgap_init(struct seqgap *g)
{
	memset(g, 0, sizeof(*g));
}

/* Slide base up to `to`: unseen serials leaving the window are gaps. */
static void
advance(struct seqgap *g, uint32_t to)
{
	while ((int32_t)(to - g->base) > 0) {
		bool seen = get(g->seen, g->base);

		if (!seen)
			g->gaps++;
		put(g->missing, g->base, !seen);
		put(g->seen, g->base, false);
		g->base++;
	}
}

void
seqgap_note(struct seqgap *g, uint32_t serial)
{
	int32_t d;

	if (!g->started) {
		g->started = true;
		g->base = g->newest = serial;
	}
	d = (int32_t)(serial - g->base);
	if (d < 0) {
		if (d >= -(int32_t)SEQGAP_WINDOW && get(g->missing, serial)) {
			put(g->missing, serial, false);
			g->gaps--;
			g->late++;
		}
		return;
	}
	if ((uint32_t)d >= 2 * SEQGAP_WINDOW) {
		/*
		 * Far ahead: settle the window as it is, then count the serials
		 * between it and the new one in one step rather than one by one
		 * (the receive path must not loop for a large jump).
		 */
		uint32_t newbase = serial - SEQGAP_WINDOW + 1;

		advance(g, g->base + SEQGAP_WINDOW);
		g->gaps += (uint32_t)(newbase - g->base);
		memset(g->missing, 0xff, sizeof(g->missing));
		g->base = newbase;
	} else if ((uint32_t)d >= SEQGAP_WINDOW) {
		advance(g, serial - SEQGAP_WINDOW + 1);
	}
	put(g->seen, serial, true);
	if ((int32_t)(serial - g->newest) > 0)
		g->newest = serial;
}

uint64_t
seqgap_pending(const struct seqgap *g)
{
	uint64_t n = 0;

	if (!g->started)
		return 0;
	for (uint32_t s = g->base; (int32_t)(g->newest - s) >= 0; s++)
		if (!get(g->seen, s))
			n++;
	return n;
}

void
seqgap_settle(struct seqgap *g)
{
	if (g->started)
		advance(g, g->newest + 1);
}
