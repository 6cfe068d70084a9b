/*
 * rauditctl.c - this file is rauditd's command-line client: it asks the
 * daemon over the control socket for status (printed in auditctl -s format
 * for the kernel part), sends rotate/reload/stop/resume, shows a live view,
 * and verifies a spool with the reader the daemon and the shipper use.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "chain_verify.h"
#include "format.h"
#include "config.h"
#include "control_proto.h"
#include "kaudit.h"
#include "report.h"
#include "sidefile.h"
#include "spool.h"

/* Exit status, documented in rauditctl(8). */
enum {
	CTL_OK = 0,
	CTL_FAIL = 1,		/* the daemon refused or the spool has problems */
	CTL_USAGE = 2,
	CTL_NOT_RUNNING = 3,	/* no daemon answered (commands that need one) */
};

/* How long we wait for the daemon's answer. */
#define CTL_TIMEOUT_S	5

struct kv {
	char	*name;
	char	*value;
};

struct status {
	char	*text;
	struct kv *kv;
	size_t	 n;
};

static struct config cfg;

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: rauditctl [-c file] [-s [--json] [--watch seconds]]\n"
	    "       rauditctl [-c file] top [-i seconds] [-n count]\n"
	    "       rauditctl [-c file] rotate | reload | stop | resume | state | upgrade\n"
	    "       rauditctl [-c file] verify [dir] [--key vkey|file]\n"
	    "       rauditctl [-c file] keygen keyfile [dir]\n"
	    "  -c, --config FILE  rauditd's configuration (default %s)\n"
	    "  -s, --status       kernel status as auditctl -s prints it, then rauditd's counters\n"
	    "      --json         the same as JSON\n"
	    "      --watch N      repeat -s every N seconds\n",
	    RAUDITD_CONF);
}

/* ---- talking to the daemon -------------------------------------------- */

static int
ctl_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { CTL_TIMEOUT_S, 0 };
	int fd, n;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", cfg.run_dir, CONTROL_SOCKET_NAME);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	/*
	 * Before a byte goes out: is the server root (or us, for a daemon run
	 * unprivileged)? Whoever can write run_dir could have bound an
	 * impostor there, to feed us a false status or swallow a "stop".
	 */
	{
		struct ucred cred;
		socklen_t len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (cred.uid != 0 && cred.uid != geteuid()) {
			fprintf(stderr, "rauditctl: %s is served by uid %u (pid %ld), not root: "
			    "refusing to talk to it\n", sa.sun_path, (unsigned)cred.uid,
			    (long)cred.pid);
			close(fd);
			return -EACCES;
		}
	}
	return fd;
}

static int
read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		got += (size_t)n;
	}
	return 0;
}

/*
 * Send a request, read replies until END. The first reply's payload is
 * returned (NUL-terminated, malloc'd) with its type.
 */
static int
ctl_request(uint16_t type, uint16_t *rtype, char **payload)
{
	struct control_hdr h = { CONTROL_VERSION, type, 0, 0 };
	int fd = ctl_connect(), rc = 0;

	*payload = NULL;
	*rtype = 0;
	if (fd < 0)
		return fd;
	/* A refusal may be sent and the socket closed before we write: EPIPE
	 * then, not SIGPIPE, and the refusal is still there to read. */
	if (send(fd, &h, sizeof(h), MSG_NOSIGNAL) != (ssize_t)sizeof(h) && errno != EPIPE) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		char *p;

		if ((rc = read_full(fd, &h, sizeof(h))) < 0)
			goto out;
		if (h.version != CONTROL_VERSION || h.len > CONTROL_MAX_PAYLOAD) {
			rc = -EPROTO;
			goto out;
		}
		if (h.type == CONTROL_REP_END)
			break;
		p = malloc((size_t)h.len + 1);
		if (p == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		if ((rc = read_full(fd, p, h.len)) < 0) {
			free(p);
			goto out;
		}
		p[h.len] = '\0';
		if (*payload == NULL) {
			*payload = p;
			*rtype = h.type;
		} else {
			free(p);
		}
	}
out:
	if (rc < 0) {		/* a reply cut short: no payload, no leak */
		free(*payload);
		*payload = NULL;
	}
	close(fd);
	return rc;
}

static void
status_free(struct status *st)
{
	free(st->text);
	free(st->kv);
	memset(st, 0, sizeof(*st));
}

