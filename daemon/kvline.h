/*
 * kvline.h - split the "key = value" lines of rauditd.conf, auditd.conf and
 * plugins.d files, and format their "file:line: message" errors.
 *
 * Library code: no logging, negative errno returns, the strings are the
 * caller's (split in place). Any thread may call these.
 */
#ifndef RAUDITD_KVLINE_H
#define RAUDITD_KVLINE_H

#include <stddef.h>

/* Strip blanks (and a trailing CR) from both ends of s in place; returns the start. */
char	*kvline_trim(char *s);

/*
 * Split the line s in place into a trimmed key and value at the first '='.
 * Returns 1 for a pair, 0 for a blank or '#' comment line, -EINVAL for a
 * line without '=' (then *key is the trimmed line, to quote in an error).
 * Neither key nor value is checked further: each file has its own rules.
 */
int	 kvline_split(char *s, char **key, char **val);

/*
 * Write "file:line: message" into err (errlen bytes, NULL or 0 = no
 * message); line 0 leaves out the line ("file: message"), file NULL leaves
 * out both.
 */
void	 kvline_seterr(char *err, size_t errlen, const char *file, unsigned line,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
