/*
 * migrate.h - read auditd.conf and translate it into rauditd.conf.
 *
 * Library code: no logging, negative errno returns, errors as
 * "file:line: message" in a caller's buffer. Any thread may call these.
 */
#ifndef RAUDITD_MIGRATE_H
#define RAUDITD_MIGRATE_H

#include <stddef.h>
#include <stdio.h>

/* A value longer than this (a path, an exec line) is refused. */
#define MIGRATE_VALUE_MAX	1024

/*
 * Parse the auditd.conf at path as auditd does: "key = value" lines, '#'
 * comments, blank lines. For each pair call fn(key, value, line, arg); a
 * non-zero return from fn stops the parse and is returned. Returns 0, or a
 * negative errno with "file:line: message" in err (a line without '=', a
 * bad key, a control character, an over-long value, an unreadable file).
 */
int migrate_parse(const char *path,
    int (*fn)(const char *key, const char *value, unsigned line, void *arg),
    void *arg, char *err, size_t errlen);

/*
 * Copy the value of key in the auditd.conf at path into buf. Returns 0,
 * -ENOENT when the file or the key is absent, -ENAMETOOLONG when buf is too
 * small, or another negative errno with the reason in err.
 */
int migrate_get(const char *path, const char *key, char *buf, size_t len,
    char *err, size_t errlen);

/*
 * Write to out the rauditd.conf equivalent of the auditd.conf at path: the
 * keys it maps, each under a comment naming the auditd line it comes from,
 * and a "NOT HONOURED" comment with the reason for every auditd key rauditd
 * cannot honour. Returns 0, or a negative errno with the reason in err
 * (nothing useful has then been written).
 */
int migrate_auditd_conf(const char *path, FILE *out, char *err, size_t errlen);

#endif
