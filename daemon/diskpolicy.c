/*
 * diskpolicy.c - this file decides when auditd.conf's disk-space events
 * (space_left, admin_space_left, disk_full, disk_error) and rauditd's own
 * loss event fire, once per crossing, and carries out their actions without
 * ever making the writer wait on them: see the DESIGN block in diskpolicy.h.
 */
#include "build_config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "diskpolicy.h"
#include "log.h"

#define MiB	(1024ULL * 1024)

struct child {
	pid_t		pid;		/* 0: none */
	uint64_t	started_ns;
	bool		killed;
};

struct diskpolicy {
	struct diskpolicy_settings ds;
	struct diskpolicy_hooks	hooks;
	bool			active[DISKPOLICY_EVENTS];
	uint64_t		fired[DISKPOLICY_EVENTS];
	struct child		child[DISKPOLICY_EVENTS];
	uint64_t		next_check_ns;
	uint64_t		exec_started, exec_failed, exec_killed;
	int			statvfs_err;	/* last statvfs error, logged once */
	uint64_t		loss_logged_ns;	/* loss is logged at most once a second */
	uint64_t		loss_quiet;	/* losses not logged since */
};

static const char *const event_names[DISKPOLICY_EVENTS] = {
	"space_left", "admin_space_left", "disk_full", "disk_error", "loss",
};

const char *
diskpolicy_event_name(enum diskpolicy_event ev)
{
	return ev < DISKPOLICY_EVENTS ? event_names[ev] : "unknown";
}

int
diskpolicy_parse_space(const char *s, struct diskpolicy_space *sp,
    char *msg, size_t msglen)
{
	uint64_t v = 0, mult = MiB;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		goto bad;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX / 10) - 10)
			goto bad;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	sp->percent = false;
	switch (*p) {
	case '\0': break;			/* auditd's unit: megabytes */
	case '%':
		if (p[1] != '\0' || v < 1 || v > 99) {
			snprintf(msg, msglen, "\"%s\": a percentage is 1%% to 99%%", s);
			return -EINVAL;
		}
		sp->percent = true;
		sp->value = v;
		return 0;
	case 'K': case 'k': mult = 1024; p++; break;
	case 'M': case 'm': mult = MiB; p++; break;
	case 'G': case 'g': mult = 1024 * MiB; p++; break;
	default: goto bad;
	}
	if (*p != '\0' || v > (UINT64_MAX / mult))
		goto bad;
	sp->value = v * mult;
	return 0;
bad:
	snprintf(msg, msglen, "\"%s\" is not a size (megabytes, a number with K, M or G, "
	    "or a percentage N%%)", s);
	return -EINVAL;
}

void
diskpolicy_format_space(const struct diskpolicy_space *sp, char *buf, size_t len)
{
	if (sp->percent)
		snprintf(buf, len, "%llu%%", (unsigned long long)sp->value);
	else if (sp->value % (1024 * MiB) == 0 && sp->value != 0)
		snprintf(buf, len, "%lluG", (unsigned long long)(sp->value / (1024 * MiB)));
	else if (sp->value % MiB == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(sp->value / MiB));
	else if (sp->value % 1024 == 0)
		snprintf(buf, len, "%lluK", (unsigned long long)(sp->value / 1024));
	else
		snprintf(buf, len, "%llu", (unsigned long long)sp->value);
}

uint64_t
diskpolicy_threshold(const struct diskpolicy_space *sp, uint64_t total)
{
	if (!sp->percent)
		return sp->value;
	/* total / 100 first: no overflow for any real file system. */
	return total / 100 * sp->value + total % 100 * sp->value / 100;
}

int
diskpolicy_parse_action(enum diskpolicy_event ev, const char *s,
    struct diskpolicy_action *a, char *msg, size_t msglen)
{
	const char *why = NULL;
	bool can_rotate = ev <= DISKPOLICY_DISK_FULL;

