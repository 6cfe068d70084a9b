/*
 * dispatch.c - this file is rauditd-dispatch's engine: one libev loop that
 * feeds each plugin's pipe from its own spool reader and cursor, supervises
 * the plugin processes, serves the af_unix output, reloads plugins.d on
 * SIGHUP and writes the status file. See the DESIGN block in dispatch.h.
 */
#include "build_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "config.h"
#include "dispatch.h"
#include "eoe.h"
#include "format.h"
#include "log.h"
#include "plugins.h"
#include "sidefile.h"
#include "spool.h"

/* Room in a consumer's buffer: one longest line (the reader's) and EOEs. */
#define DISPATCH_BUF_CAP	(640 * 1024)
/* Refill the buffer up to this much before writing. */
#define DISPATCH_FILL		(64 * 1024)
#define DISPATCH_BACKOFF_MIN_MS	100
#define DISPATCH_BACKOFF_MAX_MS	30000
/* A plugin that ran this long before exiting starts a new series of restarts, s. */
#define DISPATCH_STABLE_S	30
/* Save moved cursors (synced) and look at the spool this often, s. */
#define DISPATCH_TICK_S		1.0
/* At a stop, a pipe gets this long to drain, s, and a plugin this long to exit. */
#define DISPATCH_DRAIN_S	2.0
#define DISPATCH_TERM_S		5.0
/* Most af_unix clients at once. */
#define DISPATCH_CLIENTS_MAX	64
/* Bytes the lag count reads per status update; more is counted next time. */
#define DISPATCH_LAG_SCAN_MAX	(64u * 1024 * 1024)
/* Repeat "af_unix client disconnected" at most this often, s. */
#define DISPATCH_LOG_REPEAT_S	60

enum cstate {
	C_IDLE,		/* inactive, or not started yet */
	C_RUNNING,
	C_BACKOFF,	/* exited; restart timer armed */
	C_FAILED,	/* too many exits in a row; waits for a reload */
	C_STOPPING,	/* sent SIGTERM; waiting for it to exit */
	C_LISTENING,	/* af_unix */
};

static const char *const state_names[] = {
	"idle", "running", "backoff", "failed", "stopping", "listening"
};

struct inflight {
	uint64_t		stream_end;	/* stream offset just past the record */
	struct spool_pos	end;		/* the cursor once it is read */
	uint64_t		sec;		/* its time stamp */
};

struct client {
	ev_io			 io;
	struct consumer		*c;
	char			*buf;
	size_t			 len, off;
};

struct consumer {
	ev_io			 wio;		/* the pipe has room */
	ev_child		 cw;
	ev_timer		 timer;		/* restart back-off, SIGKILL grace */
	ev_timer		 eoe_timer;
	ev_idle			 more;		/* af_unix: read on at the next turn */
	struct dispatch		*d;
	struct consumer		*next;
	struct plugins_conf	 conf;
	enum cstate		 state;
	bool			 removed;	/* a reload dropped it: free once reaped */

	struct spool_reader	*rd;
	struct eoe		*eoe;
	uint64_t		 last_record_ns;
	int			 spool_err;

	pid_t			 pid;
	int			 fd;		/* our end of its stdin, or -1 */
	unsigned		 backoff_ms;
	unsigned		 failures;	/* exits in a row, each soon after its start */
	uint64_t		 started_ns;
	uint64_t		 restarts;
	int			 last_status;

	char			*buf;
	size_t			 blen, boff;
	uint64_t		 stream;	/* bytes put into buf since the pipe was made */
	uint64_t		 written;	/* ... and written into the pipe */
	struct inflight		*fifo;
	size_t			 fcap, fhead, fcount;

	char			 cursor_path[PATH_MAX];
	struct spool_pos	 consumed;	/* first record the plugin has not read */
	/*
	 * consumed as it was one and two ticks ago. Reading from the pipe is
	 * not handling: a plugin that dies may have read records it never
	 * wrote anywhere, so an unexpected exit resends from the older one,
	 * what the plugin had read at least a tick before it died.
	 */
	struct spool_pos	 read_tick, read_tick_old;
	struct spool_pos	 saved;
	int			 cursor_err;
	bool			 cursor_new;	/* no file yet: written at the start */

	/* af_unix */
	int			 lfd;
	ev_io			 lio;
	struct client		*clients[DISPATCH_CLIENTS_MAX];
	size_t			 nclients;
	uint64_t		 clients_total, clients_dropped;
	time_t			 drop_logged;

	/* status */
	uint64_t		 records, bytes, missing, bad_lines;
	uint64_t		 missing_to;	/* segments below it are counted missing */
	struct spool_lagbase	 lagbase;
	uint64_t		 lag_records, lag_bytes, lag_seconds;
};

struct dispatch {
	struct ev_loop		*loop;
	struct config		 cfg;
	char			 cursor_dir[PATH_MAX];
	char			 status_path[PATH_MAX];
	struct consumer		*list;
	ev_signal		 sig_term, sig_int, sig_hup;
	ev_timer		 tick, status_timer, stop_timer;
	ev_io			 inotify_io;
	int			 ifd;
	bool			 stopping;
	int			 stop_phase;
	double			 stop_started;
	int			 final_rc;
	int			 status_err;
	time_t			 start_time;
	uint64_t		 reloads;

