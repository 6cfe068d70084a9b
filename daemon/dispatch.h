/*
 * dispatch.h - rauditd-dispatch's engine: auditd's plugins and the af_unix
 * output, fed from the spool.
 *
 * DESIGN
 * Every consumer reads the spool with its own reader, never the ring, so
 * nothing a consumer does reaches the receive path: rauditd does not know
 * the dispatcher exists, except through the cursor files retention waits
 * for. One libev loop (the default one: ev_child needs it) runs them all:
 * each program consumer has a non-blocking pipe to its stdin and an ev_io
 * that fires when the pipe has room; a consumer whose pipe is full simply
 * has its watcher armed and is not read for, so a slow or stopped plugin
 * stops only its own reader. A consumer writes at most DISPATCH_BUDGET
 * bytes per turn, so a fast one cannot starve the others. A thread per
 * plugin would buy nothing here: the work is copying page-cached lines into
 * pipes, and one loop needs no locks around the status and the reload.
 *
 * Cursor: each record written into a pipe is remembered with the stream
 * offset of its end; FIONREAD on our end of the pipe says how many bytes the
 * plugin has not read yet, so the cursor (segment, offset) moves only past
 * records the plugin has read out of the pipe, not merely past what we
 * wrote. A plugin that crashes loses only what it had read and not yet
 * handled; everything still in the pipe is sent again to its successor:
 * at-least-once. The cursor file (spool_cursor_write, the format of
 * rauditd-ship's) is rewritten and synced once a second when it moved, at
 * a plugin's exit and at stop; a crash of the dispatcher sends at most a
 * second's worth again.
 *
 * Supervision: a plugin that exits is restarted after a back-off (100 ms
 * doubling to 30 s), from its cursor. After max_restarts exits in a row,
 * each within 30 s of its start, it is left failed until a reload. SIGHUP
 * re-reads plugins.d: new plugins start, removed ones stop, changed ones
 * restart, failed ones get another chance. Stopping a plugin: the pipe gets
 * up to 2 s to drain, the cursor is saved, the pipe closed (the plugin sees
 * end of file) and the plugin sent SIGTERM (and SIGCONT, as systemd does),
 * then SIGKILL after 5 s.
 *
 * The af_unix output starts at the end of the spool (as auditd's socket
 * carries events from when a client connects) and keeps no cursor:
 * retention does not wait for it. Each client has a bounded buffer; one
 * that falls behind by more than that is disconnected and counted, never
 * waited for.
 *
 * Everything runs on the thread that calls dispatch_run().
 */
#ifndef RAUDITD_DISPATCH_H
#define RAUDITD_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct dispatch;

/* Bytes one consumer writes per loop turn before the others get theirs. */
#define DISPATCH_BUDGET		(256 * 1024)
/* Caught up and nothing new this long: the open events get their EOE, ms. */
#define DISPATCH_EOE_IDLE_MS	200
/* An af_unix client may be this far behind before it is disconnected. */
#define DISPATCH_CLIENT_BUF	(4 * 1024 * 1024)

/*
 * Read plugin_dir (checking owners and modes) and set up every active
 * consumer; nothing is started yet. Returns NULL with a message in err.
 */
struct dispatch *dispatch_open(const struct config *c, char *err, size_t errlen);

/*
 * Start the consumers and run the loop until SIGTERM/SIGINT (SIGHUP
 * reloads plugins.d). Returns 0, or a negative errno if a cursor could not
 * be saved at the end.
 */
int dispatch_run(struct dispatch *d);

void dispatch_close(struct dispatch *d);

/* The status file rauditd-dispatch writes: run_dir/dispatch.status. */
const char *dispatch_status_path(const struct config *c, char *buf, size_t len);

#endif
