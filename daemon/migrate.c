/*
 * migrate.c - this file reads auditd.conf the way auditd does and writes
 * the rauditd.conf that behaves the same, naming each auditd key rauditd
 * cannot honour and why, so an administrator replacing auditd knows what
 * changes before the switch rather than after.
 */
#include "build_config.h"

#include "kvline.h"
#include "migrate.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* auditd.conf has about 40 keys; twice that is not an auditd.conf. */
#define MIGRATE_KEYS_MAX	128
#define MIGRATE_KEY_MAX		64
/* A line longer than a value plus its key is not auditd.conf either. */
#define MIGRATE_LINE_MAX	(MIGRATE_VALUE_MAX + MIGRATE_KEY_MAX + 16)


/* Split one line; 1 = a pair, 0 = blank or comment, <0 = error. */
static int
parse_line(char *s, const char *path, unsigned line, char **key, char **val,
    char *err, size_t errlen)
{
	int rc;

	/* Control characters first, before the split could trim one away. */
	s = kvline_trim(s);
	if (*s == '\0' || *s == '#')
		return 0;
	for (const char *p = s; *p; p++)
		if (iscntrl((unsigned char)*p) && *p != '\t') {
			kvline_seterr(err, errlen, path, line, "control character in line");
			return -EINVAL;
		}
	if ((rc = kvline_split(s, key, val)) <= 0) {
		if (rc < 0)
			kvline_seterr(err, errlen, path, line, "expected \"key = value\"");
		return rc;
	}
	if (**key == '\0' || strlen(*key) >= MIGRATE_KEY_MAX) {
		kvline_seterr(err, errlen, path, line, "missing or over-long key");
		return -EINVAL;
	}
	for (const char *p = *key; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_') {
			kvline_seterr(err, errlen, path, line, "bad key \"%s\"", *key);
			return -EINVAL;
		}
	if (strlen(*val) >= MIGRATE_VALUE_MAX) {
		kvline_seterr(err, errlen, path, line, "value of %s too long", *key);
		return -ENAMETOOLONG;
	}
	return 1;
}

int
migrate_parse(const char *path,
    int (*fn)(const char *key, const char *value, unsigned line, void *arg),
    void *arg, char *err, size_t errlen)
{
	char buf[MIGRATE_LINE_MAX], *key, *val;
	unsigned line = 0;
	FILE *fp;
	int rc = 0;

	if ((fp = fopen(path, "re")) == NULL) {
		rc = -errno;
		kvline_seterr(err, errlen, path, 0, "%s", strerror(-rc));
		return rc;
	}
	while (fgets(buf, sizeof(buf), fp) != NULL) {
		line++;
		if (strchr(buf, '\n') == NULL && !feof(fp)) {
			kvline_seterr(err, errlen, path, line, "line too long");
			rc = -EINVAL;
			goto fail;
		}
		buf[strcspn(buf, "\n")] = '\0';
		if ((rc = parse_line(buf, path, line, &key, &val, err, errlen)) < 0)
			goto fail;
		if (rc == 1 && (rc = fn(key, val, line, arg)) != 0)
			goto fail;
		rc = 0;
	}
	if (ferror(fp)) {
		rc = -EIO;
		kvline_seterr(err, errlen, path, 0, "read error");
	}
fail:
	fclose(fp);
	return rc;
}

struct getter {
	const char	*key;
	char		*buf;
	size_t		 len;
	bool		 found;
};

static int
get_cb(const char *key, const char *value, unsigned line, void *arg)
{
	struct getter *g = arg;

	(void)line;
	if (strcmp(key, g->key) != 0)
		return 0;
	if (strlen(value) >= g->len)
		return -ENAMETOOLONG;
	/* Later lines win, as in auditd's parser. */
	snprintf(g->buf, g->len, "%s", value);
	g->found = true;
	return 0;
}

