/*
 * rules.c - this file loads the host's audit rules the way auditd.service
 * does (augenrules, then auditctl -R), as child processes with a fixed argv,
 * a clean environment and a deadline, and turns auditctl's complaint into a
 * file, a line and a reason the daemon can log.
 *
 * A bare "-D" in the rules (augenrules puts one first) would delete the
 * daemon's self-exclusion rule. So the file auditctl reads is a sealed
 * in-memory copy with those lines commented out, and rules_load runs the
 * delete itself, then lets the caller re-add its rule, then loads the rest:
 * a rule set ending in "-e 2" (locked) still finds the exclusion in place.
 */
#include "build_config.h"

#include "rules.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What a child may print that we keep; the rest is read and dropped. */
#define RULES_OUTPUT_MAX	8192
/* How often a finished child's exit is polled for after its output ends. */
#define RULES_REAP_POLL_MS	10

static const char rules_note[] = "There was an error in line ";

void
rules_cmds_default(struct rules_cmds *c)
{
	c->augenrules = RULES_AUGENRULES;
	c->auditctl = RULES_AUDITCTL;
	c->compiled = RULES_COMPILED;
}

/* res->message, first line only (a child's output may hold many). */
static void __attribute__((format(printf, 2, 3)))
setmsg(struct rules_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
	res->message[strcspn(res->message, "\n")] = '\0';
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child: stdout and stderr to the pipe, nothing else, then exec. */
static void __attribute__((noreturn))
child_exec(const char *const argv[], int out_fd, int keep_fd)
{
	static char *const env[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL,
	};
	sigset_t none;
	int null;

	/* Its own process group, so a timeout kills augenrules' children too. */
	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if ((null = open("/dev/null", O_RDONLY)) < 0 || dup2(null, 0) < 0 ||
	    dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		_exit(127);
	if (keep_fd >= 0 && fcntl(keep_fd, F_SETFD, 0) < 0)
		_exit(127);
	/* execve's argv is not const; copy the pointers rather than cast. */
	char *av[8];
	size_t n = 0;
	while (n < 7 && argv[n] != NULL)
		n++;
	if (n == 0)
		_exit(127);
	memcpy(av, argv, n * sizeof(*av));
	av[n] = NULL;
	execve(av[0], av, env);
	_exit(127);
}

/*
 * Run argv with keep_fd inherited, collecting its output into out until it
 * exits or timeout_ms pass. *status is its exit status, -1 if it did not
 * exit. Returns 0, -ETIMEDOUT (killed), or a negative errno.
 */
static int
run(const char *const argv[], int keep_fd, unsigned timeout_ms, char *out,
    size_t outlen, int *status)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t used = 0;
	int p[2], st, rc = 0;
	bool eof = false, reaped = false;
	pid_t pid;

	*status = -1;
	out[0] = '\0';
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	if ((pid = fork()) < 0) {
		rc = -errno;
		close(p[0]);
		close(p[1]);
		return rc;
	}
	if (pid == 0)
		child_exec(argv, p[1], keep_fd);
	close(p[1]);
	for (;;) {
		int64_t left = deadline - now_ms();
		struct pollfd pfd = { p[0], POLLIN, 0 };
		int wait_ms = left < RULES_REAP_POLL_MS ? (int)left : RULES_REAP_POLL_MS;
		char buf[1024];
		ssize_t n;

		if (!reaped && waitpid(pid, &st, WNOHANG) == pid) {
			reaped = true;
			*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		if (reaped && eof)
			break;
		if (left <= 0) {
			/* The whole group: augenrules' children too. */
			kill(-pid, SIGKILL);
			if (!reaped) {
				kill(pid, SIGKILL);
				waitpid(pid, &st, 0);
				rc = -ETIMEDOUT;
			}
			break;
		}
		if (eof) {
			poll(NULL, 0, wait_ms);
			continue;
		}
		if (poll(&pfd, 1, wait_ms) <= 0)
			continue;
		n = read(p[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			eof = true;
			continue;
		}
		if (used + 1 < outlen) {
			size_t k = (size_t)n < outlen - 1 - used ? (size_t)n : outlen - 1 - used;
			memcpy(out + used, buf, k);
			used += k;
			out[used] = '\0';
		}
	}
	close(p[0]);
	return rc;
}

int
rules_parse_output(const char *out, struct rules_result *res)
{
	const char *p, *found = NULL, *prev;
	unsigned long line = 0;
	size_t n;

	for (p = strstr(out, rules_note); p != NULL; p = strstr(p + 1, rules_note))
		found = p;
	if (found == NULL)
		return -ENOENT;
	p = found + sizeof(rules_note) - 1;
	if (*p < '0' || *p > '9')
		return -ENOENT;
	while (*p >= '0' && *p <= '9' && line < 100000000)
		line = line * 10 + (unsigned long)(*p++ - '0');
	res->line = (unsigned)line;
	/* auditctl's reason is the line before its note, if any. */
	res->message[0] = '\0';
	if (found > out) {
		const char *end = found - 1;	/* the '\n' ending the reason */
		prev = end;
		while (prev > out && prev[-1] != '\n')
			prev--;
		n = (size_t)(end - prev);
		if (n >= sizeof(res->message))
			n = sizeof(res->message) - 1;
		memcpy(res->message, prev, n);
		res->message[n] = '\0';
	}
	return 0;
}

/* A line augenrules would take as "-D": only the flag, with blanks. */
static bool
is_delete_all(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (len - i < 2 || s[i] != '-' || s[i + 1] != 'D')
		return false;
	for (i += 2; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* Read path whole (NUL-terminated). Returns its length or a negative errno. */
static ssize_t
read_file(const char *path, char **text)
{
	struct stat st;
	ssize_t n, got = 0;
	int fd, rc;

	*text = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > RULES_FILE_MAX) {
		rc = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		goto fail;
	}
	if ((*text = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	while (got < st.st_size && (n = read(fd, *text + got, (size_t)(st.st_size - got))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto fail;
		}
		got += n;
	}
	(*text)[got] = '\0';
	close(fd);
	return got;
fail:
	free(*text);
	*text = NULL;
	close(fd);
	return rc;
}

/*
 * The copy auditctl reads: the text with each "-D" line commented out,
 * sealed. *had_delete tells whether there was one. Returns the fd.
 */
static int
sealed_copy(const char *text, size_t len, bool *had_delete)
{
	const char *p = text, *end = text + len;
	int fd, rc;

	*had_delete = false;
	if ((fd = memfd_create("rauditd-rules", MFD_CLOEXEC | MFD_ALLOW_SEALING)) < 0)
		return -errno;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		bool del = is_delete_all(p, nl ? (size_t)(nl - p) : n);

		*had_delete |= del;
		if (del && write(fd, "#", 1) != 1)
			goto fail;
		if (write(fd, p, n) != (ssize_t)n)
			goto fail;
		p += n;
	}
	/* auditctl refuses, silently but for syslog, a world-writable file. */
	if (fchmod(fd, 0600) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0)
		goto fail;
	return fd;
fail:
	rc = errno ? -errno : -EIO;
	close(fd);
	return rc;
}

/* Copy line n (1-based) of text into buf. */
static void
nth_line(const char *text, unsigned n, char *buf, size_t len)
{
	const char *p = text;
	size_t k;

	buf[0] = '\0';
	for (unsigned i = 1; i < n && p != NULL; i++)
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	if (p == NULL || n == 0)
		return;
	k = strcspn(p, "\n");
	if (k >= len)
		k = len - 1;
	memcpy(buf, p, k);
	buf[k] = '\0';
}

/* Regenerate the compiled file, as augenrules --load would before loading. */
static int
compile(const struct rules_cmds *cmds, unsigned timeout_ms, struct rules_result *res,
    char *out)
{
	const char *argv[] = { cmds->augenrules, NULL };
	const char *check_argv[] = { cmds->augenrules, "--check", NULL };
	char *check;
	int rc, status;

	rc = run(argv, -1, timeout_ms, out, RULES_OUTPUT_MAX, &status);
	if (rc == -ETIMEDOUT)
		res->timed_out = true;
	if (rc < 0 || status != 0) {
		/* augenrules itself then loads what it has; so do we. */
		res->compile_failed = true;
		setmsg(res, "%s: %s", cmds->augenrules,
		    rc < 0 ? strerror(-rc) : out[0] ? out : "failed");
		return 0;
	}
	/*
	 * augenrules exits 0 when it cannot install what it compiled (its cp
	 * fails and the script goes on), leaving the old file in place. Its
	 * --check says whether the installed file still differs from rules.d.
	 */
	if ((check = malloc(RULES_OUTPUT_MAX)) == NULL)
		return 0;
	rc = run(check_argv, -1, timeout_ms, check, RULES_OUTPUT_MAX, &status);
	if (rc == 0 && status == 0 && strstr(check, RULES_AUGENRULES_STALE) != NULL) {
		res->compile_failed = true;
		setmsg(res, "%s did not install the rules it compiled into %s%s%s",
		    cmds->augenrules, cmds->compiled, out[0] ? ": " : "", out);
	}
	free(check);
	return 0;
}

/* auditctl -D, then the caller's hook (its self-exclusion rule back). */
static int
delete_all(const struct rules_cmds *cmds, unsigned timeout_ms,
    int (*after_delete)(void *arg), void *arg, struct rules_result *res, char *out)
{
	const char *argv[] = { cmds->auditctl, "-D", NULL };
	int rc, status;

	rc = run(argv, -1, timeout_ms, out, RULES_OUTPUT_MAX, &status);
	if (rc == 0 && status != 0)
		rc = -EIO;
	if (rc < 0) {
		res->timed_out = rc == -ETIMEDOUT;
		setmsg(res, "%s -D: %s", cmds->auditctl,
		    rc == -EIO && out[0] ? out : strerror(-rc));
		return rc;
	}
	res->deleted = true;
	return after_delete ? after_delete(arg) : 0;
}

int
rules_load(const char *setting, const struct rules_cmds *cmds,
    unsigned timeout_ms, int (*after_delete)(void *arg), void *arg,
    struct rules_result *res)
{
	char *text = NULL, *out = NULL, path[32];
	const char *argv[] = { cmds->auditctl, "-R", path, NULL };
	int fd = -1, rc, hook_rc = 0;
	bool had_delete;
	ssize_t len;

	memset(res, 0, sizeof(*res));
	res->exit_status = -1;
	if (strcmp(setting, "none") == 0)
		return 0;
	if ((out = malloc(RULES_OUTPUT_MAX)) == NULL)
		return -ENOMEM;
	if (strcmp(setting, "augenrules") == 0) {
		compile(cmds, timeout_ms, res, out);
		snprintf(res->file, sizeof(res->file), "%s", cmds->compiled);
	} else if (setting[0] == '/') {
		snprintf(res->file, sizeof(res->file), "%s", setting);
	} else {
		rc = -EINVAL;
		setmsg(res, "rules: \"%s\" is not augenrules, "
		    "none or an absolute path", setting);
		goto fail;
	}
	if ((len = read_file(res->file, &text)) < 0) {
		rc = (int)len;
		setmsg(res, "%s: %s", res->file,
		    rc == -EINVAL ? "not a regular file" : strerror(-rc));
		goto fail;
	}
	if ((fd = sealed_copy(text, (size_t)len, &had_delete)) < 0) {
		rc = fd;
		setmsg(res, "copy of %s: %s", res->file,
		    strerror(-rc));
		goto fail;
	}
	if (had_delete) {
		hook_rc = delete_all(cmds, timeout_ms, after_delete, arg, res, out);
		/* Without the delete the rules would stack on the old ones: stop. */
		if (!res->deleted) {
			rc = hook_rc;
			goto fail;
		}
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rc = run(argv, fd, timeout_ms, out, RULES_OUTPUT_MAX, &res->exit_status);
	if (rc < 0) {
		res->timed_out = rc == -ETIMEDOUT;
		setmsg(res, "%s -R %s: %s", cmds->auditctl,
		    res->file, strerror(-rc));
		goto fail;
	}
	if (res->exit_status != 0) {
		rc = -EINVAL;
		if (rules_parse_output(out, res) == 0)
			nth_line(text, res->line, res->rule, sizeof(res->rule));
		else {
			setmsg(res, "%s", out[0] ? out :
			    "auditctl -R failed without a reason on its output (see syslog)");
			}
		goto fail;
	}
	rc = hook_rc;
fail:
	if (fd >= 0)
		close(fd);
	free(text);
	free(out);
	return rc;
}
