/*
 * rauditd.c - this file is the daemon's main: options, configuration,
 * wiring of the modules in dependency order, signals, and the lifecycle
 * from registration with the kernel to a drained, unregistered stop.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "auditview.h"
#include "config.h"
#include "control.h"
#include "control_proto.h"
#include "daemonize.h"
#include "handover.h"
#include "kaudit.h"
#include "kreg.h"
#include "log.h"
#include "migrate.h"
#include "monitor.h"
#include "netlink_rx.h"
#include "notify.h"
#include "priv.h"
#include "progstart.h"
#include "reload.h"
#include "report.h"
#include "ring.h"
#include "rules.h"
#include "seqgap.h"
#include "sidefile.h"
#include "spool.h"
#include "stats.h"
#include "thread.h"
#include "writer.h"

/* Exit status; documented in rauditd(8) and used by the unit file. */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,	/* a failure after start (writer could not stop) */
	EXIT_USAGE = PROGSTART_EXIT_USAGE,	/* bad command line */
	EXIT_CONFIG = PROGSTART_EXIT_CONFIG,	/* invalid configuration file */
	EXIT_BUSY = 4,		/* another audit daemon is registered */
	EXIT_SPOOL = 5,		/* spool directory unusable */
	EXIT_KERNEL = 6,	/* kernel audit unavailable or refused us */
	EXIT_RESOURCE = 7,	/* memory, threads, descriptors */
};

/* Datagrams per event-loop callback, so a flood cannot starve signals. */
#define RX_MAX_PER_WAKEUP	4096
/* How long a stop waits for the kernel to accept the unregistration. */
#define UNREGISTER_WAIT_S	5.0
/* Bound on each program that loads the rules at start (augenrules, auditctl). */
#define RULES_TIMEOUT_MS	30000

struct daemon {
	struct config		 cfg;
	const char		*cfg_path;
	bool			 foreground;
	bool			 debug;
	const char		*test_input;	/* framed test socket, no kernel */

	struct ev_loop		*loop;
	struct ring		*ring;
	struct seqgap		 gaps;
	struct rx_stats		 rx_stats;
	struct writer_stats	 w_stats;
	struct netlink_rx	*rx;
	struct writer		*writer;
	struct monitor		*monitor;
	struct control		*control;
	gid_t			 control_gid;
	bool			 control_gid_set;

	ev_io			 rx_watcher;
	ev_signal		 sig_term, sig_int, sig_hup, sig_usr1, sig_usr2, sig_cont;
	ev_timer		 tick;
	ev_timer		 watchdog;
	uint64_t		 watchdog_usec;
	uint64_t		 wd_last_batches;
	ev_timer		 stop_timer;
	ev_timer		 stop_defer;	/* runs begin_stop outside callbacks */
	const char		*stop_why;
	ev_async		 writer_async;
	ev_async		 unreg_async;

	struct reload		*reload;	/* read on a helper, applied on main */

	struct kreg		 kreg;		/* registration, what to restore */
	struct handover		 ho;		/* what this instance took over */
	int			 base_nice;	/* before priority_boost */

	_Atomic bool		 stopping;	/* main writes, the monitor reads */

	/* Re-exec upgrade (same pid): what the next image adopts. */
	char			 exe_path[PATH_MAX];
	char			**argv;
	ev_timer		 upgrade_timer;	/* runs the upgrade outside callbacks */
	stat_t			 carried_socket;	/* read before the socket first ran dry;
						 * main writes, the monitor thread reads */
	bool			 counting_carried;
	uint64_t		 rules_removed_seen;	/* writer's rules_removed, last look */
	pthread_t		 usr1_thread;	/* asks who sent a SIGUSR1, then rotates */
	bool			 usr1_started;	/* main only */
	_Atomic bool		 usr1_running;

	/* Side output done on the monitor thread, off the receive path. */
	_Atomic bool		 state_requested;
	time_t			 metrics_last;
	int			 metrics_errno;	/* last failure, logged once */
	char			 side_buf[CONTROL_MAX_PAYLOAD];
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: rauditd [-fdn] [-c file]\n"
	    "  -f, --foreground   stay in the foreground\n"
	    "  -c, --config FILE  configuration file (default %s)\n"
	    "  -n, --check        check the configuration, print the effective values, exit\n"
	    "  -d, --debug        debug messages to stderr (implies -f)\n"
	    "  -h, --help         this text\n"
	    "  -V, --version      print the version\n"
	    "  --from-auditd-conf FILE  print the rauditd.conf equivalent to auditd.conf FILE\n",
	    RAUDITD_CONF);
}

/* ---- event loop callbacks -------------------------------------------- */

/* Join the SIGUSR1 helper (bounded: one kernel request, KREG_TIMEOUT_MS). */
static void
usr1_join(struct daemon *d)
{
	if (d->usr1_started) {
		pthread_join(d->usr1_thread, NULL);
		d->usr1_started = false;
	}
}

static void
wake_writer(void *arg)
{
	writer_wake(arg);
}

static void
writer_event(void *arg)
{
	struct daemon *d = arg;

	ev_async_send(d->loop, &d->writer_async);
}

static void
rx_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct daemon *d = w->data;
	uint64_t before = stat_get(&d->rx_stats.received);
	bool empty;

	netlink_rx_drain(d->rx, RX_MAX_PER_WAKEUP, &empty);
	/* The ring is full: records wait in the socket until the writer has
	 * made room (writer_async_cb starts reading again). */
	if (netlink_rx_waiting(d->rx))
		ev_io_stop(loop, &d->rx_watcher);
	/* After a re-exec: what the socket held across it, up to the first
	 * time it runs dry. */
	if (d->counting_carried) {
		stat_add(&d->carried_socket, stat_get(&d->rx_stats.received) - before);
		if (empty) {
			d->counting_carried = false;
			log_info("upgrade: %llu record(s) carried over in the socket, %llu in the ring",
			    (unsigned long long)stat_get(&d->carried_socket), (unsigned long long)d->ho.carried_ring);
		}
	}
	(void)revents;
}

