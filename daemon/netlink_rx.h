/*
 * netlink_rx.h - the audit record socket: open, register, receive, validate,
 * and copy each record into the ring.
 *
 * Main thread only. The receive path (netlink_rx_drain) makes no system call
 * but recvmmsg and, on the ring's empty->non-empty edge, the writer's wake
 * callback; it never blocks, allocates or takes a lock. What it cannot keep
 * it counts (struct rx_stats) and, as soon as the ring has room again, it
 * puts a loss marker into the ring so the writer records the loss in the
 * spool at the place in the stream where it happened.
 */
#ifndef RAUDITD_NETLINK_RX_H
#define RAUDITD_NETLINK_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "record.h"
#include "stats.h"

struct ring;
struct seqgap;
struct netlink_rx;

enum netlink_rx_input {
	NETLINK_RX_KERNEL,	/* a NETLINK_AUDIT socket */
	/*
	 * Testing only: a datagram socket whose every datagram is a struct
	 * sockaddr_nl (the claimed sender) followed by netlink bytes, as a
	 * recorded or synthetic kernel would send them.
	 */
	NETLINK_RX_FRAMED,
};

/*
 * Create the receiver. wake(arg) is called after a batch when the writer
 * must be woken. Returns NULL with errno set.
 */
struct netlink_rx *netlink_rx_new(struct ring *ring, struct rx_stats *st,
    struct seqgap *gaps, void (*wake)(void *), void *arg);
void netlink_rx_free(struct netlink_rx *rx);

/*
 * Open the NETLINK_AUDIT socket, non-blocking, with NETLINK_NO_ENOBUFS and a
 * receive buffer of rcvbuf bytes (SO_RCVBUFFORCE, falling back to
 * SO_RCVBUF). *got receives the size the kernel granted; *want what was
 * asked after the kernel's own clamp (INT_MAX / 2). Returns 0 or
 * -errno; *what names the step that failed.
 */
int netlink_rx_open(struct netlink_rx *rx, size_t rcvbuf, size_t *got,
    size_t *want, const char **what);

/* Use an existing descriptor instead (tests). The receiver closes it. */
int netlink_rx_attach(struct netlink_rx *rx, int fd, enum netlink_rx_input input);

int netlink_rx_fd(const struct netlink_rx *rx);

/* Give up the descriptor without closing it (the caller owns it now). */
int netlink_rx_detach(struct netlink_rx *rx);

/*
 * Register this process as the audit daemon (AUDIT_SET pid on the record
 * socket, which makes it the one kauditd sends to). Records that arrive
 * while waiting for the ack are received normally. Returns the kernel's
 * answer (0, -EEXIST, -EPERM, ...) or -ETIMEDOUT.
 */
int netlink_rx_register(struct netlink_rx *rx, unsigned timeout_ms);

/*
 * Receive until the socket is empty or max_msgs messages were read (so one
 * flood cannot starve the rest of the event loop). Returns the number of
 * datagrams read; *empty tells whether the socket ran dry.
 */
size_t netlink_rx_drain(struct netlink_rx *rx, size_t max_msgs, bool *empty);

/* Try to put pending loss markers into the ring (also done by drain). */
void netlink_rx_flush_loss(struct netlink_rx *rx);

/* Records lost but not yet recorded in the ring by a marker. */
uint64_t netlink_rx_pending_loss(const struct netlink_rx *rx);

/* Close the socket (at stop, after the last drain). */
void netlink_rx_close(struct netlink_rx *rx);

#endif
