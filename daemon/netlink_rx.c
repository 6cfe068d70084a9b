/*
 * netlink_rx.c - this file is the receive path: it drains the audit netlink
 * socket with recvmmsg into preallocated buffers, accepts only well-formed
 * audit records from the kernel, and copies each into the ring.
 */
#include "build_config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/netlink.h>

#include "format.h"
#include "mono.h"
#include "netlink_rx.h"
#include "record.h"
#include "ring.h"
#include "seqgap.h"

/* Datagrams per recvmmsg call. */
#define RX_BATCH	64
/*
 * Bytes per receive buffer. The kernel caps a record's text at
 * MAX_AUDIT_MESSAGE_LENGTH (8970); twice that leaves room for the header and
 * for a framed test sender's address, and anything larger is MSG_TRUNC.
 */
#define RX_BUFSZ	(16 * 1024)
/*
 * Default receive buffer (rcvbuf = 0): a sixteenth of the host's RAM,
 * between 16 MiB and 1 GiB. Records a full ring leaves in the socket are
 * unswappable kernel memory for as long as the disk is gone; a sixteenth
 * keeps a 1 GiB VM safe (64 MiB) and gives a 16 GiB host the 1 GiB that
 * rode out a 5 s SIGSTOP at 10k events/s.
 */
#define RX_RCVBUF_RAM_DIV	16
#define RX_RCVBUF_MIN		(16 * 1024 * 1024ULL)
#define RX_RCVBUF_MAX		(1024 * 1024 * 1024ULL)
/* First record type; lower types are control requests and replies, but
 * for the two the kernel also logs as records (see is_record). */
#define RX_FIRST_RECORD	AUDIT_FIRST_USER_MSG

struct netlink_rx {
	int		 fd;
	enum netlink_rx_input input;
	struct ring	*ring;
	struct rx_stats	*st;
	struct seqgap	*gaps;
	void		(*wake)(void *);
	void		*wake_arg;

	unsigned char	*bufs;			/* RX_BATCH * RX_BUFSZ */
	struct mmsghdr	 msgs[RX_BATCH];
	struct iovec	 iov[RX_BATCH];
	struct sockaddr_nl addrs[RX_BATCH];

	struct record_loss	 loss[DROP_NREASONS];	/* not yet in the ring */

	bool		 wait_full;		/* ring full: stop reading, not drop */
	bool		 waiting;		/* stopped, waiting for ring room */
	size_t		 rec_max;		/* most ring bytes one record takes */
	size_t		 room_margin;		/* ring bytes kept for loss markers */

	uint32_t	 ack_seq;		/* last NLMSG_ERROR seen */
	int		 ack_err;
	bool		 ack_seen;
};

static void note_loss(struct netlink_rx *rx, enum drop_reason why,
    uint64_t n, bool has_serial, uint64_t serial);

/*
 * A ring adopted from an earlier instance may hold that instance's loss
 * markers: count them as put there by this producer, so that the ring's
 * records_in minus our loss_markers stays the kernel records that entered
 * the ring (report_in_ring), and a marker the writer takes out later does not
 * leave a phantom record behind. Records the adopted ring claimed but that
 * did not validate are lost here: counted, and recorded in the spool by a
 * marker of their own.
 */
static void
adopt_ring(struct netlink_rx *rx)
{
	uint64_t lost = ring_adopt_lost(rx->ring);

	stat_add(&rx->st->loss_markers, ring_count_tags(rx->ring, RECORD_TAG_DAEMON));
	if (lost > 0)
		note_loss(rx, DROP_RING_CORRUPT, lost, false, 0);
}

static int register_once(struct netlink_rx *rx, unsigned timeout_ms);