static void
finish_stop(struct daemon *d)
{
	bool empty = false;

	/* What the kernel sent before it let go of us; what the ring has no
	 * room for now is dropped and counted rather than left unread. */
	netlink_rx_set_wait_full(d->rx, false);
	for (int i = 0; i < 1000 && !empty; i++)
		netlink_rx_drain(d->rx, RX_MAX_PER_WAKEUP, &empty);
	netlink_rx_flush_loss(d->rx);
	/* Serials still missing now will not come any more. */
	seqgap_settle(&d->gaps);
	stat_set(&d->rx_stats.seq_gaps, d->gaps.gaps);
	ev_io_stop(d->loop, &d->rx_watcher);
	ev_timer_stop(d->loop, &d->stop_timer);
	control_close(d->control);
	d->control = NULL;
	ev_break(d->loop, EVBREAK_ALL);
}

static void
unreg_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct daemon *d = w->data;
	int rc;

	if (!kreg_unregister_done(&d->kreg, &rc))
		return;
	if (rc < 0)
		log_warnx("kernel: unregistering: %s", strerror(-rc));
	else if (d->kreg.registered)
		log_info("kernel: unregistered pid %ld", (long)getpid());
	d->kreg.registered = false;
	finish_stop(d);
	(void)loop;
	(void)revents;
}

static void
stop_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = w->data;

	log_warnx("kernel: unregistration did not finish in %.0f s; stopping anyway",
	    UNREGISTER_WAIT_S);
	finish_stop(d);
	(void)loop;
	(void)revents;
}

/* The unregister helper's last act (any thread): wake the loop. */
static void
unreg_wake(void *arg)
{
	struct daemon *d = arg;

	ev_async_send(d->loop, &d->unreg_async);
}

static void
begin_stop(struct daemon *d, const char *why)
{
	if (d->stopping)
		return;
	d->stopping = true;
	log_info("stopping (%s)", why);
	notify_stopping("stopping: draining to disk");
	if (d->test_input != NULL) {
		atomic_store(&d->kreg.unreg_done, true);
		unreg_wake(d);
		return;
	}
	/* Keep receiving while the helper unregisters; the kernel knows who
	 * sent a SIGTERM (not a SIGINT), and DAEMON_END says so. */
	d->kreg.ask_sender = strcmp(why, "SIGTERM") == 0;
	kreg_unregister_start(&d->kreg, unreg_wake, d);
	if (!d->kreg.unreg_started)
		return;
	ev_timer_init(&d->stop_timer, stop_timeout_cb, UNREGISTER_WAIT_S, 0.);
	d->stop_timer.data = d;
	ev_timer_start(d->loop, &d->stop_timer);
}

static void
stop_defer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = w->data;

	(void)loop;
	(void)revents;
	begin_stop(d, d->stop_why);
}

/*
 * Every stop starts from its own loop iteration, never inside the callback
 * that asked for it: the stop ends in finish_stop, which frees the control
 * server, and a "rauditctl stop" request is still being handled by it.
 */
static void
request_stop(struct daemon *d, const char *why)
{
	if (d->stopping || ev_is_active(&d->stop_defer))
		return;
	d->stop_why = why;
	ev_timer_set(&d->stop_defer, 0., 0.);
	ev_timer_start(d->loop, &d->stop_defer);
}

static void
report_source(struct daemon *d, struct report_src *src, bool main_thread)
{
	memset(src, 0, sizeof(*src));
	src->cfg = &d->cfg;
	src->rx = &d->rx_stats;
	src->ws = &d->w_stats;
	src->writer = d->writer;
	src->ring = d->ring;
	src->monitor = d->test_input ? NULL : d->monitor;
	/* Main-thread-only counters are left out of reports made elsewhere. */
	src->control = main_thread ? d->control : NULL;
	src->start_time = d->ho.start_time;
	src->state = atomic_load(&d->stopping) ? "stopping" : "running";
	src->pending_loss = main_thread ? netlink_rx_pending_loss(d->rx) : 0;
	src->reexecs = d->ho.reexecs;
	src->carried_ring = d->ho.carried_ring;
	src->carried_socket = stat_get(&d->carried_socket);
}

static bool
resolve_group(const char *name, gid_t *gid)
{
	struct group *gr;

	if (name[0] == '\0')
		return false;
	/* At start, on the main thread, and no other thread calls getgrnam or
	 * getgrgid (the writer's enricher uses getgrgid_r, a reload helper
	 * getgrnam_r): its static result is safe. */
	gr = getgrnam(name); /* cppcheck-suppress getgrnamCalled */
	if (gr == NULL) {
		log_warnx("control: control_group \"%s\" does not exist; status is root only", name);
		return false;
	}
	*gid = gr->gr_gid;
	return true;
}

/*
 * Monitor thread: the metrics textfile and the state report (SIGCONT).
 * settings is the monitor's own copy of the configuration (pushed at start
 * and after each reload): nothing here reads d->cfg.
 */
static void
side_output(void *arg, const void *settings, bool kicked)
{
	struct daemon *d = arg;
	const struct config *cfg = settings;
	struct report_src src;
	struct report_consumers *cons;
	char path[PATH_MAX + 32];
	size_t n;
	int rc;
	time_t now = time(NULL);

	report_source(d, &src, false);
	src.cfg = cfg;
	if (atomic_exchange(&d->state_requested, false)) {
		n = report_status(&src, d->side_buf, sizeof(d->side_buf));
		snprintf(path, sizeof(path), "%s/rauditd.state", cfg->run_dir);
		rc = sidefile_replace(path, d->side_buf, n, false);
		if (rc < 0)
			log_warnx("state: writing %s: %s", path, strerror(-rc));
		else
			log_info("state: report written to %s", path);
	}
	if (kicked || cfg->metrics_file[0] == '\0' ||
	    now - d->metrics_last < (time_t)cfg->stats_interval)
		return;
	d->metrics_last = now;
	cons = report_consumers_load(cfg);	/* NULL: no dispatcher's status */
	src.consumers = cons;
	n = report_prometheus(&src, d->side_buf, sizeof(d->side_buf));
	free(cons);
	rc = sidefile_replace(cfg->metrics_file, d->side_buf, n, false);
	if (rc < 0 && rc != d->metrics_errno)
		log_warnx("metrics: writing %s: %s", cfg->metrics_file, strerror(-rc));
	else if (rc == 0 && d->metrics_errno != 0)
		log_info("metrics: writing %s works again", cfg->metrics_file);
	d->metrics_errno = rc;
}

static void note_changed(const char *key, bool reloadable, void *arg);

