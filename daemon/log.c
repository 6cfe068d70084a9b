/*
 * log.c - this file routes diagnostics to stderr or syslog, with levels.
 */
#include "build_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static bool log_stderr = true;
static const char *log_ident = "rauditd";
static void (*exit_hook)(int);
static _Atomic int log_level = LOG_LEVEL_INFO;

void
log_init(const char *ident, bool to_stderr, enum log_level level)
{
	log_stderr = to_stderr;
	log_ident = ident;
	atomic_store(&log_level, (int)level);
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_exit_hook(void (*fn)(int code))
{
	exit_hook = fn;
}

bool
log_would_debug(void)
{
	return atomic_load_explicit(&log_level, memory_order_relaxed) >= LOG_LEVEL_DEBUG;
}

static void __attribute__((format(printf, 2, 0)))
vlog(int pri, const char *fmt, va_list ap, int errnum)
{
	char msg[1024];
	int saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_stderr) {
		if (errnum)
			fprintf(stderr, "%s: %s: %s\n", log_ident, msg, strerror(errnum));
		else
			fprintf(stderr, "%s: %s\n", log_ident, msg);
		fflush(stderr);
	} else {
		if (errnum)
			syslog(pri, "%s: %s", msg, strerror(errnum));
		else
			syslog(pri, "%s", msg);
	}
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, e);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (atomic_load_explicit(&log_level, memory_order_relaxed) < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, 0);
	va_end(ap);
}

void
log_debug_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, 0);
	va_end(ap);
}

void
fatal(int code, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, e);
	va_end(ap);
	if (exit_hook)
		exit_hook(code);
	exit(code);
}

void
fatalx(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, 0);
	va_end(ap);
	if (exit_hook)
		exit_hook(code);
	exit(code);
}