struct netlink_rx *
netlink_rx_new(struct ring *ring, struct rx_stats *st, struct seqgap *gaps,
    void (*wake)(void *), void *arg)
{
	struct netlink_rx *rx = calloc(1, sizeof(*rx));

	if (rx == NULL)
		return NULL;
	rx->bufs = malloc((size_t)RX_BATCH * RX_BUFSZ);
	if (rx->bufs == NULL) {
		free(rx);
		errno = ENOMEM;
		return NULL;
	}
	/* Touch the buffers now so the receive path takes no page faults. */
	memset(rx->bufs, 0, (size_t)RX_BATCH * RX_BUFSZ);
	rx->fd = -1;
	rx->ring = ring;
	rx->st = st;
	rx->gaps = gaps;
	rx->wake = wake;
	rx->wake_arg = arg;
	for (int i = 0; i < RX_BATCH; i++) {
		rx->iov[i].iov_base = rx->bufs + (size_t)i * RX_BUFSZ;
		rx->iov[i].iov_len = RX_BUFSZ;
	}
	/*
	 * What one received datagram can take of the ring: a record's text is
	 * shorter than the receive buffer, and one larger than the ring takes
	 * is dropped as oversize without using any. Loss markers need room of
	 * their own, one per reason at most.
	 */
	rx->rec_max = RING_RECORD_OVERHEAD + (RX_BUFSZ < ring_max_payload(ring) ?
	    RX_BUFSZ : ring_max_payload(ring));
	rx->room_margin = DROP_NREASONS * (RING_RECORD_OVERHEAD + sizeof(struct record_loss));
	adopt_ring(rx);
	return rx;
}

void
netlink_rx_free(struct netlink_rx *rx)
{
	if (rx == NULL)
		return;
	netlink_rx_close(rx);
	free(rx->bufs);
	free(rx);
}

size_t
netlink_rx_default_rcvbuf(void)
{
	struct sysinfo si;
	uint64_t ram, b;

	if (sysinfo(&si) < 0)
		return RX_RCVBUF_MIN;
	ram = (uint64_t)si.totalram * (si.mem_unit ? si.mem_unit : 1);
	b = ram / RX_RCVBUF_RAM_DIV;
	if (b < RX_RCVBUF_MIN)
		b = RX_RCVBUF_MIN;
	if (b > RX_RCVBUF_MAX)
		b = RX_RCVBUF_MAX;
	return (size_t)b;
}

int
netlink_rx_open(struct netlink_rx *rx, size_t rcvbuf, size_t *got,
    size_t *want, const char **what)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, one = 1, sz;
	socklen_t len = sizeof(sz);

	*what = "socket";
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_AUDIT);
	if (fd < 0)
		return -errno;
	*what = "bind";
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	/*
	 * Without NO_ENOBUFS an overrun is reported as an error on the next
	 * recv; with it the kernel simply keeps the record (kauditd retries
	 * and then counts it as lost), which our serial-gap counter sees.
	 */
	*what = "NETLINK_NO_ENOBUFS";
	if (setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one)) < 0)
		goto fail;
	*what = "receive buffer";
	if (rcvbuf == 0)
		rcvbuf = netlink_rx_default_rcvbuf();
	sz = rcvbuf > (size_t)(INT32_MAX / 2) ? INT32_MAX / 2 : (int)rcvbuf;
	*want = (size_t)sz;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)) < 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, &len) == 0)
		*got = (size_t)sz / 2;	/* the kernel reports twice what counts */
	rx->fd = fd;
	rx->input = NETLINK_RX_KERNEL;
	stat_set(&rx->st->socket_fd, (uint64_t)fd + 1);
	return 0;
fail:
	{
		int e = errno;
		close(fd);
		return -e;
	}
}

int
netlink_rx_attach(struct netlink_rx *rx, int fd, enum netlink_rx_input input)
{
	netlink_rx_close(rx);
	rx->fd = fd;
	rx->input = input;
	stat_set(&rx->st->socket_fd, fd >= 0 ? (uint64_t)fd + 1 : 0);
	return 0;
}

int
netlink_rx_fd(const struct netlink_rx *rx)
{
	return rx->fd;
}

int
netlink_rx_detach(struct netlink_rx *rx)
{
	int fd = rx->fd;

	rx->fd = -1;
	stat_set(&rx->st->socket_fd, 0);
	return fd;
}