int
migrate_get(const char *path, const char *key, char *buf, size_t len,
    char *err, size_t errlen)
{
	struct getter g = { key, buf, len, false };
	int rc;

	rc = migrate_parse(path, get_cb, &g, err, errlen);
	if (rc == -ENAMETOOLONG)
		kvline_seterr(err, errlen, path, 0, "value of %s too long", key);
	if (rc == 0 && !g.found) {
		kvline_seterr(err, errlen, path, 0, "no %s", key);
		rc = -ENOENT;
	}
	return rc;
}

/* ---- translation ---------------------------------------------------- */

struct entry {
	char		key[MIGRATE_KEY_MAX];
	char		val[MIGRATE_VALUE_MAX];
	unsigned	line;
	bool		done;
};

struct conf {
	const char	*path;
	FILE		*out;
	struct entry	 e[MIGRATE_KEYS_MAX];
	size_t		 n;
};

static int
collect_cb(const char *key, const char *value, unsigned line, void *arg)
{
	struct conf *c = arg;
	struct entry *e = NULL;

	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].key, key) == 0)
			e = &c->e[i];
	if (e == NULL) {
		if (c->n == MIGRATE_KEYS_MAX)
			return -E2BIG;
		e = &c->e[c->n++];
	}
	snprintf(e->key, sizeof(e->key), "%s", key);
	snprintf(e->val, sizeof(e->val), "%s", value);
	e->line = line;
	return 0;
}

static struct entry *
get(struct conf *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].key, key) == 0)
			return &c->e[i];
	return NULL;
}

/* The comment naming the auditd line a rauditd key comes from. */
static void
from(struct conf *c, struct entry *e, const char *note)
{
	fprintf(c->out, "# %s:%u: %s = %s%s%s\n", c->path, e->line, e->key,
	    e->val, note ? ": " : "", note ? note : "");
	e->done = true;
}

static void
not_honoured(struct conf *c, struct entry *e, const char *why)
{
	fprintf(c->out, "# NOT HONOURED %s:%u: %s = %s: %s\n", c->path, e->line,
	    e->key, e->val, why);
	e->done = true;
}

static bool
is(const struct entry *e, const char *word)
{
	return strcasecmp(e->val, word) == 0;
}

/* A decimal in [0, max]; false for anything else. */
static bool
number(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return *s == '\0';
}

static void
bad_value(struct conf *c, struct entry *e)
{
	not_honoured(c, e, "value not understood; the rauditd default stays");
}

static void
yes_only(struct conf *c, const char *key, const char *yes, const char *no)
{
	struct entry *e = get(c, key);

	if (e == NULL)
		return;
	if (is(e, "yes"))
		from(c, e, yes);
	else
		not_honoured(c, e, no);
}

static void
map_basics(struct conf *c)
{
	struct entry *e;

	yes_only(c, "local_events", "honoured: rauditd records the kernel's events",
	    "rauditd exists to record this host's kernel events");
	yes_only(c, "write_logs", "honoured: rauditd always writes its spool",
	    "rauditd always writes its spool: it is the queue every consumer reads");
	if ((e = get(c, "log_file")) != NULL) {
		from(c, e, "ausearch, aureport and libauparse keep reading this path: "
		    "rauditd keeps audit.log and audit.log.1..N there as links to its "
		    "segments, taking the path from /etc/audit/auditd.conf");
		fprintf(c->out, "# (the segments themselves are in spool_dir)\n\n");
	}
	if ((e = get(c, "log_group")) != NULL) {
		bool ok = strlen(e->val) < 64 && e->val[0] != '\0';
		for (const char *p = e->val; ok && *p; p++)
			ok = isalnum((unsigned char)*p) || strchr("_.-", *p) != NULL;
		if (!ok)
			bad_value(c, e);
		else {
			from(c, e, NULL);
			fprintf(c->out, "log_group = %s\n\n",
			    strcmp(e->val, "root") == 0 ? "" : e->val);
		}
	}
	if ((e = get(c, "log_format")) != NULL) {
		if (is(e, "raw") || is(e, "enriched")) {
			from(c, e, NULL);
			fprintf(c->out, "log_format = %s\n\n", is(e, "raw") ? "raw" : "enriched");
		} else if (is(e, "nolog"))
			not_honoured(c, e, "rauditd always writes its spool");
		else
			bad_value(c, e);
	}
}

