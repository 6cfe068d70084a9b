/*
 * test_netlink_rx.c - tests the receive path (netlink_rx) through its public
 * header: framed datagrams go in through one end of a unix datagram
 * socketpair attached with NETLINK_RX_FRAMED, and what comes out is read
 * from a real ring as the writer would. Covered: byte-exact records with
 * tag = type and text cut at the first NUL, the kernel's nlmsg_len quirk,
 * spoofed senders, malformed and truncated datagrams, oversize records,
 * control replies, AUDIT_REPLACE probes, exact ring_full accounting with the
 * loss marker that follows, the wake-up only on the consumer's announced
 * wait, serial gap accounting, and netlink_rx_drain's max_msgs and empty.
 */
#include "build_config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/netlink.h>

#include <cmocka.h>

#include "netlink_rx.h"
#include "record.h"
#include "ring.h"
#include "seqgap.h"
#include "stats.h"

/* The receiver's per-datagram buffer (RX_BUFSZ in netlink_rx.c), bytes. */
#define RX_BUF		(16 * 1024)
/* Largest netlink part of a framed datagram that still fits that buffer. */
#define RX_FIT		(RX_BUF - (int)sizeof(struct sockaddr_nl))
/* Socket buffers for the pair, bytes: room for thousands of datagrams. */
#define PAIR_BUF	(8 * 1024 * 1024)
/* Ring sizes used below, bytes. */
#define RING_BIG	(1024 * 1024)
#define RING_SMALL	(64 * 1024)
/* Datagrams sent between two drains in the bulk tests. */
#define CHUNK		100

struct fx {
	int			 tx;		/* the test's end of the pair */
	struct ring		*ring;
	struct rx_stats		 st;
	struct seqgap		 gaps;
	struct netlink_rx	*rx;
	unsigned		 wakes;
};

struct got {
	uint32_t	tag;
	size_t		len;
	unsigned char	data[RX_BUF];
};

static void
on_wake(void *arg)
{
	struct fx *f = arg;

	f->wakes++;
}

static void
set_buf(int fd, int force, int plain)
{
	int sz = PAIR_BUF;

	/* FORCE needs CAP_NET_ADMIN; without it the sysctl cap applies. */
	if (setsockopt(fd, SOL_SOCKET, force, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, plain, &sz, sizeof(sz));
}

static struct fx *
fx_new(size_t ring_size)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];

	assert_non_null(f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	set_buf(sv[1], SO_SNDBUFFORCE, SO_SNDBUF);
	set_buf(sv[0], SO_RCVBUFFORCE, SO_RCVBUF);
	f->tx = sv[1];
	f->ring = ring_new(ring_size, false);
	assert_non_null(f->ring);
	seqgap_init(&f->gaps);
	f->rx = netlink_rx_new(f->ring, &f->st, &f->gaps, on_wake, f);
	assert_non_null(f->rx);
	assert_int_equal(netlink_rx_attach(f->rx, sv[0], NETLINK_RX_FRAMED), 0);
	assert_int_equal(netlink_rx_fd(f->rx), sv[0]);
	return f;
}

static void
fx_free(struct fx *f)
{
	netlink_rx_free(f->rx);		/* closes the receiving end */
	ring_free(f->ring);
	close(f->tx);
	free(f);
}

/*
 * Send one framed datagram: a sockaddr_nl naming sender pid, then a netlink
 * header with the given type and nlmsg_len, then payload. Returns 0 or -errno.
 */
static int
send_nl(struct fx *f, uint32_t pid, uint16_t type, uint32_t nlmsg_len,
    const void *payload, size_t plen)
{
	struct sockaddr_nl from = { .nl_family = AF_NETLINK, .nl_pid = pid };
	struct nlmsghdr nh = { .nlmsg_len = nlmsg_len, .nlmsg_type = type };
	struct iovec iov[3] = {
		{ &from, sizeof(from) }, { &nh, sizeof(nh) },
		{ (void *)(uintptr_t)payload, plen },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 3 };

	if (sendmsg(f->tx, &mh, MSG_DONTWAIT) < 0)
		return -errno;
	return 0;
}

/* Send exactly these bytes as one datagram. */
static void
send_bytes(struct fx *f, const void *p, size_t len)
{
	assert_int_equal(send(f->tx, p, len, MSG_DONTWAIT), (ssize_t)len);
}

/* An audit record as the kernel sends it: nlmsg_len is the payload length. */
static void
send_rec(struct fx *f, uint32_t pid, uint16_t type, const void *payload,
    size_t plen)
{
	assert_int_equal(send_nl(f, pid, type, (uint32_t)plen, payload, plen), 0);
}

/* Body text for serial with at least pad bytes (filled with 'x'). */
static size_t
body(char *out, size_t cap, uint32_t serial, size_t pad)
{
	int n = snprintf(out, cap,
	    "audit(1700000000.123:%u): arch=c000003e syscall=59 success=yes exit=0 key=\"t\" ",
	    serial);

	assert_true(n > 0 && (size_t)n < cap);
	while ((size_t)n < pad && (size_t)n < cap - 1)
		out[n++] = 'x';
	out[n] = '\0';
	return (size_t)n;
}

static void
send_serial(struct fx *f, uint32_t serial, size_t pad)
{
	char b[2048];
	size_t n = body(b, sizeof(b), serial, pad);

	assert_true(pad < sizeof(b));
	send_rec(f, 0, AUDIT_SYSCALL, b, n);
}

/* Drain until the socket is empty; returns the datagrams read. */
static size_t
drain_all(struct fx *f)
{
	size_t total = 0;
	bool empty = false;

	for (int i = 0; i < 1000 && !empty; i++)
		total += netlink_rx_drain(f->rx, SIZE_MAX, &empty);
	assert_true(empty);
	return total;
}