/* Split "name value\n" lines in place. */
static int
status_parse(struct status *st, char *text)
{
	size_t cap = 0;
	char *line, *save = NULL;

	st->text = text;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		if (sp == NULL)
			continue;
		*sp = '\0';
		if (st->n == cap) {
			size_t nc = cap ? cap * 2 : 128;
			struct kv *nk = realloc(st->kv, nc * sizeof(*nk));
			if (nk == NULL)
				return -ENOMEM;
			st->kv = nk;
			cap = nc;
		}
		st->kv[st->n].name = line;
		st->kv[st->n].value = sp + 1;
		st->n++;
	}
	return 0;
}

static const char *
get(const struct status *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->kv[i].name, name) == 0)
			return st->kv[i].value;
	return NULL;
}

/* For printing: a counter the daemon did not send shows as "?". */
static const char *
get_or(const struct status *st, const char *name)
{
	const char *v = get(st, name);

	return v ? v : "?";
}

static unsigned long long
getu(const struct status *st, const char *name)
{
	const char *v = get(st, name);

	return v ? strtoull(v, NULL, 10) : 0;
}

/* 0 and *st filled, or -errno (-ENOENT/-ECONNREFUSED: not running). */
static int
fetch_status(struct status *st)
{
	uint16_t rtype;
	char *payload;
	int rc = ctl_request(CONTROL_REQ_STATUS, &rtype, &payload);

	memset(st, 0, sizeof(*st));
	if (rc < 0)
		return rc;
	if (rtype != CONTROL_REP_STATUS) {
		fprintf(stderr, "rauditctl: %s\n", payload ? payload : "unexpected reply");
		free(payload);
		return -EACCES;
	}
	return status_parse(st, payload);
}

/* ---- the kernel part ---------------------------------------------------- */

struct kstatus {
	struct audit_status	k;
	bool			has_features;
	unsigned		immutable;
	bool			locked;
};

/* Straight from the kernel: only when no daemon answers (see status). */
static int
kernel_direct(struct kstatus *ks)
{
	struct audit_features f;
	int fd = kaudit_open(2000), rc;

	memset(ks, 0, sizeof(*ks));
	if (fd < 0)
		return fd;
	rc = kaudit_get_status(fd, &ks->k);
	if (rc == 0 && kaudit_get_features(fd, &f) == 0) {
		uint32_t mask = AUDIT_FEATURE_TO_MASK(AUDIT_FEATURE_LOGINUID_IMMUTABLE);
		if (f.mask & mask) {
			ks->has_features = true;
			ks->immutable = (f.features & mask) ? 1 : 0;
			ks->locked = (f.lock & mask) != 0;
		}
	}
	kaudit_close(fd);
	return rc;
}

static void
kernel_from_status(const struct status *st, struct kstatus *ks)
{
	const char *li = get(st, "kernel_loginuid_immutable");

	memset(ks, 0, sizeof(*ks));
	ks->k.enabled = (uint32_t)getu(st, "kernel_enabled");
	ks->k.failure = (uint32_t)getu(st, "kernel_failure");
	ks->k.pid = (uint32_t)getu(st, "kernel_pid");
	ks->k.rate_limit = (uint32_t)getu(st, "kernel_rate_limit");
	ks->k.backlog_limit = (uint32_t)getu(st, "kernel_backlog_limit");
	ks->k.lost = (uint32_t)getu(st, "kernel_lost");
	ks->k.backlog = (uint32_t)getu(st, "kernel_backlog");
	ks->k.backlog_wait_time = (uint32_t)getu(st, "kernel_backlog_wait_time");
	ks->k.backlog_wait_time_actual = (uint32_t)getu(st, "kernel_backlog_wait_time_actual");
	if (li != NULL) {
		ks->has_features = true;
		ks->immutable = (unsigned)strtoul(li, NULL, 10);
		ks->locked = strstr(li, "unlocked") == NULL;
	}
}

/* Exactly auditctl -s's lines and order. */
static void
print_kernel(const struct kstatus *ks)
{
	printf("enabled %u\nfailure %u\npid %u\nrate_limit %u\nbacklog_limit %u\n"
	    "lost %u\nbacklog %u\nbacklog_wait_time %u\nbacklog_wait_time_actual %u\n",
	    ks->k.enabled, ks->k.failure, ks->k.pid, ks->k.rate_limit,
	    ks->k.backlog_limit, ks->k.lost, ks->k.backlog, ks->k.backlog_wait_time,
	    ks->k.backlog_wait_time_actual);
	if (ks->has_features)
		printf("loginuid_immutable %u %s\n", ks->immutable,
		    ks->locked ? "locked" : "unlocked");
}