static void
map_flush(struct conf *c)
{
	struct entry *e, *f = get(c, "freq");
	uint64_t v;

	if ((e = get(c, "flush")) != NULL) {
		static const char *const same[] = { "none", "incremental", "data", "sync" };
		const char *to = NULL;

		for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
			if (is(e, same[i]))
				to = same[i];
		if (is(e, "incremental_async")) {
			from(c, e, "rauditd's incremental syncs on the writer thread, "
			    "never on the receive path: the same as auditd's async");
			to = "incremental";
		} else if (to != NULL)
			from(c, e, NULL);
		if (to == NULL)
			bad_value(c, e);
		else
			fprintf(c->out, "flush = %s\n\n", to);
	}
	if (f != NULL) {
		if (!number(f->val, UINT32_MAX, &v))
			bad_value(c, f);
		else {
			from(c, f, v == 0 ? "0 is not a period; 1 syncs after every record" : NULL);
			fprintf(c->out, "freq = %llu\n\n",
			    (unsigned long long)(v < 1 ? 1 : v > 1000000 ? 1000000 : v));
		}
	}
}

/* max_log_file, its action and num_logs become segment_size/num_segments. */
static void
map_rotation(struct conf *c)
{
	struct entry *size = get(c, "max_log_file"), *act = get(c, "max_log_file_action");
	struct entry *num = get(c, "num_logs");
	uint64_t mb = 8, n = 5;
	bool keep_all = false;

	if (size != NULL) {
		if (!number(size->val, 65536, &mb))
			bad_value(c, size);
		else {
			from(c, size, mb == 0 ? "0 MB is no size; 1M instead" : NULL);
			fprintf(c->out, "segment_size = %lluM\n\n",
			    (unsigned long long)(mb == 0 ? 1 : mb));
		}
	}
	if (act != NULL) {
		if (is(act, "rotate"))
			from(c, act, NULL);
		else if (is(act, "keep_logs")) {
			from(c, act, "nothing is deleted, as with keep_logs; mind the disk");
			keep_all = true;
		} else if (is(act, "ignore") || is(act, "syslog") || is(act, "suspend") ||
		    is(act, "single") || is(act, "halt")) {
			not_honoured(c, act, "rauditd never stops at a size: it seals the "
			    "segment and opens the next one, deleting nothing "
			    "(num_segments = 0); set num_segments or max_spool_size to bound it");
			keep_all = true;
		} else {
			bad_value(c, act);
		}
	}
	if (num != NULL) {
		if (!number(num->val, 1000000, &n))
			bad_value(c, num);
		else if (keep_all)
			from(c, num, "unused: nothing is deleted");
		else
			from(c, num, n < 2 ? "rauditd keeps at least 2 segments" : NULL);
	}
	if (keep_all || num != NULL)
		fprintf(c->out, "num_segments = %llu\n\n",
		    keep_all ? 0ULL : (unsigned long long)(n < 2 ? 2 : n));
}

/* auditd's MB or N% become a size with its unit or the same percentage. */
static void
map_space(struct conf *c, const char *key)
{
	struct entry *e = get(c, key);
	size_t len;
	uint64_t v;

	if (e == NULL)
		return;
	len = strlen(e->val);
	if (len > 1 && e->val[len - 1] == '%') {
		char pct[8];
		if (len >= sizeof(pct) || (memcpy(pct, e->val, len - 1), pct[len - 1] = '\0',
		    !number(pct, 100, &v))) {
			bad_value(c, e);
			return;
		}
		from(c, e, NULL);
		fprintf(c->out, "%s = %llu%%\n\n", key, (unsigned long long)v);
	} else if (number(e->val, 1ULL << 40, &v)) {
		from(c, e, "auditd counts megabytes");
		fprintf(c->out, "%s = %lluM\n\n", key, (unsigned long long)v);
	} else
		bad_value(c, e);
}