/* Take the oldest record out of the ring. false when it is empty. */
static bool
take(struct fx *f, struct got *g)
{
	struct ring_iter it;
	struct ring_rec r;

	ring_iter_begin(f->ring, &it);
	if (!ring_next(f->ring, &it, &r))
		return false;
	assert_true(r.len <= sizeof(g->data));
	g->tag = r.tag;
	g->len = r.len;
	memcpy(g->data, r.data, r.len);
	ring_release(f->ring, &it);
	return true;
}

static void
expect_rec(struct fx *f, struct got *g, uint32_t tag, const void *data, size_t len)
{
	assert_true(take(f, g));
	assert_int_equal(g->tag, tag);
	assert_int_equal(g->len, len);
	assert_memory_equal(g->data, data, len);
}

static void
expect_loss(struct fx *f, struct got *g, uint32_t reason, uint64_t count,
    bool has_serials, uint64_t first, uint64_t last)
{
	struct rx_loss l;

	assert_true(take(f, g));
	assert_int_equal(g->tag, RX_TAG_LOSS);
	assert_int_equal(g->len, sizeof(l));
	memcpy(&l, g->data, sizeof(l));
	assert_int_equal(l.reason, reason);
	assert_int_equal(l.count, count);
	assert_int_equal(l.has_serials, has_serials ? 1 : 0);
	if (has_serials) {
		assert_int_equal(l.first_serial, first);
		assert_int_equal(l.last_serial, last);
	}
}

static void
expect_empty_ring(struct fx *f)
{
	struct got *g = malloc(sizeof(*g));

	assert_non_null(g);
	assert_false(take(f, g));
	assert_int_equal(ring_used(f->ring), 0);
	free(g);
}

/* ---- tests ----------------------------------------------------------- */

static void
test_records_byte_exact(void **state)
{
	struct fx *f = fx_new(RING_BIG);
	struct got *g = malloc(sizeof(*g));
	static const char sys[] =
	    "audit(1700000000.123:7): arch=c000003e syscall=59 success=yes exit=0 "
	    "a0=55d0 a1=55d1 a2=55d2 a3=0 items=2 ppid=1 pid=42 auid=1000 uid=0 "
	    "comm=\"sh\" exe=\"/bin/sh\" key=\"fake\"";
	static const char title[] = "audit(1700000000.123:7): proctitle=2F62696E2F7368";
	static const char eoe[] = "audit(1700000000.123:7): ";
	/* Types below 1100 that the kernel logs as records, not replies. */
	static const char login[] = "audit(1700000000.124:8): pid=42 uid=0 "
	    "old-auid=4294967295 auid=1000 tty=(none) old-ses=4294967295 ses=3 res=1";
	/* Text, a NUL, then bytes that must not reach the ring. */
	static const char nul[] = "audit(1700000000.124:8): key=\"cut\"\0after the NUL";
	char *big = malloc(RX_FIT);
	size_t biglen = (size_t)RX_FIT - NLMSG_HDRLEN, bytes;

	(void)state;
	assert_non_null(g);
	assert_non_null(big);
	memset(big, 'b', biglen);
	memcpy(big, "audit(1700000000.125:9): ", 25);

	send_rec(f, 0, AUDIT_SYSCALL, sys, strlen(sys));
	send_rec(f, 0, AUDIT_PROCTITLE, title, strlen(title));
	/* The kernel's payloads usually end in a NUL: it is not text. */
	send_rec(f, 0, AUDIT_EOE, eoe, sizeof(eoe));
	send_rec(f, 0, AUDIT_USER, nul, sizeof(nul));
	send_rec(f, 0, AUDIT_LOGIN, login, strlen(login));
	/* A sender that follows the netlink rule (header + payload) is fine too. */
	assert_int_equal(send_nl(f, 0, AUDIT_CWD, NLMSG_HDRLEN + (uint32_t)strlen(eoe),
	    eoe, strlen(eoe)), 0);
	/* The largest datagram the buffer takes whole. */
	send_rec(f, 0, AUDIT_PATH, big, biglen);
	/* An empty record is still a record. */
	send_rec(f, 0, AUDIT_EOE, "", 0);
	assert_int_equal(drain_all(f), 8);

	/* End-of-event records are not logged, as auditd does not log them. */
	bytes = strlen(sys) + strlen(title) + sizeof(nul) +
	    strlen(login) + strlen(eoe) + biglen;
	assert_int_equal(stat_get(&f->st.eoe), 2);
	assert_int_equal(stat_get(&f->st.received), 6);
	assert_int_equal(stat_get(&f->st.bytes), bytes);
	assert_int_equal(stat_get(&f->st.rejected_spoofed), 0);
	assert_int_equal(stat_get(&f->st.rejected_malformed), 0);
	assert_int_equal(stat_get(&f->st.dropped[DROP_RING_FULL]), 0);
	assert_int_equal(stat_get(&f->st.dropped[DROP_OVERSIZE]), 0);
	assert_int_equal(stat_get(&f->st.last_serial), 9);
	assert_true(stat_get(&f->st.batches) >= 1);
	assert_int_equal(ring_records_in(f->ring), 6);
	assert_int_equal(stat_get(&f->st.control), 0);

	expect_rec(f, g, AUDIT_SYSCALL, sys, strlen(sys));
	expect_rec(f, g, AUDIT_PROCTITLE, title, strlen(title));
	expect_rec(f, g, AUDIT_USER, nul, strlen(nul));
	expect_rec(f, g, AUDIT_LOGIN, login, strlen(login));
	expect_rec(f, g, AUDIT_CWD, eoe, strlen(eoe));
	expect_rec(f, g, AUDIT_PATH, big, biglen);
	expect_empty_ring(f);
	assert_int_equal(netlink_rx_pending_loss(f->rx), 0);
	free(big);
	free(g);
	fx_free(f);
}

