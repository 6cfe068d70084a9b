/*
 * handover.c - this file turns "fresh start, fd-store restart or re-exec"
 * into one struct handover: what the previous instance left (its audit
 * socket, its ring, the kernel state to restore) and how it left it.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config.h"
#include "handover.h"
#include "kaudit.h"
#include "kreg.h"
#include "log.h"
#include "netlink_rx.h"
#include "notify.h"
#include "ring.h"
#include "stats.h"
#include "writer.h"

#define HANDOVER_ENV_FDS	"RAUDITD_UPGRADE_FDS"
#define HANDOVER_ENV_STATE	"RAUDITD_UPGRADE_STATE"
#define HANDOVER_ENV_NICE	"RAUDITD_UPGRADE_NICE"
/* Drain passes over the old socket: bounded even under a flood. */
#define HANDOVER_DRAIN_PASSES	100000

static int
handover_cloexec(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return -errno;
	fl = on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC);
	return fcntl(fd, F_SETFD, fl) < 0 ? -errno : 0;
}

static void
handover_clear_env(void)
{
	unsetenv(HANDOVER_ENV_FDS);
	unsetenv(HANDOVER_ENV_STATE);
	unsetenv(HANDOVER_ENV_NICE);
}

int
handover_begin(struct handover *h, struct kreg *k, char *err, size_t len)
{
	const char *fds = getenv(HANDOVER_ENV_FDS), *state = getenv(HANDOVER_ENV_STATE);
	const char *nice_s = getenv(HANDOVER_ENV_NICE);
	long long start;
	int used;

	memset(h, 0, sizeof(*h));
	h->kind = HANDOVER_FRESH;
	h->audit_fd = h->ring_fd = -1;
	h->start_time = time(NULL);
	if (fds == NULL || state == NULL)
		return 0;
	if (sscanf(fds, "audit=%d,ring=%d", &h->audit_fd, &h->ring_fd) != 2 ||
	    (used = kreg_parse(k, state)) < 0 ||
	    sscanf(state + used, ",%u,%lld", &h->reexecs, &start) != 2) {
		snprintf(err, len, "upgrade: malformed hand-over from the previous image: %s / %s",
		    fds, state);
		return -EINVAL;
	}
	h->kind = HANDOVER_REEXEC;
	h->start_time = (time_t)start;
	h->nice = nice_s ? atoi(nice_s) : getpriority(PRIO_PROCESS, 0);
	/* Not for whatever this image might exec later. */
	handover_clear_env();
	(void)handover_cloexec(h->audit_fd, true);
	(void)handover_cloexec(h->ring_fd, true);
	return 0;
}

/* The ring a dead instance left in the fd store, with its kernel note. */
static void
handover_adopt_stored_ring(struct handover *h, struct kreg *k, const struct config *cfg, int fd)
{
	uint64_t skipped = 0;
	int rc;

	h->ring = ring_adopt(fd, cfg->lock_ring);
	if (h->ring == NULL) {
		log_warn("restart: the stored ring cannot be adopted; starting a new one");
		close(fd);
		return;
	}
	(void)kreg_note_load(k, h->ring);
	/* The batch the dead instance was writing, if any. */
	if ((rc = writer_settle_inflight(h->ring, cfg->spool_dir, &skipped)) < 0)
		log_warnx("restart: checking the batch the previous instance was writing: %s",
		    strerror(-rc));
	if (skipped)
		log_info("restart: %llu record(s) in the ring were already on disk",
		    (unsigned long long)skipped);
	h->carried_ring = ring_records_in(h->ring) - ring_records_out(h->ring);
}

int
handover_adopt(struct handover *h, struct kreg *k, const struct config *cfg,
    bool kernel, char *err, size_t len)
{
	static const char *const names[] = { "audit", "ring" };
	int fds[2];

	if (h->kind == HANDOVER_REEXEC) {
		h->ring = ring_adopt(h->ring_fd, cfg->lock_ring);
		if (h->ring == NULL) {
			snprintf(err, len, "upgrade: adopting the ring of the previous image: %s",
			    strerror(errno));
			return errno ? -errno : -EINVAL;
		}
		h->ring_fd = -1;
		h->carried_ring = ring_carried(h->ring);
		if (ring_capacity(h->ring) != cfg->ring_size)
			log_warnx("upgrade: ring_size changed; the adopted ring keeps %zu bytes "
			    "until a restart", ring_capacity(h->ring));
		return 0;
	}
	if (!kernel)
		return 0;
	notify_listen_fds(names, fds, 2);
	h->audit_fd = fds[0];
	/* Drained as if it were the kernel's: it must be an audit socket. */
	if (h->audit_fd >= 0 && !kaudit_is_audit_socket(h->audit_fd)) {
		log_warnx("restart: the stored \"audit\" descriptor %d is not a NETLINK_AUDIT "
		    "socket; ignoring it", h->audit_fd);
		close(h->audit_fd);
		h->audit_fd = -1;
	}
	if (fds[1] >= 0)
		handover_adopt_stored_ring(h, k, cfg, fds[1]);
	if (h->audit_fd >= 0 || h->ring != NULL)
		h->kind = HANDOVER_FDSTORE;
	return 0;
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
 *      and the stale registration is dropped): kreg_register's retry.
 * Records kauditd delivers to the old socket between the last drain and the
 * manager's close, and those it tries to send before the registration (it
 * prints and drops them unless the host booted with audit=1, which keeps a
 * hold queue), are lost; the serial-gap counter sees them. The window is
 * the manager's reaction time to one notify message plus one request.
 */
