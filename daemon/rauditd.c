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
#include "kaudit.h"
#include "log.h"
#include "migrate.h"
#include "monitor.h"
#include "netlink_rx.h"
#include "notify.h"
#include "priv.h"
#include "report.h"
#include "ring.h"
#include "seqgap.h"
#include "sidefile.h"
#include "spool.h"
#include "stats.h"
#include "thread.h"
#include "writer.h"

#ifndef RAUDITD_CONF
#define RAUDITD_CONF "/etc/rauditd/rauditd.conf"
#endif

/* Exit status; documented in rauditd(8) and used by the unit file. */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,	/* a failure after start (writer could not stop) */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_CONFIG = 3,	/* invalid configuration file */
	EXIT_BUSY = 4,		/* another audit daemon is registered */
	EXIT_SPOOL = 5,		/* spool directory unusable */
	EXIT_KERNEL = 6,	/* kernel audit unavailable or refused us */
	EXIT_RESOURCE = 7,	/* memory, threads, descriptors */
};

/* Datagrams per event-loop callback, so a flood cannot starve signals. */
#define RX_MAX_PER_WAKEUP	4096
/* Bound on each kernel control request (they may sleep on the backlog). */
#define KAUDIT_TIMEOUT_MS	2000
/* How long a stop waits for the kernel to accept the unregistration. */
#define UNREGISTER_WAIT_S	5.0

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

	/* Reload: read and checked on a helper thread, applied on main. */
	ev_async		 reload_async;
	pthread_t		 reload_thread;
	bool			 reload_busy;	/* main only */
	bool			 reload_again;	/* a HUP came during a reload */
	struct reload_job	*reload_job;	/* the helper's result */

	/* Kernel state as found, to restore at stop. */
	struct audit_status	 orig;
	uint32_t		 changed_mask;
	bool			 registered;
	bool			 excluded_self;

	_Atomic bool		 stopping;	/* main writes, the monitor reads */
	bool			 unreg_started;
	pthread_t		 unreg_thread;
	_Atomic bool		 unreg_done;
	int			 unreg_rc;
	time_t			 start_time;
	int			 ready_fd;	/* daemonize: tell the parent */

	/* Re-exec upgrade (same pid): what the next image adopts. */
	char			 exe_path[PATH_MAX];
	char			**argv;
	ev_timer		 upgrade_timer;	/* runs the upgrade outside callbacks */
	unsigned		 reexecs;	/* images before this one */
	uint64_t		 carried_ring;	/* records found in the adopted ring (set at start) */
	stat_t			 carried_socket;	/* read before the socket first ran dry;
						 * main writes, the monitor thread reads */
	bool			 counting_carried;

	/* Guards the cfg fields the monitor thread reads (reload writes them). */
	pthread_mutex_t		 cfg_mu;

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

/* ---- kernel state ---------------------------------------------------- */

static int
apply_kernel_settings(struct daemon *d, int kfd)
{
	struct audit_status set;
	int rc;

	memset(&set, 0, sizeof(set));
	if (d->cfg.backlog_limit != CONFIG_KERNEL_KEEP) {
		set.mask |= AUDIT_STATUS_BACKLOG_LIMIT;
		set.backlog_limit = d->cfg.backlog_limit;
	}
	if (d->cfg.backlog_wait_time != CONFIG_KERNEL_KEEP) {
		set.mask |= AUDIT_STATUS_BACKLOG_WAIT_TIME;
		set.backlog_wait_time = d->cfg.backlog_wait_time;
	}
	if (d->cfg.rate_limit != CONFIG_KERNEL_KEEP) {
		set.mask |= AUDIT_STATUS_RATE_LIMIT;
		set.rate_limit = d->cfg.rate_limit;
	}
	if (d->cfg.failure != CONFIG_KERNEL_KEEP) {
		set.mask |= AUDIT_STATUS_FAILURE;
		set.failure = d->cfg.failure;
	}
	if (d->cfg.enable == CONFIG_ENABLE_YES && d->orig.enabled == 0) {
		set.mask |= AUDIT_STATUS_ENABLED;
		set.enabled = 1;
	}
	if (set.mask == 0)
		return 0;
	rc = kaudit_set_status(kfd, &set);
	if (rc < 0)
		return rc;
	d->changed_mask = set.mask;
	return 0;
}

/* The kernel settings to put back at stop (enabled always; others if asked). */
static void
restore_kernel_settings(struct daemon *d, int kfd)
{
	struct audit_status set;
	int rc;

	memset(&set, 0, sizeof(set));
	set.mask = d->changed_mask;
	if (!d->cfg.restore_kernel)
		set.mask &= AUDIT_STATUS_ENABLED;
	if (set.mask == 0)
		return;
	set.enabled = d->orig.enabled;
	set.failure = d->orig.failure;
	set.rate_limit = d->orig.rate_limit;
	set.backlog_limit = d->orig.backlog_limit;
	set.backlog_wait_time = d->orig.backlog_wait_time;
	rc = kaudit_set_status(kfd, &set);
	if (rc < 0)
		log_warnx("kernel: restoring audit settings: %s", strerror(-rc));
}

/*
 * What an instance leaves in its ring's header for the next one (a restart
 * through the service manager's fd store, after a stop or a crash): the
 * kernel state to restore at the final stop, and its own pid and rule.
 */
#define KERNEL_NOTE_MAGIC	0x4b4e4f54u	/* "TONK" */
struct kernel_note {
	uint32_t	magic;
	uint32_t	owner_pid;
	uint32_t	enabled, failure, rate_limit, backlog_limit, backlog_wait_time;
	uint32_t	changed_mask;
	uint32_t	excluded_self;
};