void
netlink_rx_close(struct netlink_rx *rx)
{
	stat_set(&rx->st->socket_fd, 0);
	if (rx->fd >= 0)
		close(rx->fd);
	rx->fd = -1;
}

static void
note_loss(struct netlink_rx *rx, enum drop_reason why, uint64_t n,
    bool has_serial, uint64_t serial)
{
	struct record_loss *l = &rx->loss[why];

	stat_add(&rx->st->dropped[why], n);
	if (l->count == 0) {
		l->reason = why;
		l->has_serials = has_serial;
		l->first_serial = l->last_serial = serial;
	} else if (has_serial) {
		if (!l->has_serials) {
			l->has_serials = 1;
			l->first_serial = serial;
		}
		l->last_serial = serial;
	}
	l->count += n;
}

/* Commit what markers fit; the caller wakes the writer once per batch. */
static void
flush_loss(struct netlink_rx *rx)
{
	for (int i = 0; i < DROP_NREASONS; i++) {
		void *p;

		if (rx->loss[i].count == 0)
			continue;
		p = ring_reserve(rx->ring, sizeof(struct record_loss));
		if (p == NULL)
			return;
		memcpy(p, &rx->loss[i], sizeof(struct record_loss));
		ring_commit(rx->ring, sizeof(struct record_loss), RECORD_TAG_LOSS);
		stat_add(&rx->st->loss_markers, 1);
		memset(&rx->loss[i], 0, sizeof(rx->loss[i]));
	}
}

/* After a batch of commits: the writer may be asleep on an empty ring. */
static void
after_commits(struct netlink_rx *rx)
{
	ring_note_high_water(rx->ring);
	if (ring_wake_needed(rx->ring)) {
		stat_add(&rx->st->wakeups, 1);
		rx->wake(rx->wake_arg);
	}
}

void
netlink_rx_flush_loss(struct netlink_rx *rx)
{
	uint64_t in_before = ring_records_in(rx->ring);

	flush_loss(rx);
	if (ring_records_in(rx->ring) != in_before)
		after_commits(rx);
}

uint64_t
netlink_rx_pending_loss(const struct netlink_rx *rx)
{
	uint64_t n = 0;

	for (int i = 0; i < DROP_NREASONS; i++)
		n += rx->loss[i].count;
	return n;
}

static bool
loss_pending(const struct netlink_rx *rx)
{
	for (int i = 0; i < DROP_NREASONS; i++)
		if (rx->loss[i].count)
			return true;
	return false;
}

/* One audit record from the kernel: account for it and copy it to the ring. */
static void
deliver(struct netlink_rx *rx, uint16_t type, const char *body, size_t len,
    bool truncated)
{
	const char *nul = memchr(body, '\0', len);
	uint64_t serial = 0;
	bool has_serial;
	void *p;

	stat_add(&rx->st->received, 1);
	stat_add(&rx->st->bytes, len);
	if (nul != NULL)
		len = (size_t)(nul - body);
	has_serial = format_parse_stamp(body, len, NULL, NULL, &serial);
	if (has_serial) {
		seqgap_note(rx->gaps, (uint32_t)serial);
		stat_set(&rx->st->last_serial, serial);
	}
	if (truncated || len > ring_max_payload(rx->ring)) {
		note_loss(rx, DROP_OVERSIZE, 1, has_serial, serial);
		return;
	}
	/*
	 * Earlier losses are recorded before anything that came after them,
	 * but only once this record fits too: markers put into the last bytes
	 * of a ring that is full for records would split one loss into many.
	 * The probe reservation is not committed, so the next ring_reserve()
	 * simply replaces it.
	 */
	if (loss_pending(rx)) {
		if (ring_reserve(rx->ring, len) == NULL) {
			note_loss(rx, DROP_RING_FULL, 1, has_serial, serial);
			return;
		}
		flush_loss(rx);
		if (loss_pending(rx)) {
			note_loss(rx, DROP_RING_FULL, 1, has_serial, serial);
			return;
		}
	}
	p = ring_reserve(rx->ring, len);
	if (p == NULL) {
		note_loss(rx, DROP_RING_FULL, 1, has_serial, serial);
		return;
	}
	memcpy(p, body, len);
	ring_commit(rx->ring, len, type);
}