	struct spool_lag	 lag;		/* line counts of every segment */
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool
pos_before(const struct spool_pos *a, const struct spool_pos *b)
{
	return a->segment < b->segment || (a->segment == b->segment && a->offset < b->offset);
}

static bool
is_program(const struct consumer *c)
{
	return c->conf.type == PLUGINS_TYPE_ALWAYS;
}

/* The seconds of a line's stamp, 0 if it has none. */
static uint64_t
line_sec(const char *line, size_t len)
{
	struct format_line fl;

	return format_parse_line(line, len, &fl) ? fl.sec : 0;
}

/* ---- the reader ---------------------------------------------------------- */

static void
reader_event(void *arg, enum spool_event ev, const struct spool_pos *pos, uint64_t len)
{
	struct consumer *c = arg;
	uint64_t from = pos->segment;

	switch (ev) {
	case SPOOL_EV_MISSING:
		/* A seek back to the cursor (a plugin start) meets the same gap again. */
		if (from < c->missing_to)
			from = c->missing_to;
		if (pos->segment + len <= from)
			break;
		c->missing += pos->segment + len - from;
		c->missing_to = pos->segment + len;
		log_warnx("dispatch: %s: segment(s) %llu to %llu were deleted before it read them",
		    c->conf.name, (unsigned long long)from,
		    (unsigned long long)(c->missing_to - 1));
		break;
	case SPOOL_EV_BAD_LINE:
	case SPOOL_EV_LONG_LINE:
	case SPOOL_EV_TORN:
		c->bad_lines++;
		break;
	}
}

/* ---- the cursor ----------------------------------------------------------- */

static int
cursor_save(struct consumer *c)
{
	int rc;

	if (!is_program(c) || (c->saved.segment == c->consumed.segment &&
	    c->saved.offset == c->consumed.offset && c->cursor_err == 0))
		return 0;
	rc = spool_cursor_write(c->cursor_path, &c->consumed, true);
	if (rc < 0) {
		if (rc != c->cursor_err)
			log_warnx("dispatch: %s: cannot write the cursor %s: %s", c->conf.name,
			    c->cursor_path, strerror(-rc));
		c->cursor_err = rc;
		return rc;
	}
	if (c->cursor_err != 0)
		log_info("dispatch: %s: the cursor %s is writable again", c->conf.name,
		    c->cursor_path);
	c->cursor_err = 0;
	c->saved = c->consumed;
	return 0;
}

/* What the plugin has read out of the pipe moves the cursor. */
static void
settle(struct consumer *c)
{
	int unread = 0;
	uint64_t taken;

	if (c->fd < 0 || ioctl(c->fd, FIONREAD, &unread) < 0 || unread < 0)
		return;
	taken = c->written - (uint64_t)unread;
	while (c->fcount > 0 && c->fifo[c->fhead].stream_end <= taken) {
		c->consumed = c->fifo[c->fhead].end;
		c->fhead = (c->fhead + 1) % c->fcap;
		c->fcount--;
	}
}

/* ---- filling the buffer ---------------------------------------------------- */

static void
append(void *arg, const char *line, size_t len, bool synthesized)
{
	struct consumer *c = arg;

	(void)synthesized;
	/* Cannot overflow: a line is at most the reader's 256 KiB, DISPATCH_FILL is 64. */
	if (c->blen + len + 1 > DISPATCH_BUF_CAP)
		return;
	memcpy(c->buf + c->blen, line, len);
	c->buf[c->blen + len] = '\n';
	c->blen += len + 1;
	c->stream += len + 1;
}

static int
fifo_push(struct consumer *c, const struct spool_pos *end, uint64_t sec)
{
	struct inflight *f;

	if (c->fcount == c->fcap) {
		size_t nc = c->fcap ? c->fcap * 2 : 1024;
		struct inflight *nv = malloc(nc * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < c->fcount; i++)
			nv[i] = c->fifo[(c->fhead + i) % c->fcap];
		free(c->fifo);
		c->fifo = nv;
		c->fcap = nc;
		c->fhead = 0;
	}
	f = &c->fifo[(c->fhead + c->fcount) % c->fcap];
	f->stream_end = c->stream;
	f->end = *end;
	f->sec = sec;
	c->fcount++;
	return 0;
}

/*
 * Take records from the reader into the buffer (for af_unix: the caller
 * hands the buffer to the clients). Returns the records taken, or -errno.
 */
static int
fill(struct consumer *c, size_t upto)
{
	const char *line;
	size_t len;
	struct spool_pos pos, end;
	int rc, n = 0;

	while (c->blen < upto) {
		rc = spool_reader_next(c->rd, &line, &len, &pos);
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		/*
		 * Lines skipped before this one (bad lines, a missing segment)
		 * are behind the cursor too: the previous record ends here.
		 */
		if (c->fcount > 0)
			c->fifo[(c->fhead + c->fcount - 1) % c->fcap].end = pos;
		else if (pos_before(&c->consumed, &pos))
			c->consumed = pos;
		eoe_feed(c->eoe, line, len, append, c);
		spool_reader_tell(c->rd, &end);
		if (is_program(c) && fifo_push(c, &end, line_sec(line, len)) < 0) {
			/* Out of memory: take the record back; try again later. */
			spool_reader_seek(c->rd, &pos);
			return -ENOMEM;
		}
		c->records++;
		c->last_record_ns = mono_ns();
		n++;
	}
	return n;
}

static void
spool_error(struct consumer *c, int rc)
{
	if (rc != c->spool_err)
		log_warnx("dispatch: %s: reading the spool %s: %s; retrying", c->conf.name,
		    c->d->cfg.spool_dir, strerror(-rc));
	c->spool_err = rc;
}

static void
spool_ok(struct consumer *c)
{
	if (c->spool_err != 0)
		log_info("dispatch: %s: reading the spool works again", c->conf.name);
	c->spool_err = 0;
}

/* Caught up with events open: close them once nothing new came for a while. */
static void
arm_eoe(struct consumer *c)
{
	if (eoe_open(c->eoe) > 0 && !ev_is_active(&c->eoe_timer)) {
		ev_timer_set(&c->eoe_timer, DISPATCH_EOE_IDLE_MS / 1000.0, 0.);
		ev_timer_start(c->d->loop, &c->eoe_timer);
	}
}

/* ---- program consumers ---------------------------------------------------- */

/* Write what is buffered and refill, until the pipe is full or the budget spent. */
static void
pump(struct consumer *c)
{
	size_t budget = DISPATCH_BUDGET;
	ssize_t n;
	int rc;

	if (c->fd < 0 || c->d->stopping)
		return;
	for (;;) {
		settle(c);
		if (c->boff < c->blen) {
			n = write(c->fd, c->buf + c->boff, c->blen - c->boff);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				/* EAGAIN: full. EPIPE: it died; ev_child tells us. */
				if (errno == EAGAIN)
					ev_io_start(c->d->loop, &c->wio);
				else
					ev_io_stop(c->d->loop, &c->wio);
				return;
			}
			c->boff += (size_t)n;
			c->written += (uint64_t)n;
			c->bytes += (uint64_t)n;
			if ((size_t)n >= budget) {
				ev_io_start(c->d->loop, &c->wio);	/* the others' turn */
				return;
			}
			budget -= (size_t)n;
			continue;
		}
		c->blen = c->boff = 0;
		rc = fill(c, DISPATCH_FILL);
		if (rc < 0) {
			spool_error(c, rc);
			ev_io_stop(c->d->loop, &c->wio);
			return;
		}
		spool_ok(c);
		if (c->blen == 0) {
			ev_io_stop(c->d->loop, &c->wio);
			arm_eoe(c);
			return;
		}
	}
}

