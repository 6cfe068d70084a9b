/*
 * config.c - this file parses rauditd.conf into a struct config through one
 * table of keys (name, type, range, field, default, reloadable), so the
 * parser, the printer, the reload logic and the documentation test all read
 * the same list.
 */
#include "build_config.h"

#include "config.h"
#include "diskpolicy.h"
#include "kvline.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef RAUDITD_SPOOL_DIR
#define RAUDITD_SPOOL_DIR "/var/log/rauditd"
#endif
#ifndef RAUDITD_PLUGIN_DIR
#define RAUDITD_PLUGIN_DIR "/etc/audit/plugins.d"
#endif
#ifndef RAUDITD_RUN_DIR
#define RAUDITD_RUN_DIR "/run/rauditd"
#endif

/* A config file larger than this is not a config file. */
#define CONFIG_FILE_MAX		(1024 * 1024)

enum key_type {
	KT_PATH,	/* absolute path */
	KT_SIZE,	/* bytes with optional K/M/G suffix (powers of 1024) */
	KT_UINT,	/* decimal unsigned */
	KT_INT,		/* decimal signed */
	KT_BOOL,	/* yes/no */
	KT_ENUM,	/* one of names[] */
	KT_KERNEL,	/* "keep" or a decimal unsigned */
	KT_NAME,	/* short identifier (group name), may be empty */
	KT_OPTPATH,	/* absolute path, or empty for "none" */
	KT_TARGET,	/* HOST:PORT or [IPV6]:PORT, may be empty */
	KT_HOST,	/* host name, address or *.domain, may be empty */
	KT_RULES,	/* "augenrules", "none" or an absolute path */
	KT_SPACE,	/* MiB, size with K/M/G, or N% (diskpolicy_parse_space) */
	KT_ACTION,	/* disk action; min = enum diskpolicy_event */
	KT_NODE,	/* a node name: printable, no blank, may be empty */
};

struct key {
	const char	*name;
	enum key_type	 type;
	size_t		 offset;
	size_t		 size;		/* of the field in struct config */
	int64_t		 min, max;
	const char	*const *names;	/* KT_ENUM */
	bool		 reloadable;
	unsigned	 flags;		/* KF_* */
	const char	*def;		/* the default, as the file would spell it */
};

/* Key flags. */
#define KF_POW2		0x1	/* KT_SIZE: must be a power of two */
#define KF_ZERO		0x2	/* KT_SIZE: 0 is allowed below min (automatic) */

static const char *const flush_names[] = { "none", "incremental", "data", "sync", NULL };
static const char *const enable_names[] = { "keep", "yes", NULL };
static const char *const format_names[] = { "raw", "enriched", NULL };
static const char *const ring_full_names[] = { "wait", "drop", NULL };
static const char *const name_format_names[] = { "none", "hostname", "fqd", "numeric",
    "user", NULL };

const char *
config_flush_name(enum config_flush f)
{
	return (size_t)f < sizeof(flush_names) / sizeof(flush_names[0]) - 1 ? flush_names[f] : "?";
}

#define OFF(f)	offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define KiB	(1024LL)
#define MiB	(1024LL * 1024)
#define GiB	(1024LL * 1024 * 1024)

/*
 * DESIGN: the one list of keys. The parser, config_defaults (which parses
 * each default as if the file said it), -n printing, reload, the man page
 * check and the shipped-config check (tests/integration/config_check.sh)
 * all read it.
 */