/*
 * End of event: for realtime consumers only. auditd does not write it to
 * audit.log, so neither do we; its serial still counts as seen.
 */
static void
note_eoe(struct netlink_rx *rx, const char *body, size_t len)
{
	uint64_t serial;

	stat_add(&rx->st->eoe, 1);
	if (format_parse_stamp(body, strnlen(body, len), NULL, NULL, &serial))
		seqgap_note(rx->gaps, (uint32_t)serial);
}

/*
 * Audit records are the types from AUDIT_FIRST_USER_MSG up, and two older
 * ones the kernel still logs as records: AUDIT_LOGIN (every change of
 * loginuid) and AUDIT_USER (relayed from userspace). The rest below 1100 are
 * requests and their replies.
 */
static bool
is_record(uint16_t type)
{
	return type >= RX_FIRST_RECORD || type == AUDIT_USER || type == AUDIT_LOGIN;
}

/* Validate one datagram from claimed sender src_pid and deliver its records. */
static void
process(struct netlink_rx *rx, uint32_t src_pid, unsigned char *buf,
    size_t len, bool truncated)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;

	if (src_pid != 0) {
		stat_add(&rx->st->rejected_spoofed, 1);
		return;
	}
	if (truncated) {
		/*
		 * Larger than our buffer. If the header is that of an audit
		 * record it was a real record we could not take whole: count it
		 * received and dropped. Anything else is malformed. The kernel's
		 * nlmsg_len of a record counts the payload only (see below), so
		 * a longer record claims more than len - NLMSG_HDRLEN.
		 */
		if (len >= NLMSG_HDRLEN && is_record(nh->nlmsg_type) &&
		    nh->nlmsg_type != AUDIT_REPLACE && nh->nlmsg_len > len - NLMSG_HDRLEN)
			deliver(rx, nh->nlmsg_type, (char *)NLMSG_DATA(nh),
			    len - NLMSG_HDRLEN, true);
		else
			stat_add(&rx->st->rejected_malformed, 1);
		return;
	}
	if (len < NLMSG_HDRLEN || nh->nlmsg_len > len) {
		stat_add(&rx->st->rejected_malformed, 1);
		return;
	}
	if (is_record(nh->nlmsg_type)) {
		/*
		 * An audit record: exactly one per datagram, and the kernel sets
		 * nlmsg_len to the payload length, not header plus payload (a
		 * long-standing quirk of audit's unicast path). The datagram's
		 * length is the truth; the text ends at its first NUL, if any.
		 */
		if (nh->nlmsg_type == AUDIT_REPLACE)
			/* The kernel asking whether we are alive before letting
			 * another process register: being read is the answer. */
			stat_add(&rx->st->replace_probes, 1);
		else if (nh->nlmsg_type == AUDIT_EOE)
			note_eoe(rx, (char *)NLMSG_DATA(nh), len - NLMSG_HDRLEN);
		else
			deliver(rx, nh->nlmsg_type, (char *)NLMSG_DATA(nh),
			    len - NLMSG_HDRLEN, false);
		return;
	}
	/* Control replies follow the netlink rules and may be batched. */
	while (len > 0) {
		if (!NLMSG_OK(nh, len)) {
			stat_add(&rx->st->rejected_malformed, 1);
			return;
		}
		stat_add(&rx->st->control, 1);
		if (nh->nlmsg_type == NLMSG_ERROR &&
		    nh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
			struct nlmsgerr *e = NLMSG_DATA(nh);
			rx->ack_seen = true;
			rx->ack_seq = nh->nlmsg_seq;
			rx->ack_err = e->error;
		}
		if (NLMSG_ALIGN(nh->nlmsg_len) >= len)
			break;
		len -= NLMSG_ALIGN(nh->nlmsg_len);
		nh = (struct nlmsghdr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));
	}
}

/*
 * With wait_full: how many datagrams the ring surely has room for (each may
 * take rec_max bytes, one pad before the end of the buffer may take up to
 * another rec_max, and the loss markers keep their margin). Checking before
 * recv means nothing read is ever left without a place in the ring.
 */