static void
wio_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	pump(w->data);
}

static void af_unix_pump(struct consumer *c);

static void
eoe_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct consumer *c = w->data;
	uint64_t idle = mono_ns() - c->last_record_ns;

	(void)revents;
	if (idle < (uint64_t)DISPATCH_EOE_IDLE_MS * 1000000u) {
		ev_timer_set(w, (double)((uint64_t)DISPATCH_EOE_IDLE_MS * 1000000u - idle) / 1e9, 0.);
		ev_timer_start(loop, w);
		return;
	}
	/* Only when everything read so far is out of our buffer. */
	if (is_program(c)) {
		if (c->fd < 0 || c->boff < c->blen)
			return;
		c->blen = c->boff = 0;
		eoe_idle(c->eoe, append, c);
		pump(c);
	} else {
		eoe_idle(c->eoe, append, c);
		af_unix_pump(c);
	}
}

static void
start_child(struct consumer *c)
{
	int p[2] = { -1, -1 };
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		log_warn("dispatch: %s: pipe", c->conf.name);
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		log_warn("dispatch: %s: fork", c->conf.name);
		goto fail;
	}
	if (pid == 0) {
		sigset_t none;
		int null = open("/dev/null", O_WRONLY);

		sigemptyset(&none);
		for (int s = 1; s < NSIG; s++)
			signal(s, SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(p[0], STDIN_FILENO) < 0)
			_exit(127);
		/* auditd gives its plugins no stdout; stderr goes where ours goes. */
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execv(c->conf.path, c->conf.argv);
		_exit(127);
	}
	close(p[0]);
	c->fd = p[1];
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0)
		log_warn("dispatch: %s: non-blocking pipe", c->conf.name);
	c->pid = pid;
	c->started_ns = mono_ns();
	c->state = C_RUNNING;
	c->stream = c->written = 0;
	c->blen = c->boff = 0;
	c->fcount = c->fhead = 0;
	spool_reader_seek(c->rd, &c->consumed);
	c->read_tick = c->read_tick_old = c->consumed;
	eoe_reset(c->eoe);
	ev_io_set(&c->wio, c->fd, EV_WRITE);
	ev_child_set(&c->cw, pid, 0);
	ev_child_start(c->d->loop, &c->cw);
	log_info("dispatch: %s: started %s (pid %ld) at segment %llu offset %llu",
	    c->conf.name, c->conf.path, (long)pid, (unsigned long long)c->consumed.segment,
	    (unsigned long long)c->consumed.offset);
	pump(c);
	return;
fail:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	c->state = C_BACKOFF;
	ev_timer_set(&c->timer, c->backoff_ms / 1000.0, 0.);
	ev_timer_start(c->d->loop, &c->timer);
}

/* Forget the pipe: what the plugin did not read is sent again from the cursor. */
static void
drop_pipe(struct consumer *c)
{
	settle(c);
	ev_io_stop(c->d->loop, &c->wio);
	ev_timer_stop(c->d->loop, &c->eoe_timer);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->blen = c->boff = 0;
	c->fcount = c->fhead = 0;
	cursor_save(c);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct consumer *c = w->data;

	(void)loop;
	(void)revents;
	if (c->state == C_BACKOFF && !c->d->stopping) {
		start_child(c);
	} else if (c->state == C_STOPPING && c->pid > 0) {
		log_warnx("dispatch: %s: pid %ld did not exit within %.0f s of SIGTERM: SIGKILL",
		    c->conf.name, (long)c->pid, DISPATCH_TERM_S);
		kill(c->pid, SIGKILL);
	}
}

static void consumer_free(struct consumer *c);
static void stop_check(struct dispatch *d);

static void
describe_exit(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "ended (wait status %#x)", status);
}

