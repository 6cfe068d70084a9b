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
 * For retention: the cursor files of the active plugins of plugin_dir, as
 * rauditd-dispatch keeps them in cursor_dir (whether or not each exists
 * yet), in a NULL-terminated array the caller frees with
 * plugins_cursor_list_free. Each file has the format of rauditd-ship's
 * cursor (spool_cursor_read reads it). Files are read without the
 * permission checks (a wrong one means a cursor that waits for nothing).
 * Returns 0 with *paths and *n, or a negative errno.
 */
int plugins_cursor_list(const char *plugin_dir, const char *cursor_dir, char ***paths,
    size_t *n);
void plugins_cursor_list_free(char **paths);

#endif
