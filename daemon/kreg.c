/*
 * kreg.c - this file registers rauditd with the kernel as its audit daemon
 * and leaves the kernel as it found it: precheck, settings and what to put
 * back, the rule excluding our own pid, register, unregister, and the note
 * that carries this state to a next instance.
 */
#include "build_config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "kaudit.h"
#include "kreg.h"
#include "log.h"
#include "monitor.h"
#include "mono.h"
#include "netlink_rx.h"
#include "ring.h"
#include "rules.h"
#include "thread.h"

/* EEXIST retries while a stale registration's socket is being closed. */
#define KREG_RETRIES		500
#define KREG_RETRY_NS		2000000L	/* 2 ms: 500 of them, about a second */

void
kreg_init(struct kreg *k, bool restore_all)
{
	memset(k, 0, sizeof(*k));
	k->restore_all = restore_all;
}

/* The kernel settings to put back at stop (enabled always; others if asked). */
static void
kreg_restore_settings(struct kreg *k, int kfd)
{
	struct audit_status set;
	int rc;

	if (k->orig.enabled == 2)
		return;
	memset(&set, 0, sizeof(set));
	set.mask = k->changed_mask;
	if (!k->restore_all)
		set.mask &= AUDIT_STATUS_ENABLED;
	if (set.mask == 0)
		return;
	set.enabled = k->orig.enabled;
	set.failure = k->orig.failure;
	set.rate_limit = k->orig.rate_limit;
	set.backlog_limit = k->orig.backlog_limit;
	set.backlog_wait_time = k->orig.backlog_wait_time;
	rc = kaudit_set_status(kfd, &set);
	if (rc < 0)
		log_warnx("kernel: restoring audit settings: %s", strerror(-rc));
}

int
kreg_precheck(struct kreg *k, char *err, size_t len)
{
	char comm[64];
	int kfd, rc;

	kfd = kaudit_open(KREG_TIMEOUT_MS);
	if (kfd < 0) {
		snprintf(err, len, "kernel: cannot open the audit netlink socket: %s%s",
		    strerror(-kfd), kfd == -EPROTONOSUPPORT ?
		    " (kernel built without CONFIG_AUDIT?)" : "");
		return kfd;
	}
	rc = kaudit_get_status(kfd, &k->orig);
	k->orig_ns = mono_ns();
	kaudit_close(kfd);
	if (rc < 0) {
		snprintf(err, len, "kernel: audit status request failed: %s%s",
		    strerror(-rc), rc == -EPERM ? " (needs CAP_AUDIT_CONTROL)" : "");
		return rc;
	}
	if (k->orig.pid == 0 || (pid_t)k->orig.pid == getpid() ||
	    !kaudit_pid_alive((pid_t)k->orig.pid, comm, sizeof(comm)))
		return 0;
	/*
	 * A live process with that number that holds no audit socket is not
	 * the daemon the kernel registered: that one died and its pid was
	 * reused. The kernel drops such a registration when we register (its
	 * port no longer answers), and refuses us if it still does.
	 */
	if (!kaudit_pid_has_audit_socket((pid_t)k->orig.pid)) {
		log_info("kernel: the registered audit pid %u is now \"%s\", which holds no "
		    "audit socket: a dead daemon's pid, reused; taking over", k->orig.pid, comm);
		return 0;
	}
	snprintf(err, len, "kernel: another audit daemon is registered: pid %u (%s); "
	    "stop it first, rauditd does not take over a live daemon", k->orig.pid, comm);
	return -EBUSY;
}

/* The settings rauditd may change: config field, status field, mask bit. */
static const struct {
	uint32_t	mask;
	size_t		cfg;		/* uint32_t in struct config, CONFIG_KERNEL_KEEP = leave */
	size_t		st;		/* uint32_t in struct audit_status */
} kreg_fields[] = {
	{ AUDIT_STATUS_BACKLOG_LIMIT, offsetof(struct config, backlog_limit),
	    offsetof(struct audit_status, backlog_limit) },
	{ AUDIT_STATUS_BACKLOG_WAIT_TIME, offsetof(struct config, backlog_wait_time),
	    offsetof(struct audit_status, backlog_wait_time) },
	{ AUDIT_STATUS_RATE_LIMIT, offsetof(struct config, rate_limit),
	    offsetof(struct audit_status, rate_limit) },
	{ AUDIT_STATUS_FAILURE, offsetof(struct config, failure),
	    offsetof(struct audit_status, failure) },
};

#define KREG_U32(base, off)	(*(uint32_t *)(void *)((char *)(base) + (off)))
#define KREG_CU32(base, off)	(*(const uint32_t *)(const void *)((const char *)(base) + (off)))

static void kreg_undo(struct kreg *k);