static void
test_spoofed(void **state)
{
	struct fx *f = fx_new(RING_BIG);
	struct got *g = malloc(sizeof(*g));
	static const char good[] = "audit(1700000000.123:10): key=\"good\"";
	static const char spoof[] = "audit(1700000000.123:99999): key=\"SPOOF\"";
	struct {
		struct nlmsghdr	nh;
		struct nlmsgerr	e;
	} ack;

	(void)state;
	assert_non_null(g);
	send_rec(f, 1234, AUDIT_SYSCALL, spoof, strlen(spoof));
	send_rec(f, 0, AUDIT_SYSCALL, good, strlen(good));
	send_rec(f, UINT32_MAX, AUDIT_SYSCALL, spoof, strlen(spoof));
	send_rec(f, 1, AUDIT_REPLACE, spoof, strlen(spoof));
	send_rec(f, 0, AUDIT_EOE, good, strlen(good));
	/* A forged ack is no control reply either. */
	memset(&ack, 0, sizeof(ack));
	assert_int_equal(send_nl(f, 77, NLMSG_ERROR, sizeof(ack), &ack.e,
	    sizeof(ack.e)), 0);
	assert_int_equal(drain_all(f), 6);

	assert_int_equal(stat_get(&f->st.rejected_spoofed), 4);
	assert_int_equal(stat_get(&f->st.received), 1);
	assert_int_equal(stat_get(&f->st.eoe), 1);
	assert_int_equal(stat_get(&f->st.bytes), strlen(good));
	assert_int_equal(stat_get(&f->st.replace_probes), 0);
	assert_int_equal(stat_get(&f->st.control), 0);
	assert_int_equal(stat_get(&f->st.rejected_malformed), 0);
	/* Spoofed serials must not feed the gap counter. */
	assert_int_equal(f->gaps.newest, 10);
	assert_int_equal(stat_get(&f->st.last_serial), 10);

	expect_rec(f, g, AUDIT_SYSCALL, good, strlen(good));
	expect_empty_ring(f);
	free(g);
	fx_free(f);
}

static void
test_malformed(void **state)
{
	struct fx *f = fx_new(RING_BIG);
	static const char txt[] = "audit(1700000000.123:5): key=\"x\"";
	struct sockaddr_nl from = { .nl_family = AF_NETLINK };
	unsigned char buf[256];
	struct nlmsghdr nh;
	size_t n;

	(void)state;
	/* Empty, and shorter than the framing address. */
	send_bytes(f, buf, 0);
	memset(buf, 0, sizeof(buf));
	send_bytes(f, buf, 5);
	/* An address and less than a netlink header. */
	memcpy(buf, &from, sizeof(from));
	send_bytes(f, buf, sizeof(from) + NLMSG_HDRLEN - 1);
	/* An address alone. */
	send_bytes(f, buf, sizeof(from));
	/* nlmsg_len beyond the datagram, record and control. */
	assert_int_equal(send_nl(f, 0, AUDIT_SYSCALL,
	    NLMSG_HDRLEN + (uint32_t)strlen(txt) + 1, txt, strlen(txt)), 0);
	assert_int_equal(send_nl(f, 0, AUDIT_GET, 4096, txt, strlen(txt)), 0);
	/* A control message whose nlmsg_len is shorter than its header. */
	assert_int_equal(send_nl(f, 0, NLMSG_DONE, 8, txt, strlen(txt)), 0);
	/* Two control messages in one datagram, the second one inconsistent. */
	memset(&nh, 0, sizeof(nh));
	nh.nlmsg_len = NLMSG_HDRLEN + 4;
	nh.nlmsg_type = NLMSG_DONE;
	n = sizeof(from);
	memcpy(buf + n, &nh, sizeof(nh));
	n += NLMSG_ALIGN(nh.nlmsg_len);
	nh.nlmsg_len = 200;
	memcpy(buf + n, &nh, sizeof(nh));
	n += sizeof(nh) + 8;
	send_bytes(f, buf, n);
	assert_int_equal(drain_all(f), 8);

	assert_int_equal(stat_get(&f->st.rejected_malformed), 8);
	assert_int_equal(stat_get(&f->st.control), 1);
	assert_int_equal(stat_get(&f->st.received), 0);
	assert_int_equal(stat_get(&f->st.rejected_spoofed), 0);
	assert_false(f->gaps.started);
	expect_empty_ring(f);

	/* The loop goes on: a good record afterwards arrives. */
	send_rec(f, 0, AUDIT_SYSCALL, txt, strlen(txt));
	assert_int_equal(drain_all(f), 1);
	assert_int_equal(stat_get(&f->st.received), 1);
	assert_int_equal(ring_records_in(f->ring), 1);
	fx_free(f);
}