static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct consumer *c = w->data;
	struct dispatch *d = c->d;
	char how[64];
	uint64_t ran = mono_ns() - c->started_ns;

	(void)revents;
	ev_child_stop(loop, w);
	ev_timer_stop(loop, &c->timer);
	c->last_status = w->rstatus;
	describe_exit(w->rstatus, how, sizeof(how));
	if (!(c->state == C_STOPPING || d->stopping || c->removed)) {
		/* At least once: what it read in its last tick may be lost with it. */
		settle(c);
		if (pos_before(&c->read_tick_old, &c->consumed))
			c->consumed = c->read_tick_old;
	}
	drop_pipe(c);
	c->pid = 0;
	if (c->state == C_STOPPING || d->stopping || c->removed) {
		log_info("dispatch: %s: pid %ld %s", c->conf.name, (long)w->rpid, how);
		c->state = C_IDLE;
		if (c->removed)
			consumer_free(c);
		stop_check(d);
		return;
	}
	c->restarts++;
	if (ran >= (uint64_t)DISPATCH_STABLE_S * 1000000000u) {
		c->failures = 0;
		c->backoff_ms = DISPATCH_BACKOFF_MIN_MS;
	}
	c->failures++;
	if (c->failures > d->cfg.max_restarts) {
		c->state = C_FAILED;
		log_warnx("dispatch: %s: pid %ld %s; %u exits in a row: not restarted until a "
		    "reload (SIGHUP)", c->conf.name, (long)w->rpid, how, c->failures);
		return;
	}
	log_warnx("dispatch: %s: pid %ld %s; restarting in %u ms from segment %llu offset %llu",
	    c->conf.name, (long)w->rpid, how, c->backoff_ms,
	    (unsigned long long)c->consumed.segment, (unsigned long long)c->consumed.offset);
	c->state = C_BACKOFF;
	ev_timer_set(&c->timer, c->backoff_ms / 1000.0, 0.);
	ev_timer_start(loop, &c->timer);
	c->backoff_ms = c->backoff_ms >= DISPATCH_BACKOFF_MAX_MS / 2 ? DISPATCH_BACKOFF_MAX_MS :
	    c->backoff_ms * 2;
}

/* Stop a plugin: save the cursor, close its stdin, SIGTERM, SIGKILL later. */
static void
stop_program(struct consumer *c)
{
	ev_timer_stop(c->d->loop, &c->timer);
	drop_pipe(c);
	if (c->pid > 0) {
		/* SIGCONT as systemd does: a stopped plugin can act on SIGTERM. */
		kill(c->pid, SIGTERM);
		kill(c->pid, SIGCONT);
		c->state = C_STOPPING;
		ev_timer_set(&c->timer, DISPATCH_TERM_S, 0.);
		ev_timer_start(c->d->loop, &c->timer);
	} else {
		c->state = C_IDLE;
	}
}

/* ---- af_unix ------------------------------------------------------------------ */

static void
client_close(struct consumer *c, size_t i)
{
	struct client *cl = c->clients[i];

	ev_io_stop(c->d->loop, &cl->io);
	close(cl->io.fd);
	free(cl->buf);
	free(cl);
	c->clients[i] = c->clients[--c->nclients];
}

static void
client_flush(struct consumer *c, size_t i)
{
	struct client *cl = c->clients[i];
	ssize_t n;

	while (cl->off < cl->len) {
		n = send(cl->io.fd, cl->buf + cl->off, cl->len - cl->off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			client_close(c, i);
			return;
		}
		cl->off += (size_t)n;
	}
	if (cl->off == cl->len)
		cl->off = cl->len = 0;
	ev_io_stop(c->d->loop, &cl->io);
	ev_io_set(&cl->io, cl->io.fd, EV_READ | (cl->len > 0 ? EV_WRITE : 0));
	ev_io_start(c->d->loop, &cl->io);
}

static void
client_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *cl = w->data;
	struct consumer *c = cl->c;
	size_t i;
	char junk[512];

	(void)loop;
	for (i = 0; i < c->nclients && c->clients[i] != cl; i++)
		;
	if (i == c->nclients)
		return;
	if (revents & EV_READ) {
		ssize_t n = recv(w->fd, junk, sizeof(junk), MSG_DONTWAIT);

		/* Clients only listen; end of file or an error ends them. */
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			client_close(c, i);
			return;
		}
	}
	client_flush(c, i);
}

/* Hand the buffer to every client; one that cannot take it all is dropped. */
static void
af_unix_deliver(struct consumer *c)
{
	size_t i = 0;

	while (i < c->nclients) {
		struct client *cl = c->clients[i];
		time_t now;

		if (cl->off > 0 && cl->len + c->blen > DISPATCH_CLIENT_BUF) {
			memmove(cl->buf, cl->buf + cl->off, cl->len - cl->off);
			cl->len -= cl->off;
			cl->off = 0;
		}
		if (cl->len + c->blen > DISPATCH_CLIENT_BUF) {
			c->clients_dropped++;
			now = time(NULL);
			if (c->drop_logged == 0 || now - c->drop_logged >= DISPATCH_LOG_REPEAT_S) {
				log_warnx("dispatch: %s: a client fell more than %d bytes behind and "
				    "was disconnected (%llu so far)", c->conf.name, DISPATCH_CLIENT_BUF,
				    (unsigned long long)c->clients_dropped);
				c->drop_logged = now;
			}
			client_close(c, i);
			continue;
		}
		memcpy(cl->buf + cl->len, c->buf, c->blen);
		cl->len += c->blen;
		client_flush(c, i);
		/* client_flush may have closed it: the slot then holds another. */
		if (i < c->nclients && c->clients[i] == cl)
			i++;
	}
	c->bytes += c->blen;
	c->blen = 0;
}

static void
af_unix_pump(struct consumer *c)
{
	size_t budget = DISPATCH_BUDGET * 4;
	int rc;

	for (;;) {
		if (c->blen > 0)
			af_unix_deliver(c);
		if (budget < DISPATCH_FILL)
			break;
		rc = fill(c, DISPATCH_FILL);
		if (rc < 0) {
			spool_error(c, rc);
			return;
		}
		spool_ok(c);
		if (c->blen == 0) {
			arm_eoe(c);
			return;
		}
		budget -= c->blen < budget ? c->blen : budget;
	}
	/* More to read: the next loop turn continues, after the others. */
	ev_idle_start(c->d->loop, &c->more);
}

