/*
 * rauditd-ship.c - this file is the shipper's main: options, the shared
 * configuration file, signals, readiness, and the lifecycle around the
 * engine in ship.c.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "notify.h"
#include "progstart.h"
#include "ship.h"

/* Exit status; documented in rauditd-ship(8) and used by the unit file. */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,	/* the cursor could not be saved at the end */
	EXIT_USAGE = PROGSTART_EXIT_USAGE,	/* bad command line */
	EXIT_CONFIG = PROGSTART_EXIT_CONFIG,	/* invalid configuration file */
	EXIT_OFF = 4,		/* shipping is not configured (ship_target empty) */
	EXIT_SPOOL = 5,		/* spool or cursor file unusable */
	EXIT_RESOURCE = 7,	/* memory, librelp */
};

/* After a stop request, how long librelp may wait for the aggregator, s. */
#define SHIP_STOP_GRACE_S	5

static struct ship *the_ship;

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: rauditd-ship [-fdn] [-c file]\n"
	    "  -f, --foreground   log to stderr instead of syslog, do not detach\n"
	    "  -c, --config FILE  configuration file (default %s)\n"
	    "  -n, --check        check the configuration, print the shipping keys, exit\n"
	    "  -d, --debug        debug messages (implies -f)\n"
	    "  -h, --help         this text\n"
	    "  -V, --version      print the version\n",
	    RAUDITD_CONF);
}

/* The first TERM/INT stops gracefully; a second one, or the grace timer, at once. */
static void
on_stop(int sig)
{
	static volatile sig_atomic_t seen;

	if (the_ship == NULL)
		return;
	if (sig == SIGALRM || seen) {
		ship_stop(the_ship, true);
		return;
	}
	seen = 1;
	ship_stop(the_ship, false);
	alarm(SHIP_STOP_GRACE_S);
}

static void
set_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART for poll() anyway; file I/O is restarted. */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A new configuration needs a restart; a reload must not kill us. */
	signal(SIGHUP, SIG_IGN);
}

/* The keys rauditd-ship reads, as rauditd -n prints them. */
static void
print_check(const struct config *c)
{
	char *buf = NULL, *line, *save = NULL, path[PATH_MAX];
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL)
		return;
	config_print(c, fp);
	fclose(fp);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "spool_dir ", 10) == 0 || strncmp(line, "run_dir ", 8) == 0 ||
		    strncmp(line, "stats_interval ", 15) == 0 || strncmp(line, "ship_", 5) == 0)
			printf("%s\n", line);
	printf("# cursor file: %s\n", config_ship_cursor(c, path, sizeof(path)));
	printf("# status file: %s\n", config_ship_status(c, path, sizeof(path)));
	free(buf);
}

/* Leave the terminal once everything that can fail at start has been checked. */
static void
detach(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		fatal(EXIT_RESOURCE, "fork");
	if (pid > 0)
		_exit(EXIT_OK);
	setsid();
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

int
main(int argc, char **argv)
{
	struct progstart ps = { .prog = "rauditd-ship", .usage = usage,
	    .cfg_path = RAUDITD_CONF };
	static struct config cfg;
	char err[CONFIG_ERR_MAX];
	enum ship_fail why;
	int rc;

	if ((rc = progstart_args(&ps, argc, argv)) >= 0 ||
	    (rc = progstart_config(&ps, &cfg)) != 0)
		return rc;
	if (config_ship_check(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "rauditd-ship: %s: %s\n", ps.cfg_path, err);
		return cfg.ship_target[0] == '\0' ? EXIT_OFF : EXIT_CONFIG;
	}
	if (ps.check) {
		print_check(&cfg);
		return EXIT_OK;
	}

	progstart_log(&ps);
	the_ship = ship_open(&cfg, err, sizeof(err), &why);
	if (the_ship == NULL)
		fatalx(why == SHIP_FAIL_CONFIG ? EXIT_CONFIG : why == SHIP_FAIL_SPOOL ?
		    EXIT_SPOOL : EXIT_RESOURCE, "ship: %s", err);
	/* Until here the default actions apply: a stop simply ends the start. */
	set_signals();
	if (!ps.foreground)
		detach();
	notify_ready("shipping");
	rc = ship_run(the_ship);
	notify_stopping("stopping");
	ship_close(the_ship);
	the_ship = NULL;
	if (rc < 0) {
		log_warnx("ship: could not save the cursor at the end: %s", strerror(-rc));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}