static void
test_truncated_and_oversize(void **state)
{
	struct fx *f = fx_new(RING_BIG);
	struct got *g = malloc(sizeof(*g));
	size_t plen = 20000;
	/* The smallest datagram that no longer fits: one byte over. */
	size_t edge = (size_t)RX_FIT + 1 - NLMSG_HDRLEN;
	char *p = malloc(plen);

	(void)state;
	assert_non_null(g);
	assert_non_null(p);
	memset(p, 'o', plen);
	memcpy(p, "audit(1700000000.123:21): ", 26);
	send_rec(f, 0, AUDIT_SYSCALL, p, plen);
	assert_int_equal(drain_all(f), 1);
	assert_int_equal(stat_get(&f->st.received), 1);
	assert_int_equal(stat_get(&f->st.dropped[DROP_OVERSIZE]), 1);
	assert_int_equal(stat_get(&f->st.rejected_malformed), 0);
	assert_int_equal(stat_get(&f->st.last_serial), 21);
	/* The marker does not wait for another record. */
	assert_int_equal(netlink_rx_pending_loss(f->rx), 0);
	assert_int_equal(stat_get(&f->st.loss_markers), 1);
	expect_loss(f, g, DROP_OVERSIZE, 1, true, 21, 21);
	expect_empty_ring(f);

	/* Exactly one byte too long is still a record that was too long,
	 * whichever convention its nlmsg_len follows. */
	memcpy(p, "audit(1700000000.123:22): ", 26);
	send_rec(f, 0, AUDIT_SYSCALL, p, edge);
	memcpy(p, "audit(1700000000.123:23): ", 26);
	assert_int_equal(send_nl(f, 0, AUDIT_PATH, NLMSG_HDRLEN + (uint32_t)edge,
	    p, edge), 0);
	assert_int_equal(drain_all(f), 2);
	assert_int_equal(stat_get(&f->st.received), 3);
	assert_int_equal(stat_get(&f->st.dropped[DROP_OVERSIZE]), 3);
	assert_int_equal(stat_get(&f->st.rejected_malformed), 0);
	expect_loss(f, g, DROP_OVERSIZE, 2, true, 22, 23);
	expect_empty_ring(f);

	/* Truncated but not an audit record, a probe, or a header that claims
	 * less than was sent: malformed, not received. */
	assert_int_equal(send_nl(f, 0, AUDIT_GET, (uint32_t)plen, p, plen), 0);
	assert_int_equal(send_nl(f, 0, AUDIT_REPLACE, (uint32_t)plen, p, plen), 0);
	assert_int_equal(send_nl(f, 0, AUDIT_SYSCALL, 100, p, plen), 0);
	assert_int_equal(drain_all(f), 3);
	assert_int_equal(stat_get(&f->st.rejected_malformed), 3);
	assert_int_equal(stat_get(&f->st.received), 3);
	assert_int_equal(stat_get(&f->st.replace_probes), 0);
	expect_empty_ring(f);
	free(p);
	free(g);
	fx_free(f);
}

static void
test_oversize_for_ring(void **state)
{
	/* A 16 KiB ring takes records up to a quarter of itself. */
	struct fx *f = fx_new(16 * 1024);
	struct got *g = malloc(sizeof(*g));
	char b[8192];
	size_t max = ring_max_payload(f->ring), n;

	(void)state;
	assert_non_null(g);
	n = body(b, sizeof(b), 31, max + 1);
	assert_int_equal(n, max + 1);
	send_rec(f, 0, AUDIT_EXECVE, b, n);
	n = body(b, sizeof(b), 32, max);
	send_rec(f, 0, AUDIT_EXECVE, b, n);
	assert_int_equal(drain_all(f), 2);
	assert_int_equal(stat_get(&f->st.received), 2);
	assert_int_equal(stat_get(&f->st.dropped[DROP_OVERSIZE]), 1);
	/* The marker goes before the record that came after the loss. */
	expect_loss(f, g, DROP_OVERSIZE, 1, true, 31, 31);
	expect_rec(f, g, AUDIT_EXECVE, b, max);
	expect_empty_ring(f);
	free(g);
	fx_free(f);
}

static void
test_control(void **state)
{
	struct fx *f = fx_new(RING_BIG);
	struct {
		struct nlmsghdr	nh;
		struct nlmsgerr	e;
	} ack;
	struct audit_status as;
	unsigned char buf[512];
	struct sockaddr_nl from = { .nl_family = AF_NETLINK };
	struct nlmsghdr nh;
	size_t n;

	(void)state;
	memset(&ack, 0, sizeof(ack));
	ack.e.error = -EEXIST;
	ack.e.msg.nlmsg_type = AUDIT_SET;
	assert_int_equal(send_nl(f, 0, NLMSG_ERROR, NLMSG_LENGTH(sizeof(ack.e)),
	    &ack.e, sizeof(ack.e)), 0);
	memset(&as, 0, sizeof(as));
	as.enabled = 1;
	as.pid = 4242;
	assert_int_equal(send_nl(f, 0, AUDIT_GET, NLMSG_LENGTH(sizeof(as)),
	    &as, sizeof(as)), 0);
	assert_int_equal(send_nl(f, 0, NLMSG_NOOP, NLMSG_HDRLEN, NULL, 0), 0);
	/* Two replies batched in one datagram, the netlink way. */
	memset(&nh, 0, sizeof(nh));
	n = sizeof(from);
	memcpy(buf, &from, sizeof(from));
	nh.nlmsg_len = NLMSG_LENGTH(sizeof(as));
	nh.nlmsg_type = AUDIT_GET;
	nh.nlmsg_flags = NLM_F_MULTI;
	memcpy(buf + n, &nh, sizeof(nh));
	memcpy(buf + n + NLMSG_HDRLEN, &as, sizeof(as));
	n += NLMSG_ALIGN(nh.nlmsg_len);
	nh.nlmsg_len = NLMSG_LENGTH(4);
	nh.nlmsg_type = NLMSG_DONE;
	memcpy(buf + n, &nh, sizeof(nh));
	memset(buf + n + NLMSG_HDRLEN, 0, 4);
	n += nh.nlmsg_len;
	send_bytes(f, buf, n);
	assert_int_equal(drain_all(f), 4);

	assert_int_equal(stat_get(&f->st.control), 5);
	assert_int_equal(stat_get(&f->st.received), 0);
	assert_int_equal(stat_get(&f->st.rejected_malformed), 0);
	assert_int_equal(stat_get(&f->st.replace_probes), 0);
	assert_int_equal(ring_records_in(f->ring), 0);
	assert_int_equal(f->wakes, 0);
	expect_empty_ring(f);
	fx_free(f);
}

