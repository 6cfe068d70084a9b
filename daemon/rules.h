/*
 * rules.h - load the host's audit rules at start, as auditd's unit does
 * (ExecStartPost=-/sbin/augenrules --load), in child processes with a
 * bounded time and a fixed argv, and report a rejected rule by file and
 * line.
 *
 * Library code: no logging; the caller logs the result. rules_load blocks
 * for up to a few timeouts: call it from a helper thread, or from main
 * before the receive loop runs, never from the receive path.
 */
#ifndef RAUDITD_RULES_H
#define RAUDITD_RULES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* As in Debian 12's auditd.service and augenrules. */
#define RULES_AUGENRULES	"/sbin/augenrules"
#define RULES_AUDITCTL		"/sbin/auditctl"
#define RULES_COMPILED		"/etc/audit/audit.rules"
/* What augenrules --check prints when the compiled file is out of date. */
#define RULES_AUGENRULES_STALE	"Rules have changed and should be updated"

/* A rules file larger than this is refused (auditd's own limit is far lower). */
#define RULES_FILE_MAX		(8 * 1024 * 1024)

/* The programs rules_load runs; tests point them elsewhere. */
struct rules_cmds {
	const char	*augenrules;	/* compiles rules.d into compiled */
	const char	*auditctl;
	const char	*compiled;	/* what augenrules writes */
};

struct rules_result {
	char		file[PATH_MAX];	/* the rules file loaded, "" = none */
	bool		compile_failed;	/* augenrules failed; the old compiled file was loaded */
	bool		deleted;	/* the file had -D: rules deleted, hook called */
	bool		timed_out;	/* a child was killed after the timeout */
	int		exit_status;	/* auditctl -R's, -1 if it did not exit */
	unsigned	line;		/* line of the rejected rule, 0 = none named */
	char		rule[256];	/* that line of file */
	char		message[512];	/* what the failing program said */
};

/* Fill c with RULES_AUGENRULES, RULES_AUDITCTL and RULES_COMPILED. */
void rules_cmds_default(struct rules_cmds *c);

/*
 * Load rules per setting (config.h's rules key): "none" loads nothing;
 * "augenrules" runs augenrules (without --load) to regenerate the compiled
 * file where rules.d differs, then loads the compiled file; an absolute path
 * is loaded as it is. Loading is auditctl -R of a sealed in-memory copy in
 * which each bare "-D" line is commented out (line numbers unchanged): when
 * there was one, rules_load runs auditctl -D itself and then calls
 * after_delete(arg), so the caller re-adds its self-exclusion rule before
 * the rest loads, and a final "-e 2" still finds it in place. Each child
 * gets timeout_ms, then SIGKILL. Returns 0 when everything loaded; -EINVAL
 * when auditctl rejected a rule (res names file, line, rule and message);
 * -ETIMEDOUT; -ENOENT when there is no rules file; another negative errno
 * when a program could not run. res is filled in every case.
 */
int rules_load(const char *setting, const struct rules_cmds *cmds,
    unsigned timeout_ms, int (*after_delete)(void *arg), void *arg,
    struct rules_result *res);

/*
 * Parse auditctl's output: "There was an error in line N of FILE" sets
 * res->line (the last such note counts) and res->message to the line before
 * it (auditctl's reason). Returns 0 if a line was named, -ENOENT if not.
 */
int rules_parse_output(const char *out, struct rules_result *res);

#endif