static void
more_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct consumer *c = w->data;

	(void)revents;
	ev_idle_stop(loop, w);
	if (c->state == C_LISTENING)
		af_unix_pump(c);
}

static void
listen_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct consumer *c = w->data;
	struct client *cl;
	int fd;

	(void)revents;
	while ((fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (c->nclients == DISPATCH_CLIENTS_MAX) {
			close(fd);
			c->clients_dropped++;
			continue;
		}
		cl = calloc(1, sizeof(*cl));
		if (cl == NULL || (cl->buf = malloc(DISPATCH_CLIENT_BUF)) == NULL) {
			free(cl);
			close(fd);
			continue;
		}
		cl->c = c;
		ev_io_init(&cl->io, client_cb, fd, EV_READ);
		cl->io.data = cl;
		ev_io_start(loop, &cl->io);
		c->clients[c->nclients++] = cl;
		c->clients_total++;
	}
}

/* Listen at sock_path with sock_mode; a stale socket there is replaced. */
static int
af_unix_open(struct consumer *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd, rc;

	if (lstat(c->conf.sock_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("dispatch: %s: %s exists and is not a socket", c->conf.name,
			    c->conf.sock_path);
			return -EEXIST;
		}
		unlink(c->conf.sock_path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->conf.sock_path);
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || chmod(c->conf.sock_path, c->conf.sock_mode) < 0 || listen(fd, 16) < 0) {
		rc = -errno;
		log_warnx("dispatch: %s: cannot listen on %s: %s", c->conf.name, c->conf.sock_path,
		    strerror(-rc));
		close(fd);
		return rc;
	}
	c->lfd = fd;
	ev_io_init(&c->lio, listen_cb, fd, EV_READ);
	c->lio.data = c;
	ev_io_start(c->d->loop, &c->lio);
	return 0;
}

/* From the end of the spool on: what is there now is not sent. */
static void
af_unix_skip_to_end(struct consumer *c)
{
	const char *line;
	size_t len;
	struct spool_pos pos;

	while (spool_reader_next(c->rd, &line, &len, &pos) > 0)
		;
}

static void
af_unix_close(struct consumer *c)
{
	while (c->nclients > 0)
		client_close(c, 0);
	if (c->lfd >= 0) {
		ev_io_stop(c->d->loop, &c->lio);
		close(c->lfd);
		unlink(c->conf.sock_path);
	}
	c->lfd = -1;
	c->state = C_IDLE;
}

/* ---- consumers ------------------------------------------------------------------- */

static void
consumer_free(struct consumer *c)
{
	struct consumer **pp;

	if (c == NULL)
		return;
	for (pp = &c->d->list; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	ev_timer_stop(c->d->loop, &c->timer);
	ev_timer_stop(c->d->loop, &c->eoe_timer);
	ev_io_stop(c->d->loop, &c->wio);
	ev_child_stop(c->d->loop, &c->cw);
	ev_idle_stop(c->d->loop, &c->more);
	if (c->fd >= 0)
		close(c->fd);
	if (!is_program(c))
		af_unix_close(c);
	spool_reader_close(c->rd);
	eoe_free(c->eoe);
	free(c->buf);
	free(c->fifo);
	free(c);
}

/* The highest segment number in dir, 0 if none. */
static uint64_t
newest_segment(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	uint64_t no, highest = 0;

	if (dp == NULL)
		return 0;
	while ((de = readdir(dp)) != NULL) /* cppcheck-suppress readdirCalled */
		if (spool_parse_name(de->d_name, &no) && no > highest)
			highest = no;
	closedir(dp);
	return highest;
}

/* Read the cursor as rauditd-ship does; a bad one is an error, a missing one the start. */
static int
cursor_load(struct consumer *c, char *err, size_t errlen)
{
	int rc = spool_cursor_read(c->cursor_path, &c->consumed);

	if (rc == -ENOENT || rc == -ENODATA) {
		if (rc == -ENODATA)
			log_warnx("dispatch: %s: the cursor %s is empty: from the oldest segment",
			    c->conf.name, c->cursor_path);
		c->consumed.segment = c->consumed.offset = 0;
		c->cursor_new = true;
		return 0;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: cursor %s: %s", c->conf.name, c->cursor_path,
		    rc == -EINVAL ? "not a cursor file (remove it to start from the oldest "
		    "segment)" : strerror(-rc));
		return rc;
	}
	c->saved = c->consumed;
	return 0;
}

