/*
 * config.h - rauditd.conf: parse and validate into a struct config.
 *
 * The format is plain "key = value" lines; '#' starts a comment line.
 * Parsing is strict: an unknown key, a bad or out-of-range value, a
 * duplicate key or trailing junk is an error naming file:line. All
 * functions are pure (no logging) and are called on the main thread.
 */
#ifndef RAUDITD_CONFIG_H
#define RAUDITD_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum config_flush {
	CONFIG_FLUSH_NONE,		/* leave it to the page cache */
	CONFIG_FLUSH_INCREMENTAL,	/* fdatasync every freq records */
	CONFIG_FLUSH_DATA,		/* fdatasync after every batch */
	CONFIG_FLUSH_SYNC,		/* fsync after every batch */
};

enum config_enable {
	CONFIG_ENABLE_KEEP,		/* leave the kernel's enabled flag alone */
	CONFIG_ENABLE_YES,		/* set enabled=1 at start */
};

enum config_format {
	CONFIG_FORMAT_RAW,
	CONFIG_FORMAT_ENRICHED,
};

enum config_ring_full {
	CONFIG_RING_FULL_WAIT,		/* stop reading; records wait in the socket */
	CONFIG_RING_FULL_DROP,		/* read on; drop what the ring cannot take, count it */
};

enum config_overflow {
	CONFIG_OVERFLOW_DROP,		/* drop the newest record, count it */
};

enum config_name_format {
	CONFIG_NAME_NONE,		/* no node= prefix */
	CONFIG_NAME_HOSTNAME,		/* gethostname() */
	CONFIG_NAME_FQD,		/* its canonical name */
	CONFIG_NAME_NUMERIC,		/* its address */
	CONFIG_NAME_USER,		/* the name key */
};

/* rules: compile and load the host's rules as augenrules --load, or none. */
#define CONFIG_RULES_AUGENRULES	"augenrules"
#define CONFIG_RULES_NONE	"none"

/* Kernel settings are "keep" (leave as found) or a value to apply at start. */
#define CONFIG_KERNEL_KEEP	UINT32_MAX

/* Room for a host name or "HOST:PORT" (a DNS name is at most 253 bytes). */
#define CONFIG_HOST_MAX		272

struct config {
	char		spool_dir[PATH_MAX];
	char		run_dir[PATH_MAX];
	uint64_t	segment_size;		/* bytes; rotate when reached */
	uint32_t	num_segments;		/* keep at most this many, 0 = no limit */
	uint64_t	max_spool_size;		/* bytes, 0 = no limit */
	uint64_t	ring_size;		/* bytes, power of two */
	uint64_t	rcvbuf;			/* bytes, netlink receive buffer; 0 = from RAM */
	enum config_ring_full ring_full_action;
	enum config_flush flush;
	uint32_t	freq;			/* records between syncs (incremental) */
	uint32_t	flush_interval_ms;	/* max age of an unsynced record (incremental) */
	enum config_enable enable;
	bool		exclude_self;
	char		rules[PATH_MAX];	/* CONFIG_RULES_* or a rules file */
	enum config_format log_format;
	uint32_t	drain_timeout;		/* seconds to drain the ring at stop */
	uint32_t	batch_size;		/* bytes per write(2) batch */
	uint32_t	backlog_limit;		/* CONFIG_KERNEL_KEEP or a value */
	uint32_t	backlog_wait_time;	/* CONFIG_KERNEL_KEEP or kernel ticks, as auditctl */
	uint32_t	rate_limit;		/* CONFIG_KERNEL_KEEP or records/s */
	uint32_t	failure;		/* CONFIG_KERNEL_KEEP or 0 silent, 1 printk, 2 panic */
	bool		restore_kernel;		/* put tuned kernel values back at stop */
	uint32_t	monitor_interval_ms;	/* kernel status poll period */
	int		priority_boost;		/* nice decrement for the receive thread */
	bool		lock_ring;		/* mlock the ring */
	uint32_t	retry_interval_ms;	/* writer retry period when degraded */
	char		control_group[64];	/* group allowed status, "" = root only */
	char		log_group[64];		/* group that may read the spool, "" = root only */
	uint32_t	stats_interval;		/* seconds between metrics/STATUS updates */
	char		metrics_file[PATH_MAX];	/* Prometheus textfile, "" = none */
	char		seal_key[PATH_MAX];	/* chain sealing key file, "" = unkeyed */