static const struct key keys[] = {
	{ "spool_dir",		KT_PATH,   OFF(spool_dir),	0, 0, NULL, false, 0, RAUDITD_SPOOL_DIR },
	{ "run_dir",		KT_PATH,   OFF(run_dir),	0, 0, NULL, false, 0, RAUDITD_RUN_DIR },
	{ "segment_size",	KT_SIZE,   OFF(segment_size),	64 * KiB, 64 * GiB, NULL, true, 0, "64M" },
	{ "num_segments",	KT_UINT,   OFF(num_segments),	0, 1000000, NULL, true, 0, "16" },
	{ "max_spool_size",	KT_SIZE,   OFF(max_spool_size),	0, 1024 * GiB, NULL, true, 0, "0" },
	/* The tamper-evidence chain's key file (chain.h); empty: unkeyed links. */
	{ "seal_key",		KT_OPTPATH, OFF(seal_key),	0, 0, NULL, false, 0, "" },
	/* 64 MiB holds about 250k typical records: tens of seconds of a stall. */
	{ "ring_size",		KT_SIZE,   OFF(ring_size),	64 * KiB, 16 * GiB, NULL, false, KF_POW2, "64M" },
	/*
	 * The socket buffer is a limit, not an allocation; it is the only
	 * buffer that still works while rauditd itself is stopped, and the
	 * second one behind a full ring. 0 sizes it from the host's RAM
	 * (netlink_rx_default_rcvbuf): 1 GiB, which rode out a 5 s SIGSTOP at
	 * 10k events/s, where that is safe.
	 */
	{ "rcvbuf",		KT_SIZE,   OFF(rcvbuf),		64 * KiB, 2 * GiB - 1, NULL, false, KF_ZERO, "0" },
	{ "ring_full_action",	KT_ENUM,   OFF(ring_full_action), 0, 0, ring_full_names, false, 0, "wait" },
	{ "flush",		KT_ENUM,   OFF(flush),		0, 0, flush_names, true, 0, "incremental" },
	{ "freq",		KT_UINT,   OFF(freq),		1, 1000000, NULL, true, 0, "1000" },
	{ "batch_size",		KT_SIZE,   OFF(batch_size),	16 * KiB, 64 * MiB, NULL, false, 0, "256K" },
	/* As auditd: auditing on at start, left as found at stop. */
	{ "enable",		KT_ENUM,   OFF(enable),		0, 0, enable_names, false, 0, "yes" },
	{ "rules",		KT_RULES,  OFF(rules),		0, 0, NULL, false, 0, CONFIG_RULES_AUGENRULES },
	{ "exclude_self",	KT_BOOL,   OFF(exclude_self),	0, 0, NULL, false, 0, "yes" },
	{ "log_format",		KT_ENUM,   OFF(log_format),	0, 0, format_names, true, 0, "raw" },
	{ "drain_timeout",	KT_UINT,   OFF(drain_timeout),	0, 3600, NULL, true, 0, "10" },
	{ "backlog_limit",	KT_KERNEL, OFF(backlog_limit),	0, UINT32_MAX - 1, NULL, false, 0, "keep" },
	{ "backlog_wait_time",	KT_KERNEL, OFF(backlog_wait_time), 0, 600000, NULL, false, 0, "keep" },
	{ "rate_limit",		KT_KERNEL, OFF(rate_limit),	0, UINT32_MAX - 1, NULL, false, 0, "keep" },
	{ "failure",		KT_KERNEL, OFF(failure),	0, 2, NULL, false, 0, "keep" },
	{ "restore_kernel",	KT_BOOL,   OFF(restore_kernel),	0, 0, NULL, false, 0, "yes" },
	{ "monitor_interval",	KT_UINT,   OFF(monitor_interval_ms), 100, 60000, NULL, true, 0, "1000" },
	{ "priority_boost",	KT_INT,    OFF(priority_boost),	0, 20, NULL, false, 0, "4" },
	{ "lock_ring",		KT_BOOL,   OFF(lock_ring),	0, 0, NULL, false, 0, "no" },
	{ "retry_interval",	KT_UINT,   OFF(retry_interval_ms), 10, 60000, NULL, true, 0, "1000" },
	{ "flush_interval",	KT_UINT,   OFF(flush_interval_ms), 1, 3600000, NULL, true, 0, "1000" },
	{ "control_group",	KT_NAME,   OFF(control_group),	0, 0, NULL, true, 0, "" },
	{ "log_group",		KT_NAME,   OFF(log_group),	0, 0, NULL, false, 0, "" },
	{ "stats_interval",	KT_UINT,   OFF(stats_interval),	1, 3600, NULL, true, 0, "5" },
	{ "metrics_file",	KT_OPTPATH, OFF(metrics_file),	0, 0, NULL, true, 0, "" },
	/* rauditd-ship reads these at its start; the daemon only the first two. */
	{ "ship_target",	KT_TARGET, OFF(ship_target),	0, 0, NULL, true, 0, "" },
	{ "ship_cursor",	KT_OPTPATH, OFF(ship_cursor),	0, 0, NULL, true, 0, "" },
	/*
	 * A crash re-sends at most ship_window records; half of it is librelp's
	 * window, the other half lets the cursor be written once per 512
	 * records (a rename each, an fsync at most once a second).
	 */
	{ "ship_window",	KT_UINT,   OFF(ship_window),	4, 65536, NULL, true, 0, "1024" },
	{ "ship_timeout",	KT_UINT,   OFF(ship_timeout),	1, 3600, NULL, true, 0, "30" },
	{ "ship_reconnect_min",	KT_UINT,   OFF(ship_reconnect_min_ms), 10, 3600000, NULL, true, 0, "100" },
	{ "ship_reconnect_max",	KT_UINT,   OFF(ship_reconnect_max_ms), 10, 3600000, NULL, true, 0, "30000" },
	{ "ship_tls",		KT_BOOL,   OFF(ship_tls),	0, 0, NULL, true, 0, "no" },
	{ "ship_tls_ca",	KT_OPTPATH, OFF(ship_tls_ca),	0, 0, NULL, true, 0, "" },
	{ "ship_tls_cert",	KT_OPTPATH, OFF(ship_tls_cert),	0, 0, NULL, true, 0, "" },
	{ "ship_tls_key",	KT_OPTPATH, OFF(ship_tls_key),	0, 0, NULL, true, 0, "" },
	{ "ship_tls_peer",	KT_HOST,   OFF(ship_tls_peer),	0, 0, NULL, true, 0, "" },
	{ "ship_status",	KT_OPTPATH, OFF(ship_status),	0, 0, NULL, true, 0, "" },
	/* rauditd-dispatch reads these at its start and on SIGHUP. */
	/* auditd's plugins.d, so Debian's laurel.conf and syslog.conf work unchanged. */
	{ "plugin_dir",		KT_PATH,   OFF(plugin_dir),	0, 0, NULL, true, 0, RAUDITD_PLUGIN_DIR },
	{ "plugin_cursor_dir",	KT_OPTPATH, OFF(plugin_cursor_dir), 0, 0, NULL, true, 0, "" },
	/* auditd's max_restarts default. */
	{ "max_restarts",	KT_UINT,   OFF(max_restarts),	0, 10000, NULL, true, 0, "10" },
	/*
	 * auditd.conf's disk-space policy (diskpolicy.c): auditd's thresholds
	 * (75 and 50 MiB); its stalling actions become syslog.
	 */
	{ "space_left",		KT_SPACE,  OFF(space_left),	0, 0, NULL, true, 0, "75M" },
	{ "space_left_action",	KT_ACTION, OFF(space_left_action), DISKPOLICY_SPACE_LEFT, 0, NULL,
	    true, 0, "syslog" },
	{ "admin_space_left",	KT_SPACE,  OFF(admin_space_left), 0, 0, NULL, true, 0, "50M" },
	{ "admin_space_left_action", KT_ACTION, OFF(admin_space_left_action),
	    DISKPOLICY_ADMIN_SPACE_LEFT, 0, NULL, true, 0, "syslog" },
	{ "disk_full_action",	KT_ACTION, OFF(disk_full_action), DISKPOLICY_DISK_FULL, 0, NULL,
	    true, 0, "syslog" },
	{ "disk_error_action",	KT_ACTION, OFF(disk_error_action), DISKPOLICY_DISK_ERROR, 0, NULL,
	    true, 0, "syslog" },
	{ "loss_action",	KT_ACTION, OFF(loss_action),	DISKPOLICY_LOSS, 0, NULL, true, 0, "syslog" },
	/* auditd.conf's node name. */
	{ "name_format",	KT_ENUM,   OFF(name_format),	0, 0, name_format_names, true, 0, "none" },
	{ "name",		KT_NODE,   OFF(name),		0, 0, NULL, true, 0, "" },
	{ "auditd_view",	KT_BOOL,   OFF(auditd_view),	0, 0, NULL, false, 0, "yes" },
};

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