/* The DAEMON_CONFIG record of a reload, naming who asked as auditd does. */
static void
config_record(struct daemon *d, const struct reload_result *j, bool ok)
{
	char who[KREG_SENDER_TEXT_MAX], text[512];

	kreg_sender_text(&j->sender, who, sizeof(who));
	snprintf(text, sizeof(text), "op=reconfigure state=%s %s res=%s",
	    ok ? "changed" : "no-change", who, ok ? "success" : "failed");
	writer_note(d->writer, AUDIT_DAEMON_CONFIG, text);
}

/* Main thread: apply what the helper read, or keep the running config. */
static void
reload_apply(void *arg, const struct reload_result *j)
{
	struct daemon *d = arg;
	struct writer_settings ws;
	size_t n;
	int rc;

	if (j->rc < 0) {
		log_warnx("config: reload rejected, keeping the running configuration: %s", j->err);
		config_record(d, j, false);
		return;
	}
	n = config_diff(&d->cfg, &j->nc, note_changed, NULL);
	config_apply_reloadable(&d->cfg, &j->nc);
	writer_settings_from_config(&ws, &d->cfg);
	reload_plugins_apply(&ws, &j->plugins, false);
	writer_reconfigure(d->writer, &ws);
	if (d->monitor) {
		monitor_set_interval(d->monitor, d->cfg.monitor_interval_ms);
		monitor_push_settings(d->monitor, &d->cfg);
	}
	if (d->control) {
		if (j->gid_missing)
			log_warnx("control: control_group \"%s\" does not exist; status is root only",
			    d->cfg.control_group);
		d->control_gid = j->gid;
		d->control_gid_set = j->gid_set;
		rc = control_set_group(d->control, d->control_gid, d->control_gid_set);
		if (rc < 0)
			log_warnx("control: cannot give the socket to group %s: %s (a group "
			    "configured only after start needs a restart)",
			    d->cfg.control_group, strerror(-rc));
	}
	/* The timer is running: change its period the way libev allows. */
	d->tick.repeat = (double)d->cfg.stats_interval;
	ev_timer_again(d->loop, &d->tick);
	log_info("config: reloaded %s (%zu key(s) changed)", d->cfg_path, n);
	config_record(d, j, true);
}

static void
request_state_report(struct daemon *d)
{
	atomic_store(&d->state_requested, true);
	if (d->monitor)
		monitor_kick(d->monitor);
}

/* ---- re-exec upgrade ------------------------------------------------------- */

static int start_control(struct daemon *d);
static int start_monitor(struct daemon *d);

/*
 * Re-exec in place (handover_exec says why nothing is lost). The order:
 * stop reading (records wait in the socket), pause the writer at a batch
 * boundary (so no write is cut in half and nothing is written twice), stop
 * the monitor and the control socket, exec. If execve fails, everything is
 * started again and the old image runs on; this is after READY=1, so what
 * cannot be started again is logged and shows in status, never fatal.
 */
static void
do_upgrade(struct daemon *d)
{
	int afd = netlink_rx_fd(d->rx), rc;

	if (d->stopping)
		return;
	log_info("upgrade: re-executing %s in place (pid %ld)", d->exe_path, (long)getpid());
	ev_io_stop(d->loop, &d->rx_watcher);
	netlink_rx_flush_loss(d->rx);
	rc = writer_detach(d->writer, d->cfg.drain_timeout * 1000u);
	if (rc < 0) {
		log_warnx("upgrade: the writer is stuck in a write (a hung disk?); not upgrading");
		goto resume_rx;
	}
	if (d->monitor && monitor_stop(d->monitor, 2000) < 0)
		log_warnx("upgrade: a kernel status poll is asleep in the kernel; exec ends it");
	control_close(d->control);
	d->control = NULL;

	(void)handover_exec(d->exe_path, d->argv, afd, d->ring, &d->kreg, d->ho.reexecs + 1,
	    d->ho.start_time, getpriority(PRIO_PROCESS, 0) + d->cfg.priority_boost);
	(void)start_control(d);
	(void)start_monitor(d);
	if ((rc = writer_reattach(d->writer)) < 0) {
		/* Nothing drains the ring now: stop, keeping what is in it. */
		log_warnx("upgrade: cannot restart the writer: %s; stopping", strerror(-rc));
		request_stop(d, "upgrade failed");
	}
	notify_ready("running");
resume_rx:
	ev_io_start(d->loop, &d->rx_watcher);
}

static void
upgrade_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	do_upgrade(w->data);
}

/* ---- control requests, signals, timers ------------------------------------- */

/*
 * The control client as a record names who asked: auid, pid, subj, with
 * its uid for an unset login uid, as the kernel reports a signal's sender.
 */
static void
peer_sender(const struct control_peer *p, struct kreg_sender *s)
{
	memset(s, 0, sizeof(*s));
	s->valid = true;
	s->auid = p->auid != (uint32_t)-1 ? p->auid : (uint32_t)p->uid;
	s->pid = (int32_t)p->pid;
	snprintf(s->subj, sizeof(s->subj), "%s", p->subj);
}

static void
control_cb(void *arg, uint16_t type, const struct control_peer *peer,
    struct control_reply *rep)
{
	struct daemon *d = arg;
	struct report_src src;
	struct kreg_sender who;
	char text[KREG_SENDER_TEXT_MAX];
	static const char denied[] = "permission denied: only root may do that";

	if (!peer->privileged && type != CONTROL_REQ_STATUS && type != CONTROL_REQ_STATE) {
		rep->type = CONTROL_REP_ERROR;
		rep->len = sizeof(denied) - 1;
		memcpy(rep->buf, denied, rep->len);
		return;
	}
	rep->type = CONTROL_REP_OK;
	rep->len = 0;
	peer_sender(peer, &who);
	switch (type) {
	case CONTROL_REQ_STATUS:
	case CONTROL_REQ_STATE:
		report_source(d, &src, true);
		rep->type = type == CONTROL_REQ_STATUS ? CONTROL_REP_STATUS : CONTROL_REP_TEXT;
		rep->len = report_status(&src, rep->buf, CONTROL_MAX_PAYLOAD);
		break;
	case CONTROL_REQ_ROTATE:
		kreg_sender_text(&who, text, sizeof(text));
		log_info("rotating on request (%s)", text);
		writer_rotate_by(d->writer, text);
		break;
	case CONTROL_REQ_RELOAD:
		reload_request_by(d->reload, &who);
		break;
	case CONTROL_REQ_RESUME:
		writer_resume(d->writer);
		break;
	case CONTROL_REQ_STOP:
		/* DAEMON_END names who asked, unless a stop is already on its way. */
		if (!d->stopping && !ev_is_active(&d->stop_defer))
			d->kreg.stop_sender = who;
		request_stop(d, "rauditctl stop");
		break;
	case CONTROL_REQ_UPGRADE:
		/* Not from inside this callback: the upgrade closes the socket. */
		ev_timer_set(&d->upgrade_timer, 0.05, 0.);
		ev_timer_start(d->loop, &d->upgrade_timer);
		break;
	default:
		rep->type = CONTROL_REP_ERROR;
		rep->len = (size_t)snprintf(rep->buf, CONTROL_MAX_PAYLOAD,
		    "unknown request type %u", type);
		break;
	}
}

