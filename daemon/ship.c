/*
 * ship.c - this file is rauditd-ship's engine: it reads the spool from the
 * saved cursor with the shared reader, sends each record over RELP framed
 * as RFC 5424 with the record's identity, infers acknowledgements from
 * librelp's window, saves the cursor, reconnects with back-off, and writes
 * the status file with the lag behind the spool. See the DESIGN block in
 * ship.h.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <librelp.h>

#include "config.h"
#include "format.h"
#include "log.h"
#include "mono.h"
#include "ship.h"
#include "sidefile.h"
#include "spool.h"

/* Nothing new for this long with records unacknowledged: close to confirm them, ms. */
#define SHIP_IDLE_FLUSH_MS	500
/* ... and at the next pause however busy, once the oldest is this old, ms. */
#define SHIP_UNACKED_MAX_MS	5000
/* Sync the cursor's data at most this often; a host crash rolls it back as far, ms. */
#define SHIP_CURSOR_SYNC_MS	1000
/* Wake up this often even without inotify events (and without inotify), ms. */
#define SHIP_POLL_MS		1000
/* Retry period after a spool or cursor error, ms. */
#define SHIP_RETRY_MS		1000
/* Repeat "still cannot connect" at most this often, s. */
#define SHIP_LOG_REPEAT_S	60
/* Bytes the lag count reads per status update; more is counted next time. */
#define SHIP_LAG_SCAN_MAX	(64u * 1024 * 1024)
/* authpriv.info: audit records stay out of world-readable syslog files. */
#define SHIP_PRI		86
/* SD-ID of the record's identity; 32473 is the documentation enterprise number. */
#define SHIP_SD_ID		"rauditd@32473"
/* A spool line is at most the reader's buffer; the header adds less than 1 KiB. */
#define SHIP_LINE_MAX		(256 * 1024)
#define SHIP_MSG_MAX		(SHIP_LINE_MAX + 1024)
/* RFC 5424 MSGID is at most 32 characters. */
#define SHIP_MSGID_MAX		32

struct pend {
	struct spool_pos	end;	/* the cursor once this record is acknowledged */
	uint64_t		sent_ns;
};

struct ship {
	struct config		 cfg;
	char			 cursor_path[PATH_MAX];
	char			 status_path[PATH_MAX];
	char			 host[CONFIG_HOST_MAX], port[8];
	char			 peer[CONFIG_HOST_MAX];
	char			 hostname[256];
	unsigned		 window;	/* records past the saved cursor, at most */
	unsigned		 relp_window;	/* librelp's: frames unacknowledged */

	relpEngine_t		*eng;
	relpClt_t		*clt;
	bool			 connected;
	int			 relp_err;	/* set by librelp's error callbacks */
	char			 relp_msg[256];

	struct spool_reader	*rd;
	int			 ifd;		/* inotify on spool_dir, or -1 */
	/* The record taken from the reader and not yet sent (see take_line). */
	bool			 have_line;
	const char		*line;
	size_t			 len;
	struct spool_pos	 pos, end;

	/* Sent, not yet known acknowledged: a ring of relp_window + 1. */
	struct pend		*fifo;
	size_t			 fifo_cap, head, count;

	struct spool_pos	 confirmed;	/* first record not acknowledged */
	struct spool_pos	 saved;		/* what the cursor file says */
	uint64_t		 since_saved;	/* acknowledged since it was written */
	bool			 unsynced;	/* written without a sync since */
	uint64_t		 last_sync_ns;
	int			 cursor_err;

	uint64_t		 next_connect_ns;
	unsigned		 backoff_ms;
	uint64_t		 acked_at_connect;
	uint64_t		 last_send_ns;
	uint64_t		 next_status_ns;
	time_t			 start_time, fail_logged;
	int			 spool_err;
	int			 status_err;

	volatile sig_atomic_t	 stop;
	/*
	 * librelp polls this through relpEngineSetShutdownImmdtPtr; a plain int
	 * as it wants, written only by ship_stop() from a signal handler and
	 * read by librelp after a poll that the signal interrupted.
	 */
	int			 abort_now;

	/* Counters for the status file. */
	uint64_t		 sent, sent_bytes, acked, resent;
	uint64_t		 sessions, reconnects, connect_failures, flushes;
	uint64_t		 cursor_writes, cursor_syncs, cursor_errors;
	uint64_t		 missing, bad_lines, torn;