static int parse_value(const struct key *k, struct config *c, const char *v,
    char *msg, size_t msglen);

void
config_defaults(struct config *c)
{
	char msg[CONFIG_ERR_MAX];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NKEYS; i++) {
		int rc = parse_value(&keys[i], c, keys[i].def, msg, sizeof(msg));

		/* A default the parser refuses is a mistake in the table above. */
		assert(rc == 0);
		(void)rc;
	}
}

size_t
config_key_count(void)
{
	return NKEYS;
}

const char *
config_key_name(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

static const struct key *
find_key(const char *name, size_t len)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strlen(keys[i].name) == len && memcmp(keys[i].name, name, len) == 0)
			return &keys[i];
	return NULL;
}

/* Parse an unsigned decimal; rejects signs, empty strings and overflow. */
static int
parse_u64(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	while (isdigit((unsigned char)*s)) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
		s++;
	}
	*out = v;
	*end = s;
	return 0;
}

static bool
valid_host_chars(const char *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '.' && h[i] != '_')
			return false;
	return true;
}

/*
 * A host: a DNS name or IPv4 address (letters, digits, '-', '.', '_'). A
 * leading "*." (a wildcard peer name) only where wild is set.
 */
static bool
valid_host(const char *h, bool wild)
{
	size_t n = strlen(h);

	if (wild && strncmp(h, "*.", 2) == 0 && n > 2) {
		h += 2;
		n -= 2;
	}
	return n > 0 && valid_host_chars(h, n);
}