/*
 * WATCHDOG=1 only while the receive loop makes progress: this timer runs on
 * the receive thread, and a socket with data waiting that no drain has
 * touched since the last ping means the loop is stuck. Waiting for ring
 * room is progress: the records wait in the socket by design, and a writer
 * stuck on a hung disk shows in its own state; restarting the daemon would
 * not bring the disk back. A wait the writer should already have ended (a
 * lost wake-up) is ended here.
 */
static void
watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = w->data;
	struct pollfd pfd = { .fd = netlink_rx_fd(d->rx), .events = POLLIN };
	uint64_t batches = stat_get(&d->rx_stats.batches);
	bool pending = pfd.fd >= 0 && poll(&pfd, 1, 0) > 0;

	(void)revents;
	if (netlink_rx_waiting(d->rx) && netlink_rx_resume(d->rx))
		ev_io_start(loop, &d->rx_watcher);
	if (!pending || batches != d->wd_last_batches || netlink_rx_waiting(d->rx))
		notify_watchdog();
	d->wd_last_batches = batches;
}

static void
note_changed(const char *key, bool reloadable, void *arg)
{
	(void)arg;
	if (reloadable)
		log_info("config: %s changed", key);
	else
		log_warnx("config: %s changed; the new value requires a restart", key);
}

/* The SIGUSR1 helper: the kernel request may sleep, so not on main. */
static void *
usr1_main(void *arg)
{
	struct daemon *d = arg;
	struct kreg_sender s;
	char who[KREG_SENDER_TEXT_MAX];

	kreg_sender_get(&s);
	kreg_sender_text(&s, who, sizeof(who));
	writer_rotate_by(d->writer, who);
	atomic_store(&d->usr1_running, false);
	return NULL;
}

/* Rotate, naming the sender in the marker as auditd's DAEMON_ROTATE does. */
static void
rotate_on_signal(struct daemon *d)
{
	/* No kernel to ask, or still asking for the last one: rotate now. */
	if (d->test_input != NULL || atomic_load(&d->usr1_running)) {
		writer_rotate(d->writer);
		return;
	}
	usr1_join(d);
	atomic_store(&d->usr1_running, true);
	if (thread_start(&d->usr1_thread, usr1_main, d) < 0) {
		atomic_store(&d->usr1_running, false);
		writer_rotate(d->writer);
		return;
	}
	d->usr1_started = true;
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;

	(void)loop;
	(void)revents;
	switch (w->signum) {
	case SIGTERM:
		request_stop(d, "SIGTERM");
		break;
	case SIGINT:
		request_stop(d, "SIGINT");
		break;
	case SIGUSR1:
		log_info("rotating on SIGUSR1");
		rotate_on_signal(d);
		break;
	case SIGUSR2:
		log_info("resuming on SIGUSR2");
		writer_resume(d->writer);
		break;
	case SIGHUP:
		/* The kernel knows who sent it, when it is ours to tell. */
		reload_request_signal(d->reload, d->test_input == NULL);
		break;
	case SIGCONT:
		request_state_report(d);
		break;
	}
}

static void
writer_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct daemon *d = w->data;

	(void)revents;
	/* The writer has made room (or changed state): read again. */
	if (netlink_rx_waiting(d->rx) && netlink_rx_resume(d->rx))
		ev_io_start(loop, &d->rx_watcher);
	/* Someone removed rules: is our exclude rule still in? (Off this thread.) */
	if (stat_get(&d->w_stats.rules_removed) != d->rules_removed_seen) {
		d->rules_removed_seen = stat_get(&d->w_stats.rules_removed);
		if (!d->stopping && d->kreg.registered && d->test_input == NULL)
			kreg_recheck_request(&d->kreg);
	}
	log_debug("writer: state %s",
	    writer_state_name((enum writer_state)stat_get(&d->w_stats.state)));
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = w->data;
	char status[256];

	(void)loop;
	(void)revents;
	/* Loss markers wait for ring room; without new records, retry here. */
	netlink_rx_flush_loss(d->rx);
	snprintf(status, sizeof(status), "received %llu, written %llu, dropped %llu, gaps %llu, writer %s",
	    (unsigned long long)stat_get(&d->rx_stats.received),
	    (unsigned long long)stat_get(&d->w_stats.written),
	    (unsigned long long)stat_get(&d->rx_stats.dropped[DROP_RING_FULL]) +
	    stat_get(&d->rx_stats.dropped[DROP_OVERSIZE]),
	    (unsigned long long)(d->gaps.gaps),
	    writer_state_name((enum writer_state)stat_get(&d->w_stats.state)));
	notify_status(status);
	stat_set(&d->rx_stats.seq_gaps, d->gaps.gaps);
	stat_set(&d->rx_stats.seq_late, d->gaps.late);
}

/* ---- startup --------------------------------------------------------- */

static int
open_test_input(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, sz = 64 * 1024 * 1024;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return fd;
}

static unsigned
read_proc_uint(const char *path)
{
	char buf[32] = "";
	unsigned long v = 4294967295UL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			v = strtoul(buf, NULL, 10);
		}
		close(fd);
	}
	return (unsigned)v;
}

