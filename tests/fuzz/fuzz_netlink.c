/*
 * fuzz_netlink.c - libFuzzer target for the receive path (netlink_rx.c:
 * process() and deliver(), the netlink framing and validation).
 *
 * The input is a sequence of datagrams, each "LEN_LO LEN_HI FLAGS BYTES":
 * LEN bytes of netlink message (the rest of the input if shorter), sent as
 * one datagram of a NETLINK_RX_FRAMED socketpair, behind a struct
 * sockaddr_nl whose nl_pid is 0 (the kernel) unless FLAGS bit 0 asks for a
 * spoofed sender. FLAGS bit 1 pads the datagram with 'x' to just over the
 * receiver's 16 KiB buffer, so the MSG_TRUNC path runs too. The receiver,
 * its small ring and the socketpair live across inputs as in the daemon;
 * after each input the ring is emptied as the writer would (every kernel
 * record formatted with format_raw) and the accounting invariant
 * received = written + dropped is checked: after a full drain of the ring,
 * nothing may be unaccounted for.
 */
#include "build_config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/netlink.h>

#include "format.h"
#include "netlink_rx.h"
#include "ring.h"
#include "seqgap.h"
#include "stats.h"

/* Small, so ring_full and oversize happen often. */
#define FZ_RING		(32 * 1024)
/* A padded datagram: larger than the receiver's buffer (16 KiB). */
#define FZ_PAD		(16 * 1024 + 64)
/* At most this many datagrams per input. */
#define FZ_MAX_DGRAMS	512

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	int			 tx;
	struct ring		*ring;
	struct rx_stats		 st;
	struct seqgap		 gaps;
	struct netlink_rx	*rx;
	uint64_t		 written;	/* kernel records taken out */
	char			 line[FORMAT_LINE_MAX];
	unsigned char		 dgram[sizeof(struct sockaddr_nl) + FZ_PAD];
} fz;

static void
on_wake(void *arg)
{
	(void)arg;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int sv[2];

	(void)argc;
	(void)argv;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	fz.tx = sv[1];
	fz.ring = ring_new(FZ_RING, false);
	seqgap_init(&fz.gaps);
	fz.rx = netlink_rx_new(fz.ring, &fz.st, &fz.gaps, on_wake, NULL);
	if (fz.ring == NULL || fz.rx == NULL)
		abort();
	netlink_rx_attach(fz.rx, sv[0], NETLINK_RX_FRAMED);
	return 0;
}

/* The writer's side: take every record out, format the kernel ones. */
static void
consume(void)
{
	struct ring_iter it;
	struct ring_rec r;

	ring_iter_begin(fz.ring, &it);
	while (ring_next(fz.ring, &it, &r)) {
		if (r.tag >= RX_TAG_LOSS) {
			struct rx_loss l;

			if (r.len != sizeof(l))
				abort();
			memcpy(&l, r.data, sizeof(l));
			if (l.count == 0 || l.reason >= DROP_NREASONS)
				abort();
			continue;
		}
		if (r.len > ring_max_payload(fz.ring) ||
		    memchr(r.data, '\0', r.len) != NULL)
			abort();	/* deliver() cuts at the first NUL */
		if (format_raw(fz.line, sizeof(fz.line), (int)r.tag, r.data, r.len) < 0)
			abort();	/* a ring record always fits a line */
		fz.written++;
	}
	ring_release(fz.ring, &it);
}

static void
drain(void)
{
	bool empty = false;

	for (int i = 0; i < 1000 && !empty; i++)
		(void)netlink_rx_drain(fz.rx, 64, &empty);
	if (!empty)
		abort();
	consume();
	/* Once the ring is empty, pending loss markers go in; take them too. */
	netlink_rx_flush_loss(fz.rx);
	consume();
}

static void
send_dgram(uint32_t pid, const uint8_t *p, size_t len, bool pad)
{
	struct sockaddr_nl from = { .nl_family = AF_NETLINK, .nl_pid = pid };
	size_t n = sizeof(from);

	memcpy(fz.dgram, &from, sizeof(from));
	memcpy(fz.dgram + n, p, len);
	n += len;
	if (pad && n < sizeof(fz.dgram)) {
		memset(fz.dgram + n, 'x', sizeof(fz.dgram) - n);
		n = sizeof(fz.dgram);
	}
	while (send(fz.tx, fz.dgram, n, MSG_DONTWAIT) < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
			abort();
		drain();		/* the receiver's queue is full */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t dropped = 0, received;
	unsigned ndg = 0;

	while (size >= 3 && ndg++ < FZ_MAX_DGRAMS) {
		size_t len = (size_t)data[0] | (size_t)data[1] << 8;
		uint8_t flags = data[2];

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		if (len > FZ_PAD)
			len = FZ_PAD;
		send_dgram(flags & 1 ? 4242u : 0, data, len, (flags & 2) != 0);
		data += len;
		size -= len;
	}
	drain();

	/* Invariant 2 with an empty ring: received = written + dropped. */
	received = stat_get(&fz.st.received);
	for (int i = 0; i < DROP_NREASONS; i++)
		dropped += stat_get(&fz.st.dropped[i]);
	if (ring_used(fz.ring) != 0 || netlink_rx_pending_loss(fz.rx) != 0 ||
	    received != fz.written + dropped) {
		fprintf(stderr, "accounting: received %llu written %llu dropped %llu "
		    "ring_used %zu pending_loss %llu\n", (unsigned long long)received,
		    (unsigned long long)fz.written, (unsigned long long)dropped,
		    ring_used(fz.ring), (unsigned long long)netlink_rx_pending_loss(fz.rx));
		abort();
	}
	return 0;
}
