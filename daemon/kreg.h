/*
 * kreg.h - registration with the kernel as its audit daemon: the precheck
 * (may we be the daemon at all?), the settings we change and what to put
 * back, the rule that excludes our own pid, register and unregister, and
 * the note a next instance (fd-store restart, re-exec) reads to restore
 * the kernel as it was found. Main thread, except the unregister helper.
 */
#ifndef RAUDITD_KREG_H
#define RAUDITD_KREG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/audit.h>

#include "stats.h"

struct config;
struct netlink_rx;
struct ring;
struct rules_result;

/* Who sent the daemon a signal (AUDIT_SIGNAL_INFO), as auditd records it. */
struct kreg_sender {
	uint32_t	auid;
	int32_t		pid;
	char		subj[256];	/* "" when the kernel has no context */
	bool		valid;		/* the kernel answered */
};
#define KREG_SENDER_TEXT_MAX	320

/* Bound on each kernel control request (they may sleep on the backlog). */
#define KREG_TIMEOUT_MS		2000
/* The exclude-rule re-check waits at most this long for a quiet moment. */
#define KREG_QUIET_WAIT_MS	1000

struct kreg {
	struct audit_status	 orig;		/* the kernel as found, to restore */
	uint64_t		 orig_ns;	/* CLOCK_MONOTONIC when orig was read */
	uint32_t		 changed_mask;	/* AUDIT_STATUS_* fields we set */
	struct audit_status	 applied;	/* their values */
	bool			 registered;
	bool			 excluded_self;	/* our exclude rule is in */
	bool			 restore_all;	/* restore_kernel: all, not only enabled */
	pid_t			 prev_owner;	/* a previous instance's pid with a rule, or 0 */

	/* Who sent the signal that stops us (ask_sender: the stop is a SIGTERM). */
	bool			 ask_sender;
	struct kreg_sender	 stop_sender;

	/* The helper that puts the exclude rule back after someone removed rules. */
	pthread_t		 recheck_thread;
	bool			 recheck_started;	/* main only */
	_Atomic bool		 recheck_req;
	_Atomic bool		 recheck_running;
	stat_t			*restored;	/* counts the rule put back; the helper
						 * is its one writer (set by main, or NULL) */
	const struct rx_stats	*rx;		/* the receive path, to wait for a quiet
						 * moment before asking (set by main, or NULL) */

	/* The unregister helper thread. */
	pthread_t		 unreg_thread;
	bool			 unreg_started;
	_Atomic bool		 unreg_done;
	int			 unreg_rc;
	void			(*unreg_cb)(void *);
	void			*unreg_arg;
};

/* Zero *k; restore_all is the restore_kernel setting. */
void kreg_init(struct kreg *k, bool restore_all);

/*
 * Before anything is created: read the kernel state and check that no live
 * audit daemon is registered. 0; -EBUSY when one is; another negative errno
 * when the kernel cannot be asked. err names why.
 */
int kreg_precheck(struct kreg *k, char *err, size_t len);

/*
 * Apply the configured kernel settings and the exclude rule; remove the
 * rule of a previous instance (kreg_note_load). On failure the kernel is
 * put back as found; a negative errno and err say why.
 */
int kreg_apply(struct kreg *k, const struct config *cfg, char *err, size_t len);

/*
 * Register rx's socket as the audit daemon. retry: a stale registration
 * of a socket the service manager is closing may answer for a moment, so
 * EEXIST is retried for about a second. On failure the kernel is put back
 * as found and -EBUSY (another daemon) or another negative errno returned.
 */
int kreg_register(struct kreg *k, struct netlink_rx *rx, bool retry, char *err, size_t len);

/*
 * The kernel's status as a registration left it, without asking the kernel
 * again: what kreg_precheck() read, with the settings kreg_apply() set and
 * our pid laid over it; *read_ns is when it was read. The monitor starts
 * from it (monitor_seed), so a status query right after start has kernel
 * lines before the monitor's first quiet moment. false when not registered.
 */
bool kreg_status_now(const struct kreg *k, struct audit_status *out, uint64_t *read_ns);

/*
 * Unregister and restore on a helper thread (the kernel may make a sender
 * of requests sleep while its backlog is over the limit, and the main
 * thread must keep draining meanwhile); done(arg) is called from it when
 * finished. When no thread can be started it runs here, and done is called
 * all the same. kreg_unregister_done() tells whether it finished and its
 * result; kreg_unregister_join() joins a finished helper.
 */
void kreg_unregister_start(struct kreg *k, void (*done)(void *), void *arg);
bool kreg_unregister_done(struct kreg *k, int *rc);
void kreg_unregister_join(struct kreg *k);

/*
 * Load the host's rules per cfg->rules (rules.h) with the exclude rule put
 * back right after a rules file's -D, so a final -e 2 keeps it. Blocks for
 * up to a few timeout_ms: startup only, before the receive loop runs.
 */
int kreg_load_rules(struct kreg *k, const struct config *cfg, unsigned timeout_ms,
    struct rules_result *res);

/*
 * Someone removed audit rules (a CONFIG_CHANGE op=remove_rule): check on a
 * helper thread that the exclude rule is still in, and put it back when it
 * is not (counted in *restored, logged). Requests during a check run
 * one more check. Main thread. kreg_recheck_join waits for the helper.
 */
void kreg_recheck_request(struct kreg *k);
void kreg_recheck_join(struct kreg *k);

/* Ask the kernel who last signalled us; s->valid tells whether it said. */
void kreg_sender_get(struct kreg_sender *s);
/* "auid=A pid=P subj=S" as auditd writes it; "auid=-1 pid=-1 subj=?" when unknown. */
void kreg_sender_text(const struct kreg_sender *s, char *buf, size_t len);

/* The note in the ring's header a next instance reads (ring_set_note). */
void kreg_note_save(const struct kreg *k, struct ring *r);
/* true when r carries a note; the state found and prev_owner are taken. */
bool kreg_note_load(struct kreg *k, const struct ring *r);

/*
 * The state across a re-exec, as text: kreg_format writes it into buf
 * (comma-separated numbers), kreg_parse reads it back and returns how many
 * characters it used, or -EINVAL.
 */
int kreg_format(const struct kreg *k, char *buf, size_t len);
int kreg_parse(struct kreg *k, const char *s);

#endif