	/* Lag: line counts of the segments from the cursor on. */
	struct spool_lag	 lag;
	struct spool_lagbase	 lagbase;
	uint64_t		 lag_records, lag_bytes;

	char			*msg;
};

/* librelp's generic error callback carries no user pointer. */
static struct ship *ship_current;

#define MS(x)	((uint64_t)(x) * 1000000u)

static bool
pos_before(const struct spool_pos *a, const struct spool_pos *b)
{
	return a->segment < b->segment || (a->segment == b->segment && a->offset < b->offset);
}

/* ---- librelp callbacks -------------------------------------------------- */

static void
note_err(struct ship *s, const char *what, const char *msg, relpRetVal code)
{
	if (s == NULL)
		return;
	/* Keep the first error of a session: later ones are its consequences. */
	if (s->relp_err == 0)
		snprintf(s->relp_msg, sizeof(s->relp_msg), "%s: %s (librelp %d)", what, msg,
		    (int)code);
	s->relp_err = code ? code : -1;
}

static void
on_err(void *usr, char *objinfo, char *errmsg, relpRetVal code)
{
	note_err(usr, objinfo, errmsg, code);
}

static void
on_auth_err(void *usr, char *authinfo, char *errmsg, relpRetVal code)
{
	note_err(usr, authinfo, errmsg, code);
}

static void
on_generic_err(char *objinfo, char *errmsg, relpRetVal code)
{
	note_err(ship_current, objinfo, errmsg, code);
}

/* librelp calls its debug hook unconditionally, and with every buffer. */
static void __attribute__((format(printf, 1, 2)))
on_debug(char *fmt, ...)
{
	(void)fmt;
}

/* ---- the reader --------------------------------------------------------- */

static void
reader_event(void *arg, enum spool_event ev, const struct spool_pos *pos, uint64_t len)
{
	struct ship *s = arg;

	switch (ev) {
	case SPOOL_EV_MISSING:
		s->missing += len;
		if (len == 1)
			log_warnx("ship: segment %llu was deleted before it was shipped",
			    (unsigned long long)pos->segment);
		else
			log_warnx("ship: segments %llu to %llu were deleted before they were shipped",
			    (unsigned long long)pos->segment,
			    (unsigned long long)(pos->segment + len - 1));
		break;
	case SPOOL_EV_TORN:
		s->torn++;
		break;
	case SPOOL_EV_BAD_LINE:
	case SPOOL_EV_LONG_LINE:
		s->bad_lines++;
		break;
	}
}

/* ---- the cursor ------------------------------------------------------------ */

/*
 * Write the in-memory cursor. The data is synced when sync is asked for or
 * the last sync is a second old. Returns 0 or a negative errno (logged once
 * per distinct error, and the recovery).
 */
static int
cursor_save(struct ship *s, bool sync)
{
	uint64_t now = mono_ns();
	int rc;

	if (!sync && now - s->last_sync_ns >= MS(SHIP_CURSOR_SYNC_MS))
		sync = true;
	rc = spool_cursor_write(s->cursor_path, &s->confirmed, sync);
	if (rc < 0) {
		s->cursor_errors++;
		if (rc != s->cursor_err)
			log_warnx("ship: cannot write the cursor %s: %s; sending pauses at %u "
			    "records past it", s->cursor_path, strerror(-rc), s->window);
		s->cursor_err = rc;
		return rc;
	}
	if (s->cursor_err != 0)
		log_info("ship: the cursor %s is writable again", s->cursor_path);
	s->cursor_err = 0;
	s->saved = s->confirmed;
	s->since_saved = 0;
	s->cursor_writes++;
	log_debug("ship: cursor at segment %llu offset %llu%s",
	    (unsigned long long)s->confirmed.segment, (unsigned long long)s->confirmed.offset,
	    sync ? " (synced)" : "");
	if (sync) {
		s->cursor_syncs++;
		s->last_sync_ns = now;
		s->unsynced = false;
	} else {
		s->unsynced = true;
	}
	return 0;
}

static bool
cursor_dirty(const struct ship *s)
{
	return s->confirmed.segment != s->saved.segment || s->confirmed.offset != s->saved.offset;
}