/* An IPv6 address between brackets: hex digits, ':', '.', then a %zone. */
static bool
valid_ipv6(const char *h, size_t n)
{
	const char *zone = memchr(h, '%', n);
	size_t addr = zone ? (size_t)(zone - h) : n;

	if (addr < 2 || memchr(h, ':', addr) == NULL)
		return false;
	for (size_t i = 0; i < addr; i++)
		if (!isxdigit((unsigned char)h[i]) && h[i] != ':' && h[i] != '.')
			return false;
	return zone == NULL || (n - addr >= 2 && valid_host_chars(zone + 1, n - addr - 1));
}

/* HOST:PORT or [IPV6]:PORT, the port 1..65535 without a sign. */
static bool
valid_target(const char *v)
{
	const char *colon;
	char host[CONFIG_HOST_MAX];
	unsigned long port = 0;

	if (v[0] == '[') {
		const char *rb = strchr(v, ']');
		if (rb == NULL || rb[1] != ':' || !valid_ipv6(v + 1, (size_t)(rb - v - 1)))
			return false;
		colon = rb + 1;
	} else {
		colon = strrchr(v, ':');
		if (colon == NULL || memchr(v, ':', (size_t)(colon - v)) != NULL ||
		    (size_t)(colon - v) >= sizeof(host))
			return false;
		memcpy(host, v, (size_t)(colon - v));
		host[colon - v] = '\0';
		if (!valid_host(host, false))
			return false;
	}
	if (colon[1] == '\0' || strlen(colon + 1) > 5)
		return false;
	for (const char *p = colon + 1; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	return port >= 1 && port <= 65535;
}

/* v must leave room bytes free in the field: else what, naming the key. */
static int
check_len(const struct key *k, const char *v, size_t room, const char *what,
    char *msg, size_t msglen)
{
	if (strlen(v) < room)
		return 0;
	snprintf(msg, msglen, "%s: %s", k->name, what);
	return -ENAMETOOLONG;
}

/* A string field: k->size bytes, the terminating NUL included. */
static int
set_text(const struct key *k, char *field, const char *v, char *msg, size_t msglen)
{
	int rc = check_len(k, v, k->size, "too long", msg, msglen);

	if (rc == 0)
		memcpy(field, v, strlen(v) + 1);
	return rc;
}

static int
parse_path(const struct key *k, char *field, const char *v, char *msg, size_t msglen)
{
	if (k->type == KT_RULES &&
	    (strcmp(v, CONFIG_RULES_AUGENRULES) == 0 || strcmp(v, CONFIG_RULES_NONE) == 0))
		return set_text(k, field, v, msg, msglen);
	if (k->type == KT_RULES && v[0] != '/') {
		snprintf(msg, msglen, "rules must be augenrules, none or an absolute "
		    "path, got \"%s\"", v);
		return -EINVAL;
	}
	if (k->type != KT_PATH && v[0] == '\0') {
		field[0] = '\0';
		return 0;
	}
	if (v[0] != '/') {
		snprintf(msg, msglen, "%s must be an absolute path, got \"%s\"", k->name, v);
		return -EINVAL;
	}
	/* Room for a file name under it (spool segments, run files). */
	if (check_len(k, v, k->size - 32, "path too long", msg, msglen) < 0)
		return -ENAMETOOLONG;
	return set_text(k, field, v, msg, msglen);
}

static bool
valid_name(const char *v)
{
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
			return false;
	return true;
}

/* A group name, HOST:PORT or a host; each may be empty. */
static int
parse_text(const struct key *k, char *field, const char *v, char *msg, size_t msglen)
{
	if (check_len(k, v, k->size, k->type == KT_NAME ? "name too long" : "too long",
	    msg, msglen) < 0)
		return -ENAMETOOLONG;
	if (k->type == KT_NAME && !valid_name(v))
		snprintf(msg, msglen, "%s: invalid character in \"%s\"", k->name, v);
	else if (k->type == KT_TARGET && v[0] != '\0' && !valid_target(v))
		snprintf(msg, msglen, "%s must be HOST:PORT or [IPV6]:PORT with a port from 1 "
		    "to 65535, got \"%s\"", k->name, v);
	else if (k->type == KT_HOST && v[0] != '\0' && !valid_host(v, true))
		snprintf(msg, msglen, "%s must be a host name or address, got \"%s\"", k->name, v);
	else
		return set_text(k, field, v, msg, msglen);
	return -EINVAL;
}

static int
parse_enum(const struct key *k, char *field, const char *v, char *msg, size_t msglen)
{
	int n;

	for (int i = 0; k->names[i]; i++)
		if (strcmp(v, k->names[i]) == 0) {
			*(int *)(void *)field = i;
			return 0;
		}
	n = snprintf(msg, msglen, "%s must be one of", k->name);
	for (int i = 0; k->names[i] && n > 0 && (size_t)n < msglen; i++)
		n += snprintf(msg + n, msglen - (size_t)n, "%s%s", i ? ", " : " ", k->names[i]);
	if (n > 0 && (size_t)n < msglen)
		snprintf(msg + n, msglen - (size_t)n, "; got \"%s\"", v);
	return -EINVAL;
}

/* A decimal within k's bounds; a leading '-' only for KT_INT. */
static int
parse_number(const struct key *k, const char *v, int64_t *out, char *msg, size_t msglen)
{
	bool neg = k->type == KT_INT && *v == '-';
	const char *end;
	uint64_t u = 0;
	int rc;

	rc = parse_u64(neg ? v + 1 : v, &u, &end);
	if (rc == 0 && *end != '\0')
		rc = -EINVAL;
	if (rc == -EINVAL) {
		snprintf(msg, msglen, "%s: \"%s\" is not a number%s", k->name, v,
		    k->type == KT_KERNEL ? " or keep" : "");
		return rc;
	}
	if (rc == 0 && u <= (uint64_t)INT64_MAX)
		*out = neg ? -(int64_t)u : (int64_t)u;
	if (rc == -ERANGE || u > (uint64_t)INT64_MAX || *out < k->min || *out > k->max) {
		snprintf(msg, msglen, "%s: %s is out of range %lld..%lld",
		    k->name, v, (long long)k->min, (long long)k->max);
		return -ERANGE;
	}
	return 0;
}

static int
parse_uint(const struct key *k, char *field, const char *v, char *msg, size_t msglen)
{
	int64_t i = 0;
	int rc;

	if (k->type == KT_KERNEL && strcmp(v, "keep") == 0) {
		*(uint32_t *)(void *)field = CONFIG_KERNEL_KEEP;
		return 0;
	}
	if ((rc = parse_number(k, v, &i, msg, msglen)) < 0)
		return rc;
	*(uint32_t *)(void *)field = (uint32_t)i;
	return 0;
}

static int
parse_int(const struct key *k, char *field, const char *v, char *msg, size_t msglen)
{
	int64_t i = 0;
	int rc;

	if ((rc = parse_number(k, v, &i, msg, msglen)) < 0)
		return rc;
	*(int *)(void *)field = (int)i;
	return 0;
}

static int
parse_size(const struct key *k, char *field, const char *v, char *msg, size_t msglen)
{
	uint64_t u, mult = 1;
	const char *end;
	int rc;

	rc = parse_u64(v, &u, &end);
	if (rc == 0) {
		switch (*end) {
		case '\0': break;
		case 'K': case 'k': mult = KiB; end++; break;
		case 'M': case 'm': mult = MiB; end++; break;
		case 'G': case 'g': mult = GiB; end++; break;
		default: rc = -EINVAL; break;
		}
		if (rc == 0 && *end != '\0')
			rc = -EINVAL;
	}
	if (rc == -EINVAL) {
		snprintf(msg, msglen, "%s: \"%s\" is not a size (a number with optional K, M or G)",
		    k->name, v);
		return rc;
	}
	if (rc == -ERANGE || u > UINT64_MAX / mult) {
		snprintf(msg, msglen, "%s: %s is too large", k->name, v);
		return -ERANGE;
	}
	u *= mult;
	if (u != 0 && (u < (uint64_t)k->min || u > (uint64_t)k->max)) {
		snprintf(msg, msglen, "%s: %s is out of range %lld..%lld bytes",
		    k->name, v, (long long)k->min, (long long)k->max);
		return -ERANGE;
	}
	if (u == 0 && k->min > 0 && !(k->flags & KF_ZERO)) {
		snprintf(msg, msglen, "%s: must not be 0", k->name);
		return -ERANGE;
	}
	if ((k->flags & KF_POW2) && (u & (u - 1)) != 0) {
		snprintf(msg, msglen, "%s: %s is not a power of two", k->name, v);
		return -EINVAL;
	}
	if (k->size == sizeof(uint32_t))
		*(uint32_t *)(void *)field = (uint32_t)u;
	else
		*(uint64_t *)(void *)field = u;
	return 0;
}

static int
parse_value(const struct key *k, struct config *c, const char *v,
    char *msg, size_t msglen)
{
	char *field = (char *)c + k->offset;

	switch (k->type) {
	case KT_RULES:
	case KT_OPTPATH:
	case KT_PATH:
		return parse_path(k, field, v, msg, msglen);
	case KT_TARGET:
	case KT_HOST:
	case KT_NAME:
		return parse_text(k, field, v, msg, msglen);
	case KT_SPACE: {
		struct diskpolicy_space sp;
		char m[256];

		if (diskpolicy_parse_space(v, &sp, m, sizeof(m)) < 0) {
			snprintf(msg, msglen, "%s: %s", k->name, m);
			return -EINVAL;
		}
		diskpolicy_format_space(&sp, field, k->size);
		return 0;
	}
	case KT_ACTION: {
		struct diskpolicy_action a;
		char m[256];

		if (diskpolicy_parse_action((enum diskpolicy_event)k->min, v, &a, m,
		    sizeof(m)) < 0) {
			snprintf(msg, msglen, "%s: %s", k->name, m);
			return -EINVAL;
		}
		return set_text(k, field, v, msg, msglen);
	}
	case KT_NODE:
		if (strlen(v) > 255) {
			snprintf(msg, msglen, "%s: longer than 255 bytes", k->name);
			return -ENAMETOOLONG;
		}
		for (const char *q = v; *q; q++)
			if (!isgraph((unsigned char)*q) || *q == '#') {
				snprintf(msg, msglen, "%s: \"%s\" has a byte that is not printable "
				    "or is '#'", k->name, v);
				return -EINVAL;
			}
		return set_text(k, field, v, msg, msglen);
	case KT_BOOL:
		if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0) {
			snprintf(msg, msglen, "%s must be yes or no, got \"%s\"", k->name, v);
			return -EINVAL;
		}
		*(bool *)field = strcmp(v, "yes") == 0;
		return 0;
	case KT_ENUM:
		return parse_enum(k, field, v, msg, msglen);
	case KT_KERNEL:
	case KT_UINT:
		return parse_uint(k, field, v, msg, msglen);
	case KT_INT:
		return parse_int(k, field, v, msg, msglen);
	case KT_SIZE:
		return parse_size(k, field, v, msg, msglen);
	}
	return -EINVAL;
}