/*
 * A value on the terminal: control bytes (a daemon's configured path, a
 * status file another user wrote) go out as \xNN, never raw.
 */
static void
print_text(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

static void
print_rauditd(const struct status *st)
{
	printf("rauditd %s pid %s version %s uptime %ss\n", get_or(st, "rauditd_state"),
	    get_or(st, "rauditd_pid"), get_or(st, "rauditd_version"), get_or(st, "uptime_s"));
	for (size_t i = 0; i < st->n; i++) {
		const char *n = st->kv[i].name;
		if (strncmp(n, "kernel_", 7) == 0 && strcmp(n, "kernel_lost_since_start") != 0 &&
		    strcmp(n, "kernel_backlog_max") != 0 && strcmp(n, "kernel_wait_actual_since_start") != 0 &&
		    strcmp(n, "kernel_age_ms") != 0)
			continue;
		if (strncmp(n, "rauditd_", 8) == 0 || strcmp(n, "uptime_s") == 0)
			continue;
		print_text(n);
		putchar(' ');
		print_text(st->kv[i].value);
		putchar('\n');
	}
}

static bool
is_number(const char *v)
{
	if (*v == '-')
		v++;
	if (*v == '\0')
		return false;
	for (; *v; v++)
		if (*v < '0' || *v > '9')
			return false;
	return true;
}

static void
json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void
print_json_kernel(const struct kstatus *ks)
{
	printf("{\"enabled\":%u,\"failure\":%u,\"pid\":%u,\"rate_limit\":%u,"
	    "\"backlog_limit\":%u,\"lost\":%u,\"backlog\":%u,\"backlog_wait_time\":%u,"
	    "\"backlog_wait_time_actual\":%u",
	    ks->k.enabled, ks->k.failure, ks->k.pid, ks->k.rate_limit, ks->k.backlog_limit,
	    ks->k.lost, ks->k.backlog, ks->k.backlog_wait_time, ks->k.backlog_wait_time_actual);
	if (ks->has_features)
		printf(",\"loginuid_immutable\":%u,\"loginuid_immutable_locked\":%s",
		    ks->immutable, ks->locked ? "true" : "false");
	printf("}");
}

static void
print_json(const struct kstatus *ks, const struct status *st, bool running)
{
	/* null: a running daemon with no kernel reading yet (see cmd_status). */
	printf("{\"kernel\":");
	if (ks == NULL)
		printf("null");
	else
		print_json_kernel(ks);
	printf(",\"rauditd\":");
	if (!running) {
		printf("{\"running\":false}");
		return;
	}
	printf("{\"running\":true");
	for (size_t i = 0; i < st->n; i++) {
		const char *n = st->kv[i].name, *v = st->kv[i].value;
		if (strncmp(n, "kernel_", 7) == 0 && strcmp(n, "kernel_lost_since_start") != 0 &&
		    strcmp(n, "kernel_backlog_max") != 0 && strcmp(n, "kernel_wait_actual_since_start") != 0)
			continue;
		printf(",");
		json_string(n);
		putchar(':');
		if (is_number(v))
			printf("%s", v);
		else
			json_string(v);
	}
	printf("}");
}

/*
 * rauditd-ship's status file, when there is one: 0 and *st filled, or
 * -errno. ship_status_age_s tells how old it is (the shipper rewrites it
 * every stats_interval seconds while it runs).
 */
static int
fetch_ship(struct status *st, long long *age)
{
	char path[PATH_MAX], *text;
	ssize_t n;
	int rc;

	memset(st, 0, sizeof(*st));
	/* The shipper (perhaps another user) writes this file: see sidefile_read. */
	n = sidefile_read(config_ship_status(&cfg, path, sizeof(path)), CONTROL_MAX_PAYLOAD,
	    &text);
	if (n < 0)
		return (int)n;
	if ((rc = status_parse(st, text)) < 0) {
		status_free(st);
		return rc;
	}
	*age = (long long)time(NULL) - (long long)getu(st, "ship_updated");
	return 0;
}

static void
print_ship(bool json)
{
	struct status sh;
	long long age = 0;

	if (cfg.ship_target[0] == '\0')
		return;
	if (fetch_ship(&sh, &age) < 0) {
		if (json)
			printf(",\"ship\":null");
		return;
	}
	if (json) {
		printf(",\"ship\":{\"ship_status_age_s\":%lld", age);
		for (size_t i = 0; i < sh.n; i++) {
			if (strncmp(sh.kv[i].name, "ship_", 5) != 0)
				continue;
			printf(",");
			json_string(sh.kv[i].name);
			putchar(':');
			if (is_number(sh.kv[i].value))
				printf("%s", sh.kv[i].value);
			else
				json_string(sh.kv[i].value);
		}
		printf("}");
	} else {
		/* Only the shipper's own names: no line posing as rauditd's. */
		for (size_t i = 0; i < sh.n; i++) {
			if (strncmp(sh.kv[i].name, "ship_", 5) != 0)
				continue;
			print_text(sh.kv[i].name);
			putchar(' ');
			print_text(sh.kv[i].value);
			putchar('\n');
		}
		printf("ship_status_age_s %lld\n", age);
	}
	status_free(&sh);
}

/*
 * rauditd-dispatch's consumers as report.c renders them ("name value"
 * lines, then "consumer NAME FIELD VALUE", names already escaped); NULL
 * when there is no status file.
 */
static char *
consumers_text(void)
{
	struct report_consumers *rc = report_consumers_load(&cfg);
	/* Room for every field of the most consumers with the longest names. */
	size_t cap = 4096 + REPORT_CONSUMERS_MAX * 4096, len;
	char *buf;

	if (rc == NULL)
		return NULL;
	if ((buf = malloc(cap + 1)) != NULL) {
		len = report_consumers_status(rc, buf, cap);
		buf[len] = '\0';
	}
	free(rc);
	return buf;
}

static void
json_value(const char *v)
{
	if (is_number(v))
		printf("%s", v);
	else
		json_string(v);
}

/* "dispatch":{..., "consumers":{"NAME":{"FIELD":VALUE, ...}, ...}} */
static void
print_consumers_json(char *text)
{
	char *line, *save = NULL, *prev = NULL;

	printf(",\"dispatch\":{");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *name, *field, *value;

		if (strncmp(line, "consumer ", 9) != 0) {
			if ((value = strchr(line, ' ')) == NULL)
				continue;
			*value++ = '\0';
			printf("%s", prev == NULL && line == text ? "" : ",");
			json_string(line);
			putchar(':');
			json_value(value);
			continue;
		}
		name = line + 9;
		if ((field = strchr(name, ' ')) == NULL || (value = strchr(field + 1, ' ')) == NULL)
			continue;
		*field++ = '\0';
		*value++ = '\0';
		if (prev == NULL)
			printf(",\"consumers\":{");
		if (prev == NULL || strcmp(prev, name) != 0) {
			printf("%s", prev == NULL ? "" : "},");
			json_string(name);
			printf(":{");
		} else {
			putchar(',');
		}
		prev = name;
		json_string(field);
		putchar(':');
		json_value(value);
	}
	printf("%s}", prev == NULL ? "" : "}}");
}