/* ---- the FIFO of records in flight ------------------------------------------ */

static struct pend *
fifo_at(struct ship *s, size_t i)
{
	return &s->fifo[(s->head + i) % s->fifo_cap];
}

static void
fifo_push(struct ship *s, const struct spool_pos *end, uint64_t now)
{
	struct pend *p = fifo_at(s, s->count);

	p->end = *end;
	p->sent_ns = now;
	s->count++;
}

/* The oldest record is acknowledged: the cursor moves past it. */
static void
fifo_ack_oldest(struct ship *s)
{
	s->confirmed = s->fifo[s->head].end;
	s->head = (s->head + 1) % s->fifo_cap;
	s->count--;
	s->acked++;
	s->since_saved++;
}

/* ---- the session ------------------------------------------------------------ */

static void
backoff(struct ship *s)
{
	s->next_connect_ns = mono_ns() + MS(s->backoff_ms);
	s->backoff_ms = s->backoff_ms >= s->cfg.ship_reconnect_max_ms / 2 ?
	    s->cfg.ship_reconnect_max_ms : s->backoff_ms * 2;
}

static int
session_open(struct ship *s)
{
	relpRetVal rr;
	time_t now = time(NULL);

	s->relp_err = 0;
	rr = relpEngineCltConstruct(s->eng, &s->clt);
	if (rr != RELP_RET_OK) {
		s->clt = NULL;
		note_err(s, "client", "cannot construct", rr);
		goto fail;
	}
	if ((rr = relpCltSetUsrPtr(s->clt, s)) != RELP_RET_OK ||
	    (rr = relpCltSetTimeout(s->clt, s->cfg.ship_timeout)) != RELP_RET_OK ||
	    (rr = relpCltSetConnTimeout(s->clt, (int)s->cfg.ship_timeout)) != RELP_RET_OK ||
	    (rr = relpCltSetWindowSize(s->clt, (int)s->relp_window)) != RELP_RET_OK) {
		note_err(s, "client", "cannot set its parameters", rr);
		goto fail;
	}
	if (s->cfg.ship_tls) {
		if ((rr = relpCltEnableTLS(s->clt)) != RELP_RET_OK ||
		    (rr = relpCltSetCACert(s->clt, s->cfg.ship_tls_ca)) != RELP_RET_OK ||
		    (s->cfg.ship_tls_cert[0] &&
		     ((rr = relpCltSetOwnCert(s->clt, s->cfg.ship_tls_cert)) != RELP_RET_OK ||
		      (rr = relpCltSetPrivKey(s->clt, s->cfg.ship_tls_key)) != RELP_RET_OK)) ||
		    (rr = relpCltSetAuthMode(s->clt, (char *)"name")) != RELP_RET_OK ||
		    (rr = relpCltAddPermittedPeer(s->clt, s->peer)) != RELP_RET_OK) {
			note_err(s, "client", "cannot set up TLS", rr);
			goto fail;
		}
	}
	rr = relpCltConnect(s->clt, 0, (unsigned char *)s->port, (unsigned char *)s->host);
	if (rr != RELP_RET_OK || s->relp_err) {
		if (s->relp_err == 0)
			note_err(s, "connect", "failed", rr);
		goto fail;
	}
	s->connected = true;
	s->sessions++;
	s->acked_at_connect = s->acked;
	if (s->fail_logged != 0 || s->sessions == 1)
		log_info("ship: connected to %s%s", s->cfg.ship_target, s->cfg.ship_tls ? " (TLS)" : "");
	s->fail_logged = 0;
	return 0;
fail:
	if (s->clt != NULL)
		relpEngineCltDestruct(s->eng, &s->clt);
	s->clt = NULL;
	s->connect_failures++;
	if (s->fail_logged == 0 || now - s->fail_logged >= SHIP_LOG_REPEAT_S) {
		log_warnx("ship: cannot connect to %s: %s; retrying (%llu attempt(s) failed)",
		    s->cfg.ship_target, s->relp_msg, (unsigned long long)s->connect_failures);
		s->fail_logged = now;
	}
	backoff(s);
	return -ECONNREFUSED;
}