/* Both thresholds in the same unit: admin_space_left is the lower one. */
static bool
config_space_order_ok(const struct config *c)
{
	struct diskpolicy_space a, b;
	char m[256];

	if (diskpolicy_parse_space(c->space_left, &a, m, sizeof(m)) < 0 ||
	    diskpolicy_parse_space(c->admin_space_left, &b, m, sizeof(m)) < 0)
		return true;		/* each key reported its own error */
	return a.percent != b.percent || b.value <= a.value;
}

/*
 * The line a cross-key error names: the later of the lines that set the two
 * keys (the conflict appears there), or the last line if neither was set.
 */
static unsigned
cross_line(const unsigned *at, size_t off_a, size_t off_b, unsigned last)
{
	unsigned l = 0;

	for (size_t i = 0; i < NKEYS; i++)
		if ((keys[i].offset == off_a || keys[i].offset == off_b) && at[i] > l)
			l = at[i];
	return l ? l : last;
}

int
config_parse_buffer(struct config *c, const char *name, const char *text,
    char *err, size_t errlen)
{
	unsigned at[NKEYS] = { 0 };	/* line that set each key, 0 = not set */
	char line[4096], msg[CONFIG_ERR_MAX];
	const char *p = text;
	unsigned lineno = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *key, *val;
		const struct key *k;
		int rc;

		lineno++;
		if (len >= sizeof(line)) {
			kvline_seterr(err, errlen, name, lineno, "line too long");
			return -EINVAL;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl ? nl + 1 : p + len;

		if (memchr(line, '\0', len) != NULL && strlen(line) != len) {
			kvline_seterr(err, errlen, name, lineno, "NUL byte in line");
			return -EINVAL;
		}
		rc = kvline_split(line, &key, &val);
		if (rc == 0)
			continue;
		if (rc < 0) {
			kvline_seterr(err, errlen, name, lineno, "expected \"key = value\", got \"%s\"", key);
			return rc;
		}
		k = find_key(key, strlen(key));
		if (k == NULL) {
			kvline_seterr(err, errlen, name, lineno, "unknown key \"%s\"", key);
			return -EINVAL;
		}
		if (at[k - keys] != 0) {
			kvline_seterr(err, errlen, name, lineno, "duplicate key \"%s\"", key);
			return -EINVAL;
		}
		at[k - keys] = lineno;
		if (*val == '\0' && k->type != KT_NAME && k->type != KT_OPTPATH &&
		    k->type != KT_TARGET && k->type != KT_HOST && k->type != KT_NODE) {
			kvline_seterr(err, errlen, name, lineno, "%s: missing value", key);
			return -EINVAL;
		}
		/* "exec /path" is the one value with a blank (auditd's syntax). */
		if (k->type == KT_ACTION && strncmp(val, "exec", 4) == 0 &&
		    (val[4] == ' ' || val[4] == '\t')) {
			char *q = val + 4;
			while (*q == ' ' || *q == '\t')
				q++;
			memmove(val + 5, q, strlen(q) + 1);
			val[4] = ' ';
		} else if (strpbrk(val, " \t") != NULL) {
			kvline_seterr(err, errlen, name, lineno, "%s: trailing junk in \"%s\"", key, val);
			return -EINVAL;
		}
		msg[0] = '\0';
		rc = parse_value(k, c, val, msg, sizeof(msg));
		if (rc < 0) {
			kvline_seterr(err, errlen, name, lineno, "%s", msg);
			return rc;
		}
	}

	/* Cross-key checks: name the key that has to change. */
	if (c->batch_size > c->ring_size / 4) {
		kvline_seterr(err, errlen, name, cross_line(at, offsetof(struct config, batch_size), offsetof(struct config, ring_size), lineno),
		    "batch_size must be at most a quarter of ring_size");
		return -EINVAL;
	}
	if (c->max_spool_size != 0 && c->max_spool_size < 2 * c->segment_size) {
		kvline_seterr(err, errlen, name,
		    cross_line(at, offsetof(struct config, max_spool_size), offsetof(struct config, segment_size), lineno),
		    "max_spool_size must be 0 or at least twice segment_size");
		return -EINVAL;
	}
	if (strcmp(c->spool_dir, c->run_dir) == 0) {
		kvline_seterr(err, errlen, name, cross_line(at, offsetof(struct config, spool_dir), offsetof(struct config, run_dir), lineno),
		    "spool_dir and run_dir must differ");
		return -EINVAL;
	}
	if (!config_space_order_ok(c)) {
		kvline_seterr(err, errlen, name, cross_line(at, offsetof(struct config, space_left),
		    offsetof(struct config, admin_space_left),
		    lineno), "admin_space_left must be at most space_left");
		return -EINVAL;
	}
	if (c->name_format == CONFIG_NAME_USER && c->name[0] == '\0') {
		kvline_seterr(err, errlen, name, cross_line(at, offsetof(struct config, name_format),
		    offsetof(struct config, name), lineno),
		    "name_format = user needs a name");
		return -EINVAL;
	}
	if (c->ship_reconnect_min_ms > c->ship_reconnect_max_ms) {
		kvline_seterr(err, errlen, name, cross_line(at, offsetof(struct config, ship_reconnect_min_ms),
		    offsetof(struct config, ship_reconnect_max_ms), lineno),
		    "ship_reconnect_min must be at most ship_reconnect_max");
		return -EINVAL;
	}
	return 0;
}