	memset(a, 0, sizeof(*a));
	if (strcmp(s, "ignore") == 0)
		a->kind = DISKPOLICY_IGNORE;
	else if (strcmp(s, "syslog") == 0)
		a->kind = DISKPOLICY_SYSLOG;
	else if (strcmp(s, "rotate") == 0 && can_rotate)
		a->kind = DISKPOLICY_ROTATE;
	else if (strncmp(s, "exec ", 5) == 0) {
		const char *path = s + 5;

		if (path[0] != '/' || strpbrk(path, " \t") != NULL ||
		    strlen(path) >= sizeof(a->path)) {
			snprintf(msg, msglen, "exec needs one absolute path to a script (no "
			    "arguments: it gets the reason), got \"%s\"", path);
			return -EINVAL;
		}
		for (const char *q = path; *q; q++)
			if (!isgraph((unsigned char)*q)) {
				snprintf(msg, msglen, "exec: control byte in the path");
				return -EINVAL;
			}
		a->kind = DISKPOLICY_EXEC;
		snprintf(a->path, sizeof(a->path), "%s", path);
	} else if (strcmp(s, "email") == 0)
		why = "rauditd sends no mail; use syslog, or exec a script that mails";
	else if (strcmp(s, "suspend") == 0)
		why = "rauditd never stops writing (that loses records); use syslog or exec";
	else if (strcmp(s, "single") == 0 || strcmp(s, "halt") == 0)
		why = "rauditd does not change the system's state itself; exec a script that "
		    "runs \"systemctl rescue\" or \"systemctl halt\"";
	else if (strcmp(s, "rotate") == 0)
		why = "rotate frees no space here; use ignore, syslog or exec";
	else {
		snprintf(msg, msglen, "must be ignore, syslog,%s or exec /path; got \"%s\"",
		    can_rotate ? " rotate" : "", s);
		return -EINVAL;
	}
	if (why != NULL) {
		snprintf(msg, msglen, "\"%s\" is not supported: %s", s, why);
		return -EINVAL;
	}
	return 0;
}

void
diskpolicy_settings_from_config(struct diskpolicy_settings *ds, const struct config *c)
{
	const char *acts[DISKPOLICY_EVENTS] = { c->space_left_action,
	    c->admin_space_left_action, c->disk_full_action, c->disk_error_action,
	    c->loss_action };
	char msg[256];

	memset(ds, 0, sizeof(*ds));
	/* The parser accepted these: they parse (a failure leaves 0 / ignore). */
	(void)diskpolicy_parse_space(c->space_left, &ds->space_left, msg, sizeof(msg));
	(void)diskpolicy_parse_space(c->admin_space_left, &ds->admin_space_left, msg,
	    sizeof(msg));
	for (int i = 0; i < DISKPOLICY_EVENTS; i++)
		if (diskpolicy_parse_action((enum diskpolicy_event)i, acts[i], &ds->action[i],
		    msg, sizeof(msg)) < 0)
			ds->action[i].kind = DISKPOLICY_SYSLOG;
}

struct diskpolicy *
diskpolicy_new(const struct diskpolicy_settings *ds, const struct diskpolicy_hooks *hooks)
{
	struct diskpolicy *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->ds = *ds;
	p->hooks = *hooks;
	return p;
}