static void
save_kernel_note(struct daemon *d)
{
	struct kernel_note n = {
		KERNEL_NOTE_MAGIC, (uint32_t)getpid(), d->orig.enabled, d->orig.failure,
		d->orig.rate_limit, d->orig.backlog_limit, d->orig.backlog_wait_time,
		d->changed_mask, d->excluded_self ? 1u : 0u,
	};

	(void)ring_set_note(d->ring, &n, sizeof(n));
}

/* true when the adopted ring says how the kernel was before us. */
static bool
load_kernel_note(struct daemon *d, struct kernel_note *n)
{
	if (ring_get_note(d->ring, n, sizeof(*n)) != sizeof(*n) || n->magic != KERNEL_NOTE_MAGIC)
		return false;
	d->orig.enabled = n->enabled;
	d->orig.failure = n->failure;
	d->orig.rate_limit = n->rate_limit;
	d->orig.backlog_limit = n->backlog_limit;
	d->orig.backlog_wait_time = n->backlog_wait_time;
	d->changed_mask = n->changed_mask;
	return true;
}

/*
 * Before anything is created (spool segment, rules): can we be the audit
 * daemon at all? Reads the kernel state we will restore at stop.
 */
static void
kernel_precheck(struct daemon *d)
{
	char comm[64];
	int kfd, rc;

	kfd = kaudit_open(KAUDIT_TIMEOUT_MS);
	if (kfd < 0)
		fatalx(EXIT_KERNEL, "kernel: cannot open the audit netlink socket: %s%s",
		    strerror(-kfd), kfd == -EPROTONOSUPPORT ?
		    " (kernel built without CONFIG_AUDIT?)" : "");
	rc = kaudit_get_status(kfd, &d->orig);
	kaudit_close(kfd);
	if (rc < 0)
		fatalx(EXIT_KERNEL, "kernel: audit status request failed: %s%s",
		    strerror(-rc), rc == -EPERM ? " (needs CAP_AUDIT_CONTROL)" : "");
	if (d->orig.pid == 0 || (pid_t)d->orig.pid == getpid() ||
	    !kaudit_pid_alive((pid_t)d->orig.pid, comm, sizeof(comm)))
		return;
	/*
	 * A live process with that number that holds no audit socket is not
	 * the daemon the kernel registered: that one died and its pid was
	 * reused. The kernel drops such a registration when we register (its
	 * port no longer answers), and refuses us if it still does.
	 */
	if (!kaudit_pid_has_audit_socket((pid_t)d->orig.pid)) {
		log_info("kernel: the registered audit pid %u is now \"%s\", which holds no "
		    "audit socket: a dead daemon's pid, reused; taking over", d->orig.pid, comm);
		return;
	}
	fatalx(EXIT_BUSY, "kernel: another audit daemon is registered: pid %u (%s); "
		    "stop it first, rauditd does not take over a live daemon",
		    d->orig.pid, comm);
}

/* Put back what kernel_setup changed; for a registration that failed. */
static void
kernel_undo(struct daemon *d)
{
	int kfd = kaudit_open(KAUDIT_TIMEOUT_MS);

	if (kfd < 0)
		return;
	if (d->excluded_self)
		(void)kaudit_exclude_pid(kfd, getpid(), false);
	d->excluded_self = false;
	if (d->orig.enabled != 2)
		restore_kernel_settings(d, kfd);
	kaudit_close(kfd);
}

/*
 * DESIGN: restart through the fd store. A killed or stopped instance left
 * its audit socket and its ring with the service manager. The socket that
 * outlived its process keeps receiving (kauditd still sends to its port),
 * but the kernel keeps listing the dead pid: we can neither register while
 * that socket lives (the kernel probes the old port, which answers, and
 * refuses us with EEXIST) nor unregister the dead pid (EACCES). So:
 *   1. settings and rules first (our own control socket; nothing waits);
 *   2. the new record socket is already open (big buffer, not registered);
 *   3. ask the manager to close its copy of the old socket (FDSTOREREMOVE),
 *      drain the old socket into the ring until it is empty, close ours;
 *   4. register the new socket at once, retrying while the manager has not
 *      yet closed its copy (the kernel's probe of the old port then fails
 *      and the stale registration is dropped).
 * Records kauditd delivers to the old socket between the last drain and the
 * manager's close, and those it tries to send before the registration (it
 * prints and drops them unless the host booted with audit=1, which keeps a
 * hold queue), are lost; the serial-gap counter sees them. The window is
 * the manager's reaction time to one notify message plus one request.
 */