int
config_ship_check(const struct config *c, char *err, size_t errlen)
{
	const char *msg = NULL;

	if (c->ship_target[0] == '\0')
		msg = "ship_target is empty: shipping is off";
	/* Half-configured TLS would ship in the clear or unverified. */
	else if (c->ship_tls && c->ship_tls_ca[0] == '\0')
		msg = "ship_tls = yes needs ship_tls_ca, the CA that signed the aggregator's certificate";
	else if (!c->ship_tls && (c->ship_tls_ca[0] || c->ship_tls_cert[0] ||
	    c->ship_tls_key[0] || c->ship_tls_peer[0]))
		msg = "ship_tls_ca, ship_tls_cert, ship_tls_key and ship_tls_peer need ship_tls = yes";
	else if ((c->ship_tls_cert[0] == '\0') != (c->ship_tls_key[0] == '\0'))
		msg = "ship_tls_cert and ship_tls_key go together";
	if (msg == NULL)
		return 0;
	snprintf(err, errlen, "%s", msg);
	return -EINVAL;
}

int
config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	size_t got = 0;
	int fd = -1, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size > CONFIG_FILE_MAX) {
		rc = -EFBIG;
		snprintf(err, errlen, "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	if (strlen(buf) != got) {
		/* config_parse_buffer() would stop at the NUL: name its line here. */
		unsigned line = 1;

		for (const char *q = buf; *q; q++)
			line += *q == '\n';
		rc = -EINVAL;
		kvline_seterr(err, errlen, path, line, "NUL byte in line");
		goto fail;
	}
	rc = config_parse_buffer(c, path, buf, err, errlen);
fail:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

static void
format_value(const struct key *k, const struct config *c, char *out, size_t outlen)
{
	const char *field = (const char *)c + k->offset;
	uint64_t u;

	switch (k->type) {
	case KT_PATH:
	case KT_OPTPATH:
	case KT_RULES:
	case KT_NAME:
	case KT_TARGET:
	case KT_HOST:
	case KT_SPACE:
	case KT_ACTION:
	case KT_NODE:
		snprintf(out, outlen, "%s", field);
		break;
	case KT_BOOL:
		snprintf(out, outlen, "%s", *(const bool *)field ? "yes" : "no");
		break;
	case KT_ENUM:
		snprintf(out, outlen, "%s", k->names[*(const int *)field]);
		break;
	case KT_KERNEL:
		if (*(const uint32_t *)field == CONFIG_KERNEL_KEEP) {
			snprintf(out, outlen, "keep");
			break;
		}
		/* FALLTHROUGH */
	case KT_UINT:
		snprintf(out, outlen, "%u", *(const uint32_t *)field);
		break;
	case KT_INT:
		snprintf(out, outlen, "%d", *(const int *)field);
		break;
	case KT_SIZE:
		u = k->size == sizeof(uint32_t) ? *(const uint32_t *)(const void *)field
		    : *(const uint64_t *)(const void *)field;
		if (u != 0 && u % GiB == 0)
			snprintf(out, outlen, "%lluG", (unsigned long long)(u / GiB));
		else if (u != 0 && u % MiB == 0)
			snprintf(out, outlen, "%lluM", (unsigned long long)(u / MiB));
		else if (u != 0 && u % KiB == 0)
			snprintf(out, outlen, "%lluK", (unsigned long long)(u / KiB));
		else
			snprintf(out, outlen, "%llu", (unsigned long long)u);
		break;
	}
}

void
config_print(const struct config *c, FILE *fp)
{
	char v[PATH_MAX];

	for (size_t i = 0; i < NKEYS; i++) {
		format_value(&keys[i], c, v, sizeof(v));
		/* No trailing blank after an empty value ("key ="). */
		fprintf(fp, "%s =%s%s\n", keys[i].name, v[0] ? " " : "", v);
	}
}

size_t
config_diff(const struct config *a, const struct config *b,
    void (*fn)(const char *key, bool reloadable, void *arg), void *arg)
{
	char va[PATH_MAX], vb[PATH_MAX];
	size_t n = 0;

	for (size_t i = 0; i < NKEYS; i++) {
		format_value(&keys[i], a, va, sizeof(va));
		format_value(&keys[i], b, vb, sizeof(vb));
		if (strcmp(va, vb) != 0) {
			n++;
			if (fn)
				fn(keys[i].name, keys[i].reloadable, arg);
		}
	}
	return n;
}

void
config_apply_reloadable(struct config *dst, const struct config *src)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

		if (!k->reloadable)
			continue;
		memcpy((char *)dst + k->offset, (const char *)src + k->offset, k->size);
	}
}