static struct consumer *
consumer_new(struct dispatch *d, const struct plugins_conf *pc, char *err, size_t errlen)
{
	struct consumer *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->d = d;
	c->conf = *pc;
	c->fd = c->lfd = -1;
	c->backoff_ms = DISPATCH_BACKOFF_MIN_MS;
	/* argv pointed into pc's own storage. */
	if (is_program(c)) {
		struct plugins_conf *cc = &c->conf;
		for (size_t i = 0; pc->argv[i]; i++)
			cc->argv[i] = pc->argv[i] == pc->path ? cc->path :
			    cc->argbuf + (pc->argv[i] - pc->argbuf);
	}
	ev_io_init(&c->wio, wio_cb, -1, EV_WRITE);
	ev_init(&c->cw, child_cb);
	ev_init(&c->timer, timer_cb);
	ev_init(&c->eoe_timer, eoe_timer_cb);
	ev_idle_init(&c->more, more_cb);
	c->wio.data = c->cw.data = c->timer.data = c->eoe_timer.data = c->more.data = c;
	c->buf = malloc(DISPATCH_BUF_CAP);
	c->eoe = eoe_new();
	if (c->buf == NULL || c->eoe == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (is_program(c)) {
		plugins_cursor_path(d->cursor_dir, pc->name, c->cursor_path, sizeof(c->cursor_path));
		if (cursor_load(c, err, errlen) < 0)
			goto fail;
	} else {
		/* af_unix starts at the end: no need to read the older segments. */
		c->consumed.segment = newest_segment(d->cfg.spool_dir);
	}
	c->rd = spool_reader_open(d->cfg.spool_dir, &c->consumed, reader_event, c);
	if (c->rd == NULL) {
		snprintf(err, errlen, "%s: spool %s: %s", pc->name, d->cfg.spool_dir,
		    strerror(errno));
		goto fail;
	}
	c->next = d->list;
	d->list = c;
	return c;
fail:
	c->d = d;
	spool_reader_close(c->rd);
	eoe_free(c->eoe);
	free(c->buf);
	free(c);
	return NULL;
}

static void
consumer_start(struct consumer *c)
{
	c->failures = 0;
	c->backoff_ms = DISPATCH_BACKOFF_MIN_MS;
	if (is_program(c)) {
		/*
		 * The file is the plugin's registration with retention: from now
		 * on the segments it has not read are kept for it.
		 */
		if (c->cursor_new && spool_cursor_write(c->cursor_path, &c->consumed, true) == 0)
			c->cursor_new = false;
		start_child(c);
		return;
	}
	af_unix_skip_to_end(c);
	if (af_unix_open(c) == 0) {
		c->state = C_LISTENING;
		log_info("dispatch: %s: af_unix output on %s (mode %04o)", c->conf.name,
		    c->conf.sock_path, (unsigned)c->conf.sock_mode);
	} else {
		c->state = C_FAILED;
	}
}

/* The spool changed (or the tick): every consumer waiting for data reads. */
static void
kick_all(struct dispatch *d)
{
	for (struct consumer *c = d->list; c; c = c->next) {
		if (c->state == C_RUNNING && !ev_is_active(&c->wio))
			pump(c);
		else if (c->state == C_RUNNING)
			settle(c);
		else if (c->state == C_LISTENING)
			af_unix_pump(c);
	}
}

static void
inotify_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct dispatch *d = w->data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	(void)loop;
	(void)revents;
	while (read(d->ifd, buf, sizeof(buf)) > 0)
		;
	kick_all(d);
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct dispatch *d = w->data;

	(void)loop;
	(void)revents;
	kick_all(d);
	for (struct consumer *c = d->list; c; c = c->next) {
		c->read_tick_old = c->read_tick;
		c->read_tick = c->consumed;
		cursor_save(c);
	}
}

/* ---- lag and status -------------------------------------------------------------- */

/* Records and bytes from pos to the end of the spool's data. */
static void
lag_of(struct dispatch *d, struct consumer *c, const struct spool_pos *pos)
{
	spool_lag_behind(d->cfg.spool_dir, &d->lag, pos, &c->lagbase, &c->lag_records,
	    &c->lag_bytes);
}

/* Age of the oldest record the consumer has not read. */
static void
lag_age(struct dispatch *d, struct consumer *c, const struct spool_pos *pos)
{
	uint64_t sec = 0, now = (uint64_t)time(NULL);

	if (c->lag_records == 0) {
		c->lag_seconds = 0;
		return;
	}
	if (is_program(c) && c->fcount > 0) {
		sec = c->fifo[c->fhead].sec;
	} else {
		struct spool_reader *r = spool_reader_open(d->cfg.spool_dir, pos, NULL, NULL);
		const char *line;
		size_t len;
		struct spool_pos p;

		if (r != NULL && spool_reader_next(r, &line, &len, &p) > 0)
			sec = line_sec(line, len);
		spool_reader_close(r);
	}
	c->lag_seconds = sec && now > sec ? now - sec : 0;
}

static int
status_consumer(struct dispatch *d, struct consumer *c, char *p, size_t cap)
{
	struct spool_pos pos;
	const char *n = c->conf.name;

	if (is_program(c)) {
		settle(c);
		pos = c->consumed;
	} else {
		spool_reader_tell(c->rd, &pos);
	}
	lag_of(d, c, &pos);
	lag_age(d, c, &pos);
	return snprintf(p, cap,
	    "consumer %s kind %s\nconsumer %s state %s\nconsumer %s pid %ld\n"
	    "consumer %s restarts %llu\nconsumer %s last_status %d\n"
	    "consumer %s records %llu\nconsumer %s bytes %llu\nconsumer %s eoe %llu\n"
	    "consumer %s cursor_segment %llu\nconsumer %s cursor_offset %llu\n"
	    "consumer %s lag_records %llu\nconsumer %s lag_bytes %llu\n"
	    "consumer %s lag_seconds %llu\nconsumer %s missing_segments %llu\n"
	    "consumer %s bad_lines %llu\nconsumer %s clients %zu\n"
	    "consumer %s clients_total %llu\nconsumer %s clients_dropped %llu\n",
	    n, is_program(c) ? "plugin" : "af_unix", n, state_names[c->state],
	    n, (long)c->pid, n, (unsigned long long)c->restarts, n, c->last_status,
	    n, (unsigned long long)c->records, n, (unsigned long long)c->bytes,
	    n, (unsigned long long)eoe_count(c->eoe),
	    n, (unsigned long long)pos.segment, n, (unsigned long long)pos.offset,
	    n, (unsigned long long)c->lag_records, n, (unsigned long long)c->lag_bytes,
	    n, (unsigned long long)c->lag_seconds, n, (unsigned long long)c->missing,
	    n, (unsigned long long)c->bad_lines, n, c->nclients,
	    n, (unsigned long long)c->clients_total, n, (unsigned long long)c->clients_dropped);
}