static void
print_consumers(bool json)
{
	char *text = consumers_text();

	if (text == NULL) {
		if (json)
			printf(",\"dispatch\":null");
		return;
	}
	if (json)
		print_consumers_json(text);
	else
		fputs(text, stdout);
	free(text);
}

static bool
not_running(int rc)
{
	return rc == -ENOENT || rc == -ECONNREFUSED;
}

static int
cmd_status(bool json)
{
	struct status st;
	struct kstatus ks;
	int rc = fetch_status(&st), krc = 0;
	bool running = rc == 0;

	if (rc < 0 && !not_running(rc)) {
		fprintf(stderr, "rauditctl: %s/%s: %s\n", cfg.run_dir, CONTROL_SOCKET_NAME,
		    strerror(-rc));
		return CTL_FAIL;
	}
	/*
	 * With the daemon running, the kernel lines come from its monitor and
	 * from nowhere else, even when it has no reading: asking the kernel
	 * ourselves while its backlog is over the limit would put us to sleep
	 * among the audited processes and could take the one wake-up meant for
	 * them, blocking them for the whole backlog_wait_time (see monitor.h).
	 */
	if (running) {
		if (getu(&st, "kernel_valid"))
			kernel_from_status(&st, &ks);
		else
			krc = -ENODATA;
	} else {
		krc = kernel_direct(&ks);
	}
	if (krc < 0 && !running) {
		fprintf(stderr, "rauditctl: kernel audit status: %s\n", strerror(-krc));
		return CTL_FAIL;
	}
	if (krc < 0 && !json)
		printf("kernel status: no reading yet (rauditd asks the kernel only while "
		    "its queue is quiet; see monitor_skipped)\n");
	if (json) {
		print_json(krc == 0 ? &ks : NULL, &st, running);
		print_ship(true);
		print_consumers(true);
		printf("}\n");
	} else {
		if (krc == 0)
			print_kernel(&ks);
		if (running)
			print_rauditd(&st);
		else
			printf("rauditd is not running (nothing listens on %s/%s)\n",
			    cfg.run_dir, CONTROL_SOCKET_NAME);
		print_ship(false);
		print_consumers(false);
	}
	status_free(&st);
	return CTL_OK;
}

