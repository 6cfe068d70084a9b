/*
 * progstart.h - the start-up that rauditd, rauditd-dispatch and
 * rauditd-ship share: the common options and the configuration file.
 *
 * Start-up code, main thread only, before log_init: problems go to stderr
 * as "prog: message", and the caller gets the exit status to return.
 */
#ifndef RAUDITD_PROGSTART_H
#define RAUDITD_PROGSTART_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

struct config;

/* Exit statuses the three share (each program's man page lists them). */
#define PROGSTART_EXIT_USAGE	2
#define PROGSTART_EXIT_CONFIG	3

struct progstart {
	const char	*prog;		/* "rauditd-ship": messages, -V, log ident */
	void		(*usage)(FILE *fp);
	const char	*cfg_path;	/* -c, or the default the caller set */
	bool		 foreground;	/* -f (and -d) */
	bool		 debug;		/* -d */
	bool		 check;		/* -n */

	/*
	 * Options only this program has, or NULL: their getopt letters, their
	 * long forms (at most PROGSTART_EXTRA_MAX, NULL-terminated) and the
	 * handler, which returns -1 to go on or the exit status to end with.
	 */
	const char		*extra_short;
	const struct option	*extra_long;
	int			(*extra)(struct progstart *ps, int ch, const char *arg);
	void			*arg;		/* for the handler */
};

#define PROGSTART_EXTRA_MAX	8

/*
 * Parse -f -c -n -d -h -V (and their long forms) and ps's extra options
 * into ps. Returns -1 to go on, or the exit status when the process is
 * done: 0 after -h or -V, PROGSTART_EXIT_USAGE for a bad command line, or
 * what the extra handler returned.
 */
int	progstart_args(struct progstart *ps, int argc, char **argv);

/*
 * Load ps->cfg_path over the defaults into c and check that only root can
 * change it (whoever can write it decides what runs as root). 0, or
 * PROGSTART_EXIT_CONFIG with the reason on stderr.
 */
int	progstart_config(const struct progstart *ps, struct config *c);

/* log_init() as -f and -d asked. */
void	progstart_log(const struct progstart *ps);

#endif
