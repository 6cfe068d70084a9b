/*
 * diskpolicy.h - auditd.conf's disk-space policy for the spool: space_left,
 * admin_space_left, disk_full_action, disk_error_action, and loss_action
 * for records rauditd itself loses.
 *
 * DESIGN
 * A struct diskpolicy belongs to the writer thread: it is created, fed and
 * freed there (or before the thread starts). Nothing here runs on the
 * receive path. Each event fires its action once when it starts (free space
 * falls below a threshold, a write fails with ENOSPC or EIO) and again only
 * after it has ended (space back at or above the threshold, a write that
 * worked); loss fires once per loss report. An action never blocks the
 * writer for long: "exec" is a posix_spawn (fixed argv: the script and the
 * reason, no shell) reaped with WNOHANG on later checks and killed after
 * DISKPOLICY_EXEC_TIMEOUT_S; "rotate" calls back into the writer, which owns
 * the spool. Every firing and every recovery writes a daemon record through
 * the record hook and is logged.
 */
#ifndef RAUDITD_DISKPOLICY_H
#define RAUDITD_DISKPOLICY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

/* An exec action still running after this long is killed (SIGKILL). */
#define DISKPOLICY_EXEC_TIMEOUT_S	60
/* statvfs of the spool directory at most this often (writer thread). */
#define DISKPOLICY_CHECK_MS		200

enum diskpolicy_event {
	DISKPOLICY_SPACE_LEFT,
	DISKPOLICY_ADMIN_SPACE_LEFT,
	DISKPOLICY_DISK_FULL,
	DISKPOLICY_DISK_ERROR,
	DISKPOLICY_LOSS,
	DISKPOLICY_EVENTS
};

enum diskpolicy_kind {
	DISKPOLICY_IGNORE,
	DISKPOLICY_SYSLOG,
	DISKPOLICY_ROTATE,	/* delete the oldest sealed segment */
	DISKPOLICY_EXEC,	/* run path with the reason as its one argument */
};

struct diskpolicy_action {
	enum diskpolicy_kind	kind;
	char			path[PATH_MAX];	/* DISKPOLICY_EXEC */
};

/* A threshold: bytes, or a percentage (1..99) of the file system's size. */
struct diskpolicy_space {
	uint64_t	value;
	bool		percent;
};

struct diskpolicy_settings {
	struct diskpolicy_space		space_left, admin_space_left;
	struct diskpolicy_action	action[DISKPOLICY_EVENTS];
};

/* The config key (and exec reason) of an event: "space_left", ... "loss". */
const char *diskpolicy_event_name(enum diskpolicy_event ev);

/*
 * Parse a threshold as auditd.conf has it: a plain number is MiB (auditd's
 * unit), a number with K, M or G is that many KiB, MiB or GiB, and N% with
 * N from 1 to 99 is a share of the file system. 0 or -EINVAL with the
 * reason in msg.
 */
int diskpolicy_parse_space(const char *s, struct diskpolicy_space *sp,
    char *msg, size_t msglen);

/*
 * Parse an action for event ev: ignore, syslog, rotate (space and disk-full
 * events only), or "exec /absolute/path". auditd's email, suspend, single,
 * halt (and anything else) are rejected with the reason in msg: -EINVAL.
 */
int diskpolicy_parse_action(enum diskpolicy_event ev, const char *s,
    struct diskpolicy_action *a, char *msg, size_t msglen);

/* Format a threshold or an action back as the config has it. */
void diskpolicy_format_space(const struct diskpolicy_space *sp, char *buf, size_t len);

/* The threshold in bytes on a file system of total bytes. */
uint64_t diskpolicy_threshold(const struct diskpolicy_space *sp, uint64_t total);

/* From a config the parser accepted (its values parse). */
void diskpolicy_settings_from_config(struct diskpolicy_settings *ds,
    const struct config *c);

/* How the writer lets a policy act on the spool. */
struct diskpolicy_hooks {
	/* Write a daemon record (DAEMON_ERR) with this text into the spool. */
	void	(*record)(void *arg, const char *text);
	/*
	 * Delete the oldest sealed segment; force: even one a consumer has
	 * not finished (counted by the writer). Returns segments deleted or a
	 * negative errno.
	 */
	int	(*rotate)(void *arg, bool force);
	void	*arg;
};

struct diskpolicy;

/* Returns NULL with errno set. */
struct diskpolicy *diskpolicy_new(const struct diskpolicy_settings *ds,
    const struct diskpolicy_hooks *hooks);

/* New settings (reload). Events already in progress stay in progress. */
void diskpolicy_set(struct diskpolicy *p, const struct diskpolicy_settings *ds);

/*
 * At most every DISKPOLICY_CHECK_MS (now_ns is CLOCK_MONOTONIC): statvfs
 * dir and feed diskpolicy_observe; and reap finished exec actions. Cheap
 * enough to call after every batch and on every idle wake-up.
 */
void diskpolicy_check(struct diskpolicy *p, const char *dir, uint64_t now_ns);

/* The space thresholds against avail of total bytes (for tests too). */
void diskpolicy_observe(struct diskpolicy *p, uint64_t avail, uint64_t total);

/* A write failed (on) or worked again (off): disk_full / disk_error. */
void diskpolicy_fault(struct diskpolicy *p, enum diskpolicy_event ev, bool on, int err);

/*
 * rauditd lost records; detail says what ("reason=ring_full records=12",
 * "reason=unshipped_deleted segment=4 bytes=1024"). Fires every time.
 */
void diskpolicy_loss(struct diskpolicy *p, const char *detail);

/* How many times ev fired, and exec actions started, reaped, killed. */
uint64_t diskpolicy_fired(const struct diskpolicy *p, enum diskpolicy_event ev);
/* ev is in progress: fired and not yet recovered (never for loss). */
bool diskpolicy_active(const struct diskpolicy *p, enum diskpolicy_event ev);
void diskpolicy_exec_counts(const struct diskpolicy *p, uint64_t *started,
    uint64_t *failed, uint64_t *killed);

/* Free; exec actions still running are left to finish (not waited for). */
void diskpolicy_free(struct diskpolicy *p);

#endif