static void
kernel_setup(struct daemon *d, int old_fd, const struct kernel_note *note)
{
	char comm[64];
	int kfd, rc;

	kfd = kaudit_open(KAUDIT_TIMEOUT_MS);
	if (kfd < 0)
		fatalx(EXIT_KERNEL, "kernel: cannot open the audit netlink socket: %s",
		    strerror(-kfd));
	if (d->orig.enabled == 2)
		log_warnx("kernel: audit configuration is locked (enabled 2); settings stay as they are");
	else if ((rc = apply_kernel_settings(d, kfd)) < 0) {
		kaudit_close(kfd);
		kernel_undo(d);
		fatalx(EXIT_KERNEL, "kernel: applying audit settings: %s", strerror(-rc));
	}

	/* The previous instance's exclude rule names a pid that is gone. */
	if (note != NULL && note->excluded_self && (pid_t)note->owner_pid != getpid())
		(void)kaudit_exclude_pid(kfd, (pid_t)note->owner_pid, false);
	if (d->cfg.exclude_self) {
		rc = kaudit_exclude_pid(kfd, getpid(), true);
		if (rc < 0 && rc != -EEXIST)
			log_warnx("kernel: adding the rule that excludes rauditd's own pid: %s",
			    strerror(-rc));
		else
			d->excluded_self = true;
	}
	kaudit_close(kfd);

	if (old_fd >= 0) {
		int newfd = netlink_rx_detach(d->rx);
		uint64_t before = stat_get(&d->rx_stats.received);
		bool empty = false;

		notify_fdstore_remove("audit");
		netlink_rx_attach(d->rx, old_fd, NETLINK_RX_KERNEL);
		for (int i = 0; i < 100000 && !empty; i++)
			netlink_rx_drain(d->rx, RX_MAX_PER_WAKEUP, &empty);
		stat_set(&d->carried_socket, stat_get(&d->rx_stats.received) - before);
		netlink_rx_attach(d->rx, newfd, NETLINK_RX_KERNEL);	/* closes ours */
		for (int tries = 0; tries < 500; tries++) {
			struct timespec pause = { 0, 2000000 };
			rc = netlink_rx_register(d->rx, KAUDIT_TIMEOUT_MS);
			if (rc != -EEXIST)
				break;
			nanosleep(&pause, NULL);
		}
		log_info("restart: %llu record(s) carried over in the socket, %llu in the ring",
		    (unsigned long long)stat_get(&d->carried_socket), (unsigned long long)d->carried_ring);
	} else {
		rc = netlink_rx_register(d->rx, KAUDIT_TIMEOUT_MS);
	}
	if (rc == 0) {
		d->registered = true;
		return;
	}
	/* Leave the kernel as found before saying why we cannot run. */
	kernel_undo(d);
	if (rc == -EEXIST) {
		pid_t pid = 0;
		if ((kfd = kaudit_open(KAUDIT_TIMEOUT_MS)) >= 0) {
			struct audit_status st;
			if (kaudit_get_status(kfd, &st) == 0)
				pid = (pid_t)st.pid;
			kaudit_close(kfd);
		}
		if (!kaudit_pid_alive(pid, comm, sizeof(comm)))
			snprintf(comm, sizeof(comm), "?");
		fatalx(EXIT_BUSY, "kernel: another audit daemon registered first: pid %ld (%s)",
		    (long)pid, comm);
	}
	fatalx(EXIT_KERNEL, "kernel: registering pid %ld as the audit daemon: %s",
	    (long)getpid(), strerror(-rc));
}

/*
 * Runs on its own thread at stop: the kernel may make a sender of requests
 * sleep while its backlog is over the limit, and the main thread must keep
 * draining the socket meanwhile (that is what brings the backlog down).
 */
static void *
unregister_main(void *arg)
{
	struct daemon *d = arg;
	struct audit_status st;
	int kfd, rc;

	kfd = kaudit_open(KAUDIT_TIMEOUT_MS);
	if (kfd < 0) {
		d->unreg_rc = kfd;
		goto out;
	}
	if (d->excluded_self) {
		rc = kaudit_exclude_pid(kfd, getpid(), false);
		if (rc < 0 && rc != -ENOENT)
			log_warnx("kernel: removing the exclude rule: %s", strerror(-rc));
	}
	if (d->orig.enabled != 2)
		restore_kernel_settings(d, kfd);
	memset(&st, 0, sizeof(st));
	st.mask = AUDIT_STATUS_PID;
	st.pid = 0;
	d->unreg_rc = d->registered ? kaudit_set_status(kfd, &st) : 0;
	kaudit_close(kfd);
out:
	atomic_store(&d->unreg_done, true);
	ev_async_send(d->loop, &d->unreg_async);
	return NULL;
}

/* ---- event loop callbacks -------------------------------------------- */

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
			    (unsigned long long)stat_get(&d->carried_socket), (unsigned long long)d->carried_ring);
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

	if (!atomic_load(&d->unreg_done))
		return;
	if (d->unreg_rc < 0)
		log_warnx("kernel: unregistering: %s", strerror(-d->unreg_rc));
	else if (d->registered)
		log_info("kernel: unregistered pid %ld", (long)getpid());
	d->registered = false;
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