/* Drop the client; librelp closes gracefully only a session that is not broken. */
static void
session_drop(struct ship *s)
{
	if (s->clt != NULL)
		relpEngineCltDestruct(s->eng, &s->clt);
	s->clt = NULL;
	s->connected = false;
}

/*
 * The session failed: what was not acknowledged is sent again, from the
 * cursor, after the back-off.
 */
static void
session_lost(struct ship *s)
{
	uint64_t unacked = s->count + (s->have_line ? 1 : 0);

	session_drop(s);
	s->resent += s->count;
	s->count = 0;
	s->have_line = false;
	spool_reader_seek(s->rd, &s->confirmed);
	s->reconnects++;
	log_warnx("ship: session with %s lost: %s; %llu record(s) not acknowledged are sent "
	    "again from segment %llu offset %llu", s->cfg.ship_target,
	    s->relp_msg[0] ? s->relp_msg : "unknown error", (unsigned long long)unacked,
	    (unsigned long long)s->confirmed.segment, (unsigned long long)s->confirmed.offset);
	if (s->acked > s->acked_at_connect)
		s->backoff_ms = s->cfg.ship_reconnect_min_ms;
	backoff(s);
	s->fail_logged = time(NULL);
}

/*
 * Close the session gracefully. The server answers "close" only after it
 * has answered every frame before it; librelp calls the error callback on
 * every way this can fail. So a silent close acknowledges everything sent.
 */
static int
session_flush(struct ship *s)
{
	s->relp_err = 0;
	s->relp_msg[0] = '\0';
	if (s->clt != NULL)
		relpEngineCltDestruct(s->eng, &s->clt);
	s->clt = NULL;
	s->connected = false;
	if (s->relp_err != 0) {
		/* Not known: send it all again. session_lost() finds no client. */
		session_lost(s);
		return -EPIPE;
	}
	log_debug("ship: session closed cleanly: %zu record(s) in flight acknowledged",
	    s->count);
	while (s->count > 0)
		fifo_ack_oldest(s);
	s->flushes++;
	s->backoff_ms = s->cfg.ship_reconnect_min_ms;
	s->next_connect_ns = 0;
	return cursor_save(s, true);
}

/* ---- framing ------------------------------------------------------------------ */

/*
 * RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG, where
 * the timestamp is the record's, MSGID its type, the structured data its
 * spool index and serial, and MSG the audit.log line unchanged. A receiver
 * drops repeats by (HOSTNAME, seg, off).
 */
static size_t
frame(struct ship *s, const char *line, size_t len, const struct spool_pos *pos)
{
	char ts[80] = "-", msgid[SHIP_MSGID_MAX + 1] = "-", serial[40] = "";
	struct format_line fl;
	size_t n = 0;
	int h;

	/*
	 * The line's type and stamp, behind auditd's "node=NAME " when
	 * name_format is set. MSGID is the type name; "UNKNOWN[1334]" becomes
	 * "UNKNOWN_1334_".
	 */
	if (format_parse_line(line, len, &fl)) {
		struct tm tm;
		time_t t = (time_t)fl.sec;

		for (n = 0; n < SHIP_MSGID_MAX && n < fl.type_len; n++) {
			char c = fl.type[n];

			if (!(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') &&
			    !(c >= '0' && c <= '9'))
				c = '_';
			msgid[n] = c;
		}
		msgid[n] = '\0';
		if (gmtime_r(&t, &tm) != NULL)
			snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
			    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			    tm.tm_min, tm.tm_sec, fl.msec);
		snprintf(serial, sizeof(serial), " serial=\"%llu\"", (unsigned long long)fl.serial);
	}
	h = snprintf(s->msg, SHIP_MSG_MAX, "<%d>1 %s %s rauditd - %s [" SHIP_SD_ID
	    " seg=\"%llu\" off=\"%llu\"%s] ", SHIP_PRI, ts, s->hostname, msgid,
	    (unsigned long long)pos->segment, (unsigned long long)pos->offset, serial);
	if (h < 0 || (size_t)h + len > SHIP_MSG_MAX)
		return 0;
	memcpy(s->msg + h, line, len);
	return (size_t)h + len;
}

/* ---- lag ------------------------------------------------------------------------ */

