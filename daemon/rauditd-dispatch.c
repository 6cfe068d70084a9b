/*
 * rauditd-dispatch.c - this file is the dispatcher's main: options, the
 * shared configuration file, check mode, readiness, and the lifecycle
 * around the engine in dispatch.c.
 */
#include "build_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dispatch.h"
#include "log.h"
#include "notify.h"
#include "plugins.h"
#include "progstart.h"

/* Exit status; documented in rauditd-dispatch(8) and used by the unit file. */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,	/* a cursor could not be saved at the end */
	EXIT_USAGE = PROGSTART_EXIT_USAGE,	/* bad command line */
	EXIT_CONFIG = PROGSTART_EXIT_CONFIG,	/* invalid rauditd.conf or plugins.d file */
	EXIT_SPOOL = 5,		/* spool or cursor file unusable */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: rauditd-dispatch [-fdn] [-c file]\n"
	    "  -f, --foreground   log to stderr instead of syslog\n"
	    "  -c, --config FILE  configuration file (default %s)\n"
	    "  -n, --check        check rauditd.conf and plugins.d, print the plugins, exit\n"
	    "  -d, --debug        debug messages (implies -f)\n"
	    "  -h, --help         this text\n"
	    "  -V, --version      print the version\n",
	    RAUDITD_CONF);
}

static int
check(const struct config *c)
{
	struct plugins_set set;
	char err[1024], dir[PATH_MAX], path[PATH_MAX];

	if (plugins_load(c->plugin_dir, true, &set, err, sizeof(err)) < 0) {
		fprintf(stderr, "rauditd-dispatch: %s\n", err);
		return EXIT_CONFIG;
	}
	config_plugin_cursor_dir(c, dir, sizeof(dir));
	printf("spool_dir %s\nplugin_dir %s\nplugin_cursor_dir %s\nmax_restarts %u\n",
	    c->spool_dir, c->plugin_dir, dir, c->max_restarts);
	dispatch_status_path(c, path, sizeof(path));
	printf("# status file: %s\n", path);
	for (size_t i = 0; i < set.n; i++) {
		const struct plugins_conf *p = &set.v[i];

		if (p->type == PLUGINS_TYPE_BUILTIN)
			printf("plugin %s %s af_unix %s mode %04o\n", p->name,
			    p->active ? "active" : "inactive", p->sock_path, (unsigned)p->sock_mode);
		else
			printf("plugin %s %s %s%s%s cursor %s\n", p->name,
			    p->active ? "active" : "inactive", p->path, p->args[0] ? " " : "",
			    p->args, plugins_cursor_path(dir, p->name, path, sizeof(path)));
	}
	plugins_free(&set);
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	struct progstart ps = { .prog = "rauditd-dispatch", .usage = usage,
	    .cfg_path = RAUDITD_CONF };
	static struct config cfg;
	char err[CONFIG_ERR_MAX + 512];
	struct dispatch *d;
	int rc;

	if ((rc = progstart_args(&ps, argc, argv)) >= 0 ||
	    (rc = progstart_config(&ps, &cfg)) != 0)
		return rc;
	if (ps.check)
		return check(&cfg);

	progstart_log(&ps);
	d = dispatch_open(&cfg, err, sizeof(err));
	if (d == NULL)
		fatalx(strstr(err, "cursor") || strstr(err, "spool") ? EXIT_SPOOL : EXIT_CONFIG,
		    "dispatch: %s", err);
	notify_ready("dispatching");
	rc = dispatch_run(d);
	notify_stopping("stopping");
	dispatch_close(d);
	if (rc < 0) {
		log_warnx("dispatch: could not save a cursor at the end: %s", strerror(-rc));
		return EXIT_RUNTIME;
	}
	log_info("dispatch: stopped");
	return EXIT_OK;
}