static size_t
room_for(const struct netlink_rx *rx)
{
	size_t free_bytes = ring_capacity(rx->ring) - ring_used(rx->ring);

	if (free_bytes < rx->room_margin + 2 * rx->rec_max)
		return 0;
	return (free_bytes - rx->room_margin) / rx->rec_max - 1;
}

/*
 * The free bytes to wait for before reading again: an eighth of the ring,
 * so that a writer freeing a record at a time does not make the receiver
 * stop and start for each, and at least room for one datagram.
 */
static size_t
resume_bytes(const struct netlink_rx *rx)
{
	size_t b = ring_capacity(rx->ring) / 8;

	if (b < rx->room_margin + 2 * rx->rec_max)
		b = rx->room_margin + 2 * rx->rec_max;
	return b;
}

/* Stop reading until the writer frees resume_bytes(); false if it has. */
static bool
start_waiting(struct netlink_rx *rx)
{
	if (!ring_wait_room(rx->ring, resume_bytes(rx)))
		return false;
	rx->waiting = true;
	stat_set(&rx->st->ring_full_since_ns, mono_ns());
	stat_add(&rx->st->ring_full_waits, 1);
	return true;
}

/* The wait for ring room is over: stop asking for room, count the time waited. */
static void
end_wait(struct netlink_rx *rx)
{
	ring_cancel_room(rx->ring);
	rx->waiting = false;
	stat_add(&rx->st->ring_full_wait_ns,
	    mono_ns() - stat_get(&rx->st->ring_full_since_ns));
	stat_set(&rx->st->ring_full_since_ns, 0);
}

bool
netlink_rx_resume(struct netlink_rx *rx)
{
	if (!rx->waiting)
		return true;
	if (ring_capacity(rx->ring) - ring_used(rx->ring) < resume_bytes(rx))
		return false;
	end_wait(rx);
	return true;
}

bool
netlink_rx_waiting(const struct netlink_rx *rx)
{
	return rx->waiting;
}

void
netlink_rx_set_wait_full(struct netlink_rx *rx, bool wait)
{
	rx->wait_full = wait;
	if (!wait && rx->waiting)
		end_wait(rx);		/* accounted as a wait that ended now */
}

void
netlink_rx_set_room_cb(struct netlink_rx *rx, void (*fn)(void *), void *arg)
{
	ring_set_room_cb(rx->ring, fn, arg);
}

/* Point the recvmmsg headers at the receive buffers (and, from the kernel,
 * at room for the sender's address). */
static inline void
prepare_batch(struct netlink_rx *rx, unsigned vlen)
{
	for (unsigned i = 0; i < vlen; i++) {
		struct msghdr *mh = &rx->msgs[i].msg_hdr;
		memset(mh, 0, sizeof(*mh));
		mh->msg_iov = &rx->iov[i];
		mh->msg_iovlen = 1;
		if (rx->input == NETLINK_RX_KERNEL) {
			mh->msg_name = &rx->addrs[i];
			mh->msg_namelen = sizeof(rx->addrs[i]);
		}
	}
}

/* The i-th datagram of a batch: who sent it, then process it. */
static inline void
take_message(struct netlink_rx *rx, unsigned i)
{
	struct msghdr *mh = &rx->msgs[i].msg_hdr;
	unsigned char *buf = rx->iov[i].iov_base;
	size_t len = rx->msgs[i].msg_len;
	bool trunc = (mh->msg_flags & MSG_TRUNC) != 0;
	uint32_t src;

	if (rx->input == NETLINK_RX_KERNEL) {
		/* A sender without a netlink address is not the kernel. */
		src = mh->msg_namelen >= sizeof(struct sockaddr_nl) ?
		    rx->addrs[i].nl_pid : UINT32_MAX;
	} else {
		struct sockaddr_nl from;
		if (len < sizeof(from)) {
			stat_add(&rx->st->rejected_malformed, 1);
			return;
		}
		memcpy(&from, buf, sizeof(from));
		src = from.nl_pid;
		buf += sizeof(from);
		len -= sizeof(from);
	}
	process(rx, src, buf, len, trunc);
}