/* Records and bytes between the cursor and the end of the spool's data. */
static void
lag_update(struct ship *s)
{
	if (spool_lag_update(s->cfg.spool_dir, &s->lag, s->confirmed.segment,
	    SHIP_LAG_SCAN_MAX) < 0)
		return;
	spool_lag_behind(s->cfg.spool_dir, &s->lag, &s->confirmed, &s->lagbase,
	    &s->lag_records, &s->lag_bytes);
}

/* ---- the status file -------------------------------------------------------- */

static const char *
state_name(const struct ship *s)
{
	if (s->stop)
		return "stopping";
	if (s->cursor_err != 0)
		return "cursor_error";
	if (s->connected)
		return s->count > 0 || s->have_line ? "sending" : "idle";
	if (s->have_line)
		return s->next_connect_ns > mono_ns() ? "backoff" : "connecting";
	return "idle";
}

static void
status_write(struct ship *s)
{
	char text[4096];
	int n, rc;

	lag_update(s);
	n = snprintf(text, sizeof(text),
	    "ship_version %s\nship_pid %ld\nship_state %s\nship_target %s\nship_tls %s\n"
	    "ship_connected %d\nship_uptime_s %lld\nship_updated %lld\n"
	    "ship_sent %llu\nship_sent_bytes %llu\nship_acked %llu\nship_unacked %llu\n"
	    "ship_resent %llu\nship_sessions %llu\nship_reconnects %llu\n"
	    "ship_connect_failures %llu\nship_flushes %llu\nship_window %u\n"
	    "ship_relp_window %u\nship_cursor_segment %llu\nship_cursor_offset %llu\n"
	    "ship_cursor_writes %llu\nship_cursor_syncs %llu\nship_cursor_errors %llu\n"
	    "ship_lag_records %llu\nship_lag_bytes %llu\nship_lag_complete %d\n"
	    "ship_missing_segments %llu\nship_bad_lines %llu\nship_torn_lines %llu\n",
	    PACKAGE_VERSION, (long)getpid(), state_name(s), s->cfg.ship_target,
	    s->cfg.ship_tls ? "yes" : "no", s->connected ? 1 : 0,
	    (long long)(time(NULL) - s->start_time), (long long)time(NULL),
	    (unsigned long long)s->sent, (unsigned long long)s->sent_bytes,
	    (unsigned long long)s->acked, (unsigned long long)s->count,
	    (unsigned long long)s->resent, (unsigned long long)s->sessions,
	    (unsigned long long)s->reconnects, (unsigned long long)s->connect_failures,
	    (unsigned long long)s->flushes, s->window, s->relp_window,
	    (unsigned long long)s->saved.segment, (unsigned long long)s->saved.offset,
	    (unsigned long long)s->cursor_writes, (unsigned long long)s->cursor_syncs,
	    (unsigned long long)s->cursor_errors, (unsigned long long)s->lag_records,
	    (unsigned long long)s->lag_bytes, s->lag.complete ? 1 : 0,
	    (unsigned long long)s->missing, (unsigned long long)s->bad_lines,
	    (unsigned long long)s->torn);
	if (n < 0 || (size_t)n >= sizeof(text))
		return;
	rc = sidefile_replace(s->status_path, text, (size_t)n, false);
	if (rc < 0 && rc != s->status_err)
		log_warnx("ship: cannot write the status file %s: %s", s->status_path,
		    strerror(-rc));
	else if (rc == 0 && s->status_err != 0)
		log_info("ship: writing the status file %s works again", s->status_path);
	s->status_err = rc;
}

/* ---- waiting ---------------------------------------------------------------------- */

/* Sleep until the spool changes, a signal, or timeout_ms. */
static void
wait_spool(struct ship *s, uint64_t timeout_ms)
{
	struct pollfd pfd = { .fd = s->ifd, .events = POLLIN };
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (timeout_ms > SHIP_POLL_MS)
		timeout_ms = SHIP_POLL_MS;
	if (s->ifd < 0) {
		struct timespec ts = { 0, (long)MS(timeout_ms < 100 ? timeout_ms : 100) };
		nanosleep(&ts, NULL);
		return;
	}
	if (poll(&pfd, 1, (int)timeout_ms) > 0)
		while (read(s->ifd, buf, sizeof(buf)) > 0)
			;
}