static int
kreg_set(struct kreg *k, const struct config *cfg, int kfd)
{
	struct audit_status set;
	int rc;

	memset(&set, 0, sizeof(set));
	for (size_t i = 0; i < sizeof(kreg_fields) / sizeof(kreg_fields[0]); i++) {
		uint32_t v = KREG_CU32(cfg, kreg_fields[i].cfg);

		if (v == CONFIG_KERNEL_KEEP)
			continue;
		set.mask |= kreg_fields[i].mask;
		KREG_U32(&set, kreg_fields[i].st) = v;
	}
	if (cfg->enable == CONFIG_ENABLE_YES && k->orig.enabled == 0) {
		set.mask |= AUDIT_STATUS_ENABLED;
		set.enabled = 1;
	}
	if (set.mask == 0)
		return 0;
	rc = kaudit_set_status(kfd, &set);
	if (rc < 0)
		return rc;
	k->changed_mask = set.mask;
	k->applied = set;
	return 0;
}

int
kreg_apply(struct kreg *k, const struct config *cfg, char *err, size_t len)
{
	int kfd, rc;

	kfd = kaudit_open(KREG_TIMEOUT_MS);
	if (kfd < 0) {
		snprintf(err, len, "kernel: cannot open the audit netlink socket: %s",
		    strerror(-kfd));
		return kfd;
	}
	if (k->orig.enabled == 2)
		log_warnx("kernel: audit configuration is locked (enabled 2); settings stay as they are");
	else if ((rc = kreg_set(k, cfg, kfd)) < 0) {
		kaudit_close(kfd);
		kreg_undo(k);
		snprintf(err, len, "kernel: applying audit settings: %s", strerror(-rc));
		return rc;
	}
	/* The previous instance's exclude rule names a pid that is gone. */
	if (k->prev_owner > 0 && k->prev_owner != getpid())
		(void)kaudit_exclude_pid(kfd, k->prev_owner, false);
	if (cfg->exclude_self) {
		rc = kaudit_exclude_pid(kfd, getpid(), true);
		if (rc < 0 && rc != -EEXIST)
			log_warnx("kernel: adding the rule that excludes rauditd's own pid: %s",
			    strerror(-rc));
		else
			k->excluded_self = true;
	}
	kaudit_close(kfd);
	return 0;
}

int
kreg_register(struct kreg *k, struct netlink_rx *rx, bool retry, char *err, size_t len)
{
	char comm[64];
	pid_t pid = 0;
	int kfd, rc;

	for (int tries = 0; ; tries++) {
		struct timespec pause = { 0, KREG_RETRY_NS };

		rc = netlink_rx_register(rx, KREG_TIMEOUT_MS);
		if (rc != -EEXIST || !retry || tries + 1 >= KREG_RETRIES)
			break;
		nanosleep(&pause, NULL);
	}
	if (rc == 0) {
		k->registered = true;
		return 0;
	}
	/* Leave the kernel as found before saying why we cannot run. */
	kreg_undo(k);
	if (rc != -EEXIST) {
		snprintf(err, len, "kernel: registering pid %ld as the audit daemon: %s",
		    (long)getpid(), strerror(-rc));
		return rc;
	}
	if ((kfd = kaudit_open(KREG_TIMEOUT_MS)) >= 0) {
		struct audit_status st;
		if (kaudit_get_status(kfd, &st) == 0)
			pid = (pid_t)st.pid;
		kaudit_close(kfd);
	}
	if (!kaudit_pid_alive(pid, comm, sizeof(comm)))
		snprintf(comm, sizeof(comm), "?");
	snprintf(err, len, "kernel: another audit daemon registered first: pid %ld (%s)",
	    (long)pid, comm);
	return -EBUSY;
}

/* Put back what kreg_apply changed (a registration that failed). */
static void
kreg_undo(struct kreg *k)
{
	int kfd = kaudit_open(KREG_TIMEOUT_MS);

	if (kfd < 0)
		return;
	if (k->excluded_self)
		(void)kaudit_exclude_pid(kfd, getpid(), false);
	k->excluded_self = false;
	kreg_restore_settings(k, kfd);
	kaudit_close(kfd);
}

static void *
kreg_unregister_main(void *arg)
{
	struct kreg *k = arg;
	struct audit_status st;
	int kfd, rc;

	/* Main asks for no more checks once stopping: a check still running
	 * must not put the rule back after it is removed below. */
	kreg_recheck_join(k);
	kfd = kaudit_open(KREG_TIMEOUT_MS);
	if (kfd < 0) {
		k->unreg_rc = kfd;
		goto out;
	}
	/* Before the pid goes: who sent the SIGTERM (auditd's DAEMON_END says). */
	if (k->ask_sender)
		kreg_sender_get(&k->stop_sender);
	if (k->excluded_self) {
		rc = kaudit_exclude_pid(kfd, getpid(), false);
		if (rc < 0 && rc != -ENOENT)
			log_warnx("kernel: removing the exclude rule: %s", strerror(-rc));
	}
	kreg_restore_settings(k, kfd);
	memset(&st, 0, sizeof(st));
	st.mask = AUDIT_STATUS_PID;
	st.pid = 0;
	k->unreg_rc = k->registered ? kaudit_set_status(kfd, &st) : 0;
	kaudit_close(kfd);
out:
	/* release: publishes unreg_rc; pairs with the acquire in kreg_unregister_done */
	atomic_store_explicit(&k->unreg_done, true, memory_order_release);
	return NULL;
}