uint64_t
handover_drain_stored(struct handover *h, struct netlink_rx *rx,
    const struct rx_stats *st, size_t max_per_drain)
{
	uint64_t before = stat_get(&st->received);
	int newfd;
	bool empty = false;

	if (h->audit_fd < 0)
		return 0;
	newfd = netlink_rx_detach(rx);
	notify_fdstore_remove("audit");
	netlink_rx_attach(rx, h->audit_fd, NETLINK_RX_KERNEL);
	h->audit_fd = -1;
	for (int i = 0; i < HANDOVER_DRAIN_PASSES && !empty; i++)
		netlink_rx_drain(rx, max_per_drain, &empty);
	netlink_rx_attach(rx, newfd, NETLINK_RX_KERNEL);	/* closes the old one */
	return stat_get(&st->received) - before;
}

void
handover_store(int audit_fd, const struct ring *r)
{
	/* The manager keeps these across a crash: see handover_drain_stored. */
	if (notify_fdstore(audit_fd, "audit") == 0 && notify_fdstore(ring_fd(r), "ring") == 0)
		log_debug("restart: audit socket and ring handed to the fd store");
}

void
handover_release(const struct ring *r)
{
	/*
	 * A clean stop leaves nothing for a next instance to adopt: the socket
	 * is unregistered. A ring that still holds records (drain_timeout
	 * passed) stays in the fd store, so a restart writes them after all.
	 */
	notify_fdstore_remove("audit");
	if (ring_used(r) == 0)
		notify_fdstore_remove("ring");
}

/*
 * DESIGN: zero-loss re-exec. The pid does not change, so the kernel's
 * registration (pid and socket port) stays valid and kauditd keeps queueing
 * into the same socket while the new image starts: nothing is lost there.
 * The ring is a memfd the new image maps again, continuing from the
 * consumer index, so records read but not yet written survive too. The
 * caller has stopped reading, paused the writer at a batch boundary and
 * stopped the monitor and the control socket; here the audit socket and
 * the ring lose close-on-exec and the binary at the path we were started
 * from (an upgraded file there is the new version) is executed. If the new
 * image fails after execve, the process exits, the kernel drops the
 * registration at its next delivery attempt, and the service manager
 * restarts rauditd (records the kernel cannot deliver meanwhile are lost,
 * as with any daemon restart).
 */
int
handover_exec(const char *exe, char **argv, int audit_fd, const struct ring *r,
    const struct kreg *k, unsigned reexecs, time_t start_time, int nice)
{
	char fds[64], state[256], nice_s[32];
	int rfd = ring_fd(r), n, rc;
	sigset_t none, old;

	snprintf(fds, sizeof(fds), "audit=%d,ring=%d", audit_fd, rfd);
	n = kreg_format(k, state, sizeof(state));
	if (n < 0)
		return n;
	snprintf(state + n, sizeof(state) - (size_t)n, ",%u,%lld", reexecs, (long long)start_time);
	snprintf(nice_s, sizeof(nice_s), "%d", nice);
	if (setenv(HANDOVER_ENV_FDS, fds, 1) < 0 || setenv(HANDOVER_ENV_STATE, state, 1) < 0 ||
	    setenv(HANDOVER_ENV_NICE, nice_s, 1) < 0 ||
	    handover_cloexec(audit_fd, false) < 0 || handover_cloexec(rfd, false) < 0) {
		rc = -errno;
		log_warn("upgrade: preparing the hand-over");
		goto fail;
	}
	notify_reloading();
	/* The new image sets up its own signal handling from a clean mask. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, &old);
	execv(exe, argv);
	rc = -errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	log_warn("upgrade: execv %s; the running image carries on", exe);
fail:
	handover_clear_env();
	(void)handover_cloexec(audit_fd, true);
	(void)handover_cloexec(rfd, true);
	return rc;
}
