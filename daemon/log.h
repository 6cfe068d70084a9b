/*
 * log.h - diagnostics for the daemon and its tools.
 *
 * Messages lead with their subsystem ("spool: ..."). log_warn appends
 * strerror(errno); the x variants do not. fatal/fatalx exit and are for
 * startup only, before READY=1. Every function preserves errno and may be
 * called from any thread.
 */
#ifndef RAUDITD_LOG_H
#define RAUDITD_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_WARN = 0,
	LOG_LEVEL_INFO = 1,
	LOG_LEVEL_DEBUG = 2,
};

/* Send messages to stderr (to_stderr) or to syslog, both under ident. */
void log_init(const char *ident, bool to_stderr, enum log_level level);
bool log_would_debug(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
void fatalx(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/*
 * Called by fatal/fatalx with the exit code just before exiting, so a
 * daemonizing parent can learn why its child did not get ready.
 */
void log_set_exit_hook(void (*fn)(int code));

/* Debug logging evaluates its arguments only when debug is on. */
#define log_debug(...) do { if (log_would_debug()) log_debug_(__VA_ARGS__); } while (0)

#endif