static void
test_replace(void **state)
{
	struct fx *f = fx_new(RING_BIG);
	uint32_t pid = 4321;

	(void)state;
	/* The kernel's probe carries the pid of the process that wants in. */
	for (int i = 0; i < 3; i++)
		send_rec(f, 0, AUDIT_REPLACE, &pid, sizeof(pid));
	assert_int_equal(drain_all(f), 3);
	assert_int_equal(stat_get(&f->st.replace_probes), 3);
	assert_int_equal(stat_get(&f->st.received), 0);
	assert_int_equal(stat_get(&f->st.control), 0);
	assert_int_equal(stat_get(&f->st.rejected_malformed), 0);
	assert_int_equal(ring_records_in(f->ring), 0);
	fx_free(f);
}

/*
 * Flood a 64 KiB ring nobody consumes with total records of len bytes each
 * (equal sizes, so the number that fits is known exactly), then consume and
 * send one more: exactly one marker for the whole loss must precede it.
 */
static void
flood(size_t len, uint32_t total)
{
	struct fx *f = fx_new(RING_SMALL);
	struct got *g = malloc(sizeof(*g));
	const size_t rec = RING_RECORD_OVERHEAD + ((len + 7) & ~(size_t)7);
	const uint64_t fit = RING_SMALL / rec;
	const uint32_t first = 1000;
	uint64_t in, dropped;
	char b[2048];

	assert_non_null(g);
	assert_true(len < sizeof(b));
	for (uint32_t i = 0; i < total; i++) {
		send_serial(f, first + i, len);
		if (i % CHUNK == CHUNK - 1)
			drain_all(f);
	}
	drain_all(f);
	in = ring_records_in(f->ring);
	dropped = stat_get(&f->st.dropped[DROP_RING_FULL]);
	assert_int_equal(stat_get(&f->st.received), total);
	assert_int_equal(in, fit);
	assert_int_equal(in + dropped, total);
	assert_int_equal(stat_get(&f->st.dropped[DROP_OVERSIZE]), 0);
	assert_int_equal(netlink_rx_pending_loss(f->rx), dropped);
	assert_int_equal(stat_get(&f->st.loss_markers), 0);
	/* Nobody waited, so nobody was woken. */
	assert_int_equal(f->wakes, 0);
	/* Every serial was seen, whether kept or not. */
	assert_int_equal(f->gaps.gaps, 0);

	/* The consumer catches up: the oldest records, in order. */
	for (uint64_t i = 0; i < fit; i++) {
		size_t n = body(b, sizeof(b), first + (uint32_t)i, len);
		expect_rec(f, g, AUDIT_SYSCALL, b, n);
	}
	expect_empty_ring(f);

	/* The next record is preceded by the marker for what was lost. */
	send_serial(f, first + total, len);
	assert_int_equal(drain_all(f), 1);
	assert_int_equal(stat_get(&f->st.loss_markers), 1);
	assert_int_equal(netlink_rx_pending_loss(f->rx), 0);
	expect_loss(f, g, DROP_RING_FULL, dropped, true, first + fit,
	    first + total - 1);
	{
		size_t n = body(b, sizeof(b), first + total, len);
		expect_rec(f, g, AUDIT_SYSCALL, b, n);
	}
	expect_empty_ring(f);
	assert_int_equal(stat_get(&f->st.received), total + 1);
	assert_int_equal(stat_get(&f->st.dropped[DROP_RING_FULL]), dropped);
	/* received = in ring (consumed here) + dropped, markers aside. */
	assert_int_equal(ring_records_out(f->ring) - stat_get(&f->st.loss_markers) +
	    dropped, stat_get(&f->st.received));
	free(g);
	fx_free(f);
}

static void
test_ring_full_exact(void **state)
{
	(void)state;
	/* 315 records of 208 bytes leave 16 bytes: no room for a marker. */
	flood(200, 2000);
}

static void
test_ring_full_slack(void **state)
{
	(void)state;
	/* 54 records of 1208 bytes leave 304 bytes, room for several markers:
	 * they must not be spent on one-record markers while the ring is full. */
	assert_true(RING_SMALL % 1208 >= 5 * (RING_RECORD_OVERHEAD + sizeof(struct rx_loss)));
	flood(1200, 500);
}

static void
test_loss_marker_without_new_record(void **state)
{
	struct fx *f = fx_new(RING_SMALL);
	struct got *g = malloc(sizeof(*g));
	const size_t len = 1000;
	uint64_t in, dropped;

	(void)state;
	assert_non_null(g);
	for (uint32_t i = 0; i < 200; i++) {
		send_serial(f, 500 + i, len);
		if (i % CHUNK == CHUNK - 1)
			drain_all(f);
	}
	drain_all(f);
	in = ring_records_in(f->ring);
	dropped = stat_get(&f->st.dropped[DROP_RING_FULL]);
	assert_true(dropped > 0);
	assert_int_equal(in + dropped, 200);
	while (take(f, g))
		;
	/* The writer goes to sleep on an empty ring ... */
	assert_true(ring_prepare_wait(f->ring));
	/* ... and the next receive pass records the loss and wakes it, even
	 * though the kernel sent nothing new. */
	{
		bool empty = false;
		assert_int_equal(netlink_rx_drain(f->rx, SIZE_MAX, &empty), 0);
		assert_true(empty);
	}
	assert_int_equal(netlink_rx_pending_loss(f->rx), 0);
	assert_int_equal(f->wakes, 1);
	expect_loss(f, g, DROP_RING_FULL, dropped, true, 500 + in, 699);
	expect_empty_ring(f);

	/* The same through netlink_rx_flush_loss (the daemon's timer). */
	for (uint32_t i = 0; i < 200; i++) {
		send_serial(f, 700 + i, len);
		if (i % CHUNK == CHUNK - 1)
			drain_all(f);
	}
	drain_all(f);
	dropped = stat_get(&f->st.dropped[DROP_RING_FULL]) - dropped;
	assert_true(dropped > 0);
	while (take(f, g))
		;
	assert_true(ring_prepare_wait(f->ring));
	netlink_rx_flush_loss(f->rx);
	assert_int_equal(netlink_rx_pending_loss(f->rx), 0);
	assert_int_equal(f->wakes, 2);
	expect_loss(f, g, DROP_RING_FULL, dropped, true, 900 - dropped, 899);
	expect_empty_ring(f);
	/* Nothing pending: flushing again adds nothing and wakes nobody. */
	assert_true(ring_prepare_wait(f->ring));
	netlink_rx_flush_loss(f->rx);
	assert_int_equal(f->wakes, 2);
	assert_int_equal(ring_records_in(f->ring), ring_records_out(f->ring));
	ring_cancel_wait(f->ring);
	free(g);
	fx_free(f);
}