static void
status_write(struct dispatch *d)
{
	char *text;
	size_t cap = 4096, len = 0;
	int n, rc;
	size_t count = 0;

	for (struct consumer *c = d->list; c; c = c->next)
		count++;
	cap += count * 2048;
	text = malloc(cap);
	if (text == NULL)
		return;
	/* Line counts of every segment, carried over from the last update. */
	(void)spool_lag_update(d->cfg.spool_dir, &d->lag, 0, DISPATCH_LAG_SCAN_MAX);
	n = snprintf(text, cap, "dispatch_version %s\ndispatch_pid %ld\ndispatch_uptime_s %lld\n"
	    "dispatch_updated %lld\ndispatch_reloads %llu\ndispatch_plugin_dir %s\n"
	    "dispatch_consumers %zu\ndispatch_lag_complete %d\n", PACKAGE_VERSION,
	    (long)getpid(), (long long)(time(NULL) - d->start_time), (long long)time(NULL),
	    (unsigned long long)d->reloads, d->cfg.plugin_dir, count, d->lag.complete ? 1 : 0);
	len = n > 0 ? (size_t)n : 0;
	for (struct consumer *c = d->list; c && len < cap; c = c->next) {
		n = status_consumer(d, c, text + len, cap - len);
		if (n > 0)
			len += (size_t)n;
	}
	if (len >= cap)
		len = cap - 1;
	rc = sidefile_replace(d->status_path, text, len, false);
	free(text);
	if (rc < 0 && rc != d->status_err)
		log_warnx("dispatch: cannot write the status file %s: %s", d->status_path,
		    strerror(-rc));
	else if (rc == 0 && d->status_err != 0)
		log_info("dispatch: writing the status file %s works again", d->status_path);
	d->status_err = rc;
}

static void
status_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	status_write(w->data);
}

/* ---- reload and stop ------------------------------------------------------------------ */

static struct consumer *
find_consumer(struct dispatch *d, const char *name)
{
	for (struct consumer *c = d->list; c; c = c->next)
		if (!c->removed && strcmp(c->conf.name, name) == 0)
			return c;
	return NULL;
}

/* Retire c: a program is stopped and freed once reaped; af_unix at once. */
static void
retire(struct consumer *c)
{
	c->removed = true;
	if (!is_program(c)) {
		consumer_free(c);
		return;
	}
	stop_program(c);
	if (c->pid <= 0)
		consumer_free(c);
}

static void
reload(struct dispatch *d)
{
	struct plugins_set set;
	struct consumer *c, *next;
	char err[1024];
	size_t i;

	if (plugins_load(d->cfg.plugin_dir, true, &set, err, sizeof(err)) < 0) {
		log_warnx("dispatch: reload: %s; keeping the plugins as they are", err);
		return;
	}
	d->reloads++;
	for (c = d->list; c; c = next) {
		next = c->next;
		if (c->removed)
			continue;
		for (i = 0; i < set.n; i++)
			if (strcmp(set.v[i].name, c->conf.name) == 0)
				break;
		if (i == set.n || !set.v[i].active || !plugins_same(&set.v[i], &c->conf)) {
			log_info("dispatch: %s: %s by the reload", c->conf.name,
			    i == set.n || !set.v[i].active ? "stopped" : "changed: restarted");
			retire(c);
		} else if (c->state == C_FAILED) {
			log_info("dispatch: %s: failed before; started again by the reload",
			    c->conf.name);
			consumer_start(c);
		}
	}
	for (i = 0; i < set.n; i++) {
		if (!set.v[i].active || find_consumer(d, set.v[i].name) != NULL)
			continue;
		c = consumer_new(d, &set.v[i], err, sizeof(err));
		if (c == NULL) {
			log_warnx("dispatch: reload: %s", err);
			continue;
		}
		consumer_start(c);
	}
	plugins_free(&set);
	status_write(d);
}

static void
sighup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	log_info("dispatch: SIGHUP: reloading %s", ((struct dispatch *)w->data)->cfg.plugin_dir);
	reload(w->data);
}

static bool
all_drained(struct dispatch *d)
{
	for (struct consumer *c = d->list; c; c = c->next) {
		int unread = 0;

		if (c->fd >= 0 && c->pid > 0 && ioctl(c->fd, FIONREAD, &unread) == 0 && unread > 0)
			return false;
	}
	return true;
}

/* Once every plugin has exited, the loop ends. */
static void
stop_check(struct dispatch *d)
{
	if (!d->stopping || d->stop_phase < 2)
		return;
	for (struct consumer *c = d->list; c; c = c->next)
		if (c->pid > 0)
			return;
	ev_break(d->loop, EVBREAK_ALL);
}

/*
 * Phase 1: the pipes drain (bounded). Phase 2: cursors saved, pipes
 * closed, SIGTERM. Phase 3: SIGKILL for what is left, then the end.
 */
