/*
 * rauditd-dispatch.c - this file is the dispatcher's main: options, the
 * shared configuration file, check mode, readiness, and the lifecycle
 * around the engine in dispatch.c.
 */
#include "build_config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dispatch.h"
#include "log.h"
#include "notify.h"
#include "plugins.h"
#include "priv.h"

#ifndef RAUDITD_CONF
#define RAUDITD_CONF "/etc/rauditd/rauditd.conf"
#endif

/* Exit status; documented in rauditd-dispatch(8) and used by the unit file. */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,	/* a cursor could not be saved at the end */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_CONFIG = 3,	/* invalid rauditd.conf or plugins.d file */
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
	static const struct option longopts[] = {
		{ "foreground",	no_argument,		NULL, 'f' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "check",	no_argument,		NULL, 'n' },
		{ "debug",	no_argument,		NULL, 'd' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfg_path = RAUDITD_CONF;
	static struct config cfg;
	char err[CONFIG_ERR_MAX + 512];
	bool foreground = false, debug = false, check_only = false;
	struct dispatch *d;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "fc:ndhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': foreground = true; break;
		case 'c': cfg_path = optarg; break;
		case 'n': check_only = true; break;
		case 'd': debug = foreground = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf("rauditd-dispatch %s\n", PACKAGE_VERSION); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "rauditd-dispatch: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	config_defaults(&cfg);
	if (config_load(&cfg, cfg_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "rauditd-dispatch: %s\n", err);
		return EXIT_CONFIG;
	}
	/* Whoever can write the configuration decides what runs as root. */
	if (priv_check_path(cfg_path, "config file", err, sizeof(err)) < 0) {
		fprintf(stderr, "rauditd-dispatch: %s\n", err);
		return EXIT_CONFIG;
	}
	if (check_only)
		return check(&cfg);

	log_init("rauditd-dispatch", foreground, debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
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
