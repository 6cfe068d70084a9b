/*
 * notify.h - readiness and status for the service manager (sd_notify).
 *
 * Without NOTIFY_SOCKET every call is a no-op. Main thread only.
 */
#ifndef RAUDITD_NOTIFY_H
#define RAUDITD_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* READY=1 with a STATUS= line. */
void notify_ready(const char *status);
/* RELOADING=1 (READY=1 follows through notify_ready). */
void notify_reloading(void);
void notify_stopping(const char *status);
void notify_status(const char *status);
/* WATCHDOG=1. */
void notify_watchdog(void);
/* The watchdog period the manager asked for, in microseconds; 0 if none. */
uint64_t notify_watchdog_usec(void);

/*
 * The service manager's file descriptor store: hand fd to it under name
 * (FDSTORE=1), replacing what was stored under that name before. 0 or a
 * negative errno; -ENOTCONN when there is no manager to keep it.
 */
int notify_fdstore(int fd, const char *name);

/* Ask the manager to close and forget what it stores under name. */
void notify_fdstore_remove(const char *name);

/*
 * Descriptors passed in by the manager (LISTEN_FDS, LISTEN_FDNAMES): the
 * one named name, or -1. Call once at start; the environment is cleared.
 */
void notify_listen_fds(const char *const *names, int *fds, int n);

#endif
