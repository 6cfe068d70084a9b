/*
 * progstart.c - rauditd, rauditd-dispatch and rauditd-ship read the same
 * rauditd.conf and take the same basic options; this file is that shared
 * start-up, so that the ownership check of the configuration file and the
 * meaning of -f, -d and -n cannot drift apart between the three.
 */
#include "build_config.h"

#include "progstart.h"

#include "config.h"
#include "log.h"
#include "priv.h"

/* The shared short and long options followed by ps's extra ones. */
static void
build_options(const struct progstart *ps, char *shortopts, size_t len,
    struct option *longopts, size_t nlong)
{
	static const struct option common[] = {
		{ "foreground",	no_argument,		NULL, 'f' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "check",	no_argument,		NULL, 'n' },
		{ "debug",	no_argument,		NULL, 'd' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
	};
	size_t n = 0;

	snprintf(shortopts, len, "fc:ndhV%s", ps->extra_short ? ps->extra_short : "");
	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		longopts[n++] = common[i];
	for (const struct option *o = ps->extra_long; o && o->name && n < nlong - 1; o++)
		longopts[n++] = *o;
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
}

int
progstart_args(struct progstart *ps, int argc, char **argv)
{
	struct option longopts[6 + PROGSTART_EXTRA_MAX + 1];
	char shortopts[64];
	int ch, rc;

	build_options(ps, shortopts, sizeof(shortopts), longopts,
	    sizeof(longopts) / sizeof(longopts[0]));
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': ps->foreground = true; break;
		case 'c': ps->cfg_path = optarg; break;
		case 'n': ps->check = true; break;
		case 'd': ps->debug = ps->foreground = true; break;
		case 'h': ps->usage(stdout); return 0;
		case 'V': printf("%s %s\n", ps->prog, PACKAGE_VERSION); return 0;
		case '?': ps->usage(stderr); return PROGSTART_EXIT_USAGE;
		default:
			if (ps->extra == NULL) {
				ps->usage(stderr);
				return PROGSTART_EXIT_USAGE;
			}
			if ((rc = ps->extra(ps, ch, optarg)) >= 0)
				return rc;
			break;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", ps->prog, argv[optind]);
		ps->usage(stderr);
		return PROGSTART_EXIT_USAGE;
	}
	return -1;
}

int
progstart_config(const struct progstart *ps, struct config *c)
{
	char err[CONFIG_ERR_MAX];

	config_defaults(c);
	if (config_load(c, ps->cfg_path, err, sizeof(err)) < 0 ||
	    priv_check_path(ps->cfg_path, "config file", err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", ps->prog, err);
		return PROGSTART_EXIT_CONFIG;
	}
	return 0;
}

void
progstart_log(const struct progstart *ps)
{
	log_init(ps->prog, ps->foreground, ps->debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
}
