/*
 * reload.c - this file runs a configuration reload's file reading and
 * group lookup on a helper thread and hands the result to the main loop,
 * with the plugins.d listing retention needs.
 */
#include "build_config.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "notify.h"
#include "priv.h"
#include "reload.h"
#include "thread.h"

/* getgrnam_r's strings: a group with many members. */
#define RELOAD_GROUP_BUF	16384

struct reload {
	ev_async		 async;		/* first: the watcher's data is the reload */
	struct ev_loop		*loop;
	const char		*path;
	void			(*apply)(void *, const struct reload_result *);
	void			*arg;
	pthread_t		 thread;
	bool			 busy;		/* a helper runs (main only) */
	bool			 again;		/* a request came during it */
	bool			 ask;		/* the helper asks who sent the SIGHUP */
	bool			 again_ask;	/* the same for the queued request */
	struct kreg_sender	 who;		/* else: who asked, when known */
	struct kreg_sender	 again_who;
	struct reload_result	*res;		/* the helper's, while busy */
};

/*
 * Helper thread: the file gets the same trust check as at start, since
 * whoever can write it controls the audit trail.
 */
static void *
reload_main(void *arg)
{
	struct reload *rl = arg;
	struct reload_result *r = rl->res;
	char buf[RELOAD_GROUP_BUF];
	struct group gr, *res = NULL;

	if (rl->ask)
		kreg_sender_get(&r->sender);
	else
		r->sender = rl->who;
	config_defaults(&r->nc);
	r->rc = config_load(&r->nc, rl->path, r->err, sizeof(r->err));
	if (r->rc == 0)
		r->rc = priv_check_path(rl->path, "config file", r->err, sizeof(r->err));
	if (r->rc == 0)
		reload_plugins_read(&r->plugins, &r->nc);
	if (r->rc == 0 && r->nc.control_group[0] != '\0') {
		if (getgrnam_r(r->nc.control_group, &gr, buf, sizeof(buf), &res) == 0 && res != NULL) {
			r->gid = res->gr_gid;
			r->gid_set = true;
		} else {
			r->gid_missing = true;
		}
	}
	ev_async_send(rl->loop, &rl->async);
	return NULL;
}

void
reload_plugins_read(struct reload_plugins *p, const struct config *c)
{
	p->err[0] = '\0';
	p->rc = plugins_cursor_names(c->plugin_dir, p->names, WRITER_PLUGINS_MAX, &p->n,
	    p->err, sizeof(p->err));
}

void
reload_plugins_apply(struct writer_settings *ws, const struct reload_plugins *p, bool at_start)
{
	if (p->rc < 0 && p->rc != -E2BIG) {
		log_warnx("retention: plugins.d: %s; it waits for %s", p->err,
		    at_start ? "no plugin" : "the plugins it waited for");
		ws->nplugins = 0;
		ws->plugins_valid = false;
		return;
	}
	if (p->rc == -E2BIG)
		log_warnx("retention: %s; it waits for the first %zu", p->err, p->n);
	memcpy(ws->plugins, p->names, p->n * sizeof(p->names[0]));
	ws->nplugins = (uint32_t)p->n;
	ws->plugins_valid = true;
}

static void
reload_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct reload *rl = (struct reload *)w;
	struct reload_result *r = rl->res;

	(void)loop;
	(void)revents;
	if (!rl->busy || r == NULL)
		return;
	/* The helper sent the wake-up as its last act: the join is immediate. */
	pthread_join(rl->thread, NULL);
	rl->res = NULL;
	rl->busy = false;
	rl->apply(rl->arg, r);
	free(r);
	notify_ready("running");
	if (rl->again) {
		struct kreg_sender who = rl->again_who;

		rl->again = false;
		if (rl->again_ask)
			reload_request_signal(rl, true);
		else
			reload_request_by(rl, &who);
	}
}

struct reload *
reload_new(struct ev_loop *loop, const char *cfg_path,
    void (*apply)(void *arg, const struct reload_result *r), void *arg)
{
	struct reload *rl = calloc(1, sizeof(*rl));

	if (rl == NULL)
		return NULL;
	rl->loop = loop;
	rl->path = cfg_path;
	rl->apply = apply;
	rl->arg = arg;
	ev_async_init(&rl->async, reload_async_cb);
	ev_async_start(loop, &rl->async);
	return rl;
}

static void start_reload(struct reload *rl, bool ask, const struct kreg_sender *who);

void
reload_request_by(struct reload *rl, const struct kreg_sender *who)
{
	start_reload(rl, false, who);
}

void
reload_request_signal(struct reload *rl, bool ask)
{
	start_reload(rl, ask, NULL);
}

static void
start_reload(struct reload *rl, bool ask, const struct kreg_sender *who)
{
	struct kreg_sender none;
	int rc;

	memset(&none, 0, sizeof(none));
	if (who == NULL)
		who = &none;
	if (rl->busy) {
		/* The file may have changed again since the helper read it; the
		 * last request names who asked. */
		rl->again = true;
		rl->again_ask = ask;
		rl->again_who = *who;
		return;
	}
	rl->ask = ask;
	rl->who = *who;
	notify_reloading();
	rl->res = calloc(1, sizeof(*rl->res));
	if (rl->res == NULL) {
		log_warnx("config: reload: out of memory; keeping the running configuration");
		notify_ready("running");
		return;
	}
	rl->busy = true;
	rc = thread_start(&rl->thread, reload_main, rl);
	if (rc < 0) {
		log_warnx("config: reload: cannot start its thread: %s; keeping the running "
		    "configuration", strerror(-rc));
		free(rl->res);
		rl->res = NULL;
		rl->busy = false;
		notify_ready("running");
	}
}

void
reload_free(struct reload *rl, unsigned ms)
{
	if (rl == NULL)
		return;
	/* A helper still reading the file ends on its own, soon. */
	if (rl->busy && thread_join_within(rl->thread, ms) < 0)
		return;
	ev_async_stop(rl->loop, &rl->async);
	free(rl->res);
	free(rl);
}
