/*
 * plugins.h - auditd's plugins.d directory: one file per consumer, parsed
 * strictly into a list of plugin descriptions, and the cursor files of the
 * active ones.
 *
 * A file is "key = value" lines in auditd's format: active (yes/no),
 * direction (out), path (an executable, or builtin_af_unix), type (always,
 * or builtin for builtin_af_unix), args (the rest of the line, split on
 * blanks), format (string). Only files named NAME.conf are read, NAME made
 * of letters, digits, '-' and '_'; they are taken in name order. Errors
 * name file:line. Leaf module: no logging; called by rauditd-dispatch's
 * main thread and by whoever needs the list of cursors (retention).
 */
#ifndef RAUDITD_PLUGINS_H
#define RAUDITD_PLUGINS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PLUGINS_NAME_MAX	64	/* NAME of NAME.conf, with its NUL */
#define PLUGINS_ARGS_MAX	32	/* arguments after the program, as auditd */
#define PLUGINS_LINE_MAX	4096	/* a longer line is an error */
#define PLUGINS_AF_UNIX		"builtin_af_unix"
/* auditd's defaults for the builtin af_unix output. */
#define PLUGINS_AF_UNIX_PATH	"/var/run/audispd_events"
#define PLUGINS_AF_UNIX_MODE	0640

enum plugins_type {
	PLUGINS_TYPE_ALWAYS,	/* a program, restarted when it exits */
	PLUGINS_TYPE_BUILTIN,	/* builtin_af_unix */
};

struct plugins_conf {
	char		 name[PLUGINS_NAME_MAX];
	char		 file[PATH_MAX];	/* where it was read from */
	bool		 active;
	enum plugins_type type;
	char		 path[PATH_MAX];
	char		 args[PLUGINS_LINE_MAX];	/* as written, blanks squeezed */
	/* Program: argv[0] is path, then args; NULL-terminated. */
	char		*argv[PLUGINS_ARGS_MAX + 2];
	/* builtin_af_unix: the socket and its mode. */
	char		 sock_path[108];
	mode_t		 sock_mode;
	char		 argbuf[PLUGINS_LINE_MAX];	/* argv's storage */
};

struct plugins_set {
	struct plugins_conf	*v;
	size_t			 n;
};

/*
 * Parse one plugin file (text is its content, name the file's path) into
 * *pc. Returns 0, or -EINVAL with "file:line: message" in err.
 */
int plugins_parse_buffer(struct plugins_conf *pc, const char *file, const char *text,
    char *err, size_t errlen);

/*
 * Read every NAME.conf of dir into *set (sorted by name). With check_perms,
 * a file, and the program of an active plugin, must be owned by root (or
 * us) and not writable by group or others, as auditd demands: whoever can
 * write them runs code as root. A missing dir is an empty set. Returns 0 or
 * a negative errno with the reason in err (the first bad file).
 */
int plugins_load(const char *dir, bool check_perms, struct plugins_set *set,
    char *err, size_t errlen);

void plugins_free(struct plugins_set *set);

/* Same plugin, same settings (a reload keeps it running). */
bool plugins_same(const struct plugins_conf *a, const struct plugins_conf *b);

/* Whether this plugin keeps a cursor (an active program; not af_unix). */
bool plugins_has_cursor(const struct plugins_conf *pc);

/* The cursor file of plugin name: cursor_dir/plugin-NAME.cursor. Returns buf. */
const char *plugins_cursor_path(const char *cursor_dir, const char *name, char *buf,
    size_t len);

/*
 * For retention: the names of the active plugins of plugin_dir that keep a
 * cursor (plugins_has_cursor), in name order, up to max of them; their
 * cursor files are plugins_cursor_path(cursor_dir, name) as
 * rauditd-dispatch keeps them, whether or not each exists yet. The files
 * are read as rauditd-dispatch reads them (plugins_load with the owner and
 * mode checks): a plugin it would refuse to start is not listed because
 * the whole directory is refused. Returns 0 with *n; -E2BIG when there
 * are more than max (the first max are listed); or another negative errno
 * with the reason in err.
 */
int plugins_cursor_names(const char *plugin_dir, char (*names)[PLUGINS_NAME_MAX], size_t max,
    size_t *n, char *err, size_t errlen);

#endif