size_t
netlink_rx_drain(struct netlink_rx *rx, size_t max_msgs, bool *empty)
{
	size_t total = 0;
	bool committed = false;
	uint64_t in_before = ring_records_in(rx->ring);

	*empty = false;
	if (rx->fd < 0) {
		*empty = true;
		return 0;
	}
	/* Waiting for room: the records stay in the socket until there is. */
	if (rx->waiting && !netlink_rx_resume(rx))
		return 0;
	while (total < max_msgs) {
		/* Never read more than asked: the rest stays in the socket. */
		unsigned vlen = max_msgs - total < RX_BATCH ?
		    (unsigned)(max_msgs - total) : RX_BATCH;
		int n;

		if (rx->wait_full) {
			size_t room;

			if (loss_pending(rx))
				flush_loss(rx);
			room = room_for(rx);
			if (room == 0) {
				if (start_waiting(rx))
					break;
				continue;	/* the writer just made room */
			}
			if (room < vlen)
				vlen = (unsigned)room;
		}

		prepare_batch(rx, vlen);
		n = recvmmsg(rx->fd, rx->msgs, vlen, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				*empty = true;
			} else if (errno == ENOBUFS) {
				stat_add(&rx->st->enobufs, 1);
				continue;
			} else {
				stat_add(&rx->st->recv_errors, 1);
			}
			break;
		}
		stat_add(&rx->st->batches, 1);
		for (int i = 0; i < n; i++)
			take_message(rx, (unsigned)i);
		total += (size_t)n;
		if ((unsigned)n < vlen) {
			/* A short batch means the queue ran dry just now; the next
			 * call would only return EAGAIN. */
			*empty = true;
			break;
		}
	}
	/* Once the writer has emptied the ring, pending losses are recorded
	 * now rather than with the next record, which may be long in coming. */
	if (loss_pending(rx) && ring_used(rx->ring) == 0)
		flush_loss(rx);
	committed = ring_records_in(rx->ring) != in_before;
	/*
	 * One clock reading for both stamps, so "the last drain ended on an
	 * empty socket" is exactly socket_empty_ns >= last_rx_ns (monitor.c).
	 */
	if (committed || *empty) {
		uint64_t t = mono_ns();
		if (committed)
			stat_set(&rx->st->last_rx_ns, t);
		if (*empty)
			stat_set(&rx->st->socket_empty_ns, t);
	}
	if (committed)
		after_commits(rx);
	return total;
}

/*
 * The acknowledgement must be read even when the ring is full, so while
 * registering a full ring drops (counted) rather than stops the reading.
 */
int
netlink_rx_register(struct netlink_rx *rx, unsigned timeout_ms)
{
	bool wait = rx->wait_full;
	int rc;

	netlink_rx_set_wait_full(rx, false);
	rc = register_once(rx, timeout_ms);
	rx->wait_full = wait;
	return rc;
}

static int
register_once(struct netlink_rx *rx, unsigned timeout_ms)
{
	struct {
		struct nlmsghdr		nh;
		struct audit_status	st;
	} req;
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * 1000000u;
	static uint32_t seq = 0x52410000;	/* distinct from kaudit's */

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.st));
	req.nh.nlmsg_type = AUDIT_SET;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.nh.nlmsg_seq = ++seq;
	req.st.mask = AUDIT_STATUS_PID;
	req.st.pid = (uint32_t)getpid();
	rx->ack_seen = false;
	if (sendto(rx->fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&to,
	    sizeof(to)) < 0)
		return -errno;
	for (;;) {
		struct pollfd pfd = { .fd = rx->fd, .events = POLLIN };
		uint64_t now = mono_ns();
		bool empty;
		int rc;

		if (rx->ack_seen && rx->ack_seq == seq)
			return rx->ack_err;
		if (now >= deadline)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, (int)((deadline - now) / 1000000u) + 1);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc > 0)
			netlink_rx_drain(rx, SIZE_MAX, &empty);
	}
}