static int
cmd_simple(uint16_t type, const char *what)
{
	uint16_t rtype;
	char *payload = NULL;
	int rc = ctl_request(type, &rtype, &payload);

	if (rc < 0) {
		fprintf(stderr, "rauditctl: %s: %s/%s: %s\n", what, cfg.run_dir,
		    CONTROL_SOCKET_NAME, not_running(rc) ? "rauditd is not running" : strerror(-rc));
		return not_running(rc) ? CTL_NOT_RUNNING : CTL_FAIL;
	}
	if (rtype == CONTROL_REP_ERROR) {
		fprintf(stderr, "rauditctl: %s: %s\n", what, payload ? payload : "error");
		free(payload);
		return CTL_FAIL;
	}
	if (rtype == CONTROL_REP_TEXT && payload)
		fputs(payload, stdout);
	free(payload);
	return CTL_OK;
}

/* ---- top ------------------------------------------------------------------ */

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Which buffer is full now: the ring (the receiver waits), the socket, both. */
static const char *
top_full(const struct status *st)
{
	bool ring = getu(st, "ring_full_ms") > 0;
	bool sock = getu(st, "socket_full_ms") > 0;

	if (!ring && !sock)
		return "-";
	return ring && sock ? "ring+sock" : ring ? "ring" : "socket";
}

/* One line per consumer under the counters. */
static void
top_consumers(void)
{
	struct report_consumers *rc = report_consumers_load(&cfg);
	char name[REPORT_NAME_MAX * 4], state[sizeof(rc->c[0].state) * 4];

	if (rc == NULL)
		return;
	if (rc->n > 0)
		printf("  %-20s %-9s %8s %8s %10s %12s %7s\n", "consumer", "state", "pid",
		    "restarts", "lag_rec", "lag_bytes", "lag_s");
	for (size_t i = 0; i < rc->n; i++) {
		const struct report_consumer *c = &rc->c[i];

		report_escape_name(c->name, name, sizeof(name));
		report_escape_name(c->state[0] ? c->state : "?", state, sizeof(state));
		printf("  %-20s %-9s %8llu %8llu %10llu %12llu %7llu\n", name, state,
		    (unsigned long long)c->pid,
		    (unsigned long long)c->restarts, (unsigned long long)c->lag_records,
		    (unsigned long long)c->lag_bytes, (unsigned long long)c->lag_seconds);
	}
	free(rc);
}

static int
cmd_top(double interval, long count)
{
	struct status prev = { 0 }, cur;
	double t_prev = 0, t;
	bool tty = isatty(STDOUT_FILENO);
	long i;
	int rc;

	for (i = 0; count <= 0 || i < count; i++) {
		rc = fetch_status(&cur);
		t = mono_s();
		if (rc < 0) {
			fprintf(stderr, "rauditctl: %s\n", not_running(rc) ? "rauditd is not running" : strerror(-rc));
			status_free(&prev);
			return not_running(rc) ? CTL_NOT_RUNNING : CTL_FAIL;
		}
		if (tty)
			printf("\033[H\033[J");
		if (tty || i == 0)
			printf("%10s %10s %6s %8s %8s %8s %8s %-9s %9s %-9s %9s\n", "in/s", "out/s",
			    "ring%", "backlog", "k.lost", "dropped", "gaps", "writer", "write_us",
			    "full", "unsynced");
		if (prev.n > 0) {
			double dt = t - t_prev;
			unsigned long long cap = getu(&cur, "ring_capacity_bytes");
			printf("%10.0f %10.0f %6.1f %8llu %8llu %8llu %8llu %-9s %9llu %-9s %9llu\n",
			    (double)(getu(&cur, "received") - getu(&prev, "received")) / dt,
			    (double)(getu(&cur, "written") - getu(&prev, "written")) / dt,
			    cap ? 100.0 * (double)getu(&cur, "ring_used_bytes") / (double)cap : 0.0,
			    getu(&cur, "kernel_backlog"), getu(&cur, "kernel_lost"),
			    getu(&cur, "dropped"), getu(&cur, "seq_gaps"),
			    get(&cur, "writer_state") ? get(&cur, "writer_state") : "?",
			    getu(&cur, "writer_last_write_us"), top_full(&cur),
			    getu(&cur, "writer_unsynced_records"));
			top_consumers();
		}
		fflush(stdout);
		status_free(&prev);
		prev = cur;
		t_prev = t;
		if (count > 0 && i + 1 >= count)
			break;
		{
			struct timespec ts = { (time_t)interval,
			    (long)((interval - (double)(time_t)interval) * 1e9) };
			nanosleep(&ts, NULL);
		}
	}
	status_free(&prev);
	return CTL_OK;
}

