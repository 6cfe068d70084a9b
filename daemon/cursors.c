/*
 * cursors.c - this file is the cursor reader thread: it re-reads the
 * consumers' cursor files every period (or when poked) and publishes each
 * position and their minimum, so the writer never opens a file a less
 * privileged user could have planted. See the DESIGN block in cursors.h.
 */
#include "build_config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cursors.h"
#include "mono.h"
#include "thread.h"

struct cursor_ent {
	struct cursor_view	view;
	char			path[4096];
};

struct cursors {
	pthread_mutex_t		mu;	/* guards everything below; never held over I/O */
	pthread_cond_t		cv;
	unsigned		period_ms;
	struct cursor_ent	ent[CURSORS_MAX];
	size_t			n;
	uint64_t		gen;	/* bumped by cursors_set */
	bool			poked;
	bool			stop;
	bool			started;
	pthread_t		thread;
};

struct cursors *
cursors_new(unsigned period_ms)
{
	struct cursors *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;

	if (c == NULL)
		return NULL;
	c->period_ms = period_ms ? period_ms : 1000;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_mutex_init(&c->mu, NULL) != 0 || pthread_cond_init(&c->cv, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	pthread_condattr_destroy(&ca);
	return c;
}

bool
cursors_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= CURSORS_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch <= ' ' || ch >= 0x7f || strchr("=\"\\,", ch) != NULL)
			return false;
	}
	return true;
}

int
cursors_set(struct cursors *c, const char *const *names, const char *const *paths,
    const bool *optional, size_t n)
{
	struct cursor_ent next[CURSORS_MAX];

	if (n > CURSORS_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!cursors_name_ok(names[i]) || strlen(paths[i]) >= sizeof(next[i].path))
			return -EINVAL;
	}
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < n; i++) {
		struct cursor_ent *e = &next[i];
		size_t j;

		memset(e, 0, sizeof(*e));
		snprintf(e->view.name, sizeof(e->view.name), "%s", names[i]);
		snprintf(e->path, sizeof(e->path), "%s", paths[i]);
		for (j = 0; j < c->n; j++)
			if (strcmp(c->ent[j].view.name, e->view.name) == 0 &&
			    strcmp(c->ent[j].path, e->path) == 0)
				break;
		if (j < c->n)
			e->view = c->ent[j].view;	/* same file: keep what was read */
		e->view.optional = optional != NULL && optional[i];
	}
	memcpy(c->ent, next, n * sizeof(next[0]));
	c->n = n;
	c->gen++;
	c->poked = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

void
cursors_poke(struct cursors *c)
{
	pthread_mutex_lock(&c->mu);
	c->poked = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

size_t
cursors_snapshot(struct cursors *c, struct cursor_view *v, size_t max, struct spool_pos *floor)
{
	struct spool_pos lo = { UINT64_MAX, UINT64_MAX };
	size_t n;

	pthread_mutex_lock(&c->mu);
	n = c->n;
	for (size_t i = 0; i < n; i++) {
		struct cursor_view *cv = &c->ent[i].view;
		struct spool_pos p = { 0, 0 };

		/* Known to be absent: a consumer that never started. */
		cv->waits = !(cv->optional && cv->reads > 0 && cv->err == -ENOENT);
		if (cv->reads > 0 && cv->err == 0)
			p = cv->pos;
		if (cv->waits && (p.segment < lo.segment ||
		    (p.segment == lo.segment && p.offset < lo.offset)))
			lo = p;
		if (v != NULL && i < max)
			v[i] = *cv;
	}
	pthread_mutex_unlock(&c->mu);
	if (n > 0 && floor != NULL)
		*floor = lo;
	return n;
}

/* Read every cursor of generation gen and publish unless the list changed. */
static void
read_all(struct cursors *c)
{
	char paths[CURSORS_MAX][4096];
	struct spool_pos pos[CURSORS_MAX];
	int err[CURSORS_MAX];
	uint64_t gen;
	size_t n;

	pthread_mutex_lock(&c->mu);
	n = c->n;
	gen = c->gen;
	for (size_t i = 0; i < n; i++)
		memcpy(paths[i], c->ent[i].path, sizeof(paths[i]));
	pthread_mutex_unlock(&c->mu);

	for (size_t i = 0; i < n; i++) {
		pos[i].segment = pos[i].offset = 0;
		err[i] = spool_cursor_read(paths[i], &pos[i]);
		if (err[i] < 0)
			pos[i].segment = pos[i].offset = 0;
	}

	pthread_mutex_lock(&c->mu);
	if (c->gen == gen) {
		for (size_t i = 0; i < n; i++) {
			c->ent[i].view.pos = pos[i];
			c->ent[i].view.err = err[i];
			c->ent[i].view.reads++;
		}
	}
	pthread_mutex_unlock(&c->mu);
}

static void *
cursors_main(void *arg)
{
	struct cursors *c = arg;

	for (;;) {
		struct timespec ts;
		bool stop;

		read_all(c);
		mono_deadline(&ts, c->period_ms);
		pthread_mutex_lock(&c->mu);
		while (!c->poked && !c->stop)
			if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT)
				break;
		c->poked = false;
		stop = c->stop;
		pthread_mutex_unlock(&c->mu);
		if (stop)
			break;
	}
	return NULL;
}

int
cursors_start(struct cursors *c)
{
	int rc;

	if (c->started)
		return 0;
	pthread_mutex_lock(&c->mu);
	c->stop = false;
	pthread_mutex_unlock(&c->mu);
	rc = thread_start(&c->thread, cursors_main, c);
	if (rc == 0)
		c->started = true;
	return rc;
}

int
cursors_stop(struct cursors *c, unsigned ms)
{
	if (c == NULL || !c->started)
		return 0;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (thread_join_within(c->thread, ms) < 0) {
		pthread_detach(c->thread);
		return -ETIMEDOUT;	/* stays started: never freed under it */
	}
	c->started = false;
	return 0;
}

void
cursors_free(struct cursors *c)
{
	if (c == NULL || c->started)
		return;
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