static void
daemon_text(struct daemon *d, char *buf, size_t len, const char *op)
{
	struct utsname u;
	int n;

	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "?");
	n = snprintf(buf, len, "op=%s ver=%s format=%s kernel=%s auid=%u pid=%ld uid=%u ses=%u",
	    op, PACKAGE_VERSION,
	    d->cfg.log_format == CONFIG_FORMAT_ENRICHED ? "enriched" : "raw",
	    u.release, read_proc_uint("/proc/self/loginuid"), (long)getpid(),
	    (unsigned)getuid(), read_proc_uint("/proc/self/sessionid"));
	if (n > 0 && (size_t)n < len && d->ho.reexecs > 0)
		n += snprintf(buf + n, len - (size_t)n, " reexec=%u carried_ring=%llu",
		    d->ho.reexecs, (unsigned long long)d->ho.carried_ring);
	if (n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " res=success");
}

static void
start_watchers(struct daemon *d)
{
	ev_io_init(&d->rx_watcher, rx_cb, netlink_rx_fd(d->rx), EV_READ);
	d->rx_watcher.data = d;
	netlink_rx_set_wait_full(d->rx, d->cfg.ring_full_action == CONFIG_RING_FULL_WAIT);
	netlink_rx_set_room_cb(d->rx, writer_event, d);
	ev_io_start(d->loop, &d->rx_watcher);

#define SIG(w, n) do { ev_signal_init(&d->w, signal_cb, n); d->w.data = d; \
	ev_signal_start(d->loop, &d->w); } while (0)
	SIG(sig_term, SIGTERM);
	SIG(sig_int, SIGINT);
	SIG(sig_hup, SIGHUP);
	SIG(sig_usr1, SIGUSR1);
	SIG(sig_usr2, SIGUSR2);
	SIG(sig_cont, SIGCONT);
#undef SIG
	ev_async_init(&d->writer_async, writer_async_cb);
	d->writer_async.data = d;
	ev_async_start(d->loop, &d->writer_async);
	ev_async_init(&d->unreg_async, unreg_cb);
	d->unreg_async.data = d;
	ev_async_start(d->loop, &d->unreg_async);
	d->reload = reload_new(d->loop, d->cfg_path, reload_apply, d);
	if (d->reload == NULL)
		fatal(EXIT_RESOURCE, "reload");
	ev_timer_init(&d->tick, tick_cb, 1.0, (double)d->cfg.stats_interval);
	d->tick.data = d;
	ev_timer_start(d->loop, &d->tick);
	d->watchdog_usec = notify_watchdog_usec();
	if (d->watchdog_usec) {
		double period = (double)d->watchdog_usec / 2e6;
		ev_timer_init(&d->watchdog, watchdog_cb, period, period);
		d->watchdog.data = d;
		ev_timer_start(d->loop, &d->watchdog);
	}
}

static void
log_counters(struct daemon *d, const char *when)
{
	uint64_t written, in_ring = report_in_ring(d->ring, &d->rx_stats, d->writer, &written);

	log_info("%s: received %llu, written %llu, dropped ring_full %llu oversize %llu "
	    "shutdown %llu, in ring %llu, spoofed %llu, malformed %llu, serial gaps %llu, "
	    "ring high-water %zu of %zu bytes", when,
	    (unsigned long long)stat_get(&d->rx_stats.received),
	    (unsigned long long)written,
	    (unsigned long long)stat_get(&d->rx_stats.dropped[DROP_RING_FULL]),
	    (unsigned long long)stat_get(&d->rx_stats.dropped[DROP_OVERSIZE]),
	    (unsigned long long)stat_get(&d->rx_stats.dropped[DROP_SHUTDOWN]),
	    (unsigned long long)in_ring,
	    (unsigned long long)stat_get(&d->rx_stats.rejected_spoofed),
	    (unsigned long long)stat_get(&d->rx_stats.rejected_malformed),
	    (unsigned long long)d->gaps.gaps,
	    ring_high_water(d->ring), ring_capacity(d->ring));
}

/* The control socket; a failure is logged and returned (fatal only at start). */
static int
start_control(struct daemon *d)
{
	const char *what;

	d->control_gid_set = resolve_group(d->cfg.control_group, &d->control_gid);
	d->control = control_open(d->loop, d->cfg.run_dir, d->control_gid,
	    d->control_gid_set, control_cb, d, &what);
	if (d->control == NULL) {
		log_warn("control: %s/%s: %s", d->cfg.run_dir, CONTROL_SOCKET_NAME, what);
		return -1;
	}
	return 0;
}

/* The monitor thread; a failure is logged and returned (fatal only at start). */
static int
start_monitor(struct daemon *d)
{
	int rc;

	monitor_free(d->monitor);
	d->monitor = monitor_new(&d->rx_stats, d->cfg.monitor_interval_ms,
	    d->test_input == NULL);
	if (d->monitor == NULL) {
		log_warn("monitor");
		return -1;
	}
	monitor_set_nice(d->monitor, d->base_nice);
	rc = monitor_set_tick(d->monitor, side_output, d, sizeof(d->cfg));
	if (rc == 0) {
		monitor_push_settings(d->monitor, &d->cfg);
		rc = monitor_start(d->monitor);
	}
	if (rc < 0) {
		log_warnx("monitor: cannot start thread: %s", strerror(-rc));
		monitor_free(d->monitor);
		d->monitor = NULL;
		return -1;
	}
	return 0;
}

/* Kernel lines for a status query before the monitor's first quiet moment. */
static void
seed_monitor(struct daemon *d)
{
	struct audit_status ks;
	uint64_t read_ns;

	if (kreg_status_now(&d->kreg, &ks, &read_ns))
		monitor_seed(d->monitor, &ks, read_ns);
}

/* rauditd's own options, on top of those progstart_args() shares. */
static int
extra_option(struct progstart *ps, int ch, const char *arg)
{
	struct daemon *d = ps->arg;
	char err[CONFIG_ERR_MAX];
	int rc;

	switch (ch) {
	case 'T':
		d->test_input = arg;
		ps->foreground = true;
		return -1;
	case 0x100:
		if ((rc = migrate_auditd_conf(arg, stdout, err, sizeof(err))) < 0)
			fprintf(stderr, "rauditd: %s\n", err);
		return rc < 0 ? EXIT_CONFIG : EXIT_OK;
	default:
		usage(stderr);
		return EXIT_USAGE;
	}
}