/* ---- verify ---------------------------------------------------------------- */

struct verify_ctx {
	const char	*dir;
	uint64_t	 problems;
};

static void
verify_cb(void *arg, enum spool_event ev, const struct spool_pos *pos, uint64_t len)
{
	struct verify_ctx *v = arg;
	char name[SPOOL_NAME_LEN + 8];
	static const char *const what[] = {
		[SPOOL_EV_TORN] = "torn last line (sealed segment)",
		[SPOOL_EV_BAD_LINE] = "line that is not an audit record",
		[SPOOL_EV_MISSING] = "segment(s) missing",
		[SPOOL_EV_LONG_LINE] = "line too long",
	};

	spool_segment_name(name, sizeof(name), pos->segment);
	if (ev == SPOOL_EV_MISSING)
		printf("%s/%s: %llu %s\n", v->dir, name, (unsigned long long)len, what[ev]);
	else
		printf("%s/%s:%llu: %s (%llu bytes)\n", v->dir, name,
		    (unsigned long long)pos->offset, what[ev], (unsigned long long)len);
	v->problems++;
}

static int read_vkey(const char *arg, struct chain_verify_key *k);
static int verify_chain(const char *dir, const struct chain_verify_key *key);

static int
cmd_verify(const char *dir, const char *vkey)
{
	struct chain_verify_key key;
	struct verify_ctx v = { dir, 0 };
	struct spool_reader *r;
	struct spool_reader_stats st;
	struct spool_pos pos, end;
	const char *line;
	size_t len;
	uint64_t last_seg = 0, markers_bad = 0;
	bool expect_marker = true;
	int rc;

	if (vkey != NULL && (rc = read_vkey(vkey, &key)) < 0) {
		fprintf(stderr, "rauditctl: verify: --key %s: not a verification key "
		    "(seal1-SEGMENT-HEX), nor a file holding one: %s\n", vkey,
		    strerror(rc == -EINVAL ? EINVAL : -rc));
		return CTL_USAGE;
	}
	r = spool_reader_open(dir, NULL, verify_cb, &v);
	if (r == NULL) {
		fprintf(stderr, "rauditctl: verify %s: %s\n", dir, strerror(errno));
		return CTL_FAIL;
	}
	while ((rc = spool_reader_next(r, &line, &len, &pos)) > 0) {
		if (pos.segment != last_seg) {
			last_seg = pos.segment;
			expect_marker = pos.offset == 0;
		}
		if (expect_marker) {
			char want[64];
			int n = snprintf(want, sizeof(want), "segment=%llu ",
			    (unsigned long long)pos.segment);
			struct format_line fl;	/* node= prefix or not (name_format) */
			if (!format_parse_line(line, len, &fl) ||
			    !format_line_type_is(&fl, "DAEMON_ROTATE") ||
			    memmem(line, len, want, (size_t)n) == NULL) {
				char name[SPOOL_NAME_LEN + 8];
				spool_segment_name(name, sizeof(name), pos.segment);
				printf("%s/%s:0: does not begin with its DAEMON_ROTATE segment marker\n",
				    dir, name);
				markers_bad++;
			}
			expect_marker = false;
		}
	}
	if (rc < 0) {
		fprintf(stderr, "rauditctl: verify %s: %s\n", dir, strerror(-rc));
		spool_reader_close(r);
		return CTL_FAIL;
	}
	spool_reader_tell(r, &end);
	spool_reader_stats(r, &st);
	spool_reader_close(r);
	/* What follows the last newline of the open segment is not a record
	 * yet: in progress while rauditd runs, cut at its next start. */
	if (end.segment) {
		char path[4200], name[SPOOL_NAME_LEN + 8];
		struct stat sb;
		spool_segment_name(name, sizeof(name), end.segment);
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (stat(path, &sb) == 0 && (uint64_t)sb.st_size > end.offset)
			printf("%s:%llu: %llu bytes after the last newline of the open segment "
			    "(a record being written, or a torn tail rauditd cuts at start)\n",
			    path, (unsigned long long)end.offset,
			    (unsigned long long)((uint64_t)sb.st_size - end.offset));
	}
	printf("%s: %llu segment(s), %llu record(s), %llu problem(s)\n", dir,
	    (unsigned long long)st.segments, (unsigned long long)st.lines,
	    (unsigned long long)v.problems + markers_bad);
	rc = verify_chain(dir, vkey ? &key : NULL);
	return v.problems + markers_bad || rc != CTL_OK ? CTL_FAIL : CTL_OK;
}

