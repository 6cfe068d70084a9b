/*
 * format.h - kernel audit records to audit.log lines, as auditd writes them.
 *
 * RAW:      [node=NODE ]type=NAME msg=audit(SEC.MSEC:SERIAL): BODY
 * ENRICHED: the RAW line, then 0x1D, then interpreted fields (UID="root" ...)
 *
 * Leaf module: no logging, no global state. The enricher keeps one auparse
 * state (set up once, reused for every record) and a cache of uid/gid names
 * (negative results included, for a bounded time) and belongs to one thread.
 */
#ifndef RAUDITD_FORMAT_H
#define RAUDITD_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Longest line we produce: a kernel record plus name, prefix and enrichment. */
#define FORMAT_LINE_MAX	(16 * 1024 + 4096)

/*
 * Write the RAW line for a record of the given type whose kernel text is
 * body[0..len) (it ends at the first NUL if there is one) to out. Newlines
 * and 0x1D (the interpretation separator) in the body become spaces, so
 * record text can neither end the line nor start an interpretation part;
 * one trailing space is trimmed, as auditd
 * does; the line ends with '\n'. Returns the line's length, or -ENOSPC if
 * cap is too small.
 */
ssize_t format_raw(char *out, size_t cap, int type, const char *body, size_t len);

/* Type name as libaudit knows it, or "UNKNOWN[n]" written into buf. */
const char *format_type_name(int type, char *buf, size_t buflen);

struct format_enricher;

/* Returns NULL with errno set. */
struct format_enricher *format_enricher_new(void);
void format_enricher_free(struct format_enricher *e);

/*
 * The ENRICHED line; same contract as format_raw(). Byte-identical to
 * auditd 3.0.9's ENRICHED line for the same record, except that control
 * bytes of an interpreted value are escaped (see format.c). A record that
 * adds, removes or changes users or groups (ADD_USER, DEL_USER, USER_MGMT,
 * ADD_GROUP, DEL_GROUP, GRP_MGMT) empties the name cache first, so every
 * record after it, and itself, sees the new names: the writer needs no
 * other call.
 */
ssize_t format_enriched(struct format_enricher *e, char *out, size_t cap,
    int type, const char *body, size_t len);

/* Cache statistics of an enricher: lookups that hit and that missed. */
void format_enricher_stats(const struct format_enricher *e, uint64_t *hits,
    uint64_t *misses);

/* How many times the name cache was emptied (by records, or by a flush). */
uint64_t format_enricher_flushes(const struct format_enricher *e);

/* Empty the name cache now. */
void format_enricher_flush(struct format_enricher *e);

/*
 * How long a "no such id" answer is believed (default 30 s); names found
 * stay until a flush.
 */
void format_enricher_set_negative_ttl(struct format_enricher *e, unsigned ms);

/*
 * SYSCALL records are interpreted without libauparse unless this is set
 * off (the tests compare both ways); the output is the same.
 */
void format_enricher_set_fast_path(struct format_enricher *e, bool on);

/*
 * Parse the "audit(SEC.MSEC:SERIAL):" stamp at the start of body. Returns
 * true and fills the out-parameters (any may be NULL) when it is there.
 */
bool format_parse_stamp(const char *body, size_t len, uint64_t *sec,
    unsigned *msec, uint64_t *serial);

/*
 * A daemon record's body, "audit(SEC.MSEC:SERIAL): TEXT", written to out.
 * Returns its length or -ENOSPC.
 */
ssize_t format_daemon_body(char *out, size_t cap, const struct timespec *ts,
    uint64_t serial, const char *text);

/* Longest node name (auditd.conf's name, a host name) we write. */
#define FORMAT_NODE_MAX	255

/*
 * The "node=NAME " auditd puts in front of every line when its name_format
 * is not none, into out. node "" writes nothing. Returns the length, or
 * -ENOSPC, or -EINVAL when node has a byte that is not printable or is a
 * blank (it would split the line's fields), or is longer than
 * FORMAT_NODE_MAX.
 */
ssize_t format_node_prefix(char *out, size_t cap, const char *node);

/* Longest type name a line may carry ("UNKNOWN[65535]" is 14). */
#define FORMAT_TYPE_MAX	59

/*
 * The start of an audit.log line, as auditd (and our writer) writes it:
 *   [node=NAME ]type=TYPE msg=audit(SEC.MSEC:SERIAL): FIELDS
 * Pointers are into the line; nothing is copied.
 */
struct format_line {
	const char	*node;		/* NULL: no "node=" prefix */
	size_t		 node_len;
	const char	*type;
	size_t		 type_len;
	const char	*stamp;		/* "SEC.MSEC:SERIAL" */
	size_t		 stamp_len;
	const char	*fields;	/* after "): ", up to the end of the line */
	uint64_t	 sec;
	unsigned	 msec;
	uint64_t	 serial;
};

/*
 * Parse the start of line[0..len) (no '\n'): the one place every reader of
 * the spool (the shared reader, rauditd-ship, rauditd-dispatch, the chain
 * verifier) learns a line's node, type and stamp. The optional node field
 * is "node=" NAME " " with NAME 1..FORMAT_NODE_MAX bytes that
 * format_node_prefix() would write (printable, no blank); TYPE is
 * 1..FORMAT_TYPE_MAX such bytes; the stamp is what format_parse_stamp()
 * takes. Returns true and fills fl when the line has that shape, false
 * (fl zeroed) otherwise: a line whose node field is malformed is not a
 * record. Any thread.
 */
bool format_parse_line(const char *line, size_t len, struct format_line *fl);

/* True when the parsed line's type is name. */
bool format_line_type_is(const struct format_line *fl, const char *name);

/*
 * The node name for a name_format (enum config_name_format's values: 0
 * none, 1 hostname, 2 fqd, 3 numeric, 4 user) into buf: "" for none, the
 * host name, its canonical name, its first address, or user. fqd and
 * numeric resolve the host name (they may block: main thread, at start and
 * reload). Returns 0, or a negative errno (buf then holds the host name
 * for fqd and numeric, "" otherwise).
 */
int format_node_name(int name_format, const char *user, char *buf, size_t len);

#endif