static void
begin_stop(struct daemon *d, const char *why)
{
	int rc;

	if (d->stopping)
		return;
	d->stopping = true;
	log_info("stopping (%s)", why);
	notify_stopping("stopping: draining to disk");
	if (d->test_input != NULL) {
		atomic_store(&d->unreg_done, true);
		ev_async_send(d->loop, &d->unreg_async);
		return;
	}
	/* Keep receiving while the helper unregisters. */
	rc = pthread_create(&d->unreg_thread, NULL, unregister_main, d);
	if (rc != 0) {
		/*
		 * Unregister here instead (bounded by KAUDIT_TIMEOUT_MS per
		 * request): the kernel must not keep a pid that is going away,
		 * nor the rule excluding it. It ends with the same wake-up.
		 */
		log_warnx("stop: cannot start the unregister thread: %s; unregistering "
		    "on the main thread", strerror(rc));
		(void)unregister_main(d);
		return;
	}
	d->unreg_started = true;
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
	src->start_time = d->start_time;
	src->state = atomic_load(&d->stopping) ? "stopping" : "running";
	src->pending_loss = main_thread ? netlink_rx_pending_loss(d->rx) : 0;
	src->reexecs = d->reexecs;
	src->carried_ring = d->carried_ring;
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

/* Monitor thread: the metrics textfile and the state report (SIGCONT). */
static void
side_output(void *arg, bool kicked)
{
	struct daemon *d = arg;
	struct report_src src;
	char path[PATH_MAX + 32];
	size_t n;
	int rc;
	time_t now = time(NULL);

	char metrics[PATH_MAX], run_dir[PATH_MAX];
	time_t interval;
	struct config snap;

	/* A consistent view of the configuration against a reload. */
	pthread_mutex_lock(&d->cfg_mu);
	snap = d->cfg;
	pthread_mutex_unlock(&d->cfg_mu);
	snprintf(metrics, sizeof(metrics), "%s", snap.metrics_file);
	snprintf(run_dir, sizeof(run_dir), "%s", snap.run_dir);
	interval = (time_t)snap.stats_interval;
	report_source(d, &src, false);
	src.cfg = &snap;
	if (atomic_exchange(&d->state_requested, false)) {
		n = report_status(&src, d->side_buf, sizeof(d->side_buf));
		snprintf(path, sizeof(path), "%s/rauditd.state", run_dir);
		rc = sidefile_replace(path, d->side_buf, n, false);
		if (rc < 0)
			log_warnx("state: writing %s: %s", path, strerror(-rc));
		else
			log_info("state: report written to %s", path);
	}
	if (kicked || metrics[0] == '\0' || now - d->metrics_last < interval)
		return;
	d->metrics_last = now;
	n = report_prometheus(&src, d->side_buf, sizeof(d->side_buf));
	rc = sidefile_replace(metrics, d->side_buf, n, false);
	if (rc < 0 && rc != d->metrics_errno)
		log_warnx("metrics: writing %s: %s", metrics, strerror(-rc));
	else if (rc == 0 && d->metrics_errno != 0)
		log_info("metrics: writing %s works again", metrics);
	d->metrics_errno = rc;
}

static void note_changed(const char *key, bool reloadable, void *arg);

/*
 * What a reload helper thread hands back: the parsed and checked file and
 * the control group looked up, or why the file is refused.
 */
struct reload_job {
	struct daemon	*d;
	int		 rc;
	char		 err[CONFIG_ERR_MAX];
	struct config	 nc;
	gid_t		 gid;
	bool		 gid_set;
	bool		 gid_missing;
};

/*
 * Reload helper thread: the file I/O and the group lookup (which may ask
 * NSS, LDAP and the like) stay off the receive path. The file gets the same
 * trust check as at start: whoever can write it controls the audit trail.
 */
static void *
reload_main(void *arg)
{
	struct reload_job *j = arg;
	char buf[16384];	/* getgrnam_r's strings: a group with many members */
	struct group gr, *res = NULL;

	config_defaults(&j->nc);
	j->rc = config_load(&j->nc, j->d->cfg_path, j->err, sizeof(j->err));
	if (j->rc == 0)
		j->rc = priv_check_path(j->d->cfg_path, "config file", j->err, sizeof(j->err));
	if (j->rc == 0 && j->nc.control_group[0] != '\0') {
		if (getgrnam_r(j->nc.control_group, &gr, buf, sizeof(buf), &res) == 0 && res != NULL) {
			j->gid = res->gr_gid;
			j->gid_set = true;
		} else {
			j->gid_missing = true;
		}
	}
	ev_async_send(j->d->loop, &j->d->reload_async);
	return NULL;
}

/* Main thread: apply what the helper read, or keep the running config. */
static void
reload_apply(struct daemon *d, struct reload_job *j)
{
	struct writer_settings ws;
	size_t n;
	int rc;

	if (j->rc < 0) {
		log_warnx("config: reload rejected, keeping the running configuration: %s", j->err);
		return;
	}
	n = config_diff(&d->cfg, &j->nc, note_changed, NULL);
	pthread_mutex_lock(&d->cfg_mu);
	config_apply_reloadable(&d->cfg, &j->nc);
	pthread_mutex_unlock(&d->cfg_mu);
	writer_settings_from_config(&ws, &d->cfg);
	writer_reconfigure(d->writer, &ws);
	if (d->monitor)
		monitor_set_interval(d->monitor, d->cfg.monitor_interval_ms);
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
}

static void do_reload(struct daemon *d);

static void
reload_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct daemon *d = w->data;
	struct reload_job *j = d->reload_job;

	(void)loop;
	(void)revents;
	if (!d->reload_busy || j == NULL)
		return;
	/* The helper sent the wake-up as its last act: the join is immediate. */
	pthread_join(d->reload_thread, NULL);
	d->reload_job = NULL;
	d->reload_busy = false;
	reload_apply(d, j);
	free(j);
	notify_ready("running");
	if (d->reload_again) {
		d->reload_again = false;
		do_reload(d);
	}
}

static void
do_reload(struct daemon *d)
{
	struct reload_job *j;
	int rc;

	if (d->reload_busy) {
		/* The file may have changed again since the helper read it. */
		d->reload_again = true;
		return;
	}
	notify_reloading();
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		log_warnx("config: reload: out of memory; keeping the running configuration");
		notify_ready("running");
		return;
	}
	j->d = d;
	d->reload_job = j;
	d->reload_busy = true;
	rc = thread_start(&d->reload_thread, reload_main, j);
	if (rc < 0) {
		log_warnx("config: reload: cannot start its thread: %s; keeping the running "
		    "configuration", strerror(-rc));
		d->reload_job = NULL;
		d->reload_busy = false;
		free(j);
		notify_ready("running");
	}
}

static void
request_state_report(struct daemon *d)
{
	atomic_store(&d->state_requested, true);
	if (d->monitor)
		monitor_kick(d->monitor);
}

/* ---- re-exec upgrade ------------------------------------------------------- */

#define UPGRADE_ENV_FDS		"RAUDITD_UPGRADE_FDS"
#define UPGRADE_ENV_STATE	"RAUDITD_UPGRADE_STATE"

static int
set_cloexec(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return -errno;
	fl = on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC);
	return fcntl(fd, F_SETFD, fl) < 0 ? -errno : 0;
}

static void start_control(struct daemon *d);
static void start_monitor(struct daemon *d, int nice);