static void
map_action(struct conf *c, const char *key)
{
	struct entry *e = get(c, key);

	if (e == NULL)
		return;
	if (is(e, "ignore") || is(e, "syslog") || is(e, "rotate")) {
		char low[16];
		size_t i;
		for (i = 0; i < sizeof(low) - 1 && e->val[i]; i++)
			low[i] = (char)tolower((unsigned char)e->val[i]);
		low[i] = '\0';
		from(c, e, NULL);
		fprintf(c->out, "%s = %s\n\n", key, low);
	} else if (strncasecmp(e->val, "exec", 4) == 0 &&
	    (e->val[4] == ' ' || e->val[4] == '\t')) {
		const char *p = e->val + 5;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '/') {
			bad_value(c, e);
			return;
		}
		from(c, e, "the script gets the reason as its argument");
		fprintf(c->out, "%s = exec %s\n\n", key, p);
	} else if (is(e, "email")) {
		not_honoured(c, e, "rauditd sends no mail; syslog instead, or exec a "
		    "script that mails");
		fprintf(c->out, "%s = syslog\n\n", key);
	} else if (is(e, "suspend")) {
		not_honoured(c, e, "rauditd never stops writing (that loses records); "
		    "syslog instead");
		fprintf(c->out, "%s = syslog\n\n", key);
	} else if (is(e, "single") || is(e, "halt")) {
		not_honoured(c, e, "rauditd does not change the system's state by itself; "
		    "syslog instead, or exec a script that runs \"systemctl rescue\" "
		    "or \"systemctl halt\"");
		fprintf(c->out, "%s = syslog\n\n", key);
	} else
		bad_value(c, e);
}

static void
map_node(struct conf *c)
{
	struct entry *e;

	if ((e = get(c, "name_format")) != NULL) {
		static const char *const fmts[] = { "none", "hostname", "fqd", "numeric", "user" };
		const char *to = NULL;
		for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
			if (is(e, fmts[i]))
				to = fmts[i];
		if (to == NULL)
			bad_value(c, e);
		else {
			from(c, e, NULL);
			fprintf(c->out, "name_format = %s\n\n", to);
		}
	}
	if ((e = get(c, "name")) != NULL) {
		bool ok = e->val[0] != '\0' && strlen(e->val) < 256;
		for (const char *p = e->val; ok && *p; p++)
			ok = isgraph((unsigned char)*p) && *p != '#';
		if (!ok)
			bad_value(c, e);
		else {
			from(c, e, NULL);
			fprintf(c->out, "name = %s\n\n", e->val);
		}
	}
}

static void
map_queue(struct conf *c)
{
	struct entry *e;
	uint64_t v;

	if ((e = get(c, "priority_boost")) != NULL) {
		if (!number(e->val, UINT32_MAX, &v))
			bad_value(c, e);
		else {
			from(c, e, v > 20 ? "rauditd's limit is 20" : NULL);
			fprintf(c->out, "priority_boost = %llu\n\n",
			    (unsigned long long)(v > 20 ? 20 : v));
		}
	}
	if ((e = get(c, "q_depth")) != NULL)
		from(c, e, "auditd's queue to its plugins: rauditd-dispatch has none, "
		    "each plugin reads the spool from its own cursor; nothing to set");
	if ((e = get(c, "overflow_action")) != NULL)
		from(c, e, "what auditd does when its queue to the plugins is full: "
		    "rauditd-dispatch never drops a record for a slow plugin, which "
		    "only falls behind in the spool; nothing to set");
}