static void
test_wake_only_when_waiting(void **state)
{
	struct fx *f = fx_new(RING_BIG);
	struct got *g = malloc(sizeof(*g));

	(void)state;
	assert_non_null(g);
	/* The consumer is busy (never announced a wait): no wake-up. */
	for (uint32_t i = 0; i < 5; i++)
		send_serial(f, 1 + i, 0);
	drain_all(f);
	assert_int_equal(f->wakes, 0);
	assert_int_equal(stat_get(&f->st.wakeups), 0);
	/* A consumer that finds records must not sleep; still no wake-up. */
	assert_false(ring_prepare_wait(f->ring));
	send_serial(f, 6, 0);
	drain_all(f);
	assert_int_equal(f->wakes, 0);
	while (take(f, g))
		;

	/* Announced wait: one wake-up for a whole batch, not one per record. */
	assert_true(ring_prepare_wait(f->ring));
	for (uint32_t i = 0; i < 50; i++)
		send_serial(f, 7 + i, 0);
	drain_all(f);
	assert_int_equal(f->wakes, 1);
	assert_int_equal(stat_get(&f->st.wakeups), 1);
	/* More records while the consumer has not slept again: none. */
	for (uint32_t i = 0; i < 50; i++)
		send_serial(f, 57 + i, 0);
	drain_all(f);
	assert_int_equal(f->wakes, 1);

	/* A waiting consumer is not woken by what does not reach the ring. */
	while (take(f, g))
		;
	assert_true(ring_prepare_wait(f->ring));
	send_rec(f, 0, AUDIT_REPLACE, "p", 1);
	send_rec(f, 99, AUDIT_SYSCALL, "audit(1.0:1): x", 15);
	assert_int_equal(send_nl(f, 0, NLMSG_NOOP, NLMSG_HDRLEN, NULL, 0), 0);
	drain_all(f);
	assert_int_equal(f->wakes, 1);
	/* Nor by an empty socket. */
	{
		bool empty = false;
		assert_int_equal(netlink_rx_drain(f->rx, SIZE_MAX, &empty), 0);
		assert_true(empty);
	}
	assert_int_equal(f->wakes, 1);
	/* But the next record wakes it once more. */
	send_serial(f, 200, 0);
	drain_all(f);
	assert_int_equal(f->wakes, 2);
	assert_int_equal(stat_get(&f->st.wakeups), 2);
	free(g);
	fx_free(f);
}

static void
test_serial_gaps(void **state)
{
	struct fx *f = fx_new(RING_BIG);
	const uint32_t hole = 50, jump = 100 + SEQGAP_WINDOW + hole;
	char b[512];

	(void)state;
	/* Serials 1..100, each as an event of two records. */
	for (uint32_t s = 1; s <= 100; s++) {
		size_t n = body(b, sizeof(b), s, 0);
		send_rec(f, 0, AUDIT_SYSCALL, b, n);
		send_rec(f, 0, AUDIT_EOE, b, n);
		if (s % 40 == 0)
			drain_all(f);
	}
	/* A record without a stamp is received but has no serial. */
	send_rec(f, 0, AUDIT_USER, "no stamp here", 13);
	drain_all(f);
	/* EOE is not stored, but its serial counts as seen. */
	assert_int_equal(stat_get(&f->st.received), 101);
	assert_int_equal(stat_get(&f->st.eoe), 100);
	assert_int_equal(f->gaps.gaps, 0);
	assert_int_equal(f->gaps.newest, 100);
	assert_int_equal(seqgap_pending(&f->gaps), 0);
	assert_int_equal(stat_get(&f->st.last_serial), 100);

	/* A jump of more than the window: 101..150 slide out unseen. */
	send_serial(f, jump, 0);
	drain_all(f);
	assert_int_equal(f->gaps.gaps, hole);
	assert_int_equal(f->gaps.newest, jump);
	assert_int_equal(stat_get(&f->st.last_serial), jump);
	/* Inside the window nothing is declared yet. */
	assert_int_equal(seqgap_pending(&f->gaps), SEQGAP_WINDOW - 1);

	/* A straggler undoes exactly its own gap. */
	send_serial(f, 120, 0);
	send_serial(f, 120, 0);
	drain_all(f);
	assert_int_equal(f->gaps.gaps, hole - 1);
	assert_int_equal(f->gaps.late, 1);
	assert_int_equal(stat_get(&f->st.received), 104);
	assert_int_equal(ring_records_in(f->ring), 104);
	fx_free(f);
}

