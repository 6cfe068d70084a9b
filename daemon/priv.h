/*
 * priv.h - what rauditd keeps of root's powers, and what it refuses to trust.
 *
 * After startup (registration, socket buffer, priority, ring lock) the
 * daemon keeps only the capabilities it still uses and drops the rest from
 * its effective, permitted, inheritable and bounding sets. Files an attacker
 * could have written (a config file or spool directory writable by others)
 * are refused, as auditd refuses them. Leaf module: returns 0 or a negative
 * errno, with a message in the caller's buffer; no logging.
 */
#ifndef RAUDITD_PRIV_H
#define RAUDITD_PRIV_H

#include <stddef.h>

/*
 * Keep only the capabilities in keep[0..n) (numbers from <linux/capability.h>)
 * in the effective, permitted and bounding sets; clear the inheritable set
 * and set no_new_privs. Capabilities are per thread: threads created after
 * the call inherit the reduced sets, threads already running keep theirs.
 */
int priv_drop(const int *keep, size_t n);

/*
 * Refuse a path whose owner is neither root nor us, or that is writable by
 * group or others (a symlink is judged by its target). what is "config
 * file" or "spool directory"; the reason goes to msg.
 */
int priv_check_path(const char *path, const char *what, char *msg, size_t msglen);

#endif
