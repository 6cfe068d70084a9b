/*
 * rules_load.c - test helper: load audit rules through rules.h as the
 * daemon does at start, with the real augenrules and auditctl, and print
 * the result on one line:
 *   rc N deleted D hook H line L file F rule R message M
 * The hook stands for the daemon's self-exclusion rule: it adds the rule
 * given as HOOK_RULE (auditctl -a arguments, one string, split on blanks)
 * after the rules' own "-D", so the test can see that it survives.
 *
 * usage: rules_load SETTING TIMEOUT_MS [HOOK_RULE]
 */
#include "build_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rules.h"

static unsigned hook_calls;

static int
hook(void *arg)
{
	char *rule = arg, *argv[32], *save = NULL, *copy;
	int n = 0, st;
	pid_t pid;

	hook_calls++;
	if (rule == NULL)
		return 0;
	if ((copy = strdup(rule)) == NULL)
		return -ENOMEM;
	argv[n++] = (char *)"auditctl";
	argv[n++] = (char *)"-a";
	for (char *t = strtok_r(copy, " ", &save); t && n < 31; t = strtok_r(NULL, " ", &save))
		argv[n++] = t;
	argv[n] = NULL;
	if ((pid = fork()) == 0) {
		execvp("auditctl", argv);
		_exit(127);
	}
	free(copy);
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

int
main(int argc, char **argv)
{
	struct rules_cmds cmds;
	struct rules_result r;
	int rc;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: rules_load SETTING TIMEOUT_MS [HOOK_RULE]\n");
		return 2;
	}
	rules_cmds_default(&cmds);
	rc = rules_load(argv[1], &cmds, (unsigned)atoi(argv[2]), hook,
	    argc == 4 ? argv[3] : NULL, &r);
	printf("rc %d deleted %d hook %u line %u file %s rule %s message %s compile_failed %d\n",
	    rc, r.deleted, hook_calls, r.line, r.file, r.rule, r.message, r.compile_failed);
	return 0;
}