/* The helper's entry: unregister, then tell the owner. */
static void *
kreg_unregister_thread(void *arg)
{
	struct kreg *k = arg;

	kreg_unregister_main(k);
	k->unreg_cb(k->unreg_arg);
	return NULL;
}

void
kreg_unregister_start(struct kreg *k, void (*done)(void *), void *arg)
{
	int rc;

	k->unreg_cb = done;
	k->unreg_arg = arg;
	rc = thread_start(&k->unreg_thread, kreg_unregister_thread, k);
	if (rc == 0) {
		k->unreg_started = true;
		return;
	}
	/*
	 * Unregister here instead (bounded by KREG_TIMEOUT_MS per request):
	 * the kernel must not keep a pid that is going away, nor the rule
	 * excluding it. It ends with the same wake-up.
	 */
	log_warnx("stop: cannot start the unregister thread: %s; unregistering "
	    "on the main thread", strerror(-rc));
	(void)kreg_unregister_thread(k);
}

bool
kreg_unregister_done(struct kreg *k, int *rc)
{
	if (!atomic_load_explicit(&k->unreg_done, memory_order_acquire))
		return false;
	*rc = k->unreg_rc;
	return true;
}

void
kreg_unregister_join(struct kreg *k)
{
	if (k->unreg_started && atomic_load(&k->unreg_done)) {
		pthread_join(k->unreg_thread, NULL);
		k->unreg_started = false;
	}
}

bool
kreg_status_now(const struct kreg *k, struct audit_status *out, uint64_t *read_ns)
{
	if (!k->registered)
		return false;
	*out = k->orig;
	for (size_t i = 0; i < sizeof(kreg_fields) / sizeof(kreg_fields[0]); i++)
		if (k->changed_mask & kreg_fields[i].mask)
			KREG_U32(out, kreg_fields[i].st) = KREG_CU32(&k->applied, kreg_fields[i].st);
	if (k->changed_mask & AUDIT_STATUS_ENABLED)
		out->enabled = k->applied.enabled;
	out->mask = 0;
	out->pid = (uint32_t)getpid();
	*read_ns = k->orig_ns;
	return true;
}

/* One check: 1 when the rule was missing and is back, 0 when it was in. */
static int
kreg_recheck_once(void)
{
	int kfd = kaudit_open(KREG_TIMEOUT_MS), rc;

	if (kfd < 0)
		return kfd;
	/* A second copy would not be refused: look first. */
	rc = kaudit_has_exclude_pid(kfd, getpid());
	if (rc == 0)
		rc = kaudit_exclude_pid(kfd, getpid(), true) == 0 ? 1 : rc;
	else if (rc > 0)
		rc = 0;
	kaudit_close(kfd);
	return rc;
}

/* rules_load's hook after its -D: the exclude rule goes back in first. */
static int
kreg_readd(void *arg)
{
	struct kreg *k = arg;
	int rc = kreg_recheck_once();

	if (rc >= 0)
		k->excluded_self = true;
	return rc < 0 ? rc : 0;
}

int
kreg_load_rules(struct kreg *k, const struct config *cfg, unsigned timeout_ms,
    struct rules_result *res)
{
	struct rules_cmds cmds;

	rules_cmds_default(&cmds);
	return rules_load(cfg->rules, &cmds, timeout_ms,
	    cfg->exclude_self ? kreg_readd : NULL, k, res);
}

static void *
kreg_recheck_main(void *arg)
{
	struct kreg *k = arg;
	bool expect = false;
	int rc;

	do {
		while (atomic_exchange(&k->recheck_req, false)) {
			/*
			 * A request sent while the kernel queue is over its
			 * limit sleeps among the audited processes and can take
			 * their wake-up (monitor.h): wait for a quiet moment, but
			 * not long, since without the rule our own writes may be
			 * audited.
			 */
			if (k->rx != NULL)
				(void)monitor_wait_quiet(k->rx, KREG_QUIET_WAIT_MS);
			rc = kreg_recheck_once();
			if (rc > 0) {
				if (k->restored != NULL)
					stat_add(k->restored, 1);
				log_warnx("kernel: audit rules were removed, and with them the rule "
				    "excluding rauditd's own pid %ld; put it back", (long)getpid());
			} else if (rc < 0) {
				log_warnx("kernel: putting back the rule excluding rauditd's own "
				    "pid: %s", strerror(-rc));
			}
		}
		atomic_store(&k->recheck_running, false);
		/* A request between the last exchange and the store above. */
		expect = false;
	} while (atomic_load(&k->recheck_req) &&
	    atomic_compare_exchange_strong(&k->recheck_running, &expect, true));
	return NULL;
}

