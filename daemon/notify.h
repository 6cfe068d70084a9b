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

#endif
