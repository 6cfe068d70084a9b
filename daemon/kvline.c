/*
 * kvline.c - rauditd.conf, auditd.conf and plugins.d files share one line
 * format ("key = value", '#' comments, blank lines) and one error format
 * ("file:line: message"); their parsers split and report through here so
 * the three agree on what a blank, a comment and a pair are. Which keys and
 * values are good stays with each parser.
 */
#include "build_config.h"

#include "kvline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

char *
kvline_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int
kvline_split(char *s, char **key, char **val)
{
	char *eq;

	s = kvline_trim(s);
	*key = s;
	*val = NULL;
	if (*s == '\0' || *s == '#')
		return 0;
	if ((eq = strchr(s, '=')) == NULL)
		return -EINVAL;
	*eq = '\0';
	*key = kvline_trim(s);
	*val = kvline_trim(eq + 1);
	return 1;
}

void
kvline_seterr(char *err, size_t errlen, const char *file, unsigned line,
    const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (err == NULL || errlen == 0)
		return;
	if (file != NULL && line != 0)
		n = snprintf(err, errlen, "%s:%u: ", file, line);
	else if (file != NULL)
		n = snprintf(err, errlen, "%s: ", file);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}
