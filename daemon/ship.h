/*
 * ship.h - rauditd-ship's engine: follow the spool from a saved cursor and
 * send every record to an aggregator over RELP (librelp), moving the cursor
 * only past records the aggregator acknowledged.
 *
 * DESIGN
 * librelp tells a client nothing about acknowledgements except through
 * relpCltSendSyslog(), which returns only once its frame fits into the
 * window: with a librelp window of w, when the send of record k returns, at
 * most w frames are unacknowledged, and since a RELP server answers frames
 * in order, every record up to k - w is acknowledged. The records sent but
 * not yet known acknowledged wait in a FIFO of their end positions; the
 * cursor moves to the end of each record that leaves it. When the spool has
 * nothing more to send, a graceful close of the session (the server answers
 * "close" after every frame before it, and librelp's error callback stays
 * silent only if that answer came) acknowledges the rest.
 *
 * The cursor file is rewritten (spool_cursor_write) whenever the records
 * past it would otherwise exceed ship_window W: librelp's window is W/2, so
 * at most W records are ever beyond the saved cursor, and a kill -9 of the
 * shipper or a restart of the aggregator sends at most W records again.
 * A lost session rewinds the reader to the in-memory cursor and sends again
 * what was not acknowledged. The data of the cursor file is synced at most
 * once a second; the rename that replaces it survives a crash of the
 * process, and a crash of the host at worst rolls it back to the last sync.
 *
 * Everything runs on one thread; only ship_stop() may be called from a
 * signal handler.
 */
#ifndef RAUDITD_SHIP_H
#define RAUDITD_SHIP_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct ship;

/* Why ship_open() failed, for the exit status. */
enum ship_fail {
	SHIP_FAIL_CONFIG,	/* ship_target empty or unusable */
	SHIP_FAIL_SPOOL,	/* spool or cursor file unusable */
	SHIP_FAIL_RESOURCE,	/* memory, librelp */
};

/*
 * Read the settings from c, the cursor file, and open the spool reader at
 * the cursor. Returns NULL with a message in err and the reason in *why.
 */
struct ship *ship_open(const struct config *c, char *err, size_t errlen,
    enum ship_fail *why);

/*
 * Ship until ship_stop(): connect, send, reconnect with back-off, write the
 * cursor and the status file. On a stop it closes the session gracefully
 * (acknowledging what was sent) and saves the cursor with a sync. Returns 0,
 * or a negative errno if the final cursor could not be saved.
 */
int ship_run(struct ship *s);

/*
 * Ask ship_run() to stop. With now, also abort whatever librelp is waiting
 * for (a hung aggregator), leaving unacknowledged records for the next run.
 * Async-signal-safe.
 */
void ship_stop(struct ship *s, bool now);

void ship_close(struct ship *s);

#endif