static void
sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)MS(ms % 1000) };

	nanosleep(&ts, NULL);
}

/* ---- the loop ---------------------------------------------------------------------- */

/*
 * Take the next record from the reader. The previous record's cursor
 * becomes this record's start, so a cursor is always the start of the
 * first record not acknowledged (past skipped lines and missing segments):
 * it names a later segment as soon as the last one is finished, which is
 * what lets retention delete that one. Returns 1, 0 for none yet, or -errno.
 */
static int
take_line(struct ship *s)
{
	int rc = spool_reader_next(s->rd, &s->line, &s->len, &s->pos);

	if (rc <= 0)
		return rc;
	spool_reader_tell(s->rd, &s->end);
	if (s->count > 0)
		fifo_at(s, s->count - 1)->end = s->pos;
	else if (pos_before(&s->confirmed, &s->pos))
		s->confirmed = s->pos;
	s->have_line = true;
	return 1;
}

static int
send_line(struct ship *s)
{
	size_t mlen = frame(s, s->line, s->len, &s->pos);
	uint64_t now;
	relpRetVal rr;

	if (mlen == 0) {	/* cannot happen: lines fit the buffer */
		s->bad_lines++;
		s->have_line = false;
		return 0;
	}
	s->relp_err = 0;
	s->relp_msg[0] = '\0';
	rr = relpCltSendSyslog(s->clt, (unsigned char *)s->msg, mlen);
	if (rr != RELP_RET_OK || s->relp_err != 0) {
		if (s->relp_err == 0)
			note_err(s, "send", "failed", rr);
		session_lost(s);
		return -EPIPE;
	}
	now = mono_ns();
	fifo_push(s, &s->end, now);
	s->have_line = false;
	s->sent++;
	s->sent_bytes += mlen;
	s->last_send_ns = now;
	/* The send returned: at most relp_window frames are unacknowledged. */
	while (s->count > s->relp_window)
		fifo_ack_oldest(s);
	if (s->acked > s->acked_at_connect)
		s->backoff_ms = s->cfg.ship_reconnect_min_ms;
	return 1;
}

/* Nothing to send right now: confirm what is in flight once idle, then wait. */
static void
idle(struct ship *s)
{
	uint64_t now = mono_ns(), wait = SHIP_POLL_MS, t;

	if (s->connected && s->count > 0) {
		uint64_t due = s->last_send_ns + MS(SHIP_IDLE_FLUSH_MS);
		uint64_t old = fifo_at(s, 0)->sent_ns + MS(SHIP_UNACKED_MAX_MS);

		if (old < due)
			due = old;
		if (now >= due) {
			session_flush(s);
			return;
		}
		wait = (due - now) / 1000000u + 1;
	}
	if ((cursor_dirty(s) || s->unsynced) && s->cursor_err == 0) {
		t = s->last_sync_ns + MS(SHIP_CURSOR_SYNC_MS);
		if (now >= t) {
			cursor_save(s, true);
			return;
		}
		if ((t - now) / 1000000u + 1 < wait)
			wait = (t - now) / 1000000u + 1;
	}
	wait_spool(s, wait);
}

int
ship_run(struct ship *s)
{
	int rc;

	s->next_status_ns = 0;
	while (!s->stop) {
		uint64_t now = mono_ns();

		if (now >= s->next_status_ns) {
			status_write(s);
			s->next_status_ns = now + (uint64_t)s->cfg.stats_interval * 1000000000u;
		}
		if (!s->have_line) {
			rc = take_line(s);
			if (rc < 0) {
				if (rc != s->spool_err)
					log_warnx("ship: reading the spool %s: %s; retrying",
					    s->cfg.spool_dir, strerror(-rc));
				s->spool_err = rc;
				sleep_ms(SHIP_RETRY_MS);
				continue;
			}
			if (s->spool_err != 0)
				log_info("ship: reading the spool works again");
			s->spool_err = 0;
			if (rc == 0) {
				idle(s);
				continue;
			}
		}
		/* Never more than window records past the saved cursor. */
		if (s->since_saved + s->count >= s->window && cursor_save(s, false) < 0) {
			sleep_ms(SHIP_RETRY_MS);
			continue;
		}
		if (!s->connected) {
			if (now < s->next_connect_ns) {
				sleep_ms((s->next_connect_ns - now) / 1000000u + 1);
				continue;
			}
			if (session_open(s) < 0)
				continue;
		}
		send_line(s);
	}

	/* Stopping: confirm what is in flight, then save the cursor for good. */
	if (s->connected && !s->abort_now)
		session_flush(s);
	session_drop(s);
	rc = cursor_save(s, true);
	s->have_line = false;
	status_write(s);
	log_info("ship: stopped at segment %llu offset %llu: sent %llu, acknowledged %llu, "
	    "sent again %llu, reconnects %llu, missing segments %llu",
	    (unsigned long long)s->confirmed.segment, (unsigned long long)s->confirmed.offset,
	    (unsigned long long)s->sent, (unsigned long long)s->acked,
	    (unsigned long long)s->resent, (unsigned long long)s->reconnects,
	    (unsigned long long)s->missing);
	return rc;
}