void
diskpolicy_set(struct diskpolicy *p, const struct diskpolicy_settings *ds)
{
	p->ds = *ds;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Start path with reason as its only argument: no shell, stdin/stdout from
 * /dev/null (stderr stays: the journal), default signal dispositions and an
 * empty mask (the writer thread blocks all signals), no descriptor but
 * those three. posix_spawn returns once the child has exec'd.
 */
static int
spawn(const char *path, const char *reason, pid_t *pid)
{
	static char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	char a0[PATH_MAX], a1[64];
	char *const argv[] = { a0, a1, NULL };
	char *const envp[] = { env_path, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int rc;

	snprintf(a0, sizeof(a0), "%s", path);
	snprintf(a1, sizeof(a1), "%s", reason);
	sigemptyset(&none);
	sigfillset(&all);
	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		return -rc;
	if ((rc = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -rc;
	}
	rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&at, &none);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&at, &all);
	if (rc == 0)
		rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
		    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
	if (rc == 0)
		rc = posix_spawn(pid, path, &fa, &at, argv, envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return -rc;
}

static void
run_exec(struct diskpolicy *p, enum diskpolicy_event ev, const char *path)
{
	struct child *c = &p->child[ev];
	int rc;

	if (c->pid > 0) {
		/* Losses come in runs: one script at a time, quietly. */
		if (ev == DISKPOLICY_LOSS)
			return;
		log_warnx("diskpolicy: %s: %s (pid %ld) is still running; not started again",
		    event_names[ev], path, (long)c->pid);
		return;
	}
	rc = spawn(path, event_names[ev], &c->pid);
	if (rc < 0) {
		c->pid = 0;
		p->exec_failed++;
		log_warnx("diskpolicy: %s: cannot run %s: %s", event_names[ev], path,
		    strerror(-rc));
		return;
	}
	p->exec_started++;
	c->started_ns = mono_ns();
	c->killed = false;
}

/* Collect finished actions; kill the ones over their time. */
static void
reap(struct diskpolicy *p, uint64_t now)
{
	for (int i = 0; i < DISKPOLICY_EVENTS; i++) {
		struct child *c = &p->child[i];
		int st;
		pid_t r;

		if (c->pid <= 0)
			continue;
		r = waitpid(c->pid, &st, WNOHANG);
		if (r == c->pid || (r < 0 && errno == ECHILD)) {
			if (r == c->pid && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
				p->exec_failed++;
				log_warnx("diskpolicy: %s action exited with %s %d", event_names[i],
				    WIFEXITED(st) ? "status" : "signal",
				    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			}
			c->pid = 0;
		} else if (!c->killed &&
		    now - c->started_ns > (uint64_t)DISKPOLICY_EXEC_TIMEOUT_S * 1000000000u) {
			log_warnx("diskpolicy: %s action (pid %ld) ran over %d s; killed",
			    event_names[i], (long)c->pid, DISKPOLICY_EXEC_TIMEOUT_S);
			(void)kill(c->pid, SIGKILL);
			c->killed = true;
			p->exec_killed++;
		}
	}
}

static const char *
kind_name(enum diskpolicy_kind k)
{
	switch (k) {
	case DISKPOLICY_IGNORE:	return "ignore";
	case DISKPOLICY_SYSLOG:	return "syslog";
	case DISKPOLICY_ROTATE:	return "rotate";
	case DISKPOLICY_EXEC:	return "exec";
	}
	return "unknown";
}

/* An event started: its record, its log line, its action. detail: "k=v ...". */
static void
fire(struct diskpolicy *p, enum diskpolicy_event ev, const char *detail)
{
	const struct diskpolicy_action *a = &p->ds.action[ev];
	char text[512];

	p->fired[ev]++;
	if (a->kind == DISKPOLICY_IGNORE)
		return;
	snprintf(text, sizeof(text), "op=%s %s action=%s res=failed", event_names[ev],
	    detail, kind_name(a->kind));
	/* A loss has its own record already (op=overflow, op=retention-unshipped). */
	if (p->hooks.record && ev != DISKPOLICY_LOSS)
		p->hooks.record(p->hooks.arg, text);
	if (ev == DISKPOLICY_LOSS && mono_ns() - p->loss_logged_ns < 1000000000u &&
	    p->loss_logged_ns != 0)
		p->loss_quiet++;
	else {
		if (ev == DISKPOLICY_LOSS) {
			if (p->loss_quiet > 0)
				log_warnx("diskpolicy: %llu more loss(es) not logged",
				    (unsigned long long)p->loss_quiet);
			p->loss_logged_ns = mono_ns();
			p->loss_quiet = 0;
		}
		log_warnx("diskpolicy: %s (%s); action %s%s%s", event_names[ev], detail,
		    kind_name(a->kind), a->kind == DISKPOLICY_EXEC ? " " : "",
		    a->kind == DISKPOLICY_EXEC ? a->path : "");
	}
	if (a->kind == DISKPOLICY_EXEC)
		run_exec(p, ev, a->path);
	else if (a->kind == DISKPOLICY_ROTATE && p->hooks.rotate) {
		/* Past space_left only what every consumer has finished goes;
		 * below admin_space_left or at a full disk, the oldest goes. */
		int n = p->hooks.rotate(p->hooks.arg, ev != DISKPOLICY_SPACE_LEFT);

		if (n <= 0)
			log_warnx("diskpolicy: %s: rotate deleted nothing%s", event_names[ev],
			    n == 0 ? " (no sealed segment it may delete)" : "");
	}
}

static void
recover(struct diskpolicy *p, enum diskpolicy_event ev, const char *detail)
{
	char text[512];

	if (p->ds.action[ev].kind == DISKPOLICY_IGNORE)
		return;
	snprintf(text, sizeof(text), "op=%s %s state=recovered res=success",
	    event_names[ev], detail);
	if (p->hooks.record)
		p->hooks.record(p->hooks.arg, text);
	log_info("diskpolicy: %s is over (%s)", event_names[ev], detail);
}

static void
edge(struct diskpolicy *p, enum diskpolicy_event ev, bool on, const char *detail)
{
	if (on == p->active[ev])
		return;
	p->active[ev] = on;
	if (on)
		fire(p, ev, detail);
	else
		recover(p, ev, detail);
}

void
diskpolicy_observe(struct diskpolicy *p, uint64_t avail, uint64_t total)
{
	uint64_t sl = diskpolicy_threshold(&p->ds.space_left, total);
	uint64_t asl = diskpolicy_threshold(&p->ds.admin_space_left, total);
	char d[160];

	snprintf(d, sizeof(d), "free=%llu threshold=%llu", (unsigned long long)avail,
	    (unsigned long long)sl);
	edge(p, DISKPOLICY_SPACE_LEFT, avail < sl, d);
	snprintf(d, sizeof(d), "free=%llu threshold=%llu", (unsigned long long)avail,
	    (unsigned long long)asl);
	edge(p, DISKPOLICY_ADMIN_SPACE_LEFT, avail < asl, d);
}

void
diskpolicy_check(struct diskpolicy *p, const char *dir, uint64_t now_ns)
{
	struct statvfs sv;

	if (now_ns < p->next_check_ns)
		return;
	p->next_check_ns = now_ns + (uint64_t)DISKPOLICY_CHECK_MS * 1000000u;
	reap(p, now_ns);
	if (statvfs(dir, &sv) < 0) {
		if (errno != p->statvfs_err)
			log_warn("diskpolicy: statvfs %s", dir);
		p->statvfs_err = errno;
		return;
	}
	p->statvfs_err = 0;
	/* f_bavail: what an unprivileged writer gets, as auditd measures. */
	diskpolicy_observe(p, (uint64_t)sv.f_bavail * sv.f_frsize,
	    (uint64_t)sv.f_blocks * sv.f_frsize);
}

void
diskpolicy_fault(struct diskpolicy *p, enum diskpolicy_event ev, bool on, int err)
{
	char d[128];

	if (ev != DISKPOLICY_DISK_FULL && ev != DISKPOLICY_DISK_ERROR)
		return;
	snprintf(d, sizeof(d), "errno=%d", err < 0 ? -err : err);
	edge(p, ev, on, d);
}

void
diskpolicy_loss(struct diskpolicy *p, const char *detail)
{
	fire(p, DISKPOLICY_LOSS, detail);
}

uint64_t
diskpolicy_fired(const struct diskpolicy *p, enum diskpolicy_event ev)
{
	return ev < DISKPOLICY_EVENTS ? p->fired[ev] : 0;
}

bool
diskpolicy_active(const struct diskpolicy *p, enum diskpolicy_event ev)
{
	return ev < DISKPOLICY_EVENTS && p->active[ev];
}

void
diskpolicy_exec_counts(const struct diskpolicy *p, uint64_t *started,
    uint64_t *failed, uint64_t *killed)
{
	*started = p->exec_started;
	*failed = p->exec_failed;
	*killed = p->exec_killed;
}

void
diskpolicy_free(struct diskpolicy *p)
{
	if (p == NULL)
		return;
	/* One last collection of what has finished; the rest is reparented. */
	for (int i = 0; i < DISKPOLICY_EVENTS; i++)
		if (p->child[i].pid > 0)
			(void)waitpid(p->child[i].pid, NULL, WNOHANG);
	free(p);
}