void
kreg_recheck_request(struct kreg *k)
{
	bool expect = false;
	int rc;

	if (!k->excluded_self)
		return;
	atomic_store(&k->recheck_req, true);
	if (!atomic_compare_exchange_strong(&k->recheck_running, &expect, true))
		return;		/* the running helper sees the request */
	kreg_recheck_join(k);
	rc = thread_start(&k->recheck_thread, kreg_recheck_main, k);
	if (rc < 0) {
		atomic_store(&k->recheck_running, false);
		log_warnx("kernel: cannot start the thread that checks the exclude rule: %s",
		    strerror(-rc));
		return;
	}
	k->recheck_started = true;
}

void
kreg_recheck_join(struct kreg *k)
{
	if (k->recheck_started) {
		pthread_join(k->recheck_thread, NULL);
		k->recheck_started = false;
	}
}

void
kreg_sender_get(struct kreg_sender *s)
{
	pid_t pid = -1;
	int kfd = kaudit_open(KREG_TIMEOUT_MS);

	memset(s, 0, sizeof(*s));
	if (kfd < 0)
		return;
	s->valid = kaudit_signal_info(kfd, &s->auid, &pid, s->subj, sizeof(s->subj)) == 0;
	s->pid = (int32_t)pid;
	kaudit_close(kfd);
}

void
kreg_sender_text(const struct kreg_sender *s, char *buf, size_t len)
{
	if (!s->valid)
		snprintf(buf, len, "auid=-1 pid=-1 subj=?");
	else
		snprintf(buf, len, "auid=%u pid=%d subj=%s", s->auid, (int)s->pid,
		    s->subj[0] != '\0' ? s->subj : "?");
}

/*
 * What an instance leaves in its ring's header for the next one (a restart
 * through the service manager's fd store, after a stop or a crash): the
 * kernel state to restore at the final stop, and its own pid and rule.
 */
#define KREG_NOTE_MAGIC	0x4b4e4f54u	/* "TONK" */
struct kreg_note {
	uint32_t	magic;
	uint32_t	owner_pid;
	uint32_t	enabled, failure, rate_limit, backlog_limit, backlog_wait_time;
	uint32_t	changed_mask;
	uint32_t	excluded_self;
};

void
kreg_note_save(const struct kreg *k, struct ring *r)
{
	struct kreg_note n = {
		KREG_NOTE_MAGIC, (uint32_t)getpid(), k->orig.enabled, k->orig.failure,
		k->orig.rate_limit, k->orig.backlog_limit, k->orig.backlog_wait_time,
		k->changed_mask, k->excluded_self ? 1u : 0u,
	};

	(void)ring_set_note(r, &n, sizeof(n));
}

bool
kreg_note_load(struct kreg *k, const struct ring *r)
{
	struct kreg_note n;

	if (ring_get_note(r, &n, sizeof(n)) != sizeof(n) || n.magic != KREG_NOTE_MAGIC)
		return false;
	k->orig.enabled = n.enabled;
	k->orig.failure = n.failure;
	k->orig.rate_limit = n.rate_limit;
	k->orig.backlog_limit = n.backlog_limit;
	k->orig.backlog_wait_time = n.backlog_wait_time;
	k->changed_mask = n.changed_mask;
	k->prev_owner = n.excluded_self ? (pid_t)n.owner_pid : 0;
	return true;
}

int
kreg_format(const struct kreg *k, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%u,%u,%u,%u,%u,%u,%d,%d",
	    k->orig.enabled, k->orig.failure, k->orig.rate_limit, k->orig.backlog_limit,
	    k->orig.backlog_wait_time, k->changed_mask, k->excluded_self ? 1 : 0,
	    k->registered ? 1 : 0);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

int
kreg_parse(struct kreg *k, const char *s)
{
	unsigned v[6];
	int excl, reg, used = -1;

	if (sscanf(s, "%u,%u,%u,%u,%u,%u,%d,%d%n", &v[0], &v[1], &v[2], &v[3], &v[4],
	    &v[5], &excl, &reg, &used) != 8 || used < 0)
		return -EINVAL;
	k->orig.enabled = v[0];
	k->orig.failure = v[1];
	k->orig.rate_limit = v[2];
	k->orig.backlog_limit = v[3];
	k->orig.backlog_wait_time = v[4];
	k->changed_mask = v[5];
	k->excluded_self = excl != 0;
	k->registered = reg != 0;
	return used;
}