void
ship_stop(struct ship *s, bool now)
{
	s->stop = 1;
	if (now)
		s->abort_now = 1;
}

/* ---- setup ---------------------------------------------------------------------- */

/*
 * A cursor names data that exists or existed. Beyond every segment there
 * is, or inside the last one but past its end, the spool must have been
 * replaced: shipping starts again from the oldest segment. A sealed segment
 * shorter than the cursor (a host crash lost shipped data) just moves on to
 * the next one.
 */
static bool
cursor_plausible(const struct ship *s, const struct spool_pos *c)
{
	struct spool_seg *segs;
	uint64_t highest;
	size_t n;
	bool ok = true;

	if (spool_list(s->cfg.spool_dir, &segs, &n) < 0)
		return true;
	highest = n > 0 ? segs[n - 1].no : 0;
	/* Retention never deletes the open segment: an empty spool is a new one. */
	if (c->segment > highest) {
		ok = c->segment == 0;
	} else {
		for (size_t i = 0; i < n; i++)
			if (segs[i].no == c->segment && segs[i].bytes < c->offset)
				ok = c->segment < highest;
	}
	free(segs);
	return ok;
}

static void
set_hostname(struct ship *s)
{
	char *p;

	if (gethostname(s->hostname, sizeof(s->hostname) - 1) < 0 || s->hostname[0] == '\0')
		snprintf(s->hostname, sizeof(s->hostname), "-");
	s->hostname[sizeof(s->hostname) - 1] = '\0';
	/* RFC 5424 HOSTNAME: printable US-ASCII without blanks. */
	for (p = s->hostname; *p; p++)
		if (*p <= ' ' || *p >= 127)
			*p = '_';
}

/*
 * Where shipping starts: the cursor, or the oldest segment when there is
 * none yet, it is empty (a crash before it reached the disk) or it points
 * past a spool that was replaced. 0, or -1 with err for a cursor that
 * cannot be read.
 */
static int
ship_start_pos(struct ship *s, struct spool_pos *start, char *err, size_t errlen)
{
	int rc = spool_cursor_read(s->cursor_path, start);

	if (rc == -ENOENT) {
		log_info("ship: no cursor %s yet: shipping from the oldest segment", s->cursor_path);
		start->segment = start->offset = 0;
	} else if (rc == -ENODATA) {
		log_warnx("ship: the cursor %s is empty (a crash before it reached the disk?): "
		    "shipping again from the oldest segment", s->cursor_path);
		start->segment = start->offset = 0;
	} else if (rc < 0) {
		snprintf(err, errlen, "cursor %s: %s", s->cursor_path, rc == -EINVAL ?
		    "not a rauditd-ship cursor file (remove it to ship from the oldest segment)" :
		    strerror(-rc));
		return -1;
	} else if (!cursor_plausible(s, start)) {
		log_warnx("ship: the cursor %s (segment %llu offset %llu) is past the end of the "
		    "spool, which must have been replaced: shipping from the oldest segment",
		    s->cursor_path, (unsigned long long)start->segment,
		    (unsigned long long)start->offset);
		start->segment = start->offset = 0;
	}
	return 0;
}

/* inotify on the spool directory; without it the loop polls. */
static void
ship_watch(struct ship *s)
{
	const char *dir = s->cfg.spool_dir;

	s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->ifd >= 0 && inotify_add_watch(s->ifd, dir,
	    IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		close(s->ifd);
		s->ifd = -1;
	}
	if (s->ifd < 0)
		log_warnx("ship: inotify on %s: %s; polling instead", dir, strerror(errno));
}

