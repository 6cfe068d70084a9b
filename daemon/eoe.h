/*
 * eoe.h - end-of-event records for consumers of a spool that does not
 * store them.
 *
 * DESIGN
 * The kernel ends a syscall event (audit_log_exit: SYSCALL or URINGOP,
 * auxiliary records, PATHs, PROCTITLE) with an EOE record, and auditd hands
 * it to its plugins; laurel closes an event on it. Records logged without a
 * syscall context (USER_*, DAEMON_*, a kernel thread's AVC) get no EOE from
 * the kernel and none here: laurel emits those at once. The spool, like
 * audit.log, has no EOE, so they are synthesized:
 *   - an event is open once a SYSCALL or URINGOP record of its stamp
 *     (SEC.MSEC:SERIAL) is seen;
 *   - PROCTITLE is the kernel's last record before EOE: EOE follows it at
 *     once (also for an event whose start was before the reader's cursor,
 *     unless this stamp was just closed);
 *   - an open event whose own records stopped coming is closed before the
 *     next record once EOE_STALE_RECORDS records of other events have gone
 *     by (events of two CPUs may interleave), a URINGOP event (no
 *     PROCTITLE) at the first record of another stamp;
 *   - the caller closes everything with eoe_idle() when it has caught up
 *     with the spool and nothing came for a short while;
 *   - at most EOE_MAX_OPEN events are open; the oldest is closed first.
 * An event is its node and stamp: with auditd's name_format the lines
 * start with "node=NAME ", and so does the EOE of their event, as auditd's
 * dispatcher hands it to plugins whenever it writes the node (format_parse_line
 * reads the lines).
 * Leaf module: no logging, one owner thread.
 */
#ifndef RAUDITD_EOE_H
#define RAUDITD_EOE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"

#define EOE_MAX_OPEN		32	/* open events tracked at once */
#define EOE_STALE_RECORDS	64	/* other records before a silent event is closed */
#define EOE_STAMP_MAX		48	/* "SEC.MSEC:SERIAL" with room */
/* "node=NAME type=EOE msg=audit(STAMP):" */
#define EOE_LINE_MAX		(6 + FORMAT_NODE_MAX + EOE_STAMP_MAX + 32)

struct eoe;

/* Called for every line to send, in order, without its '\n'. */
typedef void eoe_emit_fn(void *arg, const char *line, size_t len, bool synthesized);

/* Returns NULL with errno set. */
struct eoe *eoe_new(void);
void eoe_free(struct eoe *e);

/* Forget every open event (the consumer restarts from its cursor). */
void eoe_reset(struct eoe *e);

/*
 * Pass one spool line (without '\n'): emit the EOE records due before it,
 * the line itself, and the EOE due after it.
 */
void eoe_feed(struct eoe *e, const char *line, size_t len, eoe_emit_fn *emit, void *arg);

/* Close every open event: emit their EOE records, oldest first. */
void eoe_idle(struct eoe *e, eoe_emit_fn *emit, void *arg);

/* Events open now, and EOE records synthesized so far. */
size_t eoe_open(const struct eoe *e);
uint64_t eoe_count(const struct eoe *e);

#endif
