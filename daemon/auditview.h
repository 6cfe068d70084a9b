/*
 * auditview.h - the auditd-compatible view of the spool: audit.log and
 * audit.log.1..N, in the directory of auditd.conf's log_file, as symbolic
 * links to the open segment and the sealed ones, newest first, so that
 * ausearch, aureport and libauparse find every record with no options.
 *
 * Library code: no logging, negative errno returns, reasons in a caller's
 * buffer. One thread owns a view (the writer, or main at start).
 */
#ifndef RAUDITD_AUDITVIEW_H
#define RAUDITD_AUDITVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Where auditd's tools read their configuration, and its default log_file. */
#define AUDITVIEW_AUDITD_CONF	"/etc/audit/auditd.conf"
#define AUDITVIEW_LOG_FILE	"/var/log/audit/audit.log"

/* auditd's files found in the view's place are kept in "<log_file>.before-rauditd". */
#define AUDITVIEW_SAVED_SUFFIX	".before-rauditd"

struct auditview;

/*
 * The log_file auditd's tools read, from the auditd.conf at conf (normally
 * AUDITVIEW_AUDITD_CONF): its log_file key, or AUDITVIEW_LOG_FILE when the
 * file or the key is absent, as the tools do. Returns 0, or a negative errno
 * with the reason in err (unreadable or malformed file, relative path).
 */
int auditview_log_file(const char *conf, char *buf, size_t len,
    char *err, size_t errlen);

/*
 * Open the view at log_file (an absolute path). Its directory must exist,
 * be a directory (not a symbolic link) owned by root or by us and not
 * writable by group or others. Regular files already there under the view's
 * names (auditd's audit.log, audit.log.N) are moved, never overwritten or
 * deleted, into the directory log_file AUDITVIEW_SAVED_SUFFIX, and the view
 * lists them after rauditd's segments, so the tools still find them.
 * Returns the view, or NULL with errno set and the reason in err (EEXIST: a
 * saved file of the same name is already there).
 */
struct auditview *auditview_open(const char *log_file, char *err, size_t errlen);

/* How many of auditd's files auditview_open moved aside. */
unsigned auditview_saved(const struct auditview *v);

/*
 * Point the view at the segments seg[0..n) of spool_dir (an absolute path),
 * oldest first; seg[n-1] is the open segment. log_file names seg[n-1],
 * log_file.1 seg[n-2] and so on, then auditd's saved files; each name is
 * replaced atomically (a new link renamed over it), from the highest number
 * down, so a reader during the update may see a record twice but never
 * misses one. Links above the new highest number are removed. Call at
 * start, after each rotation and after each retention deletion. Returns 0,
 * or a negative errno with the reason in err.
 */
int auditview_update(struct auditview *v, const char *spool_dir,
    const uint64_t *seg, size_t n, char *err, size_t errlen);

/*
 * The auditd.conf whose log_file the view follows: $RAUDITD_AUDITD_CONF
 * when set ("" = no view at all, as the test suite runs every daemon it
 * starts), else AUDITVIEW_AUDITD_CONF. NULL for "no view".
 */
const char *auditview_auditd_conf(void);

/*
 * For rauditd -n: one comment line on fp saying where auditd's tools will
 * look (the log_file of auditview_auditd_conf()), or why they will find nothing ("off": the
 * view is not kept). The line starts with AUDITVIEW_CHECK_PREFIX.
 */
#define AUDITVIEW_CHECK_PREFIX	"# auditd_view: "
void auditview_print_check(FILE *fp, bool on);

/* Close the view; the links stay, so the tools work while rauditd is stopped. */
void auditview_close(struct auditview *v);

#endif