/* The RELP engine with our callbacks. 0, or -1 with err. */
static int
ship_engine(struct ship *s, char *err, size_t errlen)
{
	if (relpEngineConstruct(&s->eng) != RELP_RET_OK) {
		s->eng = NULL;
		snprintf(err, errlen, "librelp: cannot construct the engine");
		return -1;
	}
	ship_current = s;
	relpEngineSetDbgprint(s->eng, on_debug);
	relpEngineSetOnErr(s->eng, on_err);
	relpEngineSetOnAuthErr(s->eng, on_auth_err);
	relpEngineSetOnGenericErr(s->eng, on_generic_err);
	relpEngineSetShutdownImmdtPtr(s->eng, &s->abort_now);
	if (relpEngineSetEnableCmd(s->eng, (unsigned char *)"syslog",
	    eRelpCmdState_Required) != RELP_RET_OK) {
		snprintf(err, errlen, "librelp: cannot require the syslog command");
		return -1;
	}
	return 0;
}

struct ship *
ship_open(const struct config *c, char *err, size_t errlen, enum ship_fail *why)
{
	struct ship *s = calloc(1, sizeof(*s));
	struct spool_pos start = { 0, 0 };

	*why = SHIP_FAIL_RESOURCE;
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->ifd = -1;
	s->cfg = *c;
	s->start_time = time(NULL);
	if (config_ship_split(c, s->host, sizeof(s->host), s->port, sizeof(s->port)) < 0) {
		*why = SHIP_FAIL_CONFIG;
		snprintf(err, errlen, "ship_target is %s", c->ship_target[0] ?
		    "not HOST:PORT" : "empty: shipping is off");
		goto fail;
	}
	snprintf(s->peer, sizeof(s->peer), "%s", c->ship_tls_peer[0] ? c->ship_tls_peer : s->host);
	config_ship_cursor(c, s->cursor_path, sizeof(s->cursor_path));
	config_ship_status(c, s->status_path, sizeof(s->status_path));
	/* run_dir may not exist yet when the daemon has not started. */
	if (c->ship_status[0] == '\0')
		(void)mkdir(c->run_dir, 0755);
	set_hostname(s);
	s->window = c->ship_window;
	s->relp_window = c->ship_window / 2;
	s->fifo_cap = s->relp_window + 1;
	s->fifo = calloc(s->fifo_cap, sizeof(*s->fifo));
	s->msg = malloc(SHIP_MSG_MAX);
	s->backoff_ms = c->ship_reconnect_min_ms;
	if (s->fifo == NULL || s->msg == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}

	if (ship_start_pos(s, &start, err, errlen) < 0) {
		*why = SHIP_FAIL_SPOOL;
		goto fail;
	}
	s->confirmed = s->saved = start;
	s->rd = spool_reader_open(c->spool_dir, &start, reader_event, s);
	if (s->rd == NULL) {
		*why = SHIP_FAIL_SPOOL;
		snprintf(err, errlen, "spool %s: %s", c->spool_dir, strerror(errno));
		goto fail;
	}
	ship_watch(s);
	if (ship_engine(s, err, errlen) < 0)
		goto fail;
	/* The first status and the cursor as found: a written cursor is ours. */
	s->last_sync_ns = mono_ns();
	log_info("ship: shipping %s from segment %llu offset %llu to %s, window %u",
	    c->spool_dir, (unsigned long long)start.segment, (unsigned long long)start.offset,
	    c->ship_target, s->window);
	return s;
fail:
	ship_close(s);
	return NULL;
}

void
ship_close(struct ship *s)
{
	if (s == NULL)
		return;
	if (s->eng != NULL) {
		if (s->clt != NULL)
			relpEngineCltDestruct(s->eng, &s->clt);
		relpEngineDestruct(&s->eng);
	}
	if (ship_current == s)
		ship_current = NULL;
	spool_reader_close(s->rd);
	if (s->ifd >= 0)
		close(s->ifd);
	free(s->fifo);
	spool_lag_free(&s->lag);
	free(s->msg);
	free(s);
}