/* Options. Returns an exit status when the process is done, else -1. */
static int
parse_args(struct daemon *d, int argc, char **argv, bool *check)
{
	static const struct option longopts[] = {
		{ "test-input",	required_argument,	NULL, 'T' },
		{ "from-auditd-conf", required_argument, NULL, 0x100 },
		{ NULL, 0, NULL, 0 }
	};
	struct progstart ps = { .prog = "rauditd", .usage = usage, .cfg_path = d->cfg_path,
	    .extra_short = "T:", .extra_long = longopts, .extra = extra_option, .arg = d };
	int rc = progstart_args(&ps, argc, argv);

	d->cfg_path = ps.cfg_path;
	d->foreground = ps.foreground;
	d->debug = ps.debug;
	*check = ps.check;
	return rc;
}

/* The configuration file; -n prints it. An exit status when done, else -1. */
static int
load_config(struct daemon *d, bool check)
{
	const struct progstart ps = { .prog = "rauditd", .cfg_path = d->cfg_path };

	/* Whoever can write the configuration controls the audit trail. */
	if (progstart_config(&ps, &d->cfg) != 0)
		return EXIT_CONFIG;
	if (check) {
		config_print(&d->cfg, stdout);
		auditview_print_check(stdout, d->cfg.auditd_view);
		return EXIT_OK;
	}
	return -1;
}

/* The path we run from: after a package upgrade it names the new binary,
 * which is what a re-exec must run. */
static void
find_exe(struct daemon *d)
{
	ssize_t n = readlink("/proc/self/exe", d->exe_path, sizeof(d->exe_path) - 1);

	d->exe_path[n > 0 ? n : 0] = '\0';
	if (n > 10 && strcmp(d->exe_path + n - 10, " (deleted)") == 0)
		d->exe_path[n - 10] = '\0';
}

static struct spool *
open_spool(struct daemon *d, struct spool_recovery *rec)
{
	struct spool *spool = NULL;
	char err[CONFIG_ERR_MAX];
	const char *what;
	int rc;

	if (access(d->cfg.spool_dir, F_OK) == 0 &&
	    priv_check_path(d->cfg.spool_dir, "spool directory", err, sizeof(err)) < 0)
		fatalx(EXIT_SPOOL, "spool: %s", err);
	rc = spool_open(&spool, d->cfg.spool_dir, rec, &what);
	if (rc < 0)
		fatalx(EXIT_SPOOL, "spool: %s: %s: %s", d->cfg.spool_dir, what, strerror(-rc));
	if (d->cfg.log_group[0] != '\0') {
		/* Startup, before any thread: getgrnam's static result is safe. */
		struct group *gr = getgrnam(d->cfg.log_group); /* cppcheck-suppress getgrnamCalled */
		if (gr == NULL)
			fatalx(EXIT_CONFIG, "config: log_group \"%s\" does not exist", d->cfg.log_group);
		if ((rc = spool_set_group(spool, gr->gr_gid)) < 0)
			fatalx(EXIT_SPOOL, "spool: %s: giving it to group %s: %s", d->cfg.spool_dir,
			    d->cfg.log_group, strerror(-rc));
	}
	if (rec->torn_bytes)
		log_warnx("spool: cut a torn last line of %llu bytes from segment %llu",
		    (unsigned long long)rec->torn_bytes, (unsigned long long)rec->last);
	if (rec->gaps)
		log_warnx("spool: %llu segment number(s) missing between %llu and %llu",
		    (unsigned long long)rec->gaps, (unsigned long long)rec->first,
		    (unsigned long long)rec->last);
	stat_set(&d->w_stats.torn_bytes, rec->torn_bytes);
	return spool;
}

/* The ring: the one handed over, or a new one. */
static void
open_ring(struct daemon *d)
{
	char err[CONFIG_ERR_MAX];

	if (handover_adopt(&d->ho, &d->kreg, &d->cfg, d->test_input == NULL,
	    err, sizeof(err)) < 0)
		fatalx(EXIT_RESOURCE, "%s", err);
	d->ring = d->ho.ring;
	d->ho.ring = NULL;
	if (d->ho.kind == HANDOVER_REEXEC)
		d->counting_carried = true;
	if (d->ring == NULL)
		d->ring = ring_new(d->cfg.ring_size, d->cfg.lock_ring);
	if (d->ring == NULL)
		fatal(EXIT_RESOURCE, "ring: allocating %llu bytes%s",
		    (unsigned long long)d->cfg.ring_size, d->cfg.lock_ring ? " (locked)" : "");
}

/* The record socket: the registered one of a re-exec, a test socket, or new. */
static void
open_input(struct daemon *d)
{
	size_t rcv_got = 0, rcv_want = 0;
	const char *what;
	int fd, rc;

	if (d->ho.kind == HANDOVER_REEXEC) {
		/* The registered socket itself: same pid, same port. */
		netlink_rx_attach(d->rx, d->ho.audit_fd,
		    d->test_input ? NETLINK_RX_FRAMED : NETLINK_RX_KERNEL);
		d->ho.audit_fd = -1;
	} else if (d->test_input != NULL) {
		if ((fd = open_test_input(d->test_input)) < 0)
			fatalx(EXIT_KERNEL, "test input %s: %s", d->test_input, strerror(-fd));
		netlink_rx_attach(d->rx, fd, NETLINK_RX_FRAMED);
	} else {
		rc = netlink_rx_open(d->rx, d->cfg.rcvbuf, &rcv_got, &rcv_want, &what);
		if (rc < 0)
			fatalx(EXIT_KERNEL, "netlink: %s: %s", what, strerror(-rc));
		if (rcv_got < rcv_want)
			log_warnx("netlink: receive buffer is %zu bytes, not the %zu configured "
			    "(SO_RCVBUFFORCE needs CAP_NET_ADMIN; SO_RCVBUF is capped by "
			    "net.core.rmem_max)", rcv_got, rcv_want);
	}
}

/*
 * Only the receive path (this thread) gets the boost: every other thread
 * sets its nice value back when it starts (thread_set_nice), so a flood
 * cannot starve the audited system through them. A re-executed image keeps
 * the boost it inherited.
 */
static void
boost_priority(struct daemon *d)
{
	if (d->ho.kind == HANDOVER_REEXEC) {
		d->base_nice = d->ho.nice;
	} else {
		d->base_nice = getpriority(PRIO_PROCESS, 0);
		if (d->cfg.priority_boost > 0 &&
		    setpriority(PRIO_PROCESS, 0, d->base_nice - d->cfg.priority_boost) < 0)
			log_warn("priority_boost %d", d->cfg.priority_boost);
	}
	thread_set_nice(d->base_nice);
}