static void
stop_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct dispatch *d = w->data;
	double now = ev_now(loop);

	(void)revents;
	if (d->stop_phase == 1 && !all_drained(d) && now - d->stop_started < DISPATCH_DRAIN_S)
		return;
	if (d->stop_phase == 1) {
		d->stop_phase = 2;
		d->stop_started = now;
		for (struct consumer *c = d->list; c; c = c->next) {
			if (is_program(c)) {
				ev_timer_stop(loop, &c->timer);
				drop_pipe(c);
				if (c->cursor_err != 0)
					d->final_rc = c->cursor_err;
				if (c->pid > 0) {
					kill(c->pid, SIGTERM);
					kill(c->pid, SIGCONT);
					c->state = C_STOPPING;
				}
			} else {
				af_unix_close(c);
			}
		}
		stop_check(d);
		return;
	}
	if (d->stop_phase == 2 && now - d->stop_started >= DISPATCH_TERM_S) {
		d->stop_phase = 3;
		d->stop_started = now;
		for (struct consumer *c = d->list; c; c = c->next)
			if (c->pid > 0) {
				log_warnx("dispatch: %s: pid %ld did not exit on SIGTERM: SIGKILL",
				    c->conf.name, (long)c->pid);
				kill(c->pid, SIGKILL);
			}
	} else if (d->stop_phase == 3 && now - d->stop_started >= 2.0) {
		ev_break(loop, EVBREAK_ALL);
	}
}

static void
sigterm_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct dispatch *d = w->data;

	(void)revents;
	if (d->stopping)
		return;
	log_info("dispatch: stopping");
	d->stopping = true;
	d->stop_phase = 1;
	d->stop_started = ev_now(loop);
	for (struct consumer *c = d->list; c; c = c->next) {
		ev_io_stop(loop, &c->wio);
		ev_timer_stop(loop, &c->eoe_timer);
		if (c->state == C_BACKOFF)
			ev_timer_stop(loop, &c->timer);
	}
	ev_timer_stop(loop, &d->tick);
	ev_timer_init(&d->stop_timer, stop_timer_cb, 0.05, 0.05);
	d->stop_timer.data = d;
	ev_timer_start(loop, &d->stop_timer);
}

/* ---- setup ------------------------------------------------------------------------------ */

const char *
dispatch_status_path(const struct config *c, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/dispatch.status", c->run_dir);

	if (n < 0 || (size_t)n >= len)
		buf[0] = '\0';
	return buf;
}

struct dispatch *
dispatch_open(const struct config *c, char *err, size_t errlen)
{
	struct dispatch *d = calloc(1, sizeof(*d));
	struct plugins_set set = { NULL, 0 };

	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->cfg = *c;
	d->ifd = -1;
	d->start_time = time(NULL);
	d->loop = ev_default_loop(EVFLAG_AUTO);
	if (d->loop == NULL) {
		snprintf(err, errlen, "libev: no default loop");
		goto fail;
	}
	config_plugin_cursor_dir(c, d->cursor_dir, sizeof(d->cursor_dir));
	dispatch_status_path(c, d->status_path, sizeof(d->status_path));
	(void)mkdir(c->run_dir, 0755);
	if (plugins_load(c->plugin_dir, true, &set, err, errlen) < 0)
		goto fail;
	for (size_t i = 0; i < set.n; i++)
		if (set.v[i].active && consumer_new(d, &set.v[i], err, errlen) == NULL)
			goto fail;
	plugins_free(&set);
	return d;
fail:
	plugins_free(&set);
	dispatch_close(d);
	return NULL;
}

int
dispatch_run(struct dispatch *d)
{
	struct ev_loop *loop = d->loop;
	size_t n = 0;

	signal(SIGPIPE, SIG_IGN);
	ev_signal_init(&d->sig_term, sigterm_cb, SIGTERM);
	ev_signal_init(&d->sig_int, sigterm_cb, SIGINT);
	ev_signal_init(&d->sig_hup, sighup_cb, SIGHUP);
	ev_timer_init(&d->tick, tick_cb, DISPATCH_TICK_S, DISPATCH_TICK_S);
	ev_timer_init(&d->status_timer, status_cb, 0., (double)d->cfg.stats_interval);
	d->sig_term.data = d->sig_int.data = d->sig_hup.data = d->tick.data = d;
	d->status_timer.data = d;
	ev_signal_start(loop, &d->sig_term);
	ev_signal_start(loop, &d->sig_int);
	ev_signal_start(loop, &d->sig_hup);
	ev_timer_start(loop, &d->tick);
	ev_timer_start(loop, &d->status_timer);
	d->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->ifd >= 0 && inotify_add_watch(d->ifd, d->cfg.spool_dir,
	    IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		close(d->ifd);
		d->ifd = -1;
	}
	if (d->ifd >= 0) {
		ev_io_init(&d->inotify_io, inotify_cb, d->ifd, EV_READ);
		d->inotify_io.data = d;
		ev_io_start(loop, &d->inotify_io);
	} else {
		log_warnx("dispatch: inotify on %s: %s; looking once a second instead",
		    d->cfg.spool_dir, strerror(errno));
	}
	for (struct consumer *c = d->list; c; c = c->next) {
		consumer_start(c);
		n++;
	}
	log_info("dispatch: %zu consumer(s) from %s, cursors in %s", n, d->cfg.plugin_dir,
	    d->cursor_dir);
	ev_run(loop, 0);
	status_write(d);
	return d->final_rc;
}

void
dispatch_close(struct dispatch *d)
{
	if (d == NULL)
		return;
	while (d->list != NULL) {
		struct consumer *c = d->list;

		d->list = c->next;
		if (c->pid > 0) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, NULL, 0);
			c->pid = 0;
		}
		consumer_free(c);
	}
	if (d->loop != NULL) {
		ev_io_stop(d->loop, &d->inotify_io);
		ev_signal_stop(d->loop, &d->sig_term);
		ev_signal_stop(d->loop, &d->sig_int);
		ev_signal_stop(d->loop, &d->sig_hup);
		ev_timer_stop(d->loop, &d->tick);
		ev_timer_stop(d->loop, &d->status_timer);
		ev_timer_stop(d->loop, &d->stop_timer);
	}
	if (d->ifd >= 0)
		close(d->ifd);
	spool_lag_free(&d->lag);
	free(d);
}