	/* rauditd-ship; the daemon uses ship_target and ship_cursor only. */
	char		ship_target[CONFIG_HOST_MAX];	/* "HOST:PORT", "" = shipping off */
	char		ship_cursor[PATH_MAX];	/* "" = ship.cursor in spool_dir */
	uint32_t	ship_window;		/* records past the saved cursor, at most */
	uint32_t	ship_timeout;		/* seconds: connect, open, acknowledgement */
	uint32_t	ship_reconnect_min_ms;
	uint32_t	ship_reconnect_max_ms;
	bool		ship_tls;
	char		ship_tls_ca[PATH_MAX];	/* "" = none */
	char		ship_tls_cert[PATH_MAX];
	char		ship_tls_key[PATH_MAX];
	char		ship_tls_peer[CONFIG_HOST_MAX];	/* "" = the host of ship_target */
	char		ship_status[PATH_MAX];	/* "" = ship.status in run_dir */

	/* rauditd-dispatch: auditd's plugins fed from the spool. */
	char		plugin_dir[PATH_MAX];	/* auditd's plugins.d */
	char		plugin_cursor_dir[PATH_MAX];	/* "" = spool_dir */
	uint32_t	max_restarts;		/* exits in a row before a plugin is left failed */

	/* auditd.conf's disk-space policy (values as diskpolicy.c parses them). */
	char		space_left[32];		/* MiB, size with K/M/G, or N% */
	char		admin_space_left[32];
	char		space_left_action[PATH_MAX];	/* ignore|syslog|rotate|exec /path */
	char		admin_space_left_action[PATH_MAX];
	char		disk_full_action[PATH_MAX];
	char		disk_error_action[PATH_MAX];	/* ignore|syslog|exec /path */
	char		loss_action[PATH_MAX];		/* records rauditd loses itself */

	/* auditd.conf's node name: the "node=NAME " prefix of every line. */
	int		name_format;		/* enum config_name_format */
	char		name[CONFIG_HOST_MAX];	/* name_format = user */

	/* auditd's tools: audit.log links where auditd.conf's log_file says. */
	bool		auditd_view;
};

/* The configuration file of all four programs (the build passes the real one). */
#ifndef RAUDITD_CONF
#define RAUDITD_CONF "/etc/rauditd/rauditd.conf"
#endif

#define CONFIG_ERR_MAX	512

/* Fill *c with the built-in defaults. */
void config_defaults(struct config *c);

/*
 * Parse the file at path into *c (which config_defaults must have filled).
 * Returns 0, or a negative errno with a "file:line: message" in err.
 */
int config_load(struct config *c, const char *path, char *err, size_t errlen);

/* Parse text (NUL-terminated) as if it were the file name. Same returns. */
int config_parse_buffer(struct config *c, const char *name, const char *text,
    char *err, size_t errlen);

/* Print the effective configuration, one "key = value" per line. */
void config_print(const struct config *c, FILE *fp);

/* The name of a flush policy, as the file and status spell it. */
const char *config_flush_name(enum config_flush f);

/* Number of keys and the i-th key's name (for tests and documentation). */
size_t config_key_count(void);
const char *config_key_name(size_t i);

/*
 * Compare two configurations key by key. For each key whose value differs,
 * call fn(key, reloadable, arg). Returns the number of differing keys.
 */
size_t config_diff(const struct config *a, const struct config *b,
    void (*fn)(const char *key, bool reloadable, void *arg), void *arg);

/* Copy the reloadable keys of src into dst, leaving the others. */
void config_apply_reloadable(struct config *dst, const struct config *src);

/*
 * The paths rauditd-ship and the daemon agree on: ship_cursor, or
 * ship.cursor in spool_dir when it is empty; ship_status, or ship.status in
 * run_dir. Return buf.
 */
const char *config_ship_cursor(const struct config *c, char *buf, size_t len);
const char *config_ship_status(const struct config *c, char *buf, size_t len);

/*
 * Where rauditd-dispatch keeps the plugins' cursor files:
 * plugin_cursor_dir, or spool_dir when it is empty. Returns buf.
 */
const char *config_plugin_cursor_dir(const struct config *c, char *buf, size_t len);

/*
 * What rauditd-ship needs beyond a file that parses: a ship_target, and
 * TLS keys that are all there or all off (each key alone parses, so that
 * the daemon, which does not use them, never refuses a file over them).
 * Returns 0, or -EINVAL with the reason in err.
 */
int config_ship_check(const struct config *c, char *err, size_t errlen);

/*
 * Split ship_target into host (brackets of an IPv6 address removed) and
 * port. Returns 0, or -EINVAL when it is empty or malformed.
 */
int config_ship_split(const struct config *c, char *host, size_t hostlen,
    char *port, size_t portlen);

#endif