/* ---- the tamper-evidence chain: verify --key, keygen ------------------- */

static void
chain_cb(void *arg, bool failure, const char *file, const char *msg)
{
	(void)arg;
	printf("%s: %s%s\n", file, failure ? "" : "note: ", msg);
}

/* The verification key, given as its text or as a file holding it. */
static int
read_vkey(const char *arg, struct chain_verify_key *k)
{
	char buf[CHAIN_KEY_TEXT_MAX + 32];
	ssize_t n;
	int fd;

	if (chain_key_parse(arg, strlen(arg), &k->segment, k->key) == 0)
		return 0;
	fd = open(arg, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return -errno;
	return chain_key_parse(buf, (size_t)n, &k->segment, k->key);
}

/*
 * The chain is checked when a verification key is given, or when any
 * segment carries chain fields: a spool written entirely without them
 * comes from a rauditd that did not chain, and says so.
 */
static int
verify_chain(const char *dir, const struct chain_verify_key *key)
{
	struct chain_verify_result res;
	uint64_t newest, chained;
	int rc;

	if ((rc = chain_verify_survey(dir, &newest, &chained)) < 0) {
		fprintf(stderr, "rauditctl: verify %s: %s\n", dir, strerror(-rc));
		return CTL_FAIL;
	}
	if (chained == 0 && key == NULL) {
		printf("%s: chain: no segment carries chain fields; written without tamper "
		    "evidence\n", dir);
		return CTL_OK;
	}
	if ((rc = chain_verify_dir(dir, key, chain_cb, NULL, &res)) < 0) {
		fprintf(stderr, "rauditctl: verify %s: %s\n", dir, strerror(-rc));
		return CTL_FAIL;
	}
	printf("%s: chain: %llu sealed segment(s) verified%s, %llu explained break(s), "
	    "%llu problem(s)\n", dir, (unsigned long long)res.sealed_ok,
	    key ? " with the verification key" : "", (unsigned long long)res.breaks,
	    (unsigned long long)res.failures);
	return res.failures ? CTL_FAIL : CTL_OK;
}

/* A new sealing key for the newest segment of dir; print the verification key. */
static int
cmd_keygen(const char *path, const char *dir)
{
	char vkey[CHAIN_KEY_TEXT_MAX];
	uint64_t newest, chained;
	int rc;

	if ((rc = chain_verify_survey(dir, &newest, &chained)) < 0 && rc != -ENOENT) {
		fprintf(stderr, "rauditctl: keygen: spool %s: %s\n", dir, strerror(-rc));
		return CTL_FAIL;
	}
	if (newest == 0)
		newest = 1;
	if ((rc = chain_key_create(path, newest, vkey, sizeof(vkey))) < 0) {
		fprintf(stderr, "rauditctl: keygen: %s: %s\n", path, strerror(-rc));
		return CTL_FAIL;
	}
	printf("%s\n", vkey);
	fprintf(stderr, "rauditctl: %s holds the sealing key from segment %llu of %s; keep the "
	    "verification key above off this host\n", path, (unsigned long long)newest, dir);
	explicit_bzero(vkey, sizeof(vkey));
	return CTL_OK;
}

/* "top [-i SECONDS] [-n COUNT]": the options may follow the command. */
static int
main_top(int argc, char **argv, double interval, long count)
{
	while (optind < argc) {
		if (strcmp(argv[optind], "-i") == 0 && optind + 1 < argc)
			interval = atof(argv[optind + 1]);
		else if (strcmp(argv[optind], "-n") == 0 && optind + 1 < argc)
			count = atol(argv[optind + 1]);
		else {
			usage(stderr);
			return CTL_USAGE;
		}
		optind += 2;
	}
	if (interval <= 0) {
		fprintf(stderr, "rauditctl: top: -i must be positive\n");
		return CTL_USAGE;
	}
	return cmd_top(interval, count);
}

/* -s, "status", and with --watch every watch seconds, count times. */
static int
main_status(bool json, double watch, long count)
{
	int rc;

	if (watch <= 0)
		return cmd_status(json);
	for (long i = 0; count <= 0 || i < count; i++) {
		struct timespec ts = { (time_t)watch,
		    (long)((watch - (double)(time_t)watch) * 1e9) };
		if (isatty(STDOUT_FILENO))
			printf("\033[H\033[J");
		rc = cmd_status(json);
		fflush(stdout);
		if (rc != CTL_OK || (count > 0 && i + 1 >= count))
			return rc;
		nanosleep(&ts, NULL);
	}
	return cmd_status(json);
}

/* "verify [--key FILE] [DIR]" */
static int
main_verify(int argc, char **argv)
{
	const char *dir = cfg.spool_dir, *vkey = NULL;

	for (; optind < argc; optind++) {
		if (strcmp(argv[optind], "--key") == 0 && optind + 1 < argc)
			vkey = argv[++optind];
		else if (argv[optind][0] != '-')
			dir = argv[optind];
		else {
			usage(stderr);
			return CTL_USAGE;
		}
	}
	return cmd_verify(dir, vkey);
}

/* The commands that are one request and its answer. */
static const struct {
	const char	*name;
	uint16_t	 type;
} simple_cmds[] = {
	{ "rotate",	CONTROL_REQ_ROTATE },
	{ "reload",	CONTROL_REQ_RELOAD },
	{ "stop",	CONTROL_REQ_STOP },
	{ "resume",	CONTROL_REQ_RESUME },
	{ "state",	CONTROL_REQ_STATE },
	{ "upgrade",	CONTROL_REQ_UPGRADE },
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "status",	no_argument,		NULL, 's' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "watch",	required_argument,	NULL, 'w' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfg_path = RAUDITD_CONF, *cmd = NULL;
	char err[CONFIG_ERR_MAX];
	bool status = false, json = false, cfg_given = false;
	double watch = 0, interval = 1;
	long count = 0;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+c:shVi:n:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfg_path = optarg; cfg_given = true; break;
		case 's': status = true; break;
		case 'j': json = true; break;
		case 'w': watch = atof(optarg); break;
		case 'i': interval = atof(optarg); break;
		case 'n': count = atol(optarg); break;
		case 'h': usage(stdout); return CTL_OK;
		case 'V': printf("rauditctl %s\n", PACKAGE_VERSION); return CTL_OK;
		default: usage(stderr); return CTL_USAGE;
		}
	}
	if (optind < argc)
		cmd = argv[optind++];
	if (!status && cmd == NULL) {
		usage(stderr);
		return CTL_USAGE;
	}
	config_defaults(&cfg);
	/* A missing config file is fine (the defaults apply); a broken one not. */
	rc = config_load(&cfg, cfg_path, err, sizeof(err));
	if (rc < 0 && !(rc == -ENOENT && !cfg_given)) {
		fprintf(stderr, "rauditctl: %s\n", err);
		return CTL_USAGE;
	}
	if (cmd != NULL && strcmp(cmd, "top") == 0)
		return main_top(argc, argv, interval, count);
	if (status || strcmp(cmd, "status") == 0)
		return main_status(json, watch, count);
	for (size_t i = 0; i < sizeof(simple_cmds) / sizeof(simple_cmds[0]); i++)
		if (strcmp(cmd, simple_cmds[i].name) == 0)
			return cmd_simple(simple_cmds[i].type, simple_cmds[i].name);
	if (strcmp(cmd, "verify") == 0)
		return main_verify(argc, argv);
	if (strcmp(cmd, "keygen") == 0) {
		if (optind >= argc || optind + 2 < argc || argv[optind][0] == '-') {
			usage(stderr);
			return CTL_USAGE;
		}
		return cmd_keygen(argv[optind], optind + 1 < argc ? argv[optind + 1] : cfg.spool_dir);
	}
	fprintf(stderr, "rauditctl: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return CTL_USAGE;
}