const char *
config_ship_cursor(const struct config *c, char *buf, size_t len)
{
	if (c->ship_cursor[0] != '\0')
		snprintf(buf, len, "%s", c->ship_cursor);
	else
		snprintf(buf, len, "%s/ship.cursor", c->spool_dir);
	return buf;
}

const char *
config_ship_status(const struct config *c, char *buf, size_t len)
{
	if (c->ship_status[0] != '\0')
		snprintf(buf, len, "%s", c->ship_status);
	else
		snprintf(buf, len, "%s/ship.status", c->run_dir);
	return buf;
}

const char *
config_plugin_cursor_dir(const struct config *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s", c->plugin_cursor_dir[0] ? c->plugin_cursor_dir : c->spool_dir);
	return buf;
}

int
config_ship_split(const struct config *c, char *host, size_t hostlen,
    char *port, size_t portlen)
{
	const char *t = c->ship_target, *colon;
	size_t hl;

	if (t[0] == '\0' || !valid_target(t))
		return -EINVAL;
	colon = strrchr(t, ':');
	if (t[0] == '[') {
		t++;
		hl = (size_t)(colon - t) - 1;	/* drop the ']' */
	} else {
		hl = (size_t)(colon - t);
	}
	if (hl >= hostlen || strlen(colon + 1) >= portlen)
		return -ENAMETOOLONG;
	memcpy(host, t, hl);
	host[hl] = '\0';
	snprintf(port, portlen, "%s", colon + 1);
	return 0;
}