static void
test_drain_bounds(void **state)
{
	struct fx *f = fx_new(RING_BIG);
	struct got *g = malloc(sizeof(*g));
	bool empty = true;
	char b[512];

	(void)state;
	assert_non_null(g);
	for (uint32_t i = 0; i < 10; i++)
		send_serial(f, 1 + i, 0);
	/* max_msgs is an upper bound, below one recvmmsg batch too. */
	assert_int_equal(netlink_rx_drain(f->rx, 4, &empty), 4);
	assert_false(empty);
	assert_int_equal(ring_records_in(f->ring), 4);
	assert_int_equal(netlink_rx_drain(f->rx, 4, &empty), 4);
	assert_false(empty);
	assert_int_equal(netlink_rx_drain(f->rx, 4, &empty), 2);
	assert_true(empty);
	assert_int_equal(netlink_rx_drain(f->rx, 4, &empty), 0);
	assert_true(empty);
	assert_int_equal(netlink_rx_drain(f->rx, 1, &empty), 0);
	assert_true(empty);

	/* Exactly one full batch, then several batches and a bound between. */
	for (uint32_t i = 0; i < 64; i++)
		send_serial(f, 11 + i, 0);
	assert_int_equal(netlink_rx_drain(f->rx, SIZE_MAX, &empty), 64);
	assert_true(empty);
	for (uint32_t i = 0; i < 300; i++)
		send_serial(f, 75 + i, 0);
	assert_int_equal(netlink_rx_drain(f->rx, 100, &empty), 100);
	assert_false(empty);
	assert_int_equal(netlink_rx_drain(f->rx, 128, &empty), 128);
	assert_false(empty);
	assert_int_equal(netlink_rx_drain(f->rx, 1000, &empty), 72);
	assert_true(empty);
	assert_int_equal(stat_get(&f->st.received), 374);

	/* Bounded drains lose nothing and keep the order. */
	for (uint32_t s = 1; s <= 374; s++) {
		size_t n = body(b, sizeof(b), s, 0);
		expect_rec(f, g, AUDIT_SYSCALL, b, n);
	}
	expect_empty_ring(f);

	/* After close there is nothing to read. */
	netlink_rx_close(f->rx);
	assert_int_equal(netlink_rx_fd(f->rx), -1);
	empty = false;
	assert_int_equal(netlink_rx_drain(f->rx, SIZE_MAX, &empty), 0);
	assert_true(empty);
	free(g);
	fx_free(f);
}

/* ---- an adopted ring ------------------------------------------------- */

/* Put a record into r as an earlier instance's producer did. */
static void
old_commit(struct ring *r, uint32_t tag, const void *p, size_t len)
{
	void *slot = ring_reserve(r, len);

	assert_non_null(slot);
	memcpy(slot, p, len);
	ring_commit(r, len, tag);
}

/*
 * Drain r as the writer does; returns the loss markers seen. The kernel
 * records left in the ring are then, as report_in_ring computes them,
 * (records_in - rx loss_markers) - (records_out - markers seen).
 */
static uint64_t
consume_all(struct ring *r, uint64_t *records)
{
	struct ring_iter it;
	struct ring_rec rec;
	uint64_t markers = 0;

	*records = 0;
	ring_iter_begin(r, &it);
	while (ring_next(r, &it, &rec)) {
		if (rec.tag >= RECORD_TAG_DAEMON)
			markers++;
		else
			(*records)++;
	}
	ring_release(r, &it);
	return markers;
}

static void
test_adopted_markers_leave_no_phantom(void **state)
{
	struct record_loss l = { .reason = DROP_RING_FULL, .count = 7 };
	struct ring *old = ring_new(RING_SMALL, false), *r;
	struct rx_stats *st = calloc(1, sizeof(*st));
	struct seqgap gaps;
	struct netlink_rx *rx;
	uint64_t markers, records, in_ring;

	(void)state;
	assert_non_null(old);
	assert_non_null(st);
	old_commit(old, AUDIT_SYSCALL, "one", 3);
	old_commit(old, RECORD_TAG_LOSS, &l, sizeof(l));
	old_commit(old, AUDIT_SYSCALL, "two", 3);
	old_commit(old, RECORD_TAG_LOSS, &l, sizeof(l));
	r = ring_adopt(dup(ring_fd(old)), false);
	assert_non_null(r);
	seqgap_init(&gaps);
	rx = netlink_rx_new(r, st, &gaps, on_wake, NULL);
	assert_non_null(rx);
	/* Before the writer took anything: two kernel records in the ring. */
	assert_int_equal(ring_records_in(r) - stat_get(&st->loss_markers) -
	    ring_records_out(r), 2);
	markers = consume_all(r, &records);
	assert_int_equal(markers, 2);
	assert_int_equal(records, 2);
	in_ring = (ring_records_in(r) - stat_get(&st->loss_markers)) -
	    (ring_records_out(r) - markers);
	assert_int_equal(in_ring, 0);
	assert_int_equal(netlink_rx_pending_loss(rx), 0);
	netlink_rx_free(rx);
	ring_free(r);
	ring_free(old);
	free(st);
}

static void
test_adopted_corrupt_ring_is_counted(void **state)
{
	struct ring *old = ring_new(RING_SMALL, false), *r;
	struct rx_stats *st = calloc(1, sizeof(*st));
	struct fx f = { .st = { 0 } };
	struct got *g = malloc(sizeof(*g));
	uint32_t huge = 0x7fffffffu;
	uint64_t markers, records;
	int fd;

	(void)state;
	assert_non_null(old);
	assert_non_null(st);
	assert_non_null(g);
	old_commit(old, AUDIT_SYSCALL, "keep", 4);
	old_commit(old, AUDIT_SYSCALL, "bad!", 4);
	old_commit(old, AUDIT_SYSCALL, "gone", 4);
	/* The second record's length word (data after a 4096-byte header;
	 * each of these records takes 16 bytes). */
	fd = dup(ring_fd(old));
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &huge, sizeof(huge), 4096 + 16), sizeof(huge));
	r = ring_adopt(fd, false);
	assert_non_null(r);
	f.ring = r;
	seqgap_init(&f.gaps);
	f.rx = netlink_rx_new(r, st, &f.gaps, on_wake, &f);
	assert_non_null(f.rx);
	assert_int_equal(stat_get(&st->dropped[DROP_RING_CORRUPT]), 2);
	assert_int_equal(netlink_rx_pending_loss(f.rx), 2);
	expect_rec(&f, g, AUDIT_SYSCALL, "keep", 4);
	/* The loss is recorded in the stream after what was kept. */
	netlink_rx_flush_loss(f.rx);
	expect_loss(&f, g, DROP_RING_CORRUPT, 2, false, 0, 0);
	markers = consume_all(r, &records);
	assert_int_equal(markers + records, 0);
	/* Everything taken (one marker): no kernel record is left. */
	assert_int_equal(ring_records_in(r) - stat_get(&st->loss_markers) -
	    (ring_records_out(r) - 1), 0);
	netlink_rx_free(f.rx);
	ring_free(r);
	ring_free(old);
	free(st);
	free(g);
}