/*
 * DESIGN: zero-loss re-exec. The pid does not change, so the kernel's
 * registration (pid and socket port) stays valid and kauditd keeps queueing
 * into the same socket while the new image starts: nothing is lost there.
 * The ring is a memfd the new image maps again, continuing from the
 * consumer index, so records read but not yet written survive too. The
 * order: stop reading (records wait in the socket), pause the writer at a
 * batch boundary (so no write is cut in half and nothing is written twice),
 * stop the monitor and the control socket, clear close-on-exec on the audit
 * socket and the ring, execve the binary at the path we were started from
 * (an upgraded file there is the new version). If execve fails, everything
 * is started again and the old image runs on. If the new image fails after
 * execve, the process exits, the kernel drops the registration at its next
 * delivery attempt, and the service manager restarts rauditd (records the
 * kernel cannot deliver meanwhile are lost, as with any daemon restart).
 */
static void
do_upgrade(struct daemon *d)
{
	char fds[64], state[256], nice_s[32];
	int afd = netlink_rx_fd(d->rx), rfd = ring_fd(d->ring), rc;
	int nice = getpriority(PRIO_PROCESS, 0) + d->cfg.priority_boost;

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
	if (monitor_stop(d->monitor, 2000) < 0)
		log_warnx("upgrade: a kernel status poll is asleep in the kernel; exec ends it");
	control_close(d->control);
	d->control = NULL;

	snprintf(fds, sizeof(fds), "audit=%d,ring=%d", afd, rfd);
	snprintf(state, sizeof(state), "%u,%u,%u,%u,%u,%u,%d,%d,%u,%lld",
	    d->orig.enabled, d->orig.failure, d->orig.rate_limit, d->orig.backlog_limit,
	    d->orig.backlog_wait_time, d->changed_mask, d->excluded_self ? 1 : 0,
	    d->registered ? 1 : 0, d->reexecs + 1, (long long)d->start_time);
	snprintf(nice_s, sizeof(nice_s), "%d", nice);
	if (setenv(UPGRADE_ENV_FDS, fds, 1) < 0 || setenv(UPGRADE_ENV_STATE, state, 1) < 0 ||
	    setenv("RAUDITD_UPGRADE_NICE", nice_s, 1) < 0 ||
	    set_cloexec(afd, false) < 0 || set_cloexec(rfd, false) < 0) {
		log_warn("upgrade: preparing the hand-over");
		goto restart;
	}
	notify_reloading();
	{
		/* The new image sets up its own signal handling from a clean mask. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	execv(d->exe_path, d->argv);
	log_warn("upgrade: execv %s; the running image carries on", d->exe_path);
restart:
	unsetenv(UPGRADE_ENV_FDS);
	unsetenv(UPGRADE_ENV_STATE);
	unsetenv("RAUDITD_UPGRADE_NICE");
	(void)set_cloexec(afd, true);
	(void)set_cloexec(rfd, true);
	start_control(d);
	start_monitor(d, nice);
	if ((rc = writer_reattach(d->writer)) < 0)
		fatalx(EXIT_RUNTIME, "upgrade: cannot restart the writer: %s", strerror(-rc));
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

/*
 * In a re-executed image: take over the audit socket, the ring and the
 * kernel state to restore at stop. Returns false when this is a fresh start.
 */
static bool
adopt_upgrade(struct daemon *d, int *audit_fd, int *ring_fdp, int *nice)
{
	const char *fds = getenv(UPGRADE_ENV_FDS), *state = getenv(UPGRADE_ENV_STATE);
	const char *nice_s = getenv("RAUDITD_UPGRADE_NICE");
	unsigned v[9];
	long long start;
	int excl, reg;

	if (fds == NULL || state == NULL)
		return false;
	if (sscanf(fds, "audit=%d,ring=%d", audit_fd, ring_fdp) != 2 ||
	    sscanf(state, "%u,%u,%u,%u,%u,%u,%d,%d,%u,%lld", &v[0], &v[1], &v[2], &v[3],
	    &v[4], &v[5], &excl, &reg, &v[6], &start) != 10)
		fatalx(EXIT_RUNTIME, "upgrade: malformed hand-over from the previous image: %s / %s",
		    fds, state);
	d->orig.enabled = v[0];
	d->orig.failure = v[1];
	d->orig.rate_limit = v[2];
	d->orig.backlog_limit = v[3];
	d->orig.backlog_wait_time = v[4];
	d->changed_mask = v[5];
	d->excluded_self = excl != 0;
	d->registered = reg != 0;
	d->reexecs = v[6];
	d->start_time = (time_t)start;
	*nice = nice_s ? atoi(nice_s) : getpriority(PRIO_PROCESS, 0);
	/* Not for whatever this image might exec later. */
	unsetenv(UPGRADE_ENV_FDS);
	unsetenv(UPGRADE_ENV_STATE);
	unsetenv("RAUDITD_UPGRADE_NICE");
	(void)set_cloexec(*audit_fd, true);
	(void)set_cloexec(*ring_fdp, true);
	return true;
}

static void
control_cb(void *arg, uint16_t type, bool privileged, struct control_reply *rep)
{
	struct daemon *d = arg;
	struct report_src src;
	static const char denied[] = "permission denied: only root may do that";

	if (!privileged && type != CONTROL_REQ_STATUS && type != CONTROL_REQ_STATE) {
		rep->type = CONTROL_REP_ERROR;
		rep->len = sizeof(denied) - 1;
		memcpy(rep->buf, denied, rep->len);
		return;
	}
	rep->type = CONTROL_REP_OK;
	rep->len = 0;
	switch (type) {
	case CONTROL_REQ_STATUS:
	case CONTROL_REQ_STATE:
		report_source(d, &src, true);
		rep->type = type == CONTROL_REQ_STATUS ? CONTROL_REP_STATUS : CONTROL_REP_TEXT;
		rep->len = report_status(&src, rep->buf, CONTROL_MAX_PAYLOAD);
		break;
	case CONTROL_REQ_ROTATE:
		log_info("rotating on request");
		writer_rotate(d->writer);
		break;
	case CONTROL_REQ_RELOAD:
		do_reload(d);
		break;
	case CONTROL_REQ_RESUME:
		writer_resume(d->writer);
		break;
	case CONTROL_REQ_STOP:
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
		writer_rotate(d->writer);
		break;
	case SIGUSR2:
		log_info("resuming on SIGUSR2");
		writer_resume(d->writer);
		break;
	case SIGHUP:
		do_reload(d);
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
	if (n > 0 && (size_t)n < len && d->reexecs > 0)
		n += snprintf(buf + n, len - (size_t)n, " reexec=%u carried_ring=%llu",
		    d->reexecs, (unsigned long long)d->carried_ring);
	if (n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " res=success");
}

static int parent_fd = -1;

/* fatal() in the child: hand the exit code to the waiting parent. */
static void
exit_to_parent(int code)
{
	if (parent_fd >= 0) {
		char c = (char)code;
		ssize_t n = write(parent_fd, &c, 1);
		(void)n;
		close(parent_fd);
		parent_fd = -1;
	}
}

/* Fork into the background; the parent exits once the child is ready. */
static void
daemonize(struct daemon *d)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		fatal(EXIT_RESOURCE, "pipe");
	pid = fork();
	if (pid < 0)
		fatal(EXIT_RESOURCE, "fork");
	if (pid > 0) {
		char c = EXIT_RUNTIME;
		ssize_t n;
		close(p[1]);
		do
			n = read(p[0], &c, 1);
		while (n < 0 && errno == EINTR);
		/* No byte: the child exited before it was ready. */
		_exit(n == 1 ? (unsigned char)c : EXIT_RUNTIME);
	}
	close(p[0]);
	parent_fd = p[1];
	log_set_exit_hook(exit_to_parent);
	if (setsid() < 0)
		fatal(EXIT_RESOURCE, "setsid");
	if (chdir("/") < 0)
		fatal(EXIT_RESOURCE, "chdir /");
	{
		int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
	}
	d->ready_fd = p[1];
}

static void
tell_parent(struct daemon *d, char code)
{
	if (d->ready_fd >= 0) {
		ssize_t n = write(d->ready_fd, &code, 1);
		(void)n;
		close(d->ready_fd);
		d->ready_fd = -1;
		parent_fd = -1;
		int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
	}
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
	ev_async_init(&d->reload_async, reload_async_cb);
	d->reload_async.data = d;
	ev_async_start(d->loop, &d->reload_async);
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

static void
start_control(struct daemon *d)
{
	const char *what;

	d->control_gid_set = resolve_group(d->cfg.control_group, &d->control_gid);
	d->control = control_open(d->loop, d->cfg.run_dir, d->control_gid,
	    d->control_gid_set, control_cb, d, &what);
	if (d->control == NULL)
		fatal(EXIT_RESOURCE, "control: %s/%s: %s", d->cfg.run_dir,
		    CONTROL_SOCKET_NAME, what);
}

static void
start_monitor(struct daemon *d, int nice)
{
	int rc;

	monitor_free(d->monitor);
	d->monitor = monitor_new(&d->rx_stats, d->cfg.monitor_interval_ms,
	    d->test_input == NULL);
	if (d->monitor == NULL)
		fatal(EXIT_RESOURCE, "monitor");
	monitor_set_tick(d->monitor, side_output, d);
	monitor_set_nice(d->monitor, nice);
	if ((rc = monitor_start(d->monitor)) < 0)
		fatalx(EXIT_RESOURCE, "monitor: cannot start thread: %s", strerror(-rc));
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "foreground",	no_argument,		NULL, 'f' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "check",	no_argument,		NULL, 'n' },
		{ "debug",	no_argument,		NULL, 'd' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "test-input",	required_argument,	NULL, 'T' },
		{ "from-auditd-conf", required_argument, NULL, 0x100 },
		{ NULL, 0, NULL, 0 }
	};
	static struct daemon dd;
	struct daemon *d = &dd;
	struct spool *spool = NULL;
	struct spool_recovery rec;
	struct writer_settings ws;
	char err[CONFIG_ERR_MAX], text[1024];
	const char *what;
	bool check = false;
	size_t rcv_got = 0, rcv_want = 0;
	uint64_t left = 0;
	int ch, rc, status = EXIT_OK, base_nice = 0;
	int adopt_audit_fd = -1, adopt_ring_fd = -1, stored_audit_fd = -1;
	struct kernel_note note;
	bool upgraded, have_note = false;

	d->cfg_path = RAUDITD_CONF;
	d->ready_fd = -1;
	pthread_mutex_init(&d->cfg_mu, NULL);
	while ((ch = getopt_long(argc, argv, "fc:ndhVT:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': d->foreground = true; break;
		case 'c': d->cfg_path = optarg; break;
		case 'n': check = true; break;
		case 'd': d->debug = d->foreground = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf("rauditd %s\n", PACKAGE_VERSION); return EXIT_OK;
		case 'T': d->test_input = optarg; d->foreground = true; break;
		case 0x100:
			if ((rc = migrate_auditd_conf(optarg, stdout, err, sizeof(err))) < 0)
				fprintf(stderr, "rauditd: %s\n", err);
			return rc < 0 ? EXIT_CONFIG : EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "rauditd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}

	config_defaults(&d->cfg);
	rc = config_load(&d->cfg, d->cfg_path, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "rauditd: %s\n", err);
		return EXIT_CONFIG;
	}
	/* Whoever can write the configuration controls the audit trail. */
	if (priv_check_path(d->cfg_path, "config file", err, sizeof(err)) < 0) {
		fprintf(stderr, "rauditd: %s\n", err);
		return EXIT_CONFIG;
	}
	if (check) {
		config_print(&d->cfg, stdout);
		auditview_print_check(stdout, d->cfg.auditd_view);
		return EXIT_OK;
	}

	log_init("rauditd", d->foreground, d->debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	d->argv = argv;
	{
		/* The path we run from: after a package upgrade it names the new
		 * binary, which is what a re-exec must run. */
		ssize_t n = readlink("/proc/self/exe", d->exe_path, sizeof(d->exe_path) - 1);
		d->exe_path[n > 0 ? n : 0] = '\0';
		if (n > 10 && strcmp(d->exe_path + n - 10, " (deleted)") == 0)
			d->exe_path[n - 10] = '\0';
	}
	upgraded = adopt_upgrade(d, &adopt_audit_fd, &adopt_ring_fd, &base_nice);
	/* A re-executed image is the same process: no fork, no new checks. */
	if (!d->foreground && !upgraded)
		daemonize(d);
	if (!upgraded)
		d->start_time = time(NULL);
	signal(SIGPIPE, SIG_IGN);

	if (d->test_input == NULL && !upgraded)
		kernel_precheck(d);

	/* Dependency order: spool, ring, receiver, kernel, writer, loop. */
	if (access(d->cfg.spool_dir, F_OK) == 0 &&
	    priv_check_path(d->cfg.spool_dir, "spool directory", err, sizeof(err)) < 0)
		fatalx(EXIT_SPOOL, "spool: %s", err);
	rc = spool_open(&spool, d->cfg.spool_dir, &rec, &what);
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
	if (rec.torn_bytes)
		log_warnx("spool: cut a torn last line of %llu bytes from segment %llu",
		    (unsigned long long)rec.torn_bytes, (unsigned long long)rec.last);
	if (rec.gaps)
		log_warnx("spool: %llu segment number(s) missing between %llu and %llu",
		    (unsigned long long)rec.gaps, (unsigned long long)rec.first,
		    (unsigned long long)rec.last);
	stat_set(&d->w_stats.torn_bytes, rec.torn_bytes);

	if (!upgraded && d->test_input == NULL) {
		static const char *const names[] = { "audit", "ring" };
		int fds[2];

		notify_listen_fds(names, fds, 2);
		stored_audit_fd = fds[0];
		/* Drained as if it were the kernel's: it must be an audit socket. */
		if (stored_audit_fd >= 0 && !kaudit_is_audit_socket(stored_audit_fd)) {
			log_warnx("restart: the stored \"audit\" descriptor %d is not a NETLINK_AUDIT "
			    "socket; ignoring it", stored_audit_fd);
			close(stored_audit_fd);
			stored_audit_fd = -1;
		}
		if (fds[1] >= 0) {
			d->ring = ring_adopt(fds[1], d->cfg.lock_ring);
			if (d->ring == NULL) {
				log_warn("restart: the stored ring cannot be adopted; starting a new one");
				close(fds[1]);
			} else {
				uint64_t skipped = 0;

				if (load_kernel_note(d, &note))
					have_note = true;
				/* The batch the dead instance was writing, if any. */
				if ((rc = writer_settle_inflight(d->ring, d->cfg.spool_dir, &skipped)) < 0)
					log_warnx("restart: checking the batch the previous instance was "
					    "writing: %s", strerror(-rc));
				if (skipped)
					log_info("restart: %llu record(s) in the ring were already on disk",
					    (unsigned long long)skipped);
				d->carried_ring = ring_records_in(d->ring) - ring_records_out(d->ring);
			}
		}
	}
	if (d->ring != NULL) {
		/* adopted from the fd store above */
	} else if (upgraded) {
		d->ring = ring_adopt(adopt_ring_fd, d->cfg.lock_ring);
		if (d->ring == NULL)
			fatal(EXIT_RESOURCE, "upgrade: adopting the ring of the previous image");
		d->carried_ring = ring_carried(d->ring);
		d->counting_carried = true;
		if (ring_capacity(d->ring) != d->cfg.ring_size)
			log_warnx("upgrade: ring_size changed; the adopted ring keeps %zu bytes "
			    "until a restart", ring_capacity(d->ring));
	} else {
		d->ring = ring_new(d->cfg.ring_size, d->cfg.lock_ring);
	}
	if (d->ring == NULL)
		fatal(EXIT_RESOURCE, "ring: allocating %llu bytes%s",
		    (unsigned long long)d->cfg.ring_size, d->cfg.lock_ring ? " (locked)" : "");
	seqgap_init(&d->gaps);

	writer_settings_from_config(&ws, &d->cfg);
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

	if (upgraded) {
		/* The registered socket itself: same pid, same port. */
		netlink_rx_attach(d->rx, adopt_audit_fd,
		    d->test_input ? NETLINK_RX_FRAMED : NETLINK_RX_KERNEL);
	} else if (d->test_input != NULL) {
		int fd = open_test_input(d->test_input);
		if (fd < 0)
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

	start_control(d);

	/*
	 * Only the receive path (this thread) gets the boost: the writer and the
	 * monitor set their nice value back when they start, so a flood cannot
	 * starve the audited system through them. A re-executed image keeps the
	 * boost it inherited.
	 */
	if (!upgraded) {
		base_nice = getpriority(PRIO_PROCESS, 0);
		if (d->cfg.priority_boost > 0 &&
		    setpriority(PRIO_PROCESS, 0, base_nice - d->cfg.priority_boost) < 0)
			log_warn("priority_boost %d", d->cfg.priority_boost);
	}

	/*
	 * What needed privilege is done (socket buffer, ring lock, priority).
	 * Keep CAP_AUDIT_CONTROL for status polls, unregistering and removing
	 * the exclude rule at stop, CAP_CHOWN when a group gets files or the
	 * control socket, and CAP_IPC_LOCK with lock_ring (a re-executed image
	 * locks the adopted ring again). Before any thread exists, so all
	 * inherit it.
	 */
	if (d->test_input == NULL) {
		int keep[3], nkeep = 0;
		keep[nkeep++] = CAP_AUDIT_CONTROL;
		if (d->cfg.control_group[0] || d->cfg.log_group[0])
			keep[nkeep++] = CAP_CHOWN;
		if (d->cfg.lock_ring)
			keep[nkeep++] = CAP_IPC_LOCK;
		if ((rc = priv_drop(keep, (size_t)nkeep)) < 0)
			fatalx(EXIT_RESOURCE, "capabilities: dropping the unneeded ones: %s", strerror(-rc));
	}

	daemon_text(d, text, sizeof(text), "start");
	writer_set_nice(d->writer, base_nice);
	rc = writer_start(d->writer, text);
	if (rc < 0)
		fatalx(EXIT_RESOURCE, "writer: cannot start thread: %s", strerror(-rc));

	/* Registration comes after the writer runs: from now on records flow. */
	if (d->test_input == NULL && !upgraded) {
		kernel_setup(d, stored_audit_fd, have_note ? &note : NULL);
		save_kernel_note(d);
		/* The manager keeps these across a crash: see kernel_setup. */
		if (notify_fdstore(netlink_rx_fd(d->rx), "audit") == 0 &&
		    notify_fdstore(ring_fd(d->ring), "ring") == 0)
			log_debug("restart: audit socket and ring handed to the fd store");
	}

	start_monitor(d, base_nice);

	start_watchers(d);
	log_info("started: spool %s (segment %llu), ring %llu bytes, pid %ld",
	    d->cfg.spool_dir, (unsigned long long)stat_get(&d->w_stats.segment) ?
	    (unsigned long long)stat_get(&d->w_stats.segment) : (unsigned long long)rec.last + 1,
	    (unsigned long long)d->cfg.ring_size, (long)getpid());
	notify_ready("running");
	tell_parent(d, EXIT_OK);

	ev_run(d->loop, 0);
	/* A reload still reading the file: it ends on its own, soon. */
	if (d->reload_busy && thread_join_within(d->reload_thread, 2000) == 0)
		free(d->reload_job);

	/*
	 * The loop ends after the final drain. A loss at the very end may still
	 * wait for room in the ring for its marker: the writer is making room,
	 * so keep trying (bounded), or the spool would not say what was lost.
	 */
	{
		struct timespec pause = { 0, 1000000 };
		time_t give_up = time(NULL) + (time_t)d->cfg.drain_timeout;
		netlink_rx_flush_loss(d->rx);
		while (netlink_rx_pending_loss(d->rx) > 0 && time(NULL) < give_up) {
			nanosleep(&pause, NULL);
			netlink_rx_flush_loss(d->rx);
		}
	}

	/* Now empty the ring to disk. */
	if (d->monitor && monitor_stop(d->monitor, 2000) < 0)
		log_warnx("monitor: a kernel status poll is still asleep in the kernel; not waiting for it");
	snprintf(text, sizeof(text),
	    "op=terminate auid=%u pid=%ld uid=%u ses=%u received=%llu dropped=%llu serial_gaps=%llu res=success",
	    read_proc_uint("/proc/self/loginuid"), (long)getpid(), (unsigned)getuid(),
	    read_proc_uint("/proc/self/sessionid"),
	    (unsigned long long)stat_get(&d->rx_stats.received),
	    (unsigned long long)stat_get(&d->rx_stats.dropped[DROP_RING_FULL]) +
	    stat_get(&d->rx_stats.dropped[DROP_OVERSIZE]),
	    (unsigned long long)d->gaps.gaps);
	rc = writer_stop(d->writer, d->cfg.drain_timeout, text, &left);
	{
		/* What the drain left in the ring is lost with this process. */
		uint64_t written;
		stat_set(&d->rx_stats.dropped[DROP_SHUTDOWN],
		    report_in_ring(d->ring, &d->rx_stats, d->writer, &written));
	}
	if (rc < 0)
		log_warnx("writer: stuck in a write past drain_timeout %u s; not waiting for it",
		    d->cfg.drain_timeout);
	if (stat_get(&d->rx_stats.dropped[DROP_SHUTDOWN]) > 0) {
		log_warnx("writer: drain_timeout %u s passed with %llu record(s) still in the ring; "
		    "they are lost (counted as dropped, reason shutdown)", d->cfg.drain_timeout,
		    (unsigned long long)stat_get(&d->rx_stats.dropped[DROP_SHUTDOWN]));
		status = EXIT_RUNTIME;
	}
	log_counters(d, "stopped");
	/*
	 * A clean stop leaves nothing for a next instance to adopt: the socket
	 * is unregistered. A ring that still holds records (drain_timeout
	 * passed) stays in the fd store, so a restart writes them after all.
	 */
	if (d->test_input == NULL) {
		notify_fdstore_remove("audit");
		if (ring_used(d->ring) == 0)
			notify_fdstore_remove("ring");
	}
	if (d->monitor) {
		struct monitor_status ms;
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
	if (d->unreg_started && atomic_load(&d->unreg_done))
		pthread_join(d->unreg_thread, NULL);
	if (rc == 0) {
		writer_free(d->writer);
		netlink_rx_free(d->rx);
		ring_free(d->ring);
		monitor_free(d->monitor);
	}
	return status;
}