/*
 * What needed privilege is done (socket buffer, ring lock, priority).
 * Keep CAP_AUDIT_CONTROL for status polls, unregistering and removing the
 * exclude rule at stop, CAP_CHOWN when a group gets files or the control
 * socket, and CAP_IPC_LOCK with lock_ring (a re-executed image locks the
 * adopted ring again). Before any thread exists, so all inherit it.
 */
static void
drop_privileges(struct daemon *d)
{
	int keep[3], nkeep = 0, rc;

	if (d->test_input != NULL)
		return;
	keep[nkeep++] = CAP_AUDIT_CONTROL;
	if (d->cfg.control_group[0] || d->cfg.log_group[0])
		keep[nkeep++] = CAP_CHOWN;
	if (d->cfg.lock_ring)
		keep[nkeep++] = CAP_IPC_LOCK;
	if ((rc = priv_drop(keep, (size_t)nkeep)) < 0)
		fatalx(EXIT_RESOURCE, "capabilities: dropping the unneeded ones: %s", strerror(-rc));
}

/*
 * The host's rules, as auditd's unit loads them, once settings and the
 * exclude rule are in (a final -e 2 then locks them in too). A bad rule or
 * a failure is logged, and rauditd runs on with what the kernel took.
 */
static void
load_rules(struct daemon *d)
{
	struct rules_result res;
	int rc;

	if (strcmp(d->cfg.rules, CONFIG_RULES_NONE) == 0)
		return;
	rc = kreg_load_rules(&d->kreg, &d->cfg, RULES_TIMEOUT_MS, &res);
	if (res.compile_failed)
		log_warnx("rules: %s; loaded the rules already in %s",
		    res.message[0] ? res.message : "augenrules failed", res.file);
	if (rc == 0)
		log_info("rules: loaded %s", res.file);
	else if (rc == -EINVAL && res.line > 0)
		log_warnx("rules: %s:%u: %s: \"%s\"; rules after it are not loaded",
		    res.file, res.line, res.message, res.rule);
	else if (rc == -ETIMEDOUT)
		log_warnx("rules: loading %s took longer than %u ms; stopped it",
		    res.file[0] ? res.file : d->cfg.rules, RULES_TIMEOUT_MS);
	else if (rc == -ENOENT)
		log_warnx("rules: no rules file for rules = %s; none loaded", d->cfg.rules);
	else
		log_warnx("rules: loading %s failed: %s%s%s", res.file[0] ? res.file :
		    d->cfg.rules, strerror(-rc), res.message[0] ? ": " : "", res.message);
}

/* Registration comes after the writer runs: from now on records flow. */
static void
register_kernel(struct daemon *d)
{
	char err[CONFIG_ERR_MAX];
	bool stored = d->ho.kind == HANDOVER_FDSTORE && d->ho.audit_fd >= 0;
	int rc;

	if (d->test_input != NULL || d->ho.kind == HANDOVER_REEXEC)
		return;
	if (kreg_apply(&d->kreg, &d->cfg, err, sizeof(err)) < 0)
		fatalx(EXIT_KERNEL, "%s", err);
	if (stored)
		stat_set(&d->carried_socket,
		    handover_drain_stored(&d->ho, d->rx, &d->rx_stats, RX_MAX_PER_WAKEUP));
	if ((rc = kreg_register(&d->kreg, d->rx, stored, err, sizeof(err))) < 0)
		fatalx(rc == -EBUSY ? EXIT_BUSY : EXIT_KERNEL, "%s", err);
	if (stored)
		log_info("restart: %llu record(s) carried over in the socket, %llu in the ring",
		    (unsigned long long)stat_get(&d->carried_socket),
		    (unsigned long long)d->ho.carried_ring);
	kreg_note_save(&d->kreg, d->ring);
	handover_store(netlink_rx_fd(d->rx), d->ring);
	/* A restart through the fd store finds the rules the kernel kept. */
	if (d->ho.kind == HANDOVER_FRESH)
		load_rules(d);
}

/*
 * The record path in dependency order: writer and receiver over the ring,
 * the loop, the record socket, the control socket; then the boost and the
 * capability drop, before the writer thread (the first thread) starts.
 */
static void
start_pipeline(struct daemon *d, struct spool *spool)
{
	struct writer_settings ws;
	struct reload_plugins rp;
	char text[1024];
	int rc;

	writer_settings_from_config(&ws, &d->cfg);
	reload_plugins_read(&rp, &d->cfg);	/* before the record socket opens */
	reload_plugins_apply(&ws, &rp, true);
	d->writer = writer_new(d->ring, spool, &ws, &d->w_stats, writer_event, d);
	if (d->writer == NULL)
		fatal(EXIT_RESOURCE, "writer");
	d->rx = netlink_rx_new(d->ring, &d->rx_stats, &d->gaps, wake_writer, d->writer);
	if (d->rx == NULL)
		fatal(EXIT_RESOURCE, "netlink: receive buffers");
	d->loop = ev_default_loop(EVFLAG_AUTO | EVFLAG_NOENV);
	if (d->loop == NULL)
		fatalx(EXIT_RESOURCE, "libev: cannot initialise the default loop");
	ev_timer_init(&d->upgrade_timer, upgrade_timer_cb, 0.05, 0.);
	d->upgrade_timer.data = d;
	ev_timer_init(&d->stop_defer, stop_defer_cb, 0., 0.);
	d->stop_defer.data = d;
	open_input(d);
	if (start_control(d) < 0)
		fatalx(EXIT_RESOURCE, "control: cannot listen");
	boost_priority(d);
	drop_privileges(d);
	daemon_text(d, text, sizeof(text), "start");
	writer_set_nice(d->writer, d->base_nice);
	if ((rc = writer_start(d->writer, text)) < 0)
		fatalx(EXIT_RESOURCE, "writer: cannot start thread: %s", strerror(-rc));
}

/*
 * The loop ends after the final drain. A loss at the very end may still
 * wait for room in the ring for its marker: the writer is making room, so
 * keep trying (bounded), or the spool would not say what was lost.
 */