/* ---- a full ring stops the reading (ring_full_action = wait) ---------- */

static void
on_room(void *arg)
{
	unsigned *rooms = arg;

	(*rooms)++;
}

/* Take one record, checking it is serial's. */
static void
expect_serial(struct fx *f, struct got *g, uint32_t serial, size_t len)
{
	char b[2048];
	size_t n = body(b, sizeof(b), serial, len);

	expect_rec(f, g, AUDIT_SYSCALL, b, n);
}

static void
test_wait_full_leaves_records_in_socket(void **state)
{
	/* 1 MiB: the receiver stops with less than two largest datagrams
	 * free and resumes with an eighth of the ring free, well apart. */
	struct fx *f = fx_new(RING_BIG);
	struct got *g = malloc(sizeof(*g));
	const size_t len = 200;
	const uint32_t first = 5000, total = 12000;
	uint32_t sent = 0, next = first;
	unsigned rooms = 0, waits = 0;
	bool empty;

	(void)state;
	assert_non_null(g);
	netlink_rx_set_wait_full(f->rx, true);
	netlink_rx_set_room_cb(f->rx, on_room, &rooms);
	while (sent < total) {
		/* A chunk the socket's queue surely holds. */
		for (int i = 0; i < CHUNK && sent < total; i++, sent++)
			send_serial(f, first + sent, len);
		for (;;) {
			uint64_t in;

			netlink_rx_drain(f->rx, SIZE_MAX, &empty);
			if (empty)
				break;
			in = ring_records_in(f->ring);
			assert_true(netlink_rx_waiting(f->rx));
			assert_true(stat_get(&f->st.ring_full_since_ns) != 0);
			waits++;
			/* Waiting: nothing more is read, nothing is dropped. */
			assert_int_equal(netlink_rx_drain(f->rx, SIZE_MAX, &empty), 0);
			assert_false(empty);
			assert_int_equal(ring_records_in(f->ring), in);
			assert_int_equal(stat_get(&f->st.dropped[DROP_RING_FULL]), 0);
			/* One record freed is not room enough to wake anyone. */
			expect_serial(f, g, next++, len);
			assert_int_equal(rooms, waits - 1);
			assert_false(netlink_rx_resume(f->rx));
			/* The writer catches up: the receiver is woken once. */
			while (next < first + stat_get(&f->st.received))
				expect_serial(f, g, next++, len);
			expect_empty_ring(f);
			assert_int_equal(rooms, waits);
			assert_true(netlink_rx_resume(f->rx));
			assert_false(netlink_rx_waiting(f->rx));
			assert_int_equal(stat_get(&f->st.ring_full_since_ns), 0);
		}
	}
	while (next < first + total)
		expect_serial(f, g, next++, len);
	expect_empty_ring(f);
	assert_true(waits > 0);
	assert_int_equal(stat_get(&f->st.ring_full_waits), waits);
	assert_int_equal(stat_get(&f->st.received), total);
	assert_int_equal(stat_get(&f->st.dropped[DROP_RING_FULL]), 0);
	assert_int_equal(stat_get(&f->st.loss_markers), 0);
	assert_int_equal(f->gaps.gaps, 0);
	free(g);
	fx_free(f);
}

/* Switching to drop while waiting reads on and counts what does not fit. */
static void
test_wait_full_then_drop(void **state)
{
	struct fx *f = fx_new(RING_SMALL);
	const size_t len = 1000;
	uint64_t in;
	bool empty;

	(void)state;
	netlink_rx_set_wait_full(f->rx, true);
	for (uint32_t i = 0; i < 100; i++)
		send_serial(f, 100 + i, len);
	netlink_rx_drain(f->rx, SIZE_MAX, &empty);
	assert_false(empty);
	assert_true(netlink_rx_waiting(f->rx));
	in = ring_records_in(f->ring);
	assert_true(in < 100);
	assert_int_equal(stat_get(&f->st.received), in);
	netlink_rx_set_wait_full(f->rx, false);
	assert_false(netlink_rx_waiting(f->rx));
	assert_int_equal(stat_get(&f->st.ring_full_since_ns), 0);
	drain_all(f);
	assert_int_equal(stat_get(&f->st.received), 100);
	assert_int_equal(ring_records_in(f->ring) +
	    stat_get(&f->st.dropped[DROP_RING_FULL]), 100);
	assert_true(stat_get(&f->st.dropped[DROP_RING_FULL]) > 0);
	fx_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_byte_exact),
		cmocka_unit_test(test_spoofed),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncated_and_oversize),
		cmocka_unit_test(test_oversize_for_ring),
		cmocka_unit_test(test_control),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_ring_full_exact),
		cmocka_unit_test(test_ring_full_slack),
		cmocka_unit_test(test_loss_marker_without_new_record),
		cmocka_unit_test(test_wake_only_when_waiting),
		cmocka_unit_test(test_serial_gaps),
		cmocka_unit_test(test_drain_bounds),
		cmocka_unit_test(test_adopted_markers_leave_no_phantom),
		cmocka_unit_test(test_adopted_corrupt_ring_is_counted),
		cmocka_unit_test(test_wait_full_leaves_records_in_socket),
		cmocka_unit_test(test_wait_full_then_drop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