static const char *const network_keys[] = {
	"use_libwrap", "tcp_listen_port", "tcp_listen_queue", "tcp_max_per_addr",
	"tcp_client_ports", "tcp_client_max_idle", "transport", "enable_krb5",
	"krb5_principal", "krb5_key_file", "distribute_network",
};
static const char *const plugin_keys[] = { "dispatcher", "disp_qos" };
static const char *const mail_keys[] = { "verify_email", "action_mail_acct" };

static void
not_honoured_list(struct conf *c, const char *const *keys, size_t n, const char *why)
{
	struct entry *e;

	for (size_t i = 0; i < n; i++)
		if ((e = get(c, keys[i])) != NULL)
			not_honoured(c, e, why);
}

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static void
map_rest(struct conf *c)
{
	struct entry *e;
	uint64_t v;

	not_honoured_list(c, network_keys, NELEM(network_keys),
	    "rauditd receives no events over the network: each host ships its own "
	    "spool with rauditd-ship (RELP, ship_target, ship_tls for "
	    "authentication), and an aggregator runs rsyslog's imrelp");
	if ((e = get(c, "plugin_dir")) != NULL) {
		from(c, e, "rauditd-dispatch reads the same plugins.d files");
		fprintf(c->out, "plugin_dir = %s\n\n", e->val);
	}
	if ((e = get(c, "max_restarts")) != NULL) {
		if (!number(e->val, 10000, &v))
			bad_value(c, e);
		else {
			from(c, e, NULL);
			fprintf(c->out, "max_restarts = %llu\n\n", (unsigned long long)v);
		}
	}
	not_honoured_list(c, plugin_keys, NELEM(plugin_keys),
	    "auditd 2.x's separate dispatcher: rauditd-dispatch runs the plugins, "
	    "always lossless (each reads the spool from its own cursor)");
	not_honoured_list(c, mail_keys, NELEM(mail_keys),
	    "rauditd sends no mail; an exec action can");
	if ((e = get(c, "end_of_event_timeout")) != NULL)
		not_honoured(c, e, "rauditd writes records, not assembled events: "
		    "ausearch and libauparse group them when they read");
	for (size_t i = 0; i < c->n; i++)
		if (!c->e[i].done)
			not_honoured(c, &c->e[i], "not an auditd key this migration knows");
}

int
migrate_auditd_conf(const char *path, FILE *out, char *err, size_t errlen)
{
	struct conf *c;
	int rc;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->path = path;
	c->out = out;
	if ((rc = migrate_parse(path, collect_cb, c, err, errlen)) != 0) {
		if (rc == -E2BIG)
			kvline_seterr(err, errlen, path, 0, "more than %d keys", MIGRATE_KEYS_MAX);
		goto fail;
	}
	fprintf(out, "# rauditd.conf translated from %s by rauditd --from-auditd-conf.\n"
	    "# Each key follows a comment naming the auditd line it comes from;\n"
	    "# \"NOT HONOURED\" names what rauditd cannot do, and why.\n\n", path);
	fprintf(out, "# auditd turns auditing on at start and leaves it as found at stop.\n"
	    "enable = yes\n\n"
	    "# auditd.service loads the host's rules (augenrules --load) at start.\n"
	    "rules = augenrules\n\n");
	map_basics(c);
	map_flush(c);
	map_rotation(c);
	map_queue(c);
	map_node(c);
	map_space(c, "space_left");
	map_action(c, "space_left_action");
	map_space(c, "admin_space_left");
	map_action(c, "admin_space_left_action");
	map_action(c, "disk_full_action");
	map_action(c, "disk_error_action");
	map_rest(c);
	if (fflush(out) != 0 || ferror(out)) {
		rc = -EIO;
		kvline_seterr(err, errlen, NULL, 0, "writing the translation: %s", strerror(errno));
	}
fail:
	free(c);
	return rc;
}
