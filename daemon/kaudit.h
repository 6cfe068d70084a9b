/*
 * kaudit.h - control requests to the kernel's audit subsystem.
 *
 * Every call sends one request on a netlink socket of its own and waits for
 * the answer with a timeout. The kernel may make a sender sleep while its
 * backlog is over the limit, so these calls never run on the receive path:
 * they are for startup, the monitor thread and the stop helper. Leaf module:
 * returns 0 or a negative errno, never logs.
 */
#ifndef RAUDITD_KAUDIT_H
#define RAUDITD_KAUDIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/audit.h>

/* Open a NETLINK_AUDIT control socket; timeout_ms bounds every wait. */
int kaudit_open(unsigned timeout_ms);
void kaudit_close(int fd);

/* AUDIT_GET: fill *st. */
int kaudit_get_status(int fd, struct audit_status *st);

/* AUDIT_GET_FEATURE: fill *f. */
int kaudit_get_features(int fd, struct audit_features *f);

/* AUDIT_SET with st->mask saying which fields to set; waits for the ack. */
int kaudit_set_status(int fd, const struct audit_status *st);

/* Send a request of type with payload and wait for its ack. */
int kaudit_request(int fd, uint16_t type, const void *data, size_t len);

/*
 * Add or delete the rule "never,exit -F pid=PID" (all syscalls) that keeps
 * the daemon's own syscalls out of the stream. Added at the head of the
 * exit list so it takes effect before any "always" rule.
 */
int kaudit_exclude_pid(int fd, pid_t pid, bool add);

/*
 * AUDIT_SIGNAL_INFO: who last sent the registered audit daemon SIGTERM,
 * SIGHUP, SIGUSR1 or SIGUSR2: *auid (the sender's uid when it has no login
 * uid), *pid, and its security context copied into ctx ("" when the kernel
 * has none; bytes other than printable non-space ASCII become '?').
 */
int kaudit_signal_info(int fd, uint32_t *auid, pid_t *pid, char *ctx, size_t ctxlen);

/*
 * Is the rule kaudit_exclude_pid(pid) adds in the kernel? AUDIT_LIST_RULES:
 * 1 when it is, 0 when not, a negative errno when the kernel cannot be
 * asked. (The kernel does not refuse a second copy of a prepended rule as
 * a duplicate, so this is how to tell before adding it.)
 */
int kaudit_has_exclude_pid(int fd, pid_t pid);

/* Is pid a live process? Fills comm (the command name) when it is. */
bool kaudit_pid_alive(pid_t pid, char *comm, size_t commlen);

/* Is fd a NETLINK_AUDIT socket (SO_DOMAIN, SO_PROTOCOL)? */
bool kaudit_is_audit_socket(int fd);

/*
 * Does process pid hold a NETLINK_AUDIT socket (one whose portid is pid in
 * /proc/net/netlink, or one among its descriptors)? A pid the kernel lists
 * as its audit daemon that holds none is a dead daemon's number reused by
 * another process. true when it cannot be told (not readable): callers
 * treat a yes as a live daemon, so the doubt stays on the careful side.
 */
bool kaudit_pid_has_audit_socket(pid_t pid);

#endif