static void
flush_final_loss(struct daemon *d)
{
	struct timespec pause = { 0, 1000000 };
	time_t give_up = time(NULL) + (time_t)d->cfg.drain_timeout;

	netlink_rx_flush_loss(d->rx);
	while (netlink_rx_pending_loss(d->rx) > 0 && time(NULL) < give_up) {
		nanosleep(&pause, NULL);
		netlink_rx_flush_loss(d->rx);
	}
}

/* Empty the ring to disk; false when the writer is stuck (do not free it). */
static bool
stop_writer(struct daemon *d, int *status)
{
	char text[768], who[KREG_SENDER_TEXT_MAX];
	uint64_t left = 0, written;
	int rc;

	/* Who stopped us, as auditd's DAEMON_END says; unknown unless a SIGTERM
	 * and the helper that asked the kernel has finished. */
	if (kreg_unregister_done(&d->kreg, &rc))
		kreg_sender_text(&d->kreg.stop_sender, who, sizeof(who));
	else
		snprintf(who, sizeof(who), "auid=-1 pid=-1 subj=?");
	snprintf(text, sizeof(text),
	    "op=terminate %s received=%llu dropped=%llu serial_gaps=%llu res=success", who,
	    (unsigned long long)stat_get(&d->rx_stats.received),
	    (unsigned long long)stat_get(&d->rx_stats.dropped[DROP_RING_FULL]) +
	    stat_get(&d->rx_stats.dropped[DROP_OVERSIZE]),
	    (unsigned long long)d->gaps.gaps);
	rc = writer_stop(d->writer, d->cfg.drain_timeout, text, &left);
	/* What the drain left in the ring is lost with this process. */
	stat_set(&d->rx_stats.dropped[DROP_SHUTDOWN],
	    report_in_ring(d->ring, &d->rx_stats, d->writer, &written));
	if (rc < 0)
		log_warnx("writer: stuck in a write past drain_timeout %u s; not waiting for it",
		    d->cfg.drain_timeout);
	if (stat_get(&d->rx_stats.dropped[DROP_SHUTDOWN]) > 0) {
		log_warnx("writer: drain_timeout %u s passed with %llu record(s) still in the ring; "
		    "they are lost (counted as dropped, reason shutdown)", d->cfg.drain_timeout,
		    (unsigned long long)stat_get(&d->rx_stats.dropped[DROP_SHUTDOWN]));
		*status = EXIT_RUNTIME;
	}
	return rc == 0;
}

static void
log_kernel_summary(struct daemon *d)
{
	struct monitor_status ms;

	if (d->monitor == NULL)
		return;
	monitor_read(d->monitor, &ms);
	if (ms.valid)
		log_info("kernel: lost %u (%+lld since start), backlog max %u, "
		    "backlog_wait_time_actual %+lld since start; %llu polls, %llu skipped, %llu parked",
		    ms.k.lost, (long long)ms.k.lost - (long long)ms.lost_start,
		    ms.backlog_max,
		    (long long)ms.k.backlog_wait_time_actual - (long long)ms.wait_actual_start,
		    (unsigned long long)ms.polls, (unsigned long long)ms.skipped,
		    (unsigned long long)ms.parked);
}

int
main(int argc, char **argv)
{
	static struct daemon dd;
	struct daemon *d = &dd;
	struct spool *spool;
	struct spool_recovery rec;
	char err[CONFIG_ERR_MAX];
	bool check = false, stopped = true;
	int status = EXIT_OK, rc;

	d->cfg_path = RAUDITD_CONF;
	d->argv = argv;
	if ((status = parse_args(d, argc, argv, &check)) >= 0 ||
	    (status = load_config(d, check)) >= 0)
		return status;
	status = EXIT_OK;

	log_init("rauditd", d->foreground, d->debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	find_exe(d);
	kreg_init(&d->kreg, d->cfg.restore_kernel);
	d->kreg.restored = &d->rx_stats.exclude_restored;
	d->kreg.rx = &d->rx_stats;
	if (handover_begin(&d->ho, &d->kreg, err, sizeof(err)) < 0)
		fatalx(EXIT_RUNTIME, "%s", err);
	/* A re-executed image is the same process: no fork, no new checks. */
	if (!d->foreground && d->ho.kind != HANDOVER_REEXEC)
		daemonize_start(EXIT_RUNTIME, EXIT_RESOURCE);
	signal(SIGPIPE, SIG_IGN);
	if (d->test_input == NULL && d->ho.kind != HANDOVER_REEXEC &&
	    (rc = kreg_precheck(&d->kreg, err, sizeof(err))) < 0)
		fatalx(rc == -EBUSY ? EXIT_BUSY : EXIT_KERNEL, "%s", err);

	/* Dependency order: spool, ring, writer, receiver, control, kernel, monitor. */
	spool = open_spool(d, &rec);
	open_ring(d);
	seqgap_init(&d->gaps);
	start_pipeline(d, spool);
	register_kernel(d);
	if (start_monitor(d) < 0)
		fatalx(EXIT_RESOURCE, "monitor: cannot start");
	seed_monitor(d);
	start_watchers(d);
	log_info("started: spool %s (segment %llu), ring %llu bytes, pid %ld",
	    d->cfg.spool_dir, (unsigned long long)stat_get(&d->w_stats.segment) ?
	    (unsigned long long)stat_get(&d->w_stats.segment) : (unsigned long long)rec.last + 1,
	    (unsigned long long)d->cfg.ring_size, (long)getpid());
	notify_ready("running");
	daemonize_ready(EXIT_OK);

	ev_run(d->loop, 0);

	/* Teardown, the reverse of the above. */
	reload_free(d->reload, 2000);
	flush_final_loss(d);
	if (d->monitor && monitor_stop(d->monitor, 2000) < 0) {
		log_warnx("monitor: a kernel status poll is still asleep in the kernel; not waiting for it");
		stopped = false;
	}
	usr1_join(d);		/* it may still ask the writer to rotate */
	if (!stop_writer(d, &status))
		stopped = false;
	log_counters(d, "stopped");
	if (d->test_input == NULL)
		handover_release(d->ring);
	log_kernel_summary(d);
	kreg_unregister_join(&d->kreg);
	/* What a thread that did not stop may still touch is left to the exit. */
	if (stopped) {
		monitor_free(d->monitor);
		writer_free(d->writer);
		netlink_rx_free(d->rx);
		ring_free(d->ring);
		ev_loop_destroy(d->loop);
	}
	return status;
}
