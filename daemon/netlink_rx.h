/*
 * netlink_rx.h - the audit record socket: open, register, receive, validate,
 * and copy each record into the ring.
 *
 * Main thread only. The receive path (netlink_rx_drain) makes no system call
 * but recvmmsg and, on the ring's empty->non-empty edge, the writer's wake
 * callback; it never blocks, allocates or takes a lock. When the ring is
 * full it stops reading (or, if so set, drops); what it cannot keep it
 * counts (struct rx_stats) and, as soon as the ring has room again, it
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
 * SO_RCVBUF; 0 means netlink_rx_default_rcvbuf()). *got receives the size
 * the kernel granted; *want what was asked after the kernel's own clamp
 * (INT_MAX / 2). Returns 0 or -errno; *what names the step that failed.
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
 * flood cannot starve the rest of the event loop), or, with wait_full, the
 * ring has no room (netlink_rx_waiting() then says so). Returns the number
 * of datagrams read; *empty tells whether the socket ran dry.
 */
size_t netlink_rx_drain(struct netlink_rx *rx, size_t max_msgs, bool *empty);

/*
 * What a full ring does to the receive path. With wait (rauditd's default,
 * ring_full_action = wait) the receiver reads only as many datagrams as the
 * ring surely has room for, so nothing it reads is ever dropped for want of
 * room: when there is none it stops reading and leaves the records in the
 * socket, the second buffer, until the writer has freed an eighth of the
 * ring (at least room for a datagram). Without, it reads on and drops what
 * does not fit, counted as ring_full, as on hosts where kauditd must never
 * wait. The kernel's serials of records that never arrive still show as
 * sequence gaps either way.
 */
void netlink_rx_set_wait_full(struct netlink_rx *rx, bool wait);

/*
 * fn(arg) is called on the writer's thread when it has freed the room a
 * waiting receiver needs (rauditd: an ev_async wake-up of the main loop,
 * which then calls netlink_rx_resume and starts reading again). Set before
 * the writer starts.
 */
void netlink_rx_set_room_cb(struct netlink_rx *rx, void (*fn)(void *), void *arg);

/* True while the receiver has stopped reading for want of ring room. */
bool netlink_rx_waiting(const struct netlink_rx *rx);

/*
 * Stop waiting if the writer has freed the room waited for (an eighth of
 * the ring, at least room for a datagram): returns true when reading may go
 * on (also when it was not waiting). The drain does the same
 * check itself, so a caller that missed a wake-up loses nothing.
 */
bool netlink_rx_resume(struct netlink_rx *rx);

/*
 * The receive buffer used when rcvbuf is 0: a sixteenth of the host's RAM,
 * between 16 MiB and 1 GiB.
 */
size_t netlink_rx_default_rcvbuf(void);

/* Try to put pending loss markers into the ring (also done by drain). */
void netlink_rx_flush_loss(struct netlink_rx *rx);

/* Records lost but not yet recorded in the ring by a marker. */
uint64_t netlink_rx_pending_loss(const struct netlink_rx *rx);

/* Close the socket (at stop, after the last drain). */
void netlink_rx_close(struct netlink_rx *rx);

#endif
